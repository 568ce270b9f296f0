// redis-down: Redis refuses every connection for a few seconds (its open ones reset) while users write and read.
// Reads answer from the databases, writes still succeed, and nothing cached before or during the outage is served
// stale once Redis is back.

import type { ScenarioDef } from '../../../harness/scenario.ts';
import { boundedStaleness } from '../checkers/bounded-staleness.ts';
import { cacheInvalidated } from '../checkers/cache-invalidated.ts';
import { cacheFallback } from '../checkers/fallback.ts';
import { monotonicReads } from '../checkers/monotonic-reads.ts';
import { readYourWrites } from '../checkers/read-your-writes.ts';
import { makeData, readEverything, Traffic, TRAFFIC } from './common.ts';

export const redisDown: ScenarioDef = {
  id: 'redis-down',
  description: 'Redis is down for a few seconds under reads and writes, then back',
  params: {
    quick: { users: 24, hot: 3, calmMs: 1200, downMs: 2500, afterMs: 2000 },
    standard: { users: 40, hot: 4, calmMs: 1500, downMs: 3500, afterMs: 2500 },
    thorough: { users: 80, hot: 6, calmMs: 2000, downMs: 5000, afterMs: 3000 },
  },
  data: (rng, p) => ({ ...makeData(rng, p.users, p.hot) }),
  async run(ctx) {
    const t = new Traffic(ctx, ctx.rng.fork('traffic'));
    const p = ctx.params;
    ctx.nemesis.replicaLag(150, 50);
    const traffic = t.run({ phase: 'redis', durationMs: p.calmMs + p.downMs + p.afterMs, ...TRAFFIC });
    await ctx.sleep(p.calmMs);
    ctx.progress(`Redis down for ${p.downMs} ms`);
    const heal = ctx.nemesis.redisDown();
    await ctx.sleep(p.downMs);
    await heal();
    await traffic;
  },
  finalReads: readEverything,
  checkers: [cacheFallback, readYourWrites, monotonicReads, boundedStaleness, cacheInvalidated],
};
