// crash-after-charge: a warm-up of ordinary purchases, then a batch sent to one instance while the gateway holds
// every charge response back. Once the gateway has executed the batch's charges (the ledger shows them) the
// instance is SIGKILLed, before any answer reached it, and started again. Half of the batch is retried by the
// client on another instance (same requestId: must not charge again); nobody calls again for the other half (the
// system must finish or compensate them by itself).

import type { ScenarioDef } from '../../../harness/scenario.ts';
import type { PurchaseSpec } from '../checkers/model.ts';
import { crashRecovered } from '../checkers/crash-recovered.ts';
import { eventuallyCreated } from '../checkers/eventually-created.ts';
import { noDoubleCharge } from '../checkers/no-double-charge.ts';
import { noOrphanCharge } from '../checkers/no-orphan-charge.ts';
import { retryBackoff } from '../checkers/retry-backoff.ts';
import { honoursRetryAfter } from '../checkers/honours-retry-after.ts';
import { notificationDelivered } from '../checkers/notification-delivered.ts';
import { baseServices, plan, PLANS, productsFor, purchaseMaker, send, settleAndRead, type Planned, type SubFinal } from './common.ts';

export const crashAfterCharge: ScenarioDef<SubFinal> = {
  id: 'crash-after-charge',
  description: 'an instance is killed right after the gateway executed its charges; some purchases are retried elsewhere, the rest must recover by themselves',
  params: {
    quick: { warmup: 4, crash: 4, spreadMs: 100, waitChargesMs: 5000, callTimeoutMs: 20000, quietMs: 1000, settleMaxMs: 12000 },
    standard: { warmup: 8, crash: 6, spreadMs: 150, waitChargesMs: 5000, callTimeoutMs: 20000, quietMs: 1000, settleMaxMs: 12000 },
    thorough: { warmup: 12, crash: 12, spreadMs: 300, waitChargesMs: 8000, callTimeoutMs: 25000, quietMs: 1500, settleMaxMs: 15000 },
  },
  data(rng, p) {
    const make = purchaseMaker(rng.fork('ids'));
    const groups = rng.fork('groups').shuffle(Array.from({ length: p.crash }, (_, i) => (i % 2 === 0 ? 'crash-retried' : 'crash-abandoned')));
    const purchases: PurchaseSpec[] = [
      ...Array.from({ length: p.warmup }, (_, i) => make(PLANS[i % PLANS.length], 'active', 'warmup')),
      ...groups.map((g, i) => make(PLANS[i % PLANS.length], 'active', g)),
    ];
    return { purchases, products: productsFor(purchases) };
  },
  services: (data, params) => baseServices(data, params),
  async run(ctx) {
    const rng = ctx.rng.fork('workload');
    const services = ctx.services!;
    const purchases = ctx.data.purchases as PurchaseSpec[];
    const size = ctx.cluster.size;
    ctx.progress('warm-up purchases');
    await send(ctx, plan(ctx, purchases.filter((p) => p.group === 'warmup'), 'warmup', ctx.params.spreadMs, rng.fork('warmup')));

    const victim = rng.int(0, size - 1);
    const batch = purchases.filter((p) => p.group?.startsWith('crash-'));
    const before = services.ledger.charges.length;
    // The gateway executes each charge and stores its result, but holds the answer back until healed.
    services.faults.set('payments', { routes: { 'POST /charges': { hold: 1 } } });
    ctx.progress(`${batch.length} purchases on instance ${victim}; it dies once the gateway has charged them`);
    const sent = send(ctx, batch.map((purchase, i): Planned => ({ purchase, instance: victim, phase: 'crash', delayMs: Math.round((i * ctx.params.spreadMs) / batch.length) })));
    const executed = () => services.ledger.charges.slice(before).filter((c) => c.instance === victim).length;
    const deadline = Date.now() + ctx.params.waitChargesMs;
    while (executed() < batch.length && Date.now() < deadline) await ctx.sleep(5);
    ctx.metric('chargesBeforeKill', executed());
    await ctx.cluster.kill(victim);
    await services.faults.heal('payments'); // the held answers go nowhere: their caller is dead

    const others = Array.from({ length: size }, (_, i) => i).filter((i) => i !== victim);
    const retried = batch.filter((p) => p.group === 'crash-retried');
    const retries = send(ctx, retried.map((purchase, i): Planned => ({ purchase, instance: others.length ? others[i % others.length] : victim, phase: 'crash-retry', delayMs: others.length ? 0 : 1000 })));
    ctx.progress(`instance ${victim} killed; ${retried.length} purchases retried elsewhere; restarting it`);
    await ctx.cluster.restart(victim);
    await Promise.all([sent, retries]);
    ctx.metric('victim', victim);
  },
  finalReads: settleAndRead,
  checkers: [crashRecovered, eventuallyCreated, noDoubleCharge, noOrphanCharge, retryBackoff, honoursRetryAfter, notificationDelivered],
};
