// Fault: the database stops answering (Toxiproxy's `timeout` toxic with no timeout): bytes go nowhere both
// ways and calls hang. Healing resets the blackholed connections, since their streams lost data.

import type { FaultProxy } from './fault-proxy.ts';

/** Start the blackhole; the heal (idempotent) returns how many connections it reset. */
export function startDbBlackhole(proxy: FaultProxy): () => number {
  proxy.blackhole(true);
  let healed = false;
  return () => {
    if (healed) return 0;
    healed = true;
    return proxy.blackhole(false);
  };
}
