// duplicates-and-order: the provider's everyday behaviour, at volume. Payments go pending → success|failed (some
// straight to a result, some never complete); events arrive twice in a row, at the same instant on several
// instances, out of order (success before pending, a pending after the success was read back, pending and success
// together) and carry injection strings. Exactly one subscription per payment, never downgraded, each confirmed once.

import type { ScenarioDef } from '../../../harness/scenario.ts';
import { Provider } from '../provider/provider.ts';
import { makePlans } from '../provider/plans.ts';
import { oneSubscriptionPerPayment } from '../checkers/one-subscription-per-payment.ts';
import { duplicatesAcknowledged } from '../checkers/duplicates-acknowledged.ts';
import { noStateRegression } from '../checkers/no-state-regression.ts';
import { eventuallyProcessed } from '../checkers/eventually-processed.ts';
import { notificationExactlyOnce } from '../checkers/notification-exactly-once.ts';
import { poisonDeadLettered } from '../checkers/poison-dead-lettered.ts';
import { PROVIDER, servicesFor, webhookFinalReads, type WebhookFinal } from './common.ts';

export const duplicatesAndOrder: ScenarioDef<WebhookFinal> = {
  id: 'duplicates-and-order',
  description: 'payments with duplicated, concurrent (same instant, several instances) and out-of-order events, some carrying injection strings',
  params: {
    quick: { payments: 20, streams: 8, injectionShare: 0.2, dbLatencyMs: 1 },
    standard: { payments: 40, streams: 10, injectionShare: 0.2, dbLatencyMs: 1 },
    thorough: { payments: 120, streams: 16, injectionShare: 0.2, dbLatencyMs: 2 },
  },
  data: () => ({}),
  services: servicesFor(),
  async run(ctx) {
    const p = ctx.params;
    const provider = new Provider(ctx, PROVIDER, ctx.rng.fork('provider'));
    const plans = makePlans(ctx.rng.fork('plans'), 'a', p.payments, { copies: Math.max(2, ctx.cluster.size), injectionShare: p.injectionShare });
    // A little database latency widens the window in which concurrent duplicates overlap.
    const heal = ctx.nemesis.dbLatency(p.dbLatencyMs, 1);
    const started = Date.now();
    ctx.progress(`${plans.length} payments, ${p.streams} at a time`);
    await provider.runPlans(plans, p.streams, 'main');
    await heal();
    for (const [k, v] of Object.entries(provider.report(Date.now() - started))) ctx.metric(k, v);
  },
  finalReads: webhookFinalReads,
  checkers: [oneSubscriptionPerPayment, duplicatesAcknowledged, noStateRegression, eventuallyProcessed, notificationExactlyOnce, poisonDeadLettered],
};
