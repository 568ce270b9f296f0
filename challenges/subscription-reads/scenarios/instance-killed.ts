// instance-killed: an instance is SIGKILLed while users write and read, and started again later; the replica lags
// ~250 ms throughout. What a session needs to read its writes must not live in one process's memory.

import type { ScenarioDef } from '../../../harness/scenario.ts';
import { boundedStaleness } from '../checkers/bounded-staleness.ts';
import { cacheInvalidated } from '../checkers/cache-invalidated.ts';
import { monotonicReads } from '../checkers/monotonic-reads.ts';
import { readYourWrites } from '../checkers/read-your-writes.ts';
import { makeData, readEverything, Traffic, TRAFFIC } from './common.ts';

export const instanceKilled: ScenarioDef = {
  id: 'instance-killed',
  description: 'an instance is killed and restarted under reads and writes, the replica ~250 ms behind',
  params: {
    quick: { users: 24, hot: 3, durationMs: 5000 },
    standard: { users: 40, hot: 4, durationMs: 7000 },
    thorough: { users: 80, hot: 6, durationMs: 12000 },
  },
  data: (rng, p) => ({ ...makeData(rng, p.users, p.hot) }),
  async run(ctx) {
    const t = new Traffic(ctx, ctx.rng.fork('traffic'));
    const victim = ctx.rng.fork('victim').int(0, ctx.cluster.size - 1);
    ctx.nemesis.replicaLag(250, 50);
    const traffic = t.run({ phase: 'kill', durationMs: ctx.params.durationMs, ...TRAFFIC });
    await ctx.sleep(ctx.params.durationMs * 0.35);
    ctx.progress(`killing instance ${victim}`);
    await ctx.cluster.kill(victim);
    await ctx.sleep(ctx.params.durationMs * 0.3);
    await ctx.cluster.restart(victim);
    await traffic;
  },
  finalReads: readEverything,
  checkers: [readYourWrites, monotonicReads, boundedStaleness, cacheInvalidated],
};
