// What the notification-fanout scenarios share: seeded users (addresses, starting preferences, some invalid or
// poison addresses), seeded events, the providers' options, publishing with a seeded spread over the instances,
// and the final reads once every delivery is sent or can only be given up and the providers went quiet.

import type { ScenarioContext } from '../../../harness/scenario.ts';
import type { Rng } from '../../../harness/seed.ts';
import type { ServicesOptions } from '../../../harness/services/types.ts';
import type { Op } from '../../../harness/types.ts';
import type { Channel, EventKind, Preferences, Recipient } from '../contract.ts';
import { CHANNELS, deadLetters, KINDS, publish } from '../operations.ts';
import { allowedGiveUp, satisfiedOption, attemptsByDelivery, deliveryKey, expectations, fanoutData, sentMessages, smsByUser, type FanoutData, type PlannedEvent } from '../checkers/model.ts';

/** Published per-user SMS limit (CONTRACT §3: `limits.smsPerUserPerMinute`). */
export const SMS_PER_USER_PER_MINUTE = 3;

/** Seeded preferences: each channel wanted for a kind with probability `p`, never none at all for a kind. */
export function randomPreferences(rng: Rng, p = 0.6): Preferences {
  const out = {} as Preferences;
  for (const kind of KINDS) {
    const wanted = CHANNELS.filter(() => rng.chance(p));
    out[kind] = wanted.length ? wanted : [rng.pick(CHANNELS)];
  }
  return out;
}

/** `count` users with fixed-width seeded ids, so no id occurs inside another. */
export function makeUsers(rng: Rng, count: number): Recipient[] {
  return Array.from({ length: count }, (_, i) => {
    const num = String(i + 1).padStart(4, '0');
    const tag = Math.floor(rng.next() * 0x10000).toString(16).padStart(4, '0');
    return {
      userId: `user-${num}-${tag}`,
      email: `user-${num}-${tag}@mail.test`,
      phone: `+1555${num}${String(rng.int(100, 999))}`,
      pushToken: `pt-${num}-${tag}`,
      preferences: randomPreferences(rng),
    };
  });
}

/** Replace some users' addresses with ones the providers refuse for good (422) or always fail (500). */
export function spoilAddresses(rng: Rng, users: Recipient[], invalidCount: number, poisonCount: number): { invalid: string[]; poison: string[] } {
  const picked = rng.shuffle([...users]).slice(0, invalidCount + poisonCount);
  const invalid: string[] = [];
  const poison: string[] = [];
  picked.forEach((u, i) => {
    const channel = CHANNELS[i % CHANNELS.length];
    const bad = i < invalidCount ? `invalid-${u.userId}` : `poison-${u.userId}`;
    if (channel === 'email') u.email = `${bad}@mail.test`;
    else if (channel === 'sms') u.phone = `+1999${bad.length}${u.phone.slice(-7)}`;
    else u.pushToken = bad;
    const address = channel === 'email' ? u.email : channel === 'sms' ? u.phone : u.pushToken;
    (i < invalidCount ? invalid : poison).push(address);
    // The spoiled channel is wanted for every kind: the deliveries that can only be given up do happen.
    for (const kind of KINDS) if (!u.preferences[kind].includes(channel)) u.preferences[kind] = [...u.preferences[kind], channel];
  });
  return { invalid, poison };
}

/** Events with fixed-width seeded ids, for users drawn from `users`. */
export function eventMaker(rng: Rng, users: Recipient[]) {
  let n = 0;
  return (group: string, userId = rng.pick(users).userId, kind: EventKind = rng.pick(KINDS)): PlannedEvent => {
    const num = String(++n).padStart(5, '0');
    const tag = Math.floor(rng.next() * 0x10000).toString(16).padStart(4, '0');
    return { eventId: `evt-${num}-${tag}`, kind, userId, occurredAt: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(), group };
  };
}

export function fanout(users: Recipient[], events: PlannedEvent[], spoiled: { invalid: string[]; poison: string[] } = { invalid: [], poison: [] }): FanoutData {
  return { users, limits: { smsPerUserPerMinute: SMS_PER_USER_PER_MINUTE }, events, ...spoiled };
}

/** The providers' options every scenario gives: refused and poison addresses, rate limits, a short settle. */
export function providerServices(data: Record<string, unknown>, extra: Partial<ServicesOptions> = {}): ServicesOptions {
  const d = fanoutData(data);
  return {
    providers: { invalidRecipients: d.invalid, poisonRecipients: d.poison, ...(extra.providers ?? {}) },
    ...(extra.faults ? { faults: extra.faults } : {}),
    // finalReads waits for the work to be done and the providers to go quiet (settleAndRead).
    settle: { quietMs: 200, maxMs: 3000 },
  };
}

/** Round-robin over the instances from a seeded start. */
export function roundRobin(rng: Rng, size: number): () => number {
  let next = rng.int(0, Math.max(0, size - 1));
  return () => {
    const i = next;
    next = (next + 1) % size;
    return i;
  };
}

/** Publish each event after a seeded delay within `spreadMs`, round-robin over the instances. */
export function publishSpread(ctx: ScenarioContext, events: PlannedEvent[], phase: string, spreadMs: number, rng: Rng): Promise<Op[]> {
  const pick = roundRobin(rng, ctx.cluster.size);
  const planned = events.map((e) => ({ e, instance: pick(), delayMs: rng.int(0, Math.max(0, spreadMs)) }));
  return Promise.all(
    planned.map(async (x) => {
      if (x.delayMs > 0) await ctx.sleep(x.delayMs);
      const { eventId, kind, userId, occurredAt } = x.e;
      return ctx.client.call(publish(userId, x.instance, { eventId, kind, userId, occurredAt }, phase, ctx.params.callTimeoutMs));
    }),
  );
}

/**
 * Deliveries still owed: required by an accepted event (or one whole version of a racing change) and not sent —
 * and, when `listed` (the dead letters just read) is given, not listed either; without it, not something the
 * contract lets be given up.
 */
export function owedDeliveries(ctx: ScenarioContext, listed: Set<string> | null = null): string[] {
  const ledger = ctx.services!.ledger.snapshot();
  const d = fanoutData(ctx.data);
  const ops = [...ctx.history()];
  const expected = expectations({ ops, data: ctx.data });
  const { byDelivery } = sentMessages(ledger);
  const attempts = attemptsByDelivery(ledger);
  const sms = smsByUser(d, ledger);
  const owed: string[] = [];
  for (const [eventId, exp] of expected) {
    const done = (channel: Channel) =>
      (byDelivery.get(deliveryKey(eventId, channel)) ?? []).length > 0 || (listed ? listed.has(deliveryKey(eventId, channel)) : !!allowedGiveUp(exp, channel, d, ledger, sms, attempts));
    for (const channel of exp.required as Set<Channel>) if (!done(channel)) owed.push(`${eventId} by ${channel}`);
    // Racing preference versions: one whole version must be done.
    if (exp.options.length > 1 && !satisfiedOption(exp, done)) owed.push(`${eventId}: one of ${exp.options.map((o) => `[${o.join(', ')}]`).join(' or ')}`);
  }
  return owed;
}

/**
 * Final reads (CONTRACT §8): wait until the state is provably final — no provider call started or ended for
 * `quietMs`, and every delivery owed is sent or listed by `getDeadLetters` (read during the wait, phase `settle`,
 * once nothing but give-ups is left) — or until the published bound `settleMaxMs` ran out. Silence alone never ends
 * it: a delivery that can only be given up may be waiting for its next retry. Then read the dead letters for the
 * checks (again on another instance if the read fails).
 */
export async function settleAndRead(ctx: ScenarioContext): Promise<{ quiet: boolean; owed?: string[] }> {
  ctx.progress('waiting until every delivery is sent or given up and the providers go quiet');
  const ledger = ctx.services!.ledger;
  const started = Date.now();
  const size = ctx.cluster.size;
  let owed: string[] = [];
  let quiet = false;
  let reads = 0;
  for (;;) {
    let lastUs = 0;
    let inFlight = false;
    for (const a of ledger.attempts) {
      if (a.endUs < 0) inFlight = true;
      lastUs = Math.max(lastUs, a.startUs, a.endUs);
    }
    const silentMs = (ctx.nowUs() - lastUs) / 1000;
    if (!inFlight && silentMs >= ctx.params.quietMs && (owed = owedDeliveries(ctx)).length === 0) {
      // Only give-ups can be left: ask the service which it has given up.
      const read = await ctx.client.call(deadLetters('settle', reads++ % size, 'settle', 5_000));
      const listed = read.type === 'ok' ? new Set((read.value as { eventId: string; channel: string }[]).map((x) => deliveryKey(x.eventId, x.channel))) : null;
      if (listed && (owed = owedDeliveries(ctx, listed)).length === 0) {
        quiet = true;
        break;
      }
    }
    if (Date.now() - started >= ctx.params.settleMaxMs) {
      owed = owedDeliveries(ctx);
      break;
    }
    await ctx.sleep(silentMs >= ctx.params.quietMs ? 400 : 100);
  }
  ctx.metric('settleMs', Date.now() - started);
  ctx.metric('settled', quiet ? 1 : 0);
  if (owed.length) ctx.metric('owedAtFinalRead', owed.length);
  const first = await ctx.client.call(deadLetters('final-read', 0, 'final', 10_000));
  if (first.type !== 'ok' && size > 1) await ctx.client.call(deadLetters('final-read', 1, 'final', 10_000));
  ctx.metric('providerCalls', ledger.attempts.length);
  ctx.metric('delivered', ledger.messages.length);
  return { quiet, ...(owed.length ? { owed: owed.slice(0, 20) } : {}) };
}

