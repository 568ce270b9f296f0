// steady-events: events arrive steadily for users whose addresses are partly bad (bounced email, a dead push
// token, a recipient every send to fails), while every provider has a mix of transient faults, latency, held
// responses and ghost successes. Each wanted delivery must go out once, or be given up for a cause and listed.

import type { ScenarioDef } from '../../../harness/scenario.ts';
import { deadLettered } from '../checkers/dead-lettered.ts';
import { deliveredExactlyOnce } from '../checkers/delivered-exactly-once.ts';
import { preferencesRespected } from '../checkers/preferences-respected.ts';
import { rateLimitsRespected } from '../checkers/rate-limits-respected.ts';
import type { PlannedEvent } from '../checkers/model.ts';
import { eventMaker, fanout, makeUsers, providerServices, publishSpread, settleAndRead, spoilAddresses } from './common.ts';

// The injected 429s ask for a second or more: long enough that an instance which ignores them shows.
const FAULTS = { error500: 0.08, error503: 0.04, rateLimit429: 0.03, retryAfterMs: [800, 1500] as [number, number], reset: 0.04, ghost: 0.06, hold: 0.02, holdMs: 2500, latency: 0.2, latencyMs: [20, 150] as [number, number] };

export const steadyEvents: ScenarioDef = {
  id: 'steady-events',
  description: 'events arrive steadily while every provider fails now and then; some addresses bounce and one always fails',
  params: {
    quick: { users: 16, events: 60, spreadMs: 2000, callTimeoutMs: 10000, quietMs: 1000, settleMaxMs: 25000 },
    standard: { users: 24, events: 120, spreadMs: 3000, callTimeoutMs: 10000, quietMs: 1000, settleMaxMs: 25000 },
    thorough: { users: 40, events: 300, spreadMs: 6000, callTimeoutMs: 10000, quietMs: 1200, settleMaxMs: 30000 },
  },
  data(rng, p) {
    const users = makeUsers(rng.fork('users'), p.users);
    const spoiled = spoilAddresses(rng.fork('spoil'), users, 3, 1);
    const make = eventMaker(rng.fork('events'), users);
    const events: PlannedEvent[] = Array.from({ length: p.events }, () => make('steady'));
    return { ...fanout(users, events, spoiled) };
  },
  services: (data) => providerServices(data, { faults: { email: FAULTS, sms: FAULTS, push: FAULTS } }),
  async run(ctx) {
    const rng = ctx.rng.fork('workload');
    const events = ctx.data.events as PlannedEvent[];
    ctx.progress(`${events.length} events over ${ctx.params.spreadMs} ms, providers failing now and then`);
    await publishSpread(ctx, events, 'steady', ctx.params.spreadMs, rng);
  },
  finalReads: settleAndRead,
  checkers: [deliveredExactlyOnce, preferencesRespected, rateLimitsRespected, deadLettered],
};
