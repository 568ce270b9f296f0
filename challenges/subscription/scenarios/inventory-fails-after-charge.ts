// inventory-fails-after-charge: purchases of a product whose inventory commit fails for good after the charge
// (→ PURCHASE_FAILED, the charge refunded, the reservation released), cards that are declined (→ PAYMENT_DECLINED,
// nothing kept), a product that runs out (→ OUT_OF_STOCK for the late ones, nothing charged), and ordinary
// purchases, with light faults on payments (refunds included) and inventory.

import type { ScenarioDef } from '../../../harness/scenario.ts';
import type { PurchaseSpec } from '../checkers/model.ts';
import { eventuallyCreated } from '../checkers/eventually-created.ts';
import { noDoubleCharge } from '../checkers/no-double-charge.ts';
import { noOrphanCharge } from '../checkers/no-orphan-charge.ts';
import { retryBackoff } from '../checkers/retry-backoff.ts';
import { honoursRetryAfter } from '../checkers/honours-retry-after.ts';
import { notificationDelivered } from '../checkers/notification-delivered.ts';
import { baseServices, plan, PLANS, productsFor, purchaseMaker, send, settleAndRead, type SubFinal } from './common.ts';

export const inventoryFailsAfterCharge: ScenarioDef<SubFinal> = {
  id: 'inventory-fails-after-charge',
  description: 'commits that fail for good after the charge, declined cards and a product that runs out: failed purchases keep nothing',
  params: {
    quick: { normal: 6, doomed: 4, declined: 3, scarce: 4, scarceStock: 2, spreadMs: 300, callTimeoutMs: 20000, quietMs: 1000, settleMaxMs: 10000 },
    standard: { normal: 10, doomed: 6, declined: 4, scarce: 5, scarceStock: 2, spreadMs: 400, callTimeoutMs: 20000, quietMs: 1000, settleMaxMs: 10000 },
    thorough: { normal: 24, doomed: 12, declined: 8, scarce: 10, scarceStock: 4, spreadMs: 800, callTimeoutMs: 20000, quietMs: 1200, settleMaxMs: 15000 },
  },
  data(rng, p) {
    const make = purchaseMaker(rng.fork('ids'));
    const purchases: PurchaseSpec[] = rng.fork('order').shuffle([
      ...Array.from({ length: p.normal }, (_, i) => make(PLANS[i % PLANS.length], 'active')),
      ...Array.from({ length: p.doomed }, () => make('doomed', 'purchase-failed', 'doomed')),
      ...Array.from({ length: p.declined }, (_, i) => make(PLANS[i % PLANS.length], 'declined', 'declined')),
      ...Array.from({ length: p.scarce }, () => make('scarce', 'active-or-out-of-stock', 'scarce')),
    ]);
    return { purchases, products: productsFor(purchases, { scarce: { stock: p.scarceStock } }) };
  },
  services: (data, params) => ({
    ...baseServices(data, params),
    commitFailures: { products: ['doomed'] },
    declines: { customers: (data.purchases as PurchaseSpec[]).filter((p) => p.expect === 'declined').map((p) => p.userId) },
    faults: {
      payments: {
        error500: 0.1, error503: 0.05, rateLimit429: 0.05, ghost: 0.05, latency: 0.2, latencyMs: [20, 100], retryAfterMs: [100, 500],
        routes: { 'POST /refunds': { error503: 0.15, reset: 0.05, ghost: 0.1 } },
      },
      inventory: { error503: 0.08, reset: 0.03, ghost: 0.05, latency: 0.1, latencyMs: [20, 100] },
    },
  }),
  async run(ctx) {
    const rng = ctx.rng.fork('workload');
    const purchases = ctx.data.purchases as PurchaseSpec[];
    ctx.progress(`${purchases.length} purchases: commits failing after the charge, declined cards, a product running out`);
    await send(ctx, plan(ctx, purchases, 'purchase', ctx.params.spreadMs, rng));
    await ctx.services!.healAll();
  },
  finalReads: settleAndRead,
  checkers: [eventuallyCreated, noDoubleCharge, noOrphanCharge, retryBackoff, honoursRetryAfter, notificationDelivered],
};
