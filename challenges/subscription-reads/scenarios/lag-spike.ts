// lag-spike: the replica falls seconds behind — its replication stream first delayed by ~3 s, later stopped for a
// while — as writes and reads go on. Reads that carry a token, and reads that must be within stalenessMs, have to
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
    quick: { users: 24, hot: 3, calmMs: 1000, spikeMs: 2500, spikeLagMs: 3000, stallMs: 2000, afterMs: 1000 },
    standard: { users: 40, hot: 4, calmMs: 1500, spikeMs: 3500, spikeLagMs: 3000, stallMs: 2500, afterMs: 1500 },
    thorough: { users: 80, hot: 6, calmMs: 2000, spikeMs: 5000, spikeLagMs: 3500, stallMs: 4000, afterMs: 2000 },
  },
  data: (rng, p) => ({ ...makeData(rng, p.users, p.hot) }),
  async run(ctx) {
    const t = new Traffic(ctx, ctx.rng.fork('traffic'));
    const p = ctx.params;
    ctx.nemesis.replicaLag(150, 50);
    const traffic = t.run({ phase: 'lag', durationMs: p.calmMs + p.spikeMs + p.stallMs + p.afterMs, ...TRAFFIC });
    await ctx.sleep(p.calmMs);
    ctx.progress(`replication delayed ${p.spikeLagMs} ms for ${p.spikeMs} ms`);
    const healSpike = ctx.nemesis.replicaLag(p.spikeLagMs, 300);
    await ctx.sleep(p.spikeMs);
    await healSpike();
    ctx.progress(`replication stopped for ${p.stallMs} ms`);
    const healStall = ctx.nemesis.replicaStall();
    await ctx.sleep(p.stallMs);
    await healStall();
    await traffic;
  },
  finalReads: readEverything,
  checkers: [readYourWrites, monotonicReads, boundedStaleness, cacheInvalidated],
};
