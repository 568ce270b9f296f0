// A burst's release loop at real-time priority. The loop writes one byte per connection (1000 writes, about 5 ms
// of CPU); the first writes wake the instances and PostgreSQL, and at normal priority the scheduler hands them the
// loop's core for a few ms now and then: measured on this 2-core VM, the release skew was 10–55 ms, made of one
// to five gaps of 3–12 ms, at nice 0 or -20 alike. With the main thread SCHED_FIFO for the loop (`chrt`, root or
// CAP_SYS_NICE), no gap: 4.6–6.9 ms. Without the privilege it falls back to the highest nice it may take, or
// nothing; a burst is never refused for it.

import os from 'node:os';
import { isMainThread } from 'node:worker_threads';
import { runBounded } from '../infra/process-util.ts';

export type ReleasePriority = 'realtime' | 'high' | 'normal';

/** Whether `chrt` may make this process real-time (learnt at the first try). */
let realtimeAllowed: boolean | null = null;
/** The previous burst's restore, when it is still running (a child process). */
let restoring: Promise<void> = Promise.resolve();

/** `chrt … <this process>`: true when it succeeded (a missing `chrt`, a refusal or a hang past 2 s: false). */
async function chrt(args: string[]): Promise<boolean> {
  return (await runBounded('chrt', [...args, String(process.pid)], { timeoutMs: 2000 })).code === 0;
}

interface Raised {
  priority: ReleasePriority;
  undo(): void;
}

async function raise(): Promise<Raised> {
  await restoring;
  // `chrt --pid` names a thread: the process's id is its main thread's.
  if (realtimeAllowed !== false && process.platform === 'linux' && isMainThread) {
    realtimeAllowed = await chrt(['--fifo', '--pid', '1']);
    if (realtimeAllowed) {
      return {
        priority: 'realtime',
        undo() {
          restoring = chrt(['--other', '--pid', '0']).then(() => undefined);
        },
      };
    }
  }
  let before: number;
  try {
    before = os.getPriority(0);
    os.setPriority(0, os.constants.priority.PRIORITY_HIGHEST);
  } catch {
    return { priority: 'normal', undo() {} };
  }
  return {
    priority: 'high',
    undo() {
      try {
        os.setPriority(0, before);
      } catch {
        // lowering our own priority is never refused
      }
    },
  };
}

/** Resolves once the last way back to normal priority has ended (for tests and clean exits). */
export function prioritySettled(): Promise<void> {
  return restoring;
}

/** Releases under way: the priority goes back when the last of them is done (two bursts may overlap). */
let holders = 0;
let current: Raised | null = null;
let raising: Promise<Raised> | null = null;

/**
 * Raise the harness's main thread for a release: real-time (SCHED_FIFO, priority 1: above every normal process,
 * below the kernel's own) when allowed, else the highest nice allowed. Returns how high it got and the undo, to be
 * called right after the loop: the way back to normal priority runs in the background (a `chrt` child, about
 * 10 ms; meanwhile the harness only reads answers), and the next raise waits for it. Overlapping releases share
 * one raise; the last to finish undoes it.
 */
export async function raiseForRelease(): Promise<{ priority: ReleasePriority; restore(): void }> {
  holders++;
  if (!current) {
    raising ??= raise().finally(() => {
      raising = null;
    });
    const raised = await raising;
    current ??= raised;
  }
  const priority = current.priority;
  let restored = false;
  return {
    priority,
    restore() {
      if (restored) return;
      restored = true;
      if (--holders > 0) return;
      const done = current;
      current = null;
      done?.undo();
    },
  };
}
