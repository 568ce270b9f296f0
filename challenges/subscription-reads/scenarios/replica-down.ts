// replica-down: the standby is stopped (its sessions end, new connections are refused) for a few seconds while
// users write and read, then started again. Reads keep answering, from the primary or a cache, and stay fresh.

import type { ScenarioDef } from '../../../harness/scenario.ts';
import { boundedStaleness } from '../checkers/bounded-staleness.ts';
import { replicaFallback } from '../checkers/fallback.ts';
import { monotonicReads } from '../checkers/monotonic-reads.ts';
import { readYourWrites } from '../checkers/read-your-writes.ts';
import { makeData, readEverything, Traffic, TRAFFIC } from './common.ts';

export const replicaDown: ScenarioDef = {
  id: 'replica-down',
  description: 'the replica is stopped for a few seconds under reads and writes, then started again',
  params: {
    quick: { users: 24, hot: 3, calmMs: 1200, downMs: 2500, afterMs: 1500 },
    standard: { users: 40, hot: 4, calmMs: 1500, downMs: 3500, afterMs: 2000 },
    thorough: { users: 80, hot: 6, calmMs: 2000, downMs: 5000, afterMs: 3000 },
  },
  data: (rng, p) => ({ ...makeData(rng, p.users, p.hot) }),
  async run(ctx) {
    const t = new Traffic(ctx, ctx.rng.fork('traffic'));
    const p = ctx.params;
    ctx.nemesis.replicaLag(150, 50);
    let trafficDone = false;
    const traffic = (async () => {
      await t.run({ phase: 'before', durationMs: p.calmMs, ...TRAFFIC });
      await t.run({ phase: 'replica-down', durationMs: p.downMs, ...TRAFFIC });
      await t.run({ phase: 'after', durationMs: p.afterMs, ...TRAFFIC });
      trafficDone = true;
    })();
    await ctx.sleep(p.calmMs);
    ctx.progress(`replica stopped for ${p.downMs} ms`);
    const heal = await ctx.nemesis.replicaDown();
    await ctx.sleep(p.downMs);
    ctx.progress('replica starting again');
    await heal();
    await traffic;
    if (!trafficDone) throw new Error('traffic did not finish');
  },
  finalReads: readEverything,
  checkers: [replicaFallback, readYourWrites, monotonicReads, boundedStaleness],
};
