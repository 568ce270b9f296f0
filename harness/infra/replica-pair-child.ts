// A child process for replica-pair.test.ts (not a test file): starts a replica pair, reports both postmaster pids
// on stdout (one JSON line), then ends the way the mode says: `sigint` waits for Ctrl-C with the CLI's signal
// handlers (the cleanup registry must stop everything), `exit` calls process.exit(3) at once (the exit guard must).

import { installSignalHandlers } from '../cleanup.ts';
import { withPg } from './pg-admin.ts';
import { startReplicaPair } from './replica-pair.ts';
import { parentPid } from './test-helpers.ts';

const mode = process.argv[2];
if (mode === 'sigint') installSignalHandlers();
const pair = await startReplicaPair();
const postmaster = (url: string): Promise<number> =>
  withPg(url, async (c) => parentPid((await c.query<{ p: number }>('SELECT pg_backend_pid() AS p')).rows[0].p));
const report = { primary: await postmaster(pair.primary.url()), standby: await postmaster(pair.standby.url()) };
process.stdout.write(`${JSON.stringify(report)}\n`);
if (mode === 'exit') process.exit(3);
else setInterval(() => undefined, 1000); // wait for the signal
