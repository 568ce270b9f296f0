// faults: payments delivered (with duplicates and reordering) while things break under them, one fault per group
// of payments so every fault meets traffic: a database latency spike, killed backends mid-transaction, the
// notification service down, an instance killed mid-request and restarted, reset database connections, and the
// notification service dropping every response after acting on it — all while ~30 % of notification calls fail.
// Webhook answers may fail only while the database is broken (CONTRACT §8); no confirmation is lost or doubled.

import type { ScenarioContext, ScenarioDef } from '../../../harness/scenario.ts';
import type { ServiceFaults } from '../../../harness/services/types.ts';
import { Provider } from '../provider/provider.ts';
import { makePlans, PLAN_KINDS, type PaymentPlan, type PlanKind } from '../provider/plans.ts';
import { oneSubscriptionPerPayment } from '../checkers/one-subscription-per-payment.ts';
import { duplicatesAcknowledged } from '../checkers/duplicates-acknowledged.ts';
import { noStateRegression } from '../checkers/no-state-regression.ts';
import { eventuallyProcessed } from '../checkers/eventually-processed.ts';
import { notificationExactlyOnce } from '../checkers/notification-exactly-once.ts';
import { poisonDeadLettered } from '../checkers/poison-dead-lettered.ts';
import { PROVIDER, servicesFor, webhookFinalReads, type WebhookFinal } from './common.ts';

/** About 30 % of notification calls fail: 500, 503, a reset, or a ghost (sent, but the answer is lost). */
export const NOTIFICATION_FAULTS: ServiceFaults = { error500: 0.1, error503: 0.06, reset: 0.06, ghost: 0.08, latency: 0.1, latencyMs: [20, 120] };

const STEPS = ['latency-spike', 'kill-backends', 'notification-outage', 'instance-kill', 'db-reset', 'notification-ghost'] as const;
type Step = (typeof STEPS)[number];

export const faults: ScenarioDef<WebhookFinal> = {
  id: 'faults',
  description: 'deliveries while database backends are killed, connections reset, latency spikes, an instance is killed, and notifications fail or go down',
  params: {
    quick: { perStep: 4, streams: 8, baseLatencyMs: 2, spikeLatencyMs: 60, spikeMs: 300, outageMs: 700, ghostMs: 700, restartAfterMs: 150, injectionShare: 0.15 },
    standard: { perStep: 7, streams: 8, baseLatencyMs: 2, spikeLatencyMs: 80, spikeMs: 400, outageMs: 900, ghostMs: 800, restartAfterMs: 200, injectionShare: 0.15 },
    thorough: { perStep: 16, streams: 12, baseLatencyMs: 3, spikeLatencyMs: 100, spikeMs: 600, outageMs: 1500, ghostMs: 1200, restartAfterMs: 300, injectionShare: 0.15 },
  },
  data: () => ({}),
  services: servicesFor({ faults: { notifications: NOTIFICATION_FAULTS } }),
  async run(ctx) {
    const p = ctx.params;
    const rng = ctx.rng.fork('faults');
    const provider = new Provider(ctx, PROVIDER, ctx.rng.fork('provider'));
    const plans: PaymentPlan[] = STEPS.flatMap((_, s) =>
      makePlans(ctx.rng.fork(`plans-${s}`), `f${s + 1}`, p.perStep, { copies: Math.max(2, ctx.cluster.size), injectionShare: p.injectionShare, kinds: groupKinds(s, p.perStep) }),
    );
    const started = Date.now();
    // Base latency keeps transactions open long enough for a kill or a reset to land inside them.
    ctx.nemesis.dbLatency(p.baseLatencyMs, 1);
    for (let s = 0; s < STEPS.length; s++) {
      const group = plans.slice(s * p.perStep, (s + 1) * p.perStep);
      ctx.progress(`${STEPS[s]} during ${group.length} payments`);
      // The fault first: a notification fault is on before the group's first request; a database fault or a kill
      // waits a few ms so that it lands in transactions and requests in flight.
      const fault = inject(ctx, STEPS[s], rng.int(10, 40));
      await Promise.all([provider.runPlans(group, p.streams, STEPS[s], s * p.perStep), fault]);
    }
    await ctx.nemesis.healAll();
    await ctx.services!.faults.heal();
    for (const [k, v] of Object.entries(provider.report(Date.now() - started))) ctx.metric(k, v);
  },
  finalReads: webhookFinalReads,
  checkers: [oneSubscriptionPerPayment, duplicatesAcknowledged, noStateRegression, eventuallyProcessed, notificationExactlyOnce, poisonDeadLettered],
};

const SUCCEEDING = PLAN_KINDS.filter((k) => !['pending-failed', 'failed', 'failed-first', 'pending-only'].includes(k));

/** Every other payment of a group succeeds, so every fault meets activations and confirmations; the rest cycle through every kind. */
function groupKinds(step: number, n: number): PlanKind[] {
  return Array.from({ length: n }, (_, i) => (i % 2 === 0 ? SUCCEEDING[(step + i / 2) % SUCCEEDING.length] : PLAN_KINDS[(step * n + i) % PLAN_KINDS.length]));
}

/**
 * Start one fault and heal it when its time is up. Notification faults start at once (synchronously, before the
 * group's traffic); database faults and the kill start `delayMs` into the traffic.
 */
async function inject(ctx: ScenarioContext, step: Step, delayMs: number): Promise<void> {
  const p = ctx.params;
  const services = ctx.services!;
  if (step !== 'notification-outage' && step !== 'notification-ghost') await ctx.sleep(delayMs);
  switch (step) {
    case 'latency-spike': {
      ctx.nemesis.dbLatency(p.spikeLatencyMs, 20);
      await ctx.sleep(p.spikeMs);
      ctx.nemesis.dbLatency(p.baseLatencyMs, 1);
      return;
    }
    case 'kill-backends':
      await ctx.nemesis.killBackends();
      await ctx.sleep(50);
      await ctx.nemesis.killBackends();
      return;
    case 'db-reset':
      await ctx.nemesis.dbReset();
      return;
    case 'notification-outage': {
      const heal = services.faults.outage('notifications', { mode: ctx.rng.fork('outage-mode').chance(0.5) ? '503' : 'reset' });
      await ctx.sleep(p.outageMs);
      await heal();
      return;
    }
    case 'notification-ghost': {
      // Every notification call takes effect and its answer is lost: only a retry with the same key is safe.
      services.faults.set('notifications', { ghost: 1 });
      await ctx.sleep(p.ghostMs);
      services.faults.set('notifications', NOTIFICATION_FAULTS);
      return;
    }
    case 'instance-kill': {
      const victim = ctx.rng.fork('victim').int(0, ctx.cluster.size - 1);
      await ctx.cluster.kill(victim);
      await ctx.sleep(p.restartAfterMs);
      await ctx.cluster.restart(victim);
      return;
    }
  }
}
