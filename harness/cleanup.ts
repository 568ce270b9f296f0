// Process-wide cleanup registry: everything that starts a process, a database or a temp folder registers its
// undo here, so Ctrl-C, SIGTERM, an error or a normal exit leaves nothing behind.

type Cleanup = () => Promise<void> | void;

const cleanups = new Set<Cleanup>();
let installed = false;
let running: Promise<void> | null = null;

/** Register an undo step; returns a function that unregisters it (call it once the step was undone normally). */
export function onCleanup(fn: Cleanup): () => void {
  install();
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

/** Run every registered undo step, newest first; each failure is reported and the rest still run. */
export function runCleanups(): Promise<void> {
  if (running) return running;
  running = (async () => {
    const steps = [...cleanups].reverse();
    cleanups.clear();
    for (const step of steps) {
      try {
        await step();
      } catch (err) {
        process.stderr.write(`gauntlet: cleanup step failed: ${(err as Error).message}\n`);
      }
    }
  })().finally(() => {
    running = null;
  });
  return running;
}

function install(): void {
  if (installed) return;
  installed = true;
  // A closed stderr pipe must not turn a cleanup message into a crash that skips the cleanup.
  process.stderr.on('error', () => {});
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      if (cleanups.size) {
        try {
          process.stderr.write(`\ngauntlet: ${signal} received, cleaning up (instances, databases, temp folders)...\n`);
        } catch {
          // stderr may be a closed pipe; cleaning up matters more than saying so
        }
      }
      void runCleanups().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
}
