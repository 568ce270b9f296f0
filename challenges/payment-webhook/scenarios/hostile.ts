// hostile: real payments first, then one barrier burst across every instance mixing what an attacker sends
// (unsigned, wrong signature, another secret, malformed header, stale, refreshed timestamp, real deliveries replayed
// with their body changed) with the provider's poison (signed but invalid) and duplicates of real events. Forgeries
// must get a 4xx and change nothing; poison a 2xx/4xx and a place in the dead-letter list; duplicates a 2xx.

import type { ScenarioDef } from '../../../harness/scenario.ts';
import { Provider, type Delivery } from '../provider/provider.ts';
import { makePlans } from '../provider/plans.ts';
import { forgedDeliveries, poisonDeliveries, tamperedReplays } from '../provider/hostile.ts';
import { oneSubscriptionPerPayment } from '../checkers/one-subscription-per-payment.ts';
import { duplicatesAcknowledged } from '../checkers/duplicates-acknowledged.ts';
import { signatureEnforced } from '../checkers/signature-enforced.ts';
import { poisonDeadLettered } from '../checkers/poison-dead-lettered.ts';
import { eventuallyProcessed } from '../checkers/eventually-processed.ts';
import { notificationExactlyOnce } from '../checkers/notification-exactly-once.ts';
import { PROVIDER, servicesFor, webhookFinalReads, type WebhookFinal } from './common.ts';

export const hostile: ScenarioDef<WebhookFinal> = {
  id: 'hostile',
  description: 'forged, unsigned, stale and tampered deliveries and signed poison, in one burst with real duplicates',
  params: {
    quick: { payments: 10, streams: 10, forged: 14, tampered: 4, poison: 11, duplicates: 6, injectionShare: 0.3 },
    standard: { payments: 16, streams: 10, forged: 21, tampered: 6, poison: 22, duplicates: 10, injectionShare: 0.3 },
    thorough: { payments: 40, streams: 16, forged: 42, tampered: 12, poison: 44, duplicates: 20, injectionShare: 0.3 },
  },
  data: () => ({}),
  services: servicesFor(),
  async run(ctx) {
    const p = ctx.params;
    const rng = ctx.rng.fork('attack');
    const provider = new Provider(ctx, PROVIDER, ctx.rng.fork('provider'));
    const plans = makePlans(ctx.rng.fork('plans'), 'h', p.payments, {
      copies: Math.max(2, ctx.cluster.size),
      injectionShare: p.injectionShare,
      kinds: ['success', 'failed', 'pending-success', 'pending-failed', 'late-pending'],
    });
    const started = Date.now();
    ctx.progress(`${plans.length} real payments`);
    const real = await provider.runPlans(plans, p.streams, 'main');
    const acked = real.filter((r) => r.acknowledged && r.delivery.kind === 'valid');
    const attacks: Delivery[] = [
      ...forgedDeliveries(rng, ctx.webhookSecret, 'decoy', p.forged),
      ...tamperedReplays(rng, acked.map((r) => r.last), p.tampered),
      ...poisonDeliveries(rng, 'pay_poison', p.poison),
      ...rng.shuffle([...real]).slice(0, p.duplicates).map((r) => ({ ...r.delivery, kind: 'duplicate' as const, variant: 'amid-attacks' })),
    ];
    const size = ctx.cluster.size;
    let at = rng.int(0, size - 1);
    const items = rng.shuffle(attacks).map((d, i) => ({ d, id: `h${i + 1}`, instance: at++ % size }));
    ctx.progress(`${items.length} forged, stale, tampered, poison and duplicate deliveries released together`);
    await provider.deliverTogether(items, 'attack');
    for (const [k, v] of Object.entries(provider.report(Date.now() - started))) ctx.metric(k, v);
  },
  finalReads: webhookFinalReads,
  checkers: [signatureEnforced, poisonDeadLettered, oneSubscriptionPerPayment, duplicatesAcknowledged, eventuallyProcessed, notificationExactlyOnce],
};
