// A burst's release loop at real-time priority. The loop writes one byte per connection (1000 writes, about 5 ms
// of CPU); the first writes wake the instances and PostgreSQL, and at normal priority the scheduler hands them the
// loop's core for a few ms now and then: measured on this 2-core VM, the release skew was 10–55 ms, made of one
// to five gaps of 3–12 ms, at nice 0 or -20 alike. With the main thread SCHED_FIFO for the loop (`chrt`, root or
// CAP_SYS_NICE), no gap: 4.6–6.9 ms. Without the privilege it falls back to the highest nice it may take, or
// nothing; a burst is never refused for it.

import { spawn } from 'node:child_process';
import os from 'node:os';
import { isMainThread } from 'node:worker_threads';

export type ReleasePriority = 'realtime' | 'high' | 'normal';

/** Whether `chrt` may make this process real-time (learnt at the first try). */
let realtimeAllowed: boolean | null = null;
/** The previous burst's restore, when it is still running (a child process). */
let restoring: Promise<void> = Promise.resolve();

function chrt(args: string[], timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(ok);
    };
    const child = spawn('chrt', [...args, String(process.pid)], { stdio: 'ignore' });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(false);
    }, timeoutMs);
    child.once('error', () => finish(false));
    child.once('exit', (code) => finish(code === 0));
  });
}

/**
 * Raise the harness's main thread for a release: real-time (SCHED_FIFO, priority 1: above every normal process,
 * below the kernel's own) when allowed, else the highest nice allowed. Returns how high it got and the undo, to be
 * called right after the loop: the way back to normal priority runs in the background (a `chrt` child, about
 * 10 ms; meanwhile the harness only reads answers), and the next raise waits for it.
 */
export async function raiseForRelease(): Promise<{ priority: ReleasePriority; restore(): void }> {
  await restoring;
  // `chrt --pid` names a thread: the process's id is its main thread's.
  if (realtimeAllowed !== false && process.platform === 'linux' && isMainThread) {
    realtimeAllowed = await chrt(['--fifo', '--pid', '1']);
    if (realtimeAllowed) {
      return {
        priority: 'realtime',
        restore() {
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
    return { priority: 'normal', restore() {} };
  }
  return {
    priority: 'high',
    restore() {
      try {
        os.setPriority(0, before);
      } catch {
        // lowering our own priority is never refused
      }
    },
  };
}
