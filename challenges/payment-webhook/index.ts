// The payment-webhook challenge: a hostile payment provider delivers duplicated, reordered, forged and poisoned
// webhooks while the database and the notification service fail; exactly one subscription per successful payment,
// confirmed exactly once. Its checks, what each means for a candidate, and its scenarios.

import { fileURLToPath } from 'node:url';
import type { ChallengeDef } from '../../harness/scenario.ts';
import { starter } from './starter.ts';
import { duplicatesAndOrder } from './scenarios/duplicates-and-order.ts';
import { hostile } from './scenarios/hostile.ts';
import { faults } from './scenarios/faults.ts';
import { INJECTION_PAYMENT_IDS, INJECTION_USER_IDS } from './provider/payloads.ts';

export const paymentWebhook: ChallengeDef = {
  id: 'payment-webhook',
  title: 'Process payment webhooks exactly once from a provider that duplicates, reorders and gets forged',
  file: 'payment-webhook',
  routesModule: fileURLToPath(new URL('./routes.ts', import.meta.url)),
  contract: fileURLToPath(new URL('./contract.ts', import.meta.url)),
  starter,
  requiredMethods: ['handlePaymentWebhook', 'getSubscriptionsByPaymentId'],
  optionalMethods: ['getDeadLetters'],
  scenarios: [duplicatesAndOrder, hostile, faults],
  // The contract gives no scenario data: the provider's events arrive as webhooks.
  candidateView: () => ({}),
  injectionProbes: [...INJECTION_USER_IDS, ...INJECTION_PAYMENT_IDS],
  pipelineCheckNotes: {
    'no-crash': {
      why: 'A crashing instance drops every webhook it was handling, and its background work (sweepers) with it.',
      hint: 'Catch errors in background loops and timers; give pooled clients an error listener; never exit from a handler.',
    },
  },
  checks: [
    {
      id: 'one-subscription-per-payment',
      rubric: ['locking', 'transactions', 'race-prevention', 'idempotency'],
      redFlag: 'no-idempotency',
      safety: true,
      summary: 'No payment ever has more than one subscription, however many times and wherever its events arrive.',
      why: 'Providers deliver at least once: a duplicate that creates a second subscription bills or provisions twice, and support has to untangle it by hand.',
      hint: 'Let the database decide: a unique constraint per payment (and one per event key), with the conflict treated as "already done".',
    },
    {
      id: 'duplicates-acknowledged',
      rubric: ['race-prevention', 'idempotency', 'api-design'],
      summary: 'Every delivery of a valid event — first, duplicate, concurrent or late — ends in a 2xx; errors only while the database is being broken.',
      why: 'A 4xx or 5xx tells the provider the event failed: it retries for days, alerts, and eventually disables your endpoint. A duplicate is success, not a conflict.',
      hint: 'Answer 2xx once the event is durably recorded or found already recorded; never let a side call (like notifications) decide the webhook\'s answer.',
    },
    {
      id: 'no-state-regression',
      rubric: ['transactions', 'distributed-systems'],
      safety: true,
      summary: 'An active subscription never goes back to pending or failed when an older event arrives late.',
      why: 'Events arrive out of order: a late "pending" that downgrades a paid subscription locks a paying customer out.',
      hint: 'Model the status as a state machine that only moves forward (pending → active | failed), enforced in the write itself.',
    },
    {
      id: 'signature-enforced',
      rubric: ['api-design', 'security'],
      redFlag: 'security-vulnerability',
      safety: true,
      summary: 'Unsigned, forged, stale (> 300 s) and tampered deliveries get a 4xx and change nothing.',
      why: 'The webhook URL is public: without signature and timestamp checks anyone can grant themselves a subscription or replay an old event.',
      hint: 'HMAC-SHA256 over `t + "." + rawBody` exactly as received (never re-serialised JSON), constant-time comparison, and a timestamp tolerance.',
    },
    {
      id: 'poison-dead-lettered',
      rubric: ['error-recovery', 'error-handling', 'error-handling-code'],
      summary: 'A signed but invalid event gets a 2xx or 4xx (never 5xx), creates nothing, and is listed by getDeadLetters() on every instance; valid events never stay there.',
      why: 'A 5xx makes the provider redeliver a message that can never succeed, forever; dropping it silently hides a provider or integration bug.',
      hint: 'Validate the parsed body; store what fails with its raw bytes and a reason in a shared table, then acknowledge it.',
    },
    {
      id: 'eventually-processed',
      rubric: ['error-recovery', 'load-balancing', 'distributed-systems'],
      summary: 'After faults heal, every successful payment has its active subscription with the exact amount and user; nothing else is active.',
      why: 'A paid customer without access is lost revenue and a support ticket; a subscription for an unpaid payment is a giveaway.',
      hint: 'Use parameterised queries (strings must come back byte for byte), retry transient database errors, and answer 5xx when you could not record the event so the provider redelivers.',
    },
    {
      id: 'notification-exactly-once',
      rubric: ['idempotency'],
      summary: 'Each active subscription is confirmed exactly once through the notification service (by email, to its user), whatever fails; nothing else is confirmed.',
      why: 'A lost confirmation confuses customers; a repeated one looks broken and erodes trust. The notification service fails, and sometimes acts without answering.',
      hint: 'Record the confirmation to send in the same transaction as the activation (an outbox), send it with an Idempotency-Key derived from the payment, and retry with backoff.',
    },
  ],
};

export default paymentWebhook;
