// The notification-fanout challenge: subscription events fanned out to email, SMS and push through providers that
// fail, rate-limit and refuse addresses, under bursts, preference changes and a killed instance. Its checks, what
// each means for a candidate, and its scenarios. Candidate-facing spec: README.md beside this file.

import { fileURLToPath } from 'node:url';
import type { ChallengeDef } from '../../harness/scenario.ts';
import { starter } from './starter.ts';
import { steadyEvents } from './scenarios/steady-events.ts';
import { burst } from './scenarios/burst.ts';
import { providerOutage } from './scenarios/provider-outage.ts';
import { preferenceRace } from './scenarios/preference-race.ts';
import { crashWithBacklog } from './scenarios/crash-with-backlog.ts';

export const notificationFanout: ChallengeDef = {
  id: 'notification-fanout',
  title: 'Fan subscription events out to email, SMS and push under bursts, limits and outages',
  file: 'notification-fanout',
  routesModule: fileURLToPath(new URL('./routes.ts', import.meta.url)),
  contract: fileURLToPath(new URL('./contract.ts', import.meta.url)),
  starter,
  requiredMethods: ['publish', 'setPreferences', 'getDeadLetters'],
  optionalMethods: [],
  scenarios: [steadyEvents, burst, providerOutage, preferenceRace, crashWithBacklog],
  // The users (addresses, starting preferences) and the published limit; never the events to come.
  candidateView: (data) => ({ users: data.users, limits: data.limits }),
  pipelineCheckNotes: {
    loads: { hint: 'Run gauntlet grade --challenge notification-fanout --profile quick and read the instance log under the run folder.' },
    'no-crash': {
      why: 'A crashing instance drops every event it had not stored yet, and every delivery it was in the middle of.',
      hint: 'Catch errors in background workers and timers (a reset from a provider is an error to handle), and give every pool and client an error listener.',
    },
  },
  checks: [
    {
      id: 'delivered-exactly-once',
      rubric: ['idempotency', 'error-recovery'],
      summary: 'Every delivery an accepted event owes is sent exactly once to the right address, or given up for a reason the contract allows.',
      why: 'A missed "payment failed" notice costs a customer; the same SMS twice costs money and looks broken.',
      hint: 'Store each delivery durably when the event is accepted, send it with an Idempotency-Key of <eventId>:<channel>, and retry with that same key until it is accepted or must be given up.',
    },
    {
      id: 'preferences-respected',
      rubric: ['race-prevention'],
      safety: true,
      summary: 'Nothing is sent on a channel the user did not want for that kind of event when it was published.',
      why: 'Messaging someone on a channel they turned off breaks a promise (and, for SMS and email, often the law).',
      hint: 'Resolve the channels from the preferences stored in the database when the event is published, not from a copy taken at startup.',
    },
    {
      id: 'rate-limits-respected',
      rubric: ['error-handling', 'distributed-systems'],
      summary: 'At most smsPerUserPerMinute SMS per user across every instance; after a 429 the instance waits out Retry-After for that provider.',
      why: 'Providers throttle or ban senders that ignore their limits; users who get a flood of SMS unsubscribe or complain.',
      hint: 'Count each user\'s recent SMS in a store every instance shares (PostgreSQL or Redis) before sending; on a 429 pause that provider for this instance until Retry-After has passed.',
    },
    {
      id: 'dead-lettered',
      rubric: ['error-handling', 'error-recovery'],
      summary: 'Deliveries given up are listed once with a reason, nothing else is, and what can never succeed is given up after at most 10 attempts.',
      why: 'A message retried forever is a retry storm; one dropped silently is a support ticket nobody can answer.',
      hint: 'Give up on a final answer (422) or after 10 failed attempts, record the dead letter with its reason in the same transaction that ends the delivery.',
    },
    {
      id: 'publish-decoupled',
      rubric: ['error-handling-code', 'distributed-systems'],
      summary: 'publish answers at once (within 1 s) while providers fail or are down.',
      why: 'The subscription flow that publishes must never slow down or fail because an email provider is having a bad day.',
      hint: 'publish stores the event and its deliveries and returns; workers deliver in the background (an outbox).',
    },
    {
      id: 'backlog-drained',
      rubric: ['distributed-systems', 'load-balancing'],
      summary: 'A burst is delivered within the published bounds, each channel at its own pace.',
      why: 'A backlog that drains slowly turns a marketing campaign into hours of late password and payment notices.',
      hint: 'Give each channel its own workers (or queue) on every instance, claim work in batches, and let a rate-limited channel wait alone.',
    },
    {
      id: 'no-loss-on-crash',
      rubric: ['transactions', 'error-recovery', 'distributed-systems'],
      summary: 'Events acknowledged by an instance that was then killed are still delivered.',
      why: 'Processes die in production (deploys, OOM kills); an event acknowledged and then lost is a notification nobody will ever send.',
      hint: 'Acknowledge only after the event is committed to the database; let any instance pick up deliveries a dead one had claimed (a lease that expires).',
    },
  ],
};

export default notificationFanout;
