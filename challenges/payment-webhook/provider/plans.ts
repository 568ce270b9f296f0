// Payment plans: what happens to one payment at the provider and in which order its events reach the service.
// Each plan is a list of steps: `emit` (the provider's state moves, so GET /payments/:id reports it), `deliver`
// (an event, once, several times in a row, or to several instances at the same instant) and `read` (a mid-run read
// of the payment's subscriptions, so a later downgrade is visible). Every event has its own idempotencyKey.

import type { Rng } from '../../../harness/seed.ts';
import { INJECTION_PAYMENT_IDS, INJECTION_USER_IDS, type WebhookEvent } from './payloads.ts';

export type PlanKind =
  | 'pending-success' // pending, then success, in order
  | 'pending-failed'
  | 'success' // straight to a result
  | 'failed'
  | 'success-first' // success delivered before the pending that preceded it
  | 'late-pending' // success acknowledged and read back, then the old pending arrives
  | 'redelivered-pending' // pending, success, then the provider redelivers the pending
  | 'racing-events' // pending and success arrive at the same instant on different instances
  | 'failed-first' // failed delivered before its pending
  | 'pending-only'; // the payment never completes

/** How one event is delivered: once, again after the answer (`sequential`), or to several instances at once. */
export type DeliveryMode = 'single' | 'sequential' | 'concurrent';

export type Step =
  | { do: 'emit'; event: number }
  | { do: 'deliver'; event: number; mode: DeliveryMode; copies: number; variant?: string }
  | { do: 'deliver-together'; events: number[] }
  | { do: 'read' };

export interface PaymentPlan {
  kind: PlanKind;
  paymentId: string;
  userId: string;
  amount: number;
  /** In the order the provider generated them. */
  events: WebhookEvent[];
  steps: Step[];
  /** The provider's final status. */
  finalStatus: WebhookEvent['status'];
}

/** Every kind, in the order a workload cycles through them: small workloads still get each one. */
export const PLAN_KINDS: PlanKind[] = ['late-pending', 'pending-success', 'success-first', 'racing-events', 'success', 'pending-failed', 'redelivered-pending', 'failed', 'failed-first', 'pending-only'];

export interface PlanOptions {
  /** Instances a concurrent delivery goes to at once (at least 2). */
  copies: number;
  /** Share of payments whose userId (and sometimes paymentId) is an injection string. */
  injectionShare: number;
  /** Kinds to draw from (default PLAN_KINDS). */
  kinds?: PlanKind[];
}

const hex = (rng: Rng, n: number) => Array.from({ length: n }, () => Math.floor(rng.next() * 16).toString(16)).join('');

/** `count` plans: kinds cycle through `kinds` (so every kind appears), then the order is shuffled. */
export function makePlans(rng: Rng, prefix: string, count: number, o: PlanOptions): PaymentPlan[] {
  const kinds = o.kinds ?? PLAN_KINDS;
  const plans: PaymentPlan[] = [];
  let injected = 0;
  // Success events rotate through the delivery modes, so each mode is exercised in every run.
  const modes: DeliveryMode[] = ['concurrent', 'sequential', 'single', 'concurrent', 'sequential'];
  let m = rng.int(0, modes.length - 1);
  const nextMode = () => modes[m++ % modes.length];
  for (let i = 0; i < count; i++) {
    const kind = kinds[i % kinds.length];
    const inject = rng.chance(o.injectionShare) || (i === 1 && o.injectionShare > 0);
    const n = String(i + 1).padStart(3, '0');
    const paymentId = inject && rng.chance(0.4) ? `${INJECTION_PAYMENT_IDS[injected % INJECTION_PAYMENT_IDS.length]}_${prefix}${n}` : `pay_${prefix}${n}_${hex(rng, 6)}`;
    const userId = inject ? `${INJECTION_USER_IDS[injected++ % INJECTION_USER_IDS.length]} #${n}` : `user_${prefix}${n}`;
    const amount = rng.int(5, 199) * 100 - (rng.chance(0.3) ? 1 : 0);
    const event = (status: WebhookEvent['status']): WebhookEvent => ({ paymentId, status, amount, userId, idempotencyKey: `evt_${hex(rng, 24)}` });
    const copies = o.copies;
    const d = (event: number, mode: DeliveryMode, variant?: string): Step => ({ do: 'deliver', event, mode, copies, ...(variant ? { variant } : {}) });
    let events: WebhookEvent[];
    let steps: Step[];
    switch (kind) {
      case 'pending-success':
        events = [event('pending'), event('success')];
        steps = [{ do: 'emit', event: 0 }, d(0, 'single'), { do: 'emit', event: 1 }, d(1, nextMode()), { do: 'read' }];
        break;
      case 'pending-failed':
        events = [event('pending'), event('failed')];
        steps = [{ do: 'emit', event: 0 }, d(0, 'single'), { do: 'emit', event: 1 }, d(1, rng.pick(modes))];
        break;
      case 'success':
        events = [event('success')];
        steps = [{ do: 'emit', event: 0 }, d(0, nextMode()), { do: 'read' }];
        break;
      case 'failed':
        events = [event('failed')];
        steps = [{ do: 'emit', event: 0 }, d(0, rng.pick(modes))];
        break;
      case 'success-first':
        events = [event('pending'), event('success')];
        steps = [{ do: 'emit', event: 0 }, { do: 'emit', event: 1 }, d(1, nextMode()), d(0, 'single', 'late')];
        break;
      case 'late-pending':
        events = [event('pending'), event('success')];
        steps = [{ do: 'emit', event: 0 }, { do: 'emit', event: 1 }, d(1, 'single'), { do: 'read' }, d(0, rng.chance(0.5) ? 'concurrent' : 'single', 'late'), { do: 'read' }];
        break;
      case 'redelivered-pending':
        events = [event('pending'), event('success')];
        steps = [{ do: 'emit', event: 0 }, d(0, 'single'), { do: 'emit', event: 1 }, d(1, 'single'), { do: 'read' }, d(0, 'single', 'redelivered-after-success'), { do: 'read' }];
        break;
      case 'racing-events':
        events = [event('pending'), event('success')];
        steps = [{ do: 'emit', event: 0 }, { do: 'emit', event: 1 }, { do: 'deliver-together', events: [0, 1] }, { do: 'read' }];
        break;
      case 'failed-first':
        events = [event('pending'), event('failed')];
        steps = [{ do: 'emit', event: 0 }, { do: 'emit', event: 1 }, d(1, 'single'), d(0, 'single', 'late')];
        break;
      case 'pending-only':
        events = [event('pending')];
        steps = [{ do: 'emit', event: 0 }, d(0, rng.pick(modes))];
        break;
    }
    plans.push({ kind, paymentId, userId, amount, events, steps, finalStatus: events[events.length - 1].status });
  }
  return rng.shuffle(plans);
}
