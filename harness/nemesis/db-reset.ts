// Fault: reset (RST) every open database connection at once, as a crashed proxy or a network blip does: the
// statement or commit in flight fails half-way through its transaction. A one-off; nothing to heal.

import type { FaultProxy } from './fault-proxy.ts';

/** Reset every connection through the proxy now; returns how many connection pairs were reset. */
export function resetDbConnections(proxy: FaultProxy): number {
  return proxy.resetAll();
}
