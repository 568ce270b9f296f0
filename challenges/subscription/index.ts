// The subscription (resilience) challenge: purchases through a payment gateway, an inventory and a notification
// service that fail, go down, and an instance killed mid-purchase. Its checks, what each means for a candidate,
// and its scenarios. Candidate-facing spec: README.md beside this file.

import { fileURLToPath } from 'node:url';
import type { ChallengeDef } from '../../harness/scenario.ts';
import { starter } from './starter.ts';
import { flakyPayments } from './scenarios/flaky-payments.ts';
import { notificationsDown } from './scenarios/notifications-down.ts';
import { inventoryFailsAfterCharge } from './scenarios/inventory-fails-after-charge.ts';
import { crashAfterCharge } from './scenarios/crash-after-charge.ts';
import { outage } from './scenarios/outage.ts';
import { SUBSCRIPTION_INJECTION_PROBES } from './scenarios/common.ts';

export const subscription: ChallengeDef = {
  id: 'subscription',
  title: 'Sell a subscription while payments, inventory and notifications fail',
  file: 'subscription',
  routesModule: fileURLToPath(new URL('./routes.ts', import.meta.url)),
  contract: fileURLToPath(new URL('./contract.ts', import.meta.url)),
  starter,
  requiredMethods: ['createSubscriptionWithRetry', 'getSubscription'],
  optionalMethods: [],
  scenarios: [flakyPayments, notificationsDown, inventoryFailsAfterCharge, crashAfterCharge, outage],
  // The contract gives no scenario data: the purchases (and what each should come to) are the harness's plan.
  candidateView: () => ({}),
  injectionProbes: SUBSCRIPTION_INJECTION_PROBES,
  pipelineCheckNotes: {
    loads: { hint: 'Run gauntlet grade --challenge subscription --profile quick and read the instance log under the run folder.' },
    'no-crash': {
      why: 'A crashing instance drops every request it was serving, and every purchase it was in the middle of.',
      hint: 'Handle the errors of every promise, including background loops and timers; a reset from a service is an error to handle, not to die of.',
    },
  },
  checks: [
    {
      id: 'eventually-created',
      rubric: ['error-recovery'],
      redFlag: 'no-retry-mechanism',
      summary: 'Every purchase that can succeed ends active once faults heal, and every call for it answers with that one subscription.',
      why: 'A purchase lost to a 503 is a customer lost; an error answered for a purchase that went through makes them buy twice.',
      hint: 'Retry transient failures (5xx, 429, resets, timeouts) of each step inside createSubscriptionWithRetry, and make a repeated requestId find the purchase already under way.',
    },
    {
      id: 'no-double-charge',
      rubric: ['locking', 'race-prevention', 'idempotency'],
      redFlag: 'no-idempotency',
      safety: true,
      summary: 'Per requestId, at most one charge is kept (succeeded charges minus refunds, from the gateway\'s ledger).',
      why: 'Charging a customer twice is the most expensive bug a payment flow can have: refunds, chargebacks, support calls and trust.',
      hint: 'Send an Idempotency-Key derived from the requestId with every charge, and keep it across retries, instances and restarts: a ghost success is only safe to retry with the same key.',
    },
    {
      id: 'no-orphan-charge',
      rubric: ['transactions', 'error-recovery', 'distributed-systems'],
      summary: 'Money kept ⇔ an active subscription naming that charge; a failed purchase keeps no money and no stock; the answer matches what was kept.',
      why: 'A charge without a subscription is money taken for nothing; stock committed for a failed purchase is lost revenue.',
      hint: 'Persist each step before and after its remote call, and when a step after the charge fails for good, refund the charge and release the reservation (with their own keys).',
    },
    {
      id: 'retry-backoff',
      rubric: ['error-handling'],
      safety: true,
      summary: 'Retries back off: per key a failing call is tried at most 12 + 8/s times, its waits grow, and a service that is down is not hammered.',
      why: 'Retrying at once or at a fixed short interval turns a provider\'s bad minute into an outage of your own, and keeps it down when it tries to come back.',
      hint: 'Capped exponential backoff with full jitter: wait random(0, min(cap, base·2^attempt)), base 20–50 ms, cap about 1 s.',
    },
    {
      id: 'honours-retry-after',
      rubric: ['error-handling'],
      safety: true,
      summary: 'After a 429 (or 503) with Retry-After, the same process does not try that call again before the time it was told.',
      why: 'Providers rate-limit to protect themselves; ignoring Retry-After gets an API key throttled harder or banned.',
      hint: 'Read Retry-After-Ms (or Retry-After, in seconds) and wait at least that long, whichever of it and your backoff is longer.',
    },
    {
      id: 'notification-decoupled',
      rubric: ['error-handling', 'error-handling-code'],
      summary: 'While the notification service fails or is down, purchases neither fail nor wait for it.',
      why: 'An email is not worth a lost sale: the purchase is the business, the confirmation is a side effect.',
      hint: 'Record the confirmation to send in the same transaction as the purchase (an outbox), answer, and deliver it in the background.',
    },
    {
      id: 'notification-delivered',
      rubric: ['error-recovery'],
      summary: 'Once outages heal, every active purchase is confirmed exactly once, and nothing else is.',
      why: 'A missing confirmation sends customers to support; a duplicate one looks like a double charge.',
      hint: 'Retry delivery from a persisted outbox until it succeeds, with one Idempotency-Key per confirmation.',
    },
    {
      id: 'crash-recovered',
      rubric: ['transactions', 'error-recovery', 'load-balancing', 'distributed-systems'],
      summary: 'Purchases interrupted by a killed instance end whole (finished or compensated), whether or not anybody calls again.',
      why: 'Processes die mid-request in production (deploys, OOM kills): a purchase charged but never finished is an orphan charge nobody will notice.',
      hint: 'Persist the purchase\'s state before each remote step and let a recovery sweep (started in create, safe with several instances: row locks or leases) resume unfinished purchases.',
    },
  ],
};

export default subscription;
