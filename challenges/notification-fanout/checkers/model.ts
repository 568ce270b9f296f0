// What the notification-fanout checkers share: the scenario's plan, the preferences in force when each event was
// published (from the history: what was acknowledged before, and what was in flight), the deliveries the providers'
// ledgers show, the dead letters the service reported, and whether a delivery not sent was given up for a reason
// the contract allows.

import type { CheckInput } from '../../../harness/scenario.ts';
import type { Op } from '../../../harness/types.ts';
import type { AttemptRecord, LedgerSnapshot, MessageRecord } from '../../../harness/services/types.ts';
import type { Channel, EventKind, Preferences, Recipient } from '../contract.ts';
import { CHANNELS, type DeadLetterValue } from '../operations.ts';

export interface PlannedEvent { eventId: string; kind: EventKind; userId: string; occurredAt: string; group: string }

export interface FanoutData {
  users: Recipient[];
  limits: { smsPerUserPerMinute: number };
  events: PlannedEvent[];
  /** Addresses the providers answer 422 invalid_recipient. */
  invalid: string[];
  /** Addresses every send to which fails (500): deliveries that can only be given up. */
  poison: string[];
}

/** A delivery that failed this many attempts may be given up (CONTRACT §3). */
export const ATTEMPTS_BEFORE_GIVING_UP = 10;
/** A delivery must be retried for at least this long before it may be given up. */
export const MIN_RETRY_SPAN_US = 5_000_000;

export const fanoutData = (data: Record<string, unknown>) => data as unknown as FanoutData;

export function addressOf(user: Recipient, channel: Channel): string {
  return channel === 'email' ? user.email : channel === 'sms' ? user.phone : user.pushToken;
}

/** The operations the workload sent (not the final reads). */
export const mainOps = (ops: Op[]) => ops.filter((o) => o.phase !== 'final');

interface PrefVersion { prefs: Preferences; invokeUs: number; ackUs: number | null; op?: number }

/** Each user's preference versions: the starting ones (acknowledged at -∞), then every setPreferences call. */
function prefVersions(users: Recipient[], ops: Op[]): Map<string, PrefVersion[]> {
  const out = new Map<string, PrefVersion[]>();
  for (const u of users) out.set(u.userId, [{ prefs: u.preferences, invokeUs: -Infinity, ackUs: -Infinity }]);
  for (const o of ops) {
    if (o.f !== 'set-preferences') continue;
    const list = out.get(String(o.args.userId));
    if (!list) continue;
    list.push({ prefs: o.args.preferences as Preferences, invokeUs: o.startUs, ackUs: o.type === 'ok' ? o.endUs : null, op: o.index });
  }
  return out;
}

export interface Expected {
  event: PlannedEvent;
  user: Recipient;
  /** Some publish of it was acknowledged. */
  accepted: boolean;
  /** Acknowledged at (the first ok publish's end), or null. */
  acceptedUs: number | null;
  publishes: Op[];
  /** Channels wanted under every preference version that may have been in force: must be delivered. */
  required: Set<Channel>;
  /** Channels wanted under some version that may have been in force: may be delivered. */
  allowed: Set<Channel>;
  /** The versions considered, for counterexamples. */
  versions: { prefs: Channel[]; setBy: string }[];
  /**
   * The distinct wanted sets of those versions (accepted events only): the deliveries must add up to one of them
   * — every channel of some version sent or given up — even when two racing versions share no channel.
   */
  options: Channel[][];
}

/** The first candidate version all of whose channels `done` (sent, or given up for an allowed reason), or null. */
export function satisfiedOption(exp: Expected, done: (channel: Channel) => boolean): Channel[] | null {
  if (!exp.accepted) return [];
  return exp.options.find((o) => o.every(done)) ?? null;
}

/**
 * What each planned event owes. The versions that may have been in force when it was published: the last one
 * acknowledged before its first publish was called (and any acknowledged version whose call overlapped that one),
 * plus every call invoked before the event was acknowledged and not acknowledged before it was published (in flight,
 * or indeterminate). An event never acknowledged owes nothing, but may still be delivered.
 */
export function expectations(input: Pick<CheckInput, 'ops' | 'data'>): Map<string, Expected> {
  const data = fanoutData(input.data);
  const ops = mainOps(input.ops);
  const users = new Map(data.users.map((u) => [u.userId, u]));
  const versions = prefVersions(data.users, ops);
  const publishes = new Map<string, Op[]>();
  for (const o of ops) if (o.f === 'publish') (publishes.get(String(o.args.eventId)) ?? publishes.set(String(o.args.eventId), []).get(String(o.args.eventId))!).push(o);
  const out = new Map<string, Expected>();
  for (const event of data.events) {
    const user = users.get(event.userId);
    const pubs = publishes.get(event.eventId) ?? [];
    if (!user) continue;
    const firstOk = pubs.filter((p) => p.type === 'ok').sort((a, b) => a.endUs - b.endUs)[0];
    const startUs = pubs.length ? Math.min(...pubs.map((p) => p.startUs)) : Infinity;
    const endUs = firstOk ? firstOk.endUs : Infinity;
    const vs = versions.get(user.userId) ?? [];
    const acked = vs.filter((v) => v.ackUs !== null && v.ackUs < startUs);
    const definite = acked.reduce((a, b) => ((b.ackUs as number) > (a.ackUs as number) ? b : a));
    const candidates = vs.filter((v) => v === definite || (v.ackUs !== null && v.ackUs < startUs && v.ackUs > definite.invokeUs) || (!(v.ackUs !== null && v.ackUs < startUs) && v.invokeUs < endUs));
    const wanted = candidates.map((v) => new Set(v.prefs[event.kind] ?? []));
    const allowed = new Set<Channel>(CHANNELS.filter((c) => wanted.some((w) => w.has(c))));
    const required = new Set<Channel>(firstOk ? CHANNELS.filter((c) => wanted.every((w) => w.has(c))) : []);
    const options = firstOk ? [...new Map(wanted.map((w) => { const o = CHANNELS.filter((c) => w.has(c)); return [o.join(','), o] as const; })).values()] : [];
    out.set(event.eventId, {
      event, user, accepted: !!firstOk, acceptedUs: firstOk ? firstOk.endUs : null, publishes: pubs, required, allowed, options,
      versions: candidates.map((v) => ({ prefs: [...(v.prefs[event.kind] ?? [])], setBy: v.op === undefined ? 'starting preferences' : `set-preferences op ${v.op}${v.ackUs === null ? ' (never acknowledged)' : ''}` })),
    });
  }
  return out;
}

export const deliveryKey = (eventId: string, channel: string) => `${eventId}|${channel}`;

const eventIdOf = (data: unknown): string | undefined => {
  const v = data && typeof data === 'object' ? (data as { eventId?: unknown }).eventId : undefined;
  return typeof v === 'string' ? v : undefined;
};

/** Accepted by a channel provider (not the subscription challenges' notification service). */
const fromProvider = (m: MessageRecord) => (CHANNELS as readonly string[]).includes(String(m.service)) && m.service === m.channel;

/** Messages the providers accepted, by (eventId, channel); `strays` carry no data.eventId. */
export function sentMessages(ledger: LedgerSnapshot): { byDelivery: Map<string, MessageRecord[]>; strays: MessageRecord[] } {
  const byDelivery = new Map<string, MessageRecord[]>();
  const strays: MessageRecord[] = [];
  for (const m of ledger.messages) {
    if (!fromProvider(m)) continue;
    const id = eventIdOf(m.data);
    if (!id) { strays.push(m); continue; }
    const k = deliveryKey(id, m.channel);
    (byDelivery.get(k) ?? byDelivery.set(k, []).get(k)!).push(m);
  }
  return { byDelivery, strays };
}

/** Every provider attempt for a delivery, by (eventId, channel). */
export function attemptsByDelivery(ledger: LedgerSnapshot): Map<string, AttemptRecord[]> {
  const out = new Map<string, AttemptRecord[]>();
  for (const a of ledger.attempts) {
    if (!(CHANNELS as readonly string[]).includes(String(a.service))) continue;
    const id = eventIdOf((a.body as { data?: unknown } | null)?.data);
    if (!id) continue;
    const k = deliveryKey(id, String(a.service));
    (out.get(k) ?? out.set(k, []).get(k)!).push(a);
  }
  return out;
}

/** An attempt that failed transiently (a 5xx, a reset, a dropped or abandoned call): counts toward giving up. */
export const failedAttempt = (a: AttemptRecord) => a.outcome !== 'pending' && (a.status >= 500 || a.status === 0);

/** The dead letters the service reported in its final read, or null when it could not be read. */
export function reportedDeadLetters(ops: Op[]): DeadLetterValue[] | null {
  const read = ops.filter((o) => o.phase === 'final' && o.f === 'dead-letters' && o.type === 'ok');
  return read.length ? (read[read.length - 1].value as DeadLetterValue[]) : null;
}

/** Distinct events each user was sent an SMS for, with the first acceptance time. */
export function smsByUser(data: FanoutData, ledger: LedgerSnapshot): Map<string, { eventId: string; atUs: number }[]> {
  const byPhone = new Map(data.users.map((u) => [u.phone, u.userId]));
  const out = new Map<string, Map<string, number>>();
  for (const m of ledger.messages) {
    if (!fromProvider(m) || m.channel !== 'sms') continue;
    const user = byPhone.get(m.to);
    const id = eventIdOf(m.data);
    if (!user || !id) continue;
    const seen = out.get(user) ?? out.set(user, new Map()).get(user)!;
    if (!seen.has(id) || seen.get(id)! > m.atUs) seen.set(id, m.atUs);
  }
  return new Map([...out].map(([u, m]) => [u, [...m].map(([eventId, atUs]) => ({ eventId, atUs })).sort((a, b) => a.atUs - b.atUs)]));
}

/**
 * Why a delivery not sent may have been given up under the contract, or null when nothing allows it: the address is
 * invalid (the provider said 422) or poison (it can never succeed), the user already had their SMS for the minute,
 * or it failed 10 attempts / kept failing for at least 5 s.
 */
export function allowedGiveUp(exp: Expected, channel: Channel, data: FanoutData, ledger: LedgerSnapshot, sms: Map<string, unknown[]>, attempts: Map<string, AttemptRecord[]>): string | null {
  const address = addressOf(exp.user, channel);
  const tried = attempts.get(deliveryKey(exp.event.eventId, channel)) ?? [];
  if (data.invalid.includes(address) || tried.some((a) => a.status === 422 && a.code === 'invalid_recipient')) return 'invalid recipient';
  if (data.poison.includes(address)) return 'a recipient the provider always fails';
  if (channel === 'sms' && (sms.get(exp.user.userId)?.length ?? 0) >= data.limits.smsPerUserPerMinute) return `the user already had ${data.limits.smsPerUserPerMinute} SMS this minute`;
  const failed = tried.filter(failedAttempt);
  if (failed.length >= ATTEMPTS_BEFORE_GIVING_UP) return `${failed.length} failed attempts`;
  if (failed.length >= 2 && failed[failed.length - 1].startUs - failed[0].startUs >= MIN_RETRY_SPAN_US) return `failed attempts over ${Math.round((failed[failed.length - 1].startUs - failed[0].startUs) / 1e5) / 10} s`;
  return null;
}

/** A compact view of a message for counterexamples. */
export const messageView = (m: MessageRecord) => ({ id: m.id, channel: m.channel, to: m.to, template: m.template, key: m.key, instance: m.instance, atMs: Math.round(m.atUs / 100) / 10 });

/** A compact view of a provider attempt for counterexamples. */
export const attemptView = (a: AttemptRecord) => ({
  seq: a.seq, service: a.service, instance: a.instance, key: a.key, status: a.status, ...(a.code ? { code: a.code } : {}), fault: a.fault,
  outcome: a.outcome, startMs: Math.round(a.startUs / 100) / 10, ...(a.retryAfterMs !== undefined ? { retryAfterMs: a.retryAfterMs } : {}),
});
