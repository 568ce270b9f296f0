// notifications-down: a baseline of purchases with every service healthy, then the notification service goes down
// entirely (503s or resets, seeded) while more purchases arrive, until they are all answered (at least 1.2–2 s) or
// for 3–4 s, whichever comes first; afterwards it fails ~30 % of calls (ghosts, held responses) for a while.
// Purchases must neither fail nor wait for it; every active purchase is confirmed exactly once after the outage.

import type { ScenarioDef } from '../../../harness/scenario.ts';
import type { PurchaseSpec } from '../checkers/model.ts';
import { eventuallyCreated } from '../checkers/eventually-created.ts';
import { notificationDecoupled } from '../checkers/notification-decoupled.ts';
import { notificationDelivered } from '../checkers/notification-delivered.ts';
import { noDoubleCharge } from '../checkers/no-double-charge.ts';
import { noOrphanCharge } from '../checkers/no-orphan-charge.ts';
import { retryBackoff } from '../checkers/retry-backoff.ts';
import { honoursRetryAfter } from '../checkers/honours-retry-after.ts';
import { atMost, baseServices, plan, PLANS, productsFor, purchaseMaker, send, settleAndRead, type SubFinal } from './common.ts';

export const notificationsDown: ScenarioDef<SubFinal> = {
  id: 'notifications-down',
  description: 'the notification service is down while purchases arrive, then flaky: purchases unaffected, each confirmed once afterwards',
  params: {
    quick: { baseline: 8, purchases: 12, outageMs: 3000, minOutageMs: 1200, spreadMs: 400, afterMs: 500, decoupledBoundMs: 1500, callTimeoutMs: 20000, quietMs: 1000, settleMaxMs: 10000 },
    standard: { baseline: 8, purchases: 20, outageMs: 3000, minOutageMs: 1200, spreadMs: 500, afterMs: 500, decoupledBoundMs: 1500, callTimeoutMs: 20000, quietMs: 1000, settleMaxMs: 10000 },
    thorough: { baseline: 12, purchases: 48, outageMs: 4000, minOutageMs: 2000, spreadMs: 1500, afterMs: 1000, decoupledBoundMs: 1500, callTimeoutMs: 20000, quietMs: 1200, settleMaxMs: 15000 },
  },
  data(rng, p) {
    const make = purchaseMaker(rng.fork('ids'));
    const purchases: PurchaseSpec[] = [
      ...Array.from({ length: p.baseline }, (_, i) => make(PLANS[i % PLANS.length], 'active', 'baseline')),
      ...Array.from({ length: p.purchases }, (_, i) => make(PLANS[i % PLANS.length], 'active', 'outage')),
    ];
    return { purchases, products: productsFor(purchases) };
  },
  services: (data, params) => baseServices(data, params),
  async run(ctx) {
    const rng = ctx.rng.fork('workload');
    const services = ctx.services!;
    const purchases = ctx.data.purchases as PurchaseSpec[];
    ctx.progress('baseline purchases, every service healthy');
    await send(ctx, plan(ctx, purchases.filter((p) => p.group === 'baseline'), 'baseline', 100, rng.fork('baseline')));

    const mode = rng.pick(['503', 'reset'] as const);
    const startedUs = ctx.nowUs();
    const healOutage = services.faults.outage('notifications', { mode });
    // Flaky as well: these faults show once the outage is over (the outage answers first while it lasts).
    services.faults.set('notifications', { error500: 0.1, error503: 0.08, ghost: 0.08, hold: 0.04, latency: 0.2, latencyMs: [20, 100] });
    ctx.progress(`notifications down (${mode}) for ${ctx.params.outageMs} ms while purchases arrive`);
    const during = send(ctx, plan(ctx, purchases.filter((p) => p.group === 'outage'), 'outage', ctx.params.spreadMs, rng.fork('outage')));
    // The outage lasts until every purchase made during it was answered (at least minOutageMs, so confirmations are
    // retried a while), or outageMs: a purchase that waits for the notification service waits for all of it.
    const elapsedMs = () => (ctx.nowUs() - startedUs) / 1000;
    await atMost(ctx, during, Math.max(0, ctx.params.outageMs - elapsedMs()));
    if (elapsedMs() < ctx.params.minOutageMs) await ctx.sleep(ctx.params.minOutageMs - elapsedMs());
    ctx.metric('notificationOutageMs', Math.round(elapsedMs()));
    await healOutage();
    ctx.progress('notifications back, still flaky');
    await ctx.sleep(ctx.params.afterMs);
    await services.faults.heal('notifications');
    await during;
    ctx.metric('outageMode', mode);
  },
  finalReads: settleAndRead,
  checkers: [eventuallyCreated, notificationDecoupled, notificationDelivered, noDoubleCharge, noOrphanCharge, retryBackoff, honoursRetryAfter],
};
