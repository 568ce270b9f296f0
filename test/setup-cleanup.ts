// Every test worker cleans up as the CLI does when vitest ends it with a signal: instances, databases and temp
// folders a test's grades left registered (harness/cleanup.ts). grade() as a library leaves signal handling to its
// host, and a test worker is such a host. Once per process: the unit files share their worker (isolate: false) and
// this file runs before each of them.
import { installSignalHandlers } from '../harness/cleanup.ts';

const INSTALLED = Symbol.for('gauntlet.test.signal-handlers');
const g = globalThis as { [INSTALLED]?: boolean };
if (!g[INSTALLED]) {
  g[INSTALLED] = true;
  installSignalHandlers();
}
