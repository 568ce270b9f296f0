// burst: hundreds of events within about a second, while the SMS provider accepts only `smsPerSecond` (429 with
// Retry-After beyond it) and several events hit each user (the per-user SMS limit bites). The SMS backlog (up to 3 per
// user at R per second: 12–22 s) takes well over email's and push's 8 s bound, so email and push must drain at their
// own pace; SMS at the provider's.

import type { ScenarioDef } from '../../../harness/scenario.ts';
import { backlogDrained } from '../checkers/backlog-drained.ts';
import { deadLettered } from '../checkers/dead-lettered.ts';
import { deliveredExactlyOnce } from '../checkers/delivered-exactly-once.ts';
import { rateLimitsRespected } from '../checkers/rate-limits-respected.ts';
import type { PlannedEvent } from '../checkers/model.ts';
import { eventMaker, fanout, makeUsers, providerServices, publishSpread, settleAndRead } from './common.ts';

export const burst: ScenarioDef = {
  id: 'burst',
  description: 'a burst of events within a second while the SMS provider is rate-limited: every channel drains at its own pace',
  params: {
    quick: { users: 20, events: 200, spreadMs: 800, smsPerSecond: 4, drainMs: 8000, callTimeoutMs: 10000, quietMs: 1000, settleMaxMs: 25000 },
    standard: { users: 30, events: 400, spreadMs: 1000, smsPerSecond: 5, drainMs: 8000, callTimeoutMs: 10000, quietMs: 1000, settleMaxMs: 25000 },
    thorough: { users: 60, events: 1000, spreadMs: 1000, smsPerSecond: 8, drainMs: 8000, callTimeoutMs: 15000, quietMs: 1200, settleMaxMs: 40000 },
  },
  data(rng, p) {
    const users = makeUsers(rng.fork('users'), p.users);
    const make = eventMaker(rng.fork('events'), users);
    const events: PlannedEvent[] = Array.from({ length: p.events }, () => make('burst'));
    return { ...fanout(users, events) };
  },
  services: (data, params) => providerServices(data, { providers: { rateLimits: { sms: { perSecond: params.smsPerSecond } } } }),
  async run(ctx) {
    const rng = ctx.rng.fork('workload');
    const events = ctx.data.events as PlannedEvent[];
    ctx.progress(`${events.length} events within ${ctx.params.spreadMs} ms; SMS limited to ${ctx.params.smsPerSecond}/s`);
    await publishSpread(ctx, events, 'burst', ctx.params.spreadMs, rng);
  },
  finalReads: settleAndRead,
  checkers: [backlogDrained, rateLimitsRespected, deliveredExactlyOnce, deadLettered],
};
