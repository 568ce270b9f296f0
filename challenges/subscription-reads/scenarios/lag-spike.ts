// lag-spike: the replica falls seconds behind — its replication stream first delayed by 2.5–3.5 s for longer than
// that, later stopped for a while — as writes and reads go on. Reads that carry a token, and reads that must be within stalenessMs, have to
// notice and go elsewhere; nothing may be cached from the stale replica for longer than the bound allows.

import type { ScenarioDef } from '../../../harness/scenario.ts';
import { boundedStaleness } from '../checkers/bounded-staleness.ts';
import { cacheInvalidated } from '../checkers/cache-invalidated.ts';
import { monotonicReads } from '../checkers/monotonic-reads.ts';
import { readYourWrites } from '../checkers/read-your-writes.ts';
import { makeData, readEverything, Traffic, TRAFFIC } from './common.ts';

export const lagSpike: ScenarioDef = {
  id: 'lag-spike',
  description: 'the replica falls seconds behind (its stream delayed ~3 s, then stopped) while users write and read',
  params: {
    quick: { users: 24, hot: 3, calmMs: 1000, spikeMs: 4000, spikeLagMs: 2500, stallMs: 2000, afterMs: 1500 },
    standard: { users: 40, hot: 4, calmMs: 1500, spikeMs: 5000, spikeLagMs: 3000, stallMs: 2500, afterMs: 2000 },
    thorough: { users: 80, hot: 6, calmMs: 2000, spikeMs: 7000, spikeLagMs: 3500, stallMs: 4000, afterMs: 2500 },
  },
  data: (rng, p) => ({ ...makeData(rng, p.users, p.hot) }),
  async run(ctx) {
    const t = new Traffic(ctx, ctx.rng.fork('traffic'));
    const p = ctx.params;
    ctx.nemesis.replicaLag(150, 50);
    const traffic = t.run({ phase: 'lag', durationMs: p.calmMs + p.spikeMs + p.stallMs + p.afterMs, ...TRAFFIC });
    await ctx.sleep(p.calmMs);
    // The spike outlasts its delay, so the replica spends a while really seconds behind (not just frozen); then the
    // base delay comes back (what was delayed still arrives in order).
    ctx.progress(`replication delayed ${p.spikeLagMs} ms for ${p.spikeMs} ms`);
    ctx.nemesis.replicaLag(p.spikeLagMs, 300);
    await ctx.sleep(p.spikeMs);
    ctx.nemesis.replicaLag(150, 50);
    ctx.progress(`replication stopped for ${p.stallMs} ms`);
    const healStall = ctx.nemesis.replicaStall();
    await ctx.sleep(p.stallMs);
    await healStall();
    await traffic;
  },
  finalReads: readEverything,
  checkers: [readYourWrites, monotonicReads, boundedStaleness, cacheInvalidated],
};
