// outage: the payment gateway is entirely down for a window (every call answered 503 without Retry-After, or
// reset; seeded) while purchases arrive. They must all succeed once it is back, and meanwhile the retry traffic
// must back off: this scenario measures it (attempts to the gateway during the outage, per purchase and second).

import type { ScenarioDef } from '../../../harness/scenario.ts';
import type { PurchaseSpec } from '../checkers/model.ts';
import { retryBackoff } from '../checkers/retry-backoff.ts';
import { eventuallyCreated } from '../checkers/eventually-created.ts';
import { noDoubleCharge } from '../checkers/no-double-charge.ts';
import { noOrphanCharge } from '../checkers/no-orphan-charge.ts';
import { honoursRetryAfter } from '../checkers/honours-retry-after.ts';
import { notificationDelivered } from '../checkers/notification-delivered.ts';
import { baseServices, plan, PLANS, productsFor, purchaseMaker, send, settleAndRead, type SubFinal } from './common.ts';

export const outage: ScenarioDef<SubFinal> = {
  id: 'outage',
  description: 'the payment gateway is down for a window while purchases arrive: all succeed afterwards, and the retry traffic stays within budget',
  params: {
    quick: { purchases: 12, outageMs: 2000, spreadMs: 300, callTimeoutMs: 20000, quietMs: 1000, settleMaxMs: 10000 },
    standard: { purchases: 20, outageMs: 2200, spreadMs: 400, callTimeoutMs: 20000, quietMs: 1000, settleMaxMs: 10000 },
    thorough: { purchases: 48, outageMs: 5000, spreadMs: 1000, callTimeoutMs: 25000, quietMs: 1200, settleMaxMs: 15000 },
  },
  data(rng, p) {
    const make = purchaseMaker(rng.fork('ids'));
    const purchases: PurchaseSpec[] = Array.from({ length: p.purchases }, (_, i) => make(PLANS[i % PLANS.length], 'active', 'outage'));
    return { purchases, products: productsFor(purchases) };
  },
  services: (data, params) => baseServices(data, params),
  async run(ctx) {
    const rng = ctx.rng.fork('workload');
    const services = ctx.services!;
    const mode = rng.pick(['503', 'reset'] as const);
    const startUs = ctx.nowUs();
    const heal = services.faults.outage('payments', { mode });
    ctx.progress(`payments down (${mode}) for ${ctx.params.outageMs} ms`);
    const all = send(ctx, plan(ctx, ctx.data.purchases as PurchaseSpec[], 'purchase', ctx.params.spreadMs, rng));
    await ctx.sleep(ctx.params.outageMs);
    await heal();
    const endUs = ctx.nowUs();
    await all;
    // The retry traffic the outage drew: what a candidate's policy costs a service that is down.
    const during = services.ledger.attempts.filter((a) => a.service === 'payments' && a.startUs >= startUs && a.startUs <= endUs);
    const perKey = new Map<string, number>();
    for (const a of during) perKey.set(`${a.instance}|${a.key ?? JSON.stringify(a.body)}`, (perKey.get(`${a.instance}|${a.key ?? JSON.stringify(a.body)}`) ?? 0) + 1);
    const seconds = (endUs - startUs) / 1e6;
    ctx.metric('outageMode', mode);
    ctx.metric('outageCalls', during.length);
    ctx.metric('outageCallsPerPurchasePerS', Math.round((during.length / Math.max(1, (ctx.data.purchases as unknown[]).length) / seconds) * 100) / 100);
    ctx.metric('outageMaxCallsPerKey', Math.max(0, ...perKey.values()));
  },
  finalReads: settleAndRead,
  checkers: [retryBackoff, eventuallyCreated, noDoubleCharge, noOrphanCharge, honoursRetryAfter, notificationDelivered],
};
