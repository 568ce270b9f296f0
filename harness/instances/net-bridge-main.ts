// The bridge as a process of its own, for HTTP-mode instances (any language, so no runtime of ours inside): it
// starts beside the candidate's server in the same network namespace and process group, reads its spec from the
// environment, and runs until the group is stopped.

import fs from 'node:fs';
import { BRIDGE_ENV, parseBridgeSpec, startBridge } from './net-bridge.ts';

const spec = parseBridgeSpec(process.env[BRIDGE_ENV]);
if (!spec) {
  process.stderr.write(`[gauntlet bridge] no ${BRIDGE_ENV} given\n`);
  process.exit(2);
}
await startBridge(spec);
// The server starts only once its way out listens (the launching shell waits for this file).
if (process.argv[2]) fs.writeFileSync(process.argv[2], 'ready\n');
