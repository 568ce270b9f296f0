// provider-outage: after a calm start (the baseline for publish latency), the email provider goes down (every call
// answered 503, or reset; seeded) while events keep arriving. publish must keep answering at once, and every email
// owed must go out once the provider is back, without holding SMS and push back meanwhile.

import type { ScenarioDef } from '../../../harness/scenario.ts';
import { deliveredExactlyOnce } from '../checkers/delivered-exactly-once.ts';
import { publishDecoupled } from '../checkers/publish-decoupled.ts';
import { rateLimitsRespected } from '../checkers/rate-limits-respected.ts';
import type { PlannedEvent } from '../checkers/model.ts';
import { eventMaker, fanout, makeUsers, providerServices, publishSpread, settleAndRead } from './common.ts';

export const providerOutage: ScenarioDef = {
  id: 'provider-outage',
  description: 'the email provider is down for a while: publish still answers at once, and every email goes out once it is back',
  params: {
    quick: { users: 20, calm: 15, outage: 40, after: 10, calmSpreadMs: 800, outageMs: 3000, publishBoundMs: 1000, callTimeoutMs: 10000, quietMs: 1000, settleMaxMs: 20000 },
    standard: { users: 30, calm: 20, outage: 60, after: 15, calmSpreadMs: 1000, outageMs: 3500, publishBoundMs: 1000, callTimeoutMs: 10000, quietMs: 1000, settleMaxMs: 20000 },
    thorough: { users: 50, calm: 40, outage: 150, after: 40, calmSpreadMs: 1500, outageMs: 5000, publishBoundMs: 1000, callTimeoutMs: 10000, quietMs: 1200, settleMaxMs: 25000 },
  },
  data(rng, p) {
    const users = makeUsers(rng.fork('users'), p.users);
    const make = eventMaker(rng.fork('events'), users);
    const events: PlannedEvent[] = [
      ...Array.from({ length: p.calm }, () => make('calm')),
      ...Array.from({ length: p.outage }, () => make('outage')),
      ...Array.from({ length: p.after }, () => make('after')),
    ];
    return { ...fanout(users, events) };
  },
  services: (data) => providerServices(data),
  async run(ctx) {
    const rng = ctx.rng.fork('workload');
    const events = ctx.data.events as PlannedEvent[];
    const group = (g: string) => events.filter((e) => e.group === g);
    await publishSpread(ctx, group('calm'), 'calm', ctx.params.calmSpreadMs, rng.fork('calm'));
    const mode = rng.pick(['503', 'reset'] as const);
    ctx.progress(`email provider down (${mode}) for ${ctx.params.outageMs} ms while events arrive`);
    const heal = ctx.services!.faults.outage('email' as never, { mode });
    const during = publishSpread(ctx, group('outage'), 'outage', ctx.params.outageMs - 200, rng.fork('outage'));
    await ctx.sleep(ctx.params.outageMs);
    await heal();
    await during;
    ctx.metric('outageMode', mode);
    await publishSpread(ctx, group('after'), 'after', ctx.params.calmSpreadMs, rng.fork('after'));
  },
  finalReads: settleAndRead,
  checkers: [publishDecoupled, deliveredExactlyOnce, rateLimitsRespected],
};
