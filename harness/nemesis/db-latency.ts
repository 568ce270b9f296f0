// Fault: added latency on every database packet, both directions (Toxiproxy's `latency` toxic), so slow
// queries stretch transactions and pool waits; healed by taking the latency off again.

import type { FaultProxy } from './fault-proxy.ts';

export interface DbLatencyOptions {
  latencyMs: number;
  /** Each chunk gets latencyMs ± jitterMs, uniformly (never below zero). */
  jitterMs?: number;
  /** Seeded stream for the jitter, so `--seed` reproduces the delays' sequence. */
  rng: { next(): number };
}

/** Start adding latency; returns the heal (idempotent). */
export function startDbLatency(proxy: FaultProxy, options: DbLatencyOptions): () => void {
  const { latencyMs, jitterMs = 0, rng } = options;
  if (!(latencyMs >= 0) || !(jitterMs >= 0) || !Number.isFinite(latencyMs + jitterMs)) {
    throw new RangeError(`db latency needs finite, non-negative latencyMs and jitterMs (got ${latencyMs}, ${jitterMs})`);
  }
  proxy.setLatency(latencyMs, jitterMs, rng);
  let healed = false;
  return () => {
    if (healed) return;
    healed = true;
    proxy.clearLatency();
  };
}
