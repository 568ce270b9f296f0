// crash-with-backlog: slow providers build a backlog; right after one instance acknowledged its share of the
// events it is SIGKILLed (its work in flight, claimed rows, in-memory queues die with it), then started again. Every
// acknowledged event must still be delivered, once.

import type { ScenarioDef } from '../../../harness/scenario.ts';
import { deliveredExactlyOnce } from '../checkers/delivered-exactly-once.ts';
import { noLossOnCrash } from '../checkers/no-loss-on-crash.ts';
import type { PlannedEvent } from '../checkers/model.ts';
import { publish } from '../operations.ts';
import { eventMaker, fanout, makeUsers, providerServices } from './common.ts';
import { settleAndRead } from './common.ts';

const SLOW = { latency: 1, latencyMs: [300, 600] as [number, number] };

export const crashWithBacklog: ScenarioDef = {
  id: 'crash-with-backlog',
  description: 'an instance is killed right after acknowledging events still waiting for slow providers: none is lost',
  params: {
    quick: { users: 20, events: 40, spreadMs: 400, restartAfterMs: 500, callTimeoutMs: 10000, quietMs: 1000, settleMaxMs: 25000 },
    standard: { users: 30, events: 80, spreadMs: 500, restartAfterMs: 500, callTimeoutMs: 10000, quietMs: 1000, settleMaxMs: 25000 },
    thorough: { users: 50, events: 200, spreadMs: 1000, restartAfterMs: 1000, callTimeoutMs: 10000, quietMs: 1200, settleMaxMs: 30000 },
  },
  data(rng, p) {
    const users = makeUsers(rng.fork('users'), p.users);
    const make = eventMaker(rng.fork('events'), users);
    return { ...fanout(users, Array.from({ length: p.events }, () => make('backlog'))) };
  },
  services: (data) => providerServices(data, { faults: { email: SLOW, sms: SLOW, push: SLOW } }),
  async run(ctx) {
    const rng = ctx.rng.fork('workload');
    const events = ctx.data.events as PlannedEvent[];
    const size = ctx.cluster.size;
    const victim = rng.int(0, size - 1);
    ctx.progress(`${events.length} events while providers are slow; instance ${victim} dies once it acknowledged its share`);
    const planned = events.map((e, i) => ({ e, instance: i % size, delayMs: rng.int(0, ctx.params.spreadMs) }));
    const calls = planned.map(async (x) => {
      await ctx.sleep(x.delayMs);
      return ctx.client.call(publish(x.e.userId, x.instance, { eventId: x.e.eventId, kind: x.e.kind, userId: x.e.userId, occurredAt: x.e.occurredAt }, 'backlog', ctx.params.callTimeoutMs));
    });
    await Promise.all(calls.filter((_, i) => planned[i].instance === victim));
    await ctx.cluster.kill(victim);
    ctx.metric('victim', victim);
    await Promise.all(calls);
    await ctx.sleep(ctx.params.restartAfterMs);
    await ctx.cluster.restart(victim);
  },
  finalReads: settleAndRead,
  checkers: [noLossOnCrash, deliveredExactlyOnce],
};
