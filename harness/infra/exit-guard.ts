// Last-resort, synchronous safety net for the servers we start: if the process exits without running the
// cleanup registry (an uncaught error, process.exit), kill them and remove their temp folders on 'exit'.

import { rmSync } from 'node:fs';

interface Guarded {
  /** The server to signal; omit (or 0) to only remove `dir`. */
  pid?: number;
  signal: NodeJS.Signals;
  dir?: string;
}

const guarded = new Set<Guarded>();
let installed = false;

/** Kill `pid` with `signal` and remove `dir` if this process exits while it is still registered. */
export function guardAtExit(entry: Guarded): () => void {
  install();
  guarded.add(entry);
  return () => guarded.delete(entry);
}

/** How many servers are still guarded (tests use it to check that close() unregistered them). */
export function guardedCount(): number {
  return guarded.size;
}

function install(): void {
  if (installed) return;
  installed = true;
  // 'exit' listeners must be synchronous: a signal and an rmSync are all that can run here.
  process.on('exit', () => {
    for (const entry of guarded) {
      if (!entry.pid || entry.pid <= 0) continue; // never signal 0 or -1: that would hit our own process group
      try {
        process.kill(entry.pid, entry.signal);
      } catch {
        // already gone
      }
    }
    for (const entry of guarded) {
      if (!entry.dir) continue;
      try {
        rmSync(entry.dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 50 });
      } catch {
        // the stale sweep of the next run removes what is left
      }
    }
    guarded.clear();
  });
}
