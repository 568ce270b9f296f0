// Process-wide cleanup registry: everything that starts a process, a database or a temp folder registers its
// undo here, so Ctrl-C, SIGTERM, an error or a normal exit leaves nothing behind. Registering never touches the
// process's signal handling: a program that calls grade() as a library keeps its own SIGINT/SIGTERM behaviour and
// may call interruptAndClean(signal) from it. The CLI calls installSignalHandlers(): on a signal the run folder of a
// grade in progress is marked as interrupted (interrupted.json) once everything is undone, and the process exits
// 128 + the signal number (130 for Ctrl-C). A second signal while cleaning up quits at once.

import { exitAfterFlush } from './flush-stdio.ts';
import fs from 'node:fs';
import path from 'node:path';

type Cleanup = () => Promise<void> | void;
type InterruptHook = (signal: NodeJS.Signals) => void;

const cleanups = new Set<Cleanup>();
const interruptHooks = new Set<InterruptHook>();
let running: Promise<void> | null = null;
let interruptedBy: NodeJS.Signals | null = null;

const SIGNAL_EXIT: Record<string, number> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

/** Register an undo step; returns a function that unregisters it (call it once the step was undone normally). */
export function onCleanup(fn: Cleanup): () => void {
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

/** The signal that interrupted this process (see interruptAndClean), once one did: nothing new should be started after it. */
export function interrupted(): NodeJS.Signals | null {
  return interruptedBy;
}

/** Run `fn` (synchronously) after the cleanup steps when a signal interrupts the process; returns an unregister. */
export function onInterrupt(fn: InterruptHook): () => void {
  interruptHooks.add(fn);
  return () => interruptHooks.delete(fn);
}

/**
 * Mark a run folder as interrupted if a signal ends the process before the run finishes: `interrupted.json`
 * with the signal, the time and the scenarios that had finished; a `result.json` the unwinding run still managed
 * to write gets `"interrupted": true`. Returns the unregister (call it when the run ends; after a signal it keeps
 * the mark, since a run that unwinds because of the interruption did not finish).
 */
export function markRunInterrupted(runDir: string, completed: () => unknown[]): () => void {
  const unregister = onInterrupt((signal) => {
    const marker = { interrupted: true, signal, at: new Date().toISOString(), completedScenarios: completed(), cleanedUp: true };
    fs.writeFileSync(path.join(runDir, 'interrupted.json'), JSON.stringify(marker, null, 2) + '\n');
    const resultFile = path.join(runDir, 'result.json');
    if (fs.existsSync(resultFile)) {
      const result = JSON.parse(fs.readFileSync(resultFile, 'utf8'));
      fs.writeFileSync(resultFile, JSON.stringify({ ...result, interrupted: true }, null, 2));
    }
  });
  return () => {
    if (!interruptedBy) unregister();
  };
}

/** Run every registered undo step, newest first; each failure is reported and the rest still run. */
export function runCleanups(): Promise<void> {
  if (running) return running;
  running = (async () => {
    // Steps registered while others run (a grade still unwinding) are undone too.
    for (let round = 0; cleanups.size && round < 5; round++) {
      const steps = [...cleanups].reverse();
      cleanups.clear();
      for (const step of steps) {
        try {
          await step();
        } catch (err) {
          process.stderr.write(`gauntlet: cleanup step failed: ${(err as Error).message}\n`);
        }
      }
    }
  })().finally(() => {
    running = null;
  });
  return running;
}

/**
 * What to do when `signal` interrupts the process, without exiting: from now on interrupted() says so (nothing new
 * starts, a grade in progress unwinds), every registered undo step runs, then every onInterrupt hook (a run folder
 * gets interrupted.json). The CLI's handlers call it; a program using grade() as a library may call it from its own.
 */
export function interruptAndClean(signal: NodeJS.Signals): Promise<void> {
  interruptedBy ??= signal;
  if (cleanups.size) say(`\ngauntlet: ${signal} received, cleaning up (instances, databases, temp folders)...\n`);
  return runCleanups().then(() => {
    for (const hook of interruptHooks) {
      try {
        hook(signal);
      } catch (err) {
        say(`gauntlet: could not mark the run as interrupted: ${(err as Error).message}\n`);
      }
    }
  });
}

/**
 * The CLI's signal handling (bin/gauntlet.ts installs it; library code never does): SIGINT, SIGTERM and SIGHUP clean
 * up (interruptAndClean) and exit 128 + the signal number once stdout and stderr drained; a second signal while
 * cleaning up exits at once. Returns the uninstall.
 */
export function installSignalHandlers(): () => void {
  // A closed stderr pipe must not turn a cleanup message into a crash that skips the cleanup.
  const ignore = (): void => {};
  process.stderr.on('error', ignore);
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((signal) => {
    const handler = (): void => {
      const code = SIGNAL_EXIT[signal] ?? 130;
      if (interruptedBy) {
        say(`\ngauntlet: ${signal} again: quitting without finishing the cleanup (gauntlet sweeps leftovers on its next start)\n`);
        process.exit(code);
      }
      void interruptAndClean(signal).finally(() => exitAfterFlush(code));
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
    process.stderr.off('error', ignore);
  };
}

function say(text: string): void {
  try {
    process.stderr.write(text);
  } catch {
    // stderr may be a closed pipe; cleaning up matters more than saying so
  }
}
