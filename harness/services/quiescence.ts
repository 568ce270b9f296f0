// Bounded quiescence: wait until a probe (ledger version, requests in flight, optionally the candidate's own reads)
// stops changing for a quiet period, or give up at a maximum. Final reads come after this (CONTRACT §8).

export interface QuietOptions {
  quietMs: number;
  maxMs: number;
  /** Polling interval (default quietMs / 5, between 10 and 100 ms). */
  pollMs?: number;
  /** Anything JSON-serialisable; quiet means the same value for quietMs. */
  probe(): unknown | Promise<unknown>;
  /** Extra condition for quiet (e.g. nothing in flight). */
  idle?(): boolean;
}

export async function waitForQuiet(o: QuietOptions): Promise<{ quiet: boolean; waitedMs: number }> {
  const started = Date.now();
  const pollMs = o.pollMs ?? Math.min(100, Math.max(10, Math.floor(o.quietMs / 5)));
  let last = JSON.stringify(await o.probe());
  let since = Date.now();
  for (;;) {
    const now = Date.now();
    if (now - since >= o.quietMs && (o.idle?.() ?? true)) return { quiet: true, waitedMs: now - started };
    if (now - started >= o.maxMs) return { quiet: false, waitedMs: now - started };
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    const value = JSON.stringify(await o.probe());
    if (value !== last || !(o.idle?.() ?? true)) {
      last = value;
      since = Date.now();
    }
  }
}
