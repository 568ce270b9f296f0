// flaky-payments: many concurrent purchases while the gateway fails about half of all calls (500, 503, 429 with
// Retry-After, resets, ghost successes, held responses, latency), notifications ~30 % and inventory ~10 %. A
// quarter of the purchases are sent twice, the copy to another instance a moment later (a client retrying after
// a timeout). Every purchase must end active, with one charge kept and one confirmation.

import type { ScenarioDef } from '../../../harness/scenario.ts';
import type { PurchaseSpec } from '../checkers/model.ts';
import { eventuallyCreated } from '../checkers/eventually-created.ts';
import { noDoubleCharge } from '../checkers/no-double-charge.ts';
import { noOrphanCharge } from '../checkers/no-orphan-charge.ts';
import { retryBackoff } from '../checkers/retry-backoff.ts';
import { honoursRetryAfter } from '../checkers/honours-retry-after.ts';
import { notificationDelivered } from '../checkers/notification-delivered.ts';
import { atMost, baseServices, plan, PLANS, productsFor, purchaseMaker, send, settleAndRead, type SubFinal } from './common.ts';

/** About half of every payments call fails; charges see more ghost successes (the double-charge trap). */
export const FLAKY_PAYMENTS = {
  error500: 0.14, error503: 0.1, rateLimit429: 0.08, reset: 0.06, hold: 0.04, ghost: 0.08,
  latency: 0.25, latencyMs: [20, 150] as [number, number], retryAfterMs: [100, 700] as [number, number],
  routes: { 'POST /charges': { error500: 0.1, error503: 0.08, rateLimit429: 0.08, reset: 0.08, hold: 0.04, ghost: 0.12 } },
};

export const flakyPayments: ScenarioDef<SubFinal> = {
  id: 'flaky-payments',
  description: 'concurrent purchases while payments fail ~50 % (5xx, 429 Retry-After, resets, ghost successes, held responses), some sent twice to two instances',
  params: {
    quick: { purchases: 24, duplicateShare: 0.25, spreadMs: 400, faultWindowMs: 8000, callTimeoutMs: 20000, quietMs: 1000, settleMaxMs: 10000 },
    standard: { purchases: 40, duplicateShare: 0.25, spreadMs: 600, faultWindowMs: 8000, callTimeoutMs: 20000, quietMs: 1000, settleMaxMs: 10000 },
    thorough: { purchases: 100, duplicateShare: 0.25, spreadMs: 1500, faultWindowMs: 12000, callTimeoutMs: 25000, quietMs: 1200, settleMaxMs: 15000 },
  },
  data(rng, p) {
    const make = purchaseMaker(rng.fork('ids'));
    const purchases: PurchaseSpec[] = Array.from({ length: p.purchases }, (_, i) => make(PLANS[i % PLANS.length], 'active', rng.chance(p.duplicateShare) ? 'duplicate' : undefined));
    return { purchases, products: productsFor(purchases) };
  },
  services: (data, params) => ({
    ...baseServices(data, params),
    faults: {
      payments: FLAKY_PAYMENTS,
      notifications: { error500: 0.1, error503: 0.08, reset: 0.04, ghost: 0.08, latency: 0.2, latencyMs: [20, 100] },
      inventory: { error503: 0.06, reset: 0.02, ghost: 0.02, latency: 0.1, latencyMs: [20, 100] },
    },
  }),
  async run(ctx) {
    const rng = ctx.rng.fork('workload');
    const purchases = ctx.data.purchases as PurchaseSpec[];
    const planned = plan(ctx, purchases, 'purchase', ctx.params.spreadMs, rng.fork('plan'));
    // A client that timed out and calls again with the same requestId, on another instance.
    const copies = planned
      .filter((x) => x.purchase.group === 'duplicate')
      .map((x) => ({ ...x, phase: 'duplicate', instance: ctx.cluster.size > 1 ? (x.instance + rng.int(1, ctx.cluster.size - 1)) % ctx.cluster.size : x.instance, delayMs: x.delayMs + rng.int(50, 400) }));
    ctx.progress(`${planned.length} purchases (${copies.length} sent twice) while payments fail ~50 %`);
    const all = send(ctx, [...planned, ...copies]);
    // Faults heal when every purchase is answered, or after the fault window (held responses are then answered).
    await atMost(ctx, all, ctx.params.faultWindowMs);
    await ctx.services!.healAll();
    const ops = await all;
    ctx.metric('purchases', planned.length);
    ctx.metric('duplicates', copies.length);
    ctx.metric('slowestPurchaseMs', Math.round(Math.max(0, ...ops.map((o) => (o.endUs - o.startUs) / 1000))));
  },
  finalReads: settleAndRead,
  checkers: [eventuallyCreated, noDoubleCharge, noOrphanCharge, retryBackoff, honoursRetryAfter, notificationDelivered],
};
