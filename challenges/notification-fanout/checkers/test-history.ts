// Builds tiny hand-written notification-fanout histories and provider ledgers for the checker tests: users (their
// addresses and starting preferences, invalid or poison addresses), planned events, publish and set-preferences
// calls (`h.publish('e1', ok(0, 20))`), the final dead-letter read, the providers' messages and attempts, fault
// windows and instance events; `h.input()` gives the checker's CheckInput. Times are in ms.

import type { CheckInput } from '../../../harness/scenario.ts';
import type { AttemptRecord, LedgerSnapshot, MessageRecord, ProviderChannel } from '../../../harness/services/types.ts';
import type { FaultWindow, InstanceEvent, Op, OpType } from '../../../harness/types.ts';
import type { Channel, EventKind, Preferences, Recipient } from '../contract.ts';
import { KINDS, type DeadLetterValue } from '../operations.ts';
import type { FanoutData, PlannedEvent } from './model.ts';

const US = 1000;

/** When a call ran (ms) and how it ended. */
export interface At {
  start: number;
  end: number;
  type: OpType;
  code?: string;
  error?: string;
  instance?: number;
  phase?: string;
}
type Opts = Partial<Pick<At, 'instance' | 'phase' | 'error'>>;

export const ok = (start: number, end: number, o: Opts = {}): At => ({ start, end, type: 'ok', ...o });
/** An indeterminate answer (a 5xx, a timeout, a reset): it may or may not have happened. */
export const info = (start: number, end: number, o: Opts & { code?: string } = {}): At => ({ start, end, type: 'info', error: 'status 500', ...o });
/** The only definite failure the service has: 501 NOT_IMPLEMENTED. */
export const notImplemented = (start: number, end: number, o: Opts = {}): At => ({ start, end, type: 'fail', code: 'NOT_IMPLEMENTED', ...o });

/** The same channels for every kind, with per-kind overrides. */
export function prefs(channels: Channel[], over: Partial<Preferences> = {}): Preferences {
  const out = {} as Preferences;
  for (const kind of KINDS) out[kind] = [...(over[kind] ?? channels)];
  return out;
}

export class FanoutHistory {
  readonly ops: Op[] = [];
  readonly faults: FaultWindow[] = [];
  readonly instanceEvents: InstanceEvent[] = [];
  readonly users: Recipient[] = [];
  readonly events: PlannedEvent[] = [];
  readonly invalid: string[] = [];
  readonly poison: string[] = [];
  readonly ledger: LedgerSnapshot = { version: 0, attempts: [], charges: [], refunds: [], messages: [], reservations: [], payments: [], stock: {} };
  /** The scenario's params (drainMs, smsPerSecond, publishBoundMs ...). */
  params: Record<string, number> = {};
  smsPerUserPerMinute = 3;
  private seq = 0;
  private ids = 0;

  /**
   * A user: `<id>@mail.test`, `+1555-<id>`, `pt-<id>`, wanting every channel for every kind unless told otherwise
   * (`invalid` / `poison` spoil that channel's address, as spoilAddresses does).
   */
  user(userId: string, o: { prefs?: Preferences | Channel[]; email?: string; phone?: string; pushToken?: string; invalid?: Channel; poison?: Channel } = {}): Recipient {
    const p = o.prefs === undefined ? prefs(['email', 'sms', 'push']) : Array.isArray(o.prefs) ? prefs(o.prefs) : o.prefs;
    const u: Recipient = { userId, email: o.email ?? `${userId}@mail.test`, phone: o.phone ?? `+1555-${userId}`, pushToken: o.pushToken ?? `pt-${userId}`, preferences: p };
    for (const [list, channel, tag] of [[this.invalid, o.invalid, 'invalid'], [this.poison, o.poison, 'poison']] as const) {
      if (!channel) continue;
      if (channel === 'email') u.email = `${tag}-${userId}@mail.test`;
      else if (channel === 'sms') u.phone = `+1999-${tag}-${userId}`;
      else u.pushToken = `${tag}-${userId}`;
      list.push(this.address(u, channel));
    }
    this.users.push(u);
    return u;
  }

  /** A planned event of the scenario (its user is created, wanting everything, if not there yet). */
  event(eventId: string, userId: string, o: { kind?: EventKind; group?: string } = {}): PlannedEvent {
    if (!this.users.some((u) => u.userId === userId)) this.user(userId);
    const e: PlannedEvent = { eventId, kind: o.kind ?? 'created', userId, occurredAt: new Date(Date.UTC(2026, 0, 1) + this.events.length * 1000).toISOString(), group: o.group ?? 'main' };
    this.events.push(e);
    return e;
  }

  /** A publish call of a planned event (phase: the event's group unless told otherwise). */
  publish(eventId: string, at: At): Op {
    const e = this.planned(eventId);
    const { group: _group, ...args } = e;
    return this.push({ process: e.userId, f: 'publish', args: { ...args }, at: { phase: e.group, ...at } });
  }

  setPreferences(userId: string, preferences: Preferences | Channel[], at: At): Op {
    const p = Array.isArray(preferences) ? prefs(preferences) : preferences;
    return this.push({ process: userId, f: 'set-preferences', args: { userId, preferences: p }, at: { phase: 'change', ...at } });
  }

  /** The final getDeadLetters read: the list (reason 'gave up' unless given), or unreadable. */
  deadLetters(list: (Omit<DeadLetterValue, 'reason'> & { reason?: string })[] | 'unreadable', instance = 0): Op {
    const t = Math.max(0, ...this.ops.filter((o) => o.phase !== 'final').map((o) => o.endUs / US), ...this.ledger.attempts.map((a) => a.endUs / US)) + 1000;
    if (list === 'unreadable') return this.push({ process: 'final-read', f: 'dead-letters', args: {}, at: { ...info(t, t + 10_000, { error: 'timeout' }), instance, phase: 'final' } });
    const value: DeadLetterValue[] = list.map((d) => ({ eventId: d.eventId, channel: d.channel, reason: d.reason ?? 'gave up' }));
    return this.push({ process: 'final-read', f: 'dead-letters', args: {}, at: { ...ok(t, t + 5), instance, phase: 'final' }, value });
  }

  /** The user's address on a channel. */
  address(user: Recipient | string, channel: Channel): string {
    const u = typeof user === 'string' ? this.users.find((x) => x.userId === user)! : user;
    return channel === 'email' ? u.email : channel === 'sms' ? u.phone : u.pushToken;
  }

  /**
   * One provider attempt for a delivery as the mock recorded it: `POST /send {to, template, data: {eventId}}` with
   * key `<eventId>:<channel>`, answered 202 unless told otherwise (1 ms long). `to` defaults to the user's address.
   */
  attempt(eventId: string | null, channel: Channel, a: { start: number; end?: number; status?: number; code?: string; retryAfterMs?: number; instance?: number; key?: string | null; to?: string; outcome?: AttemptRecord['outcome']; fault?: AttemptRecord['fault'] }): AttemptRecord {
    const e = eventId === null ? undefined : this.events.find((x) => x.eventId === eventId);
    const status = a.status ?? 202;
    const r: AttemptRecord = {
      seq: ++this.seq,
      service: channel as ProviderChannel,
      method: 'POST',
      path: '/send',
      route: 'POST /send',
      instance: a.instance ?? 0,
      key: a.key === undefined ? (eventId === null ? null : `${eventId}:${channel}`) : a.key,
      body: { to: a.to ?? (e ? this.address(e.userId, channel) : 'someone'), template: e?.kind ?? 'created', data: eventId === null ? {} : { eventId } },
      startUs: a.start * US,
      endUs: a.outcome === 'pending' ? -1 : (a.end ?? a.start + 1) * US,
      status: a.outcome && a.outcome !== 'answered' ? 0 : status,
      ...(a.code ? { code: a.code } : {}),
      fault: a.fault ?? 'none',
      executed: status >= 200 && status < 300,
      replayed: false,
      ...(a.retryAfterMs !== undefined ? { retryAfterMs: a.retryAfterMs } : {}),
      outcome: a.outcome ?? 'answered',
    };
    this.ledger.attempts.push(r);
    return r;
  }

  /** Attempts of one delivery that failed transiently (500 provider_error unless told otherwise), at the given ms. */
  failures(eventId: string, channel: Channel, starts: number[], o: { status?: number; code?: string; instance?: number } = {}): AttemptRecord[] {
    return starts.map((start) => this.attempt(eventId, channel, { start, status: o.status ?? 500, code: o.code ?? 'provider_error', instance: o.instance }));
  }

  /** A message a provider accepted, naming the event in data.eventId (to the user's address unless told otherwise). */
  message(eventId: string, channel: Channel, o: { to?: string; key?: string | null; at?: number; instance?: number; data?: unknown } = {}): MessageRecord {
    const e = this.events.find((x) => x.eventId === eventId);
    const m: MessageRecord = {
      id: `msg-${++this.ids}`,
      service: channel,
      channel,
      to: o.to ?? (e ? this.address(e.userId, channel) : 'someone'),
      template: e?.kind ?? 'created',
      data: o.data ?? { eventId },
      key: o.key === undefined ? `${eventId}:${channel}` : o.key,
      instance: o.instance ?? 0,
      atUs: (o.at ?? 100) * US,
      attempt: ++this.seq,
    };
    this.ledger.messages.push(m);
    return m;
  }

  /** A delivery sent once: its 202 attempt and the message it produced, at `at` ms (default 100). */
  deliver(eventId: string, channel: Channel, o: { at?: number; instance?: number; key?: string | null; to?: string } = {}): MessageRecord {
    const at = o.at ?? 100;
    this.attempt(eventId, channel, { start: at, end: at + 1, instance: o.instance, key: o.key, to: o.to });
    return this.message(eventId, channel, { at, instance: o.instance, key: o.key, to: o.to });
  }

  fault(fault: string, startMs: number, endMs: number, detail?: Record<string, unknown>): FaultWindow {
    const w: FaultWindow = { fault, startUs: startMs * US, endUs: endMs * US, ...(detail ? { detail } : {}) };
    this.faults.push(w);
    return w;
  }

  instanceEvent(instance: number, kind: InstanceEvent['kind'], atMs: number): InstanceEvent {
    const e: InstanceEvent = { instance, atUs: atMs * US, kind };
    this.instanceEvents.push(e);
    return e;
  }

  data(): FanoutData {
    return { users: this.users, limits: { smsPerUserPerMinute: this.smsPerUserPerMinute }, events: this.events, invalid: this.invalid, poison: this.poison };
  }

  input(): CheckInput {
    return { ops: this.ops, final: { quiet: true }, faults: this.faults, instanceEvents: this.instanceEvents, params: this.params, data: this.data() as unknown as Record<string, unknown>, ledger: this.ledger };
  }

  private planned(eventId: string): PlannedEvent {
    const e = this.events.find((x) => x.eventId === eventId);
    if (!e) throw new Error(`test-history: no planned event ${eventId} (call h.event first)`);
    return e;
  }

  private push(p: { process: string; f: string; args: Record<string, unknown>; at: At; value?: unknown }): Op {
    const { at } = p;
    const op: Op = { index: this.ops.length, process: p.process, instance: at.instance ?? 0, f: p.f, args: p.args, phase: at.phase ?? 'main', startUs: at.start * US, endUs: at.end * US, type: at.type };
    if (at.type === 'ok') {
      if (p.value !== undefined) op.value = p.value;
    } else if (at.type === 'fail') op.code = at.code;
    else {
      if (at.code) op.code = at.code;
      op.error = at.error ?? 'status 500';
    }
    this.ops.push(op);
    return op;
  }
}

export const history = () => new FanoutHistory();

/**
 * A correct event: planned for `userId` (created wanting everything if new), published and acknowledged at
 * [start, start + 20] ms, each channel the user's starting preferences want for its kind delivered once 100 ms later.
 */
export function happy(h: FanoutHistory, eventId: string, userId: string, o: { kind?: EventKind; group?: string; start?: number; instance?: number; deliverAt?: number } = {}): PlannedEvent {
  const e = h.event(eventId, userId, { kind: o.kind, group: o.group });
  const start = o.start ?? 0;
  h.publish(eventId, ok(start, start + 20, { instance: o.instance }));
  const user = h.users.find((u) => u.userId === userId)!;
  for (const channel of user.preferences[e.kind]) h.deliver(eventId, channel, { at: o.deliverAt ?? start + 100, instance: o.instance });
  return e;
}
