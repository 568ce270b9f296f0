// Every test worker cleans up as the CLI does when vitest ends it with a signal: instances, databases and temp
// folders a test's grades left registered (harness/cleanup.ts). grade() as a library leaves signal handling to its
// host, and a test worker is such a host.
import { installSignalHandlers } from '../harness/cleanup.ts';

installSignalHandlers();
