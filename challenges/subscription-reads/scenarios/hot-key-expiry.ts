// hot-key-expiry: many concurrent anonymous reads of two hot users (nothing else: no write names them) while the cache is emptied under them (as an
// eviction or a restarted Redis would), twice. Each instance may refill a hot user from the primary, but its
// concurrent misses must share that refill (no-stampede, counted on the wire); answers stay fresh.

import type { ScenarioDef } from '../../../harness/scenario.ts';
import { mentions } from '../../../harness/wire/query-log.ts';
import { boundedStaleness } from '../checkers/bounded-staleness.ts';
import { maxInWindow } from '../checkers/model.ts';
import { noStampede, STAMPEDE_WINDOW_MS } from '../checkers/no-stampede.ts';
import { makeData, measure, readEverything, Traffic } from './common.ts';

export const hotKeyExpiry: ScenarioDef = {
  id: 'hot-key-expiry',
  description: 'two hot users read by many at once while the cache is emptied under them, twice',
  params: {
    quick: { users: 24, hot: 2, durationMs: 4000, readers: 24 },
    standard: { users: 40, hot: 2, durationMs: 6000, readers: 32 },
    thorough: { users: 80, hot: 2, durationMs: 9000, readers: 40 },
  },
  data: (rng, p) => ({ ...makeData(rng, p.users, p.hot) }),
  async run(ctx) {
    const t = new Traffic(ctx, ctx.rng.fork('traffic'));
    const p = ctx.params;
    ctx.nemesis.replicaLag(150, 50);
    const fromUs = ctx.nowUs();
    const traffic = t.run({ phase: 'hot', durationMs: p.durationMs, browsers: 0, readers: p.readers, writeShare: 0, adminEveryMs: 0, hotOnly: true });
    let flushes = 0;
    for (const at of [0.3, 0.65]) {
      await ctx.sleep(p.durationMs * at - (ctx.nowUs() - fromUs) / 1000);
      ctx.progress('emptying the cache under load');
      await ctx.nemesis.redisFlush();
      flushes++;
    }
    await traffic;
    const toUs = ctx.nowUs();
    const hot = t.data.hot;
    const statements = ctx.wire!.statements({ server: 'primary', fromUs, toUs });
    const worst = [];
    for (const userId of hot) {
      const byInstance = new Map<string, number[]>();
      for (const s of statements) {
        if (!mentions(s, userId)) continue;
        const key = s.tag ?? `connection ${s.conn}`;
        byInstance.set(key, [...(byInstance.get(key) ?? []), s.t]);
      }
      for (const [instance, times] of byInstance) worst.push({ userId, instance, ...maxInWindow(times, STAMPEDE_WINDOW_MS * 1000) });
    }
    measure(ctx, { stampede: { windowMs: STAMPEDE_WINDOW_MS, flushes, worst } });
  },
  finalReads: readEverything,
  checkers: [noStampede, boundedStaleness],
};
