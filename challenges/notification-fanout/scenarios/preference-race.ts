// preference-race: users change their preferences between events, and some change them while an event for them
// is being published. An event published after a change was acknowledged follows the new preferences — also when
// the change went to another instance; one racing with the change may follow either.

import type { ScenarioDef } from '../../../harness/scenario.ts';
import { deliveredExactlyOnce } from '../checkers/delivered-exactly-once.ts';
import { preferencesRespected } from '../checkers/preferences-respected.ts';
import type { PlannedEvent } from '../checkers/model.ts';
import type { Channel, Preferences } from '../contract.ts';
import { CHANNELS, KINDS, publish, setPreferences } from '../operations.ts';
import { eventMaker, fanout, makeUsers, providerServices, roundRobin, settleAndRead } from './common.ts';
import type { Rng } from '../../../harness/seed.ts';

/** New preferences that differ from `old` on every kind: each channel flipped with probability ½, at least one. */
function changed(rng: Rng, old: Preferences): Preferences {
  const out = {} as Preferences;
  for (const kind of KINDS) {
    let flip = CHANNELS.filter(() => rng.chance(0.5));
    if (!flip.length) flip = [rng.pick(CHANNELS)];
    let next: Channel[] = CHANNELS.filter((c) => old[kind].includes(c) !== flip.includes(c));
    if (!next.length) next = CHANNELS.filter((c) => !old[kind].includes(c)).slice(0, 1);
    out[kind] = next.length ? next : [...CHANNELS];
  }
  return out;
}

export const preferenceRace: ScenarioDef = {
  id: 'preference-race',
  description: 'preferences change between events and while events are published: each event follows the preferences in force when it was published',
  params: {
    quick: { users: 12, callTimeoutMs: 10000, quietMs: 1000, settleMaxMs: 15000 },
    standard: { users: 20, callTimeoutMs: 10000, quietMs: 1000, settleMaxMs: 15000 },
    thorough: { users: 40, callTimeoutMs: 10000, quietMs: 1200, settleMaxMs: 20000 },
  },
  data(rng, p) {
    const users = makeUsers(rng.fork('users'), p.users);
    const make = eventMaker(rng.fork('events'), users);
    const prefRng = rng.fork('prefs');
    const events: PlannedEvent[] = [];
    const changes: { userId: string; first: Preferences; second: Preferences }[] = [];
    for (const u of users) {
      const kind = rng.pick(KINDS);
      events.push(make('before', u.userId, kind), make('after', u.userId, kind), make('race', u.userId, kind));
      const first = changed(prefRng, u.preferences);
      changes.push({ userId: u.userId, first, second: changed(prefRng, first) });
    }
    return { ...fanout(users, events), changes };
  },
  services: (data) => providerServices(data),
  async run(ctx) {
    const rng = ctx.rng.fork('workload');
    const events = ctx.data.events as PlannedEvent[];
    const changes = ctx.data.changes as { userId: string; first: Preferences; second: Preferences }[];
    const pick = roundRobin(rng, ctx.cluster.size);
    const t = ctx.params.callTimeoutMs;
    ctx.progress(`${changes.length} users: an event, a change of preferences, an event after it and one racing a second change`);
    await Promise.all(
      changes.map(async (c, i) => {
        await ctx.sleep(i * 20);
        const mine = (g: string) => events.find((e) => e.userId === c.userId && e.group === g)!;
        const send = (e: PlannedEvent, phase: string) => ctx.client.call(publish(e.userId, pick(), { eventId: e.eventId, kind: e.kind, userId: e.userId, occurredAt: e.occurredAt }, phase, t));
        await send(mine('before'), 'before');
        await ctx.client.call(setPreferences(c.userId, pick(), c.userId, c.first, 'change', t));
        await send(mine('after'), 'after');
        // The second change and the third event at the same instant, on different instances.
        await Promise.all([ctx.client.call(setPreferences(c.userId, pick(), c.userId, c.second, 'race', t)), send(mine('race'), 'race')]);
      }),
    );
  },
  finalReads: settleAndRead,
  checkers: [preferencesRespected, deliveredExactlyOnce],
};
