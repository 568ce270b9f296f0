// Builds tiny hand-written subscription histories and ledgers for the checker tests: purchases, their calls
// (`h.create('r1', ok(0, 40))`), final reads (`h.final('r1', 'active')`), charges, refunds, reservations, messages
// and service attempts, fault windows and instance events; `h.input()` gives the checker's CheckInput.

import type { CheckInput } from '../../../harness/scenario.ts';
import type { AttemptRecord, ChargeRecord, LedgerSnapshot, MessageRecord, ReservationRecord, ReservationState } from '../../../harness/services/types.ts';
import type { FaultWindow, InstanceEvent, Op, OpType } from '../../../harness/types.ts';
import type { Expect, ProductInfo, PurchaseSpec } from './model.ts';
import type { PurchaseValue } from '../operations.ts';

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
  /** For ok: override the returned purchase's fields. */
  value?: Partial<PurchaseValue>;
}
type Opts = Partial<Pick<At, 'instance' | 'phase' | 'error' | 'value'>>;

export const ok = (start: number, end: number, o: Opts = {}): At => ({ start, end, type: 'ok', ...o });
export const failed = (code: string, start: number, end: number, o: Opts = {}): At => ({ start, end, type: 'fail', code, ...o });
export const info = (start: number, end: number, o: Opts & { code?: string } = {}): At => ({ start, end, type: 'info', error: 'status 500', ...o });

export const PRODUCTS: Record<string, ProductInfo> = { basic: { price: 1900, stock: 100 }, doomed: { price: 3900, stock: 100 } };

export class SubHistory {
  readonly ops: Op[] = [];
  readonly faults: FaultWindow[] = [];
  readonly events: InstanceEvent[] = [];
  readonly purchases: PurchaseSpec[] = [];
  readonly ledger: LedgerSnapshot = { version: 0, attempts: [], charges: [], refunds: [], messages: [], reservations: [], payments: [], stock: {} };
  params: Record<string, number> = {};
  private seq = 0;
  private ids = 0;

  /** A purchase of the scenario: user `u-<rid>`, product basic, expected active unless told otherwise. */
  purchase(rid: string, o: { product?: string; expect?: Expect; group?: string; user?: string } = {}): PurchaseSpec {
    const p: PurchaseSpec = { requestId: rid, userId: o.user ?? `u-${rid}`, productId: o.product ?? 'basic', expect: o.expect ?? 'active', ...(o.group ? { group: o.group } : {}) };
    this.purchases.push(p);
    return p;
  }

  /** The purchase value a correct service returns: subscription `sub-<rid>`, charge `ch-<rid>`. */
  value(rid: string, over: Partial<PurchaseValue> = {}): PurchaseValue {
    const p = this.spec(rid);
    return { id: `sub-${rid}`, requestId: rid, userId: p.userId, productId: p.productId, status: 'active', chargeId: `ch-${rid}`, amount: PRODUCTS[p.productId]?.price ?? 1900, ...over };
  }

  create(rid: string, at: At): Op {
    const p = this.spec(rid);
    return this.push({ process: rid, f: 'create', args: { requestId: rid, userId: p.userId, productId: p.productId }, at, value: this.value(rid, at.value) });
  }

  /** The final read of a purchase: active (as `value(rid)` unless overridden), null, or unreadable. */
  final(rid: string, state: 'active' | null | 'unreadable', over: Partial<PurchaseValue> = {}, instance = 0): Op {
    const t = this.afterAll();
    if (state === 'unreadable') return this.push({ process: 'final-read', f: 'get', args: { requestId: rid }, at: { ...info(t, t + 5000, { error: 'timeout' }), instance, phase: 'final' }, value: undefined });
    return this.push({ process: 'final-read', f: 'get', args: { requestId: rid }, at: { ...ok(t, t + 1), instance, phase: 'final' }, value: state === 'active' ? this.value(rid, over) : null });
  }

  /** A charge of the purchase (customer = its user). `refundedAt` adds a refund. */
  charge(rid: string, o: { id?: string; key?: string | null; instance?: number; at?: number; amount?: number; status?: ChargeRecord['status']; refundedAt?: number; customer?: string; metadata?: unknown } = {}): ChargeRecord {
    const p = this.purchases.find((x) => x.requestId === rid);
    const c: ChargeRecord = {
      id: o.id ?? `ch-${rid}${this.ledger.charges.some((x) => x.id === `ch-${rid}`) ? `-${++this.ids}` : ''}`,
      key: o.key === undefined ? `${rid}:charge` : o.key,
      customerId: o.customer ?? p?.userId ?? `u-${rid}`,
      amount: o.amount ?? PRODUCTS[p?.productId ?? 'basic']?.price ?? 1900,
      currency: 'usd',
      status: o.status ?? 'succeeded',
      instance: o.instance ?? 0,
      atUs: (o.at ?? 10) * US,
      attempt: ++this.seq,
      ...(o.metadata !== undefined ? { metadata: o.metadata } : {}),
    };
    this.ledger.charges.push(c);
    if (o.refundedAt !== undefined) this.refund(c.id, o.refundedAt);
    return c;
  }

  refund(chargeId: string, at: number, instance = 0): void {
    const c = this.ledger.charges.find((x) => x.id === chargeId)!;
    this.ledger.refunds.push({ id: `re-${chargeId}`, chargeId, amount: c.amount, currency: c.currency, key: `refund:${chargeId}`, instance, atUs: at * US, attempt: ++this.seq });
  }

  /** A reservation made with key `<rid>:reserve` (or `key`), in the given end state. */
  reservation(rid: string | null, state: ReservationState, o: { product?: string; key?: string | null; cause?: ReservationRecord['transitions'][number]['cause']; instance?: number } = {}): ReservationRecord {
    const p = rid ? this.spec(rid) : undefined;
    const transitions: ReservationRecord['transitions'] = [{ state: 'reserved', atUs: 5 * US, instance: o.instance ?? 0, cause: 'reserve' }];
    if (state !== 'reserved') transitions.push({ state, atUs: 50 * US, instance: state === 'expired' && o.cause !== 'commit-refused' ? -1 : (o.instance ?? 0), cause: o.cause ?? (state === 'committed' ? 'commit' : state === 'released' ? 'release' : 'ttl') });
    const r: ReservationRecord = {
      id: `rsv-${++this.ids}`,
      productId: o.product ?? p?.productId ?? 'basic',
      quantity: 1,
      amount: 1900,
      currency: 'usd',
      key: o.key === undefined ? (rid ? `${rid}:reserve` : null) : o.key,
      instance: o.instance ?? 0,
      atUs: 5 * US,
      expiresAtUs: 15_005 * US,
      state,
      transitions,
      attempt: ++this.seq,
    };
    this.ledger.reservations.push(r);
    return r;
  }

  /** A `subscription-created` confirmation naming `rid` (to its user unless told otherwise). */
  message(rid: string, o: { to?: string; key?: string | null; at?: number; instance?: number; template?: string; channel?: string; data?: unknown } = {}): MessageRecord {
    const p = this.purchases.find((x) => x.requestId === rid);
    const m: MessageRecord = {
      id: `msg-${++this.ids}`,
      channel: o.channel ?? 'email',
      to: o.to ?? p?.userId ?? `u-${rid}`,
      template: o.template ?? 'subscription-created',
      data: o.data ?? { requestId: rid },
      key: o.key === undefined ? `${rid}:notify` : o.key,
      instance: o.instance ?? 0,
      atUs: (o.at ?? 100) * US,
      attempt: ++this.seq,
    };
    this.ledger.messages.push(m);
    return m;
  }

  /** One service attempt as the mock recorded it (times in ms). */
  attempt(a: { service?: AttemptRecord['service']; route?: string; method?: string; path?: string; instance?: number; key?: string | null; body?: unknown; start: number; end?: number; status?: number; code?: string; retryAfterMs?: number; fault?: AttemptRecord['fault']; outcome?: AttemptRecord['outcome'] }): AttemptRecord {
    const route = a.route ?? 'POST /charges';
    const [method, pattern] = route.split(' ');
    const status = a.status ?? 201;
    const r: AttemptRecord = {
      seq: ++this.seq,
      service: a.service ?? 'payments',
      method: a.method ?? method,
      path: a.path ?? pattern,
      route,
      instance: a.instance ?? 0,
      key: a.key === undefined ? 'k1' : a.key,
      body: a.body ?? { customerId: 'u1', amount: 1900, currency: 'usd' },
      startUs: a.start * US,
      endUs: (a.end ?? a.start + 1) * US,
      status: a.outcome && a.outcome !== 'answered' ? 0 : status,
      ...(a.code ? { code: a.code } : {}),
      fault: a.fault ?? 'none',
      executed: status < 300,
      replayed: false,
      ...(a.retryAfterMs !== undefined ? { retryAfterMs: a.retryAfterMs } : {}),
      outcome: a.outcome ?? 'answered',
    };
    this.ledger.attempts.push(r);
    return r;
  }

  /**
   * A series of attempts of one key from one instance starting at the given ms: all but the last fail with `status`
   * (default 503), the last succeeds (unless `lastFails`). Each attempt takes 1 ms.
   */
  series(starts: number[], o: { key?: string | null; instance?: number; status?: number; lastFails?: boolean; retryAfterMs?: number; route?: string; service?: AttemptRecord['service']; body?: unknown } = {}): AttemptRecord[] {
    return starts.map((start, i) => {
      const last = i === starts.length - 1 && !o.lastFails;
      const status = last ? 201 : (o.status ?? 503);
      return this.attempt({ start, end: start + 1, status, code: last ? undefined : status === 429 ? 'rate_limited' : 'service_unavailable', key: o.key, instance: o.instance, route: o.route, service: o.service, body: o.body, retryAfterMs: !last && o.retryAfterMs !== undefined ? o.retryAfterMs : undefined });
    });
  }

  fault(fault: string, startMs: number, endMs: number, detail?: Record<string, unknown>): FaultWindow {
    const w: FaultWindow = { fault, startUs: startMs * US, endUs: endMs * US, ...(detail ? { detail } : {}) };
    this.faults.push(w);
    return w;
  }

  event(instance: number, kind: InstanceEvent['kind'], atMs: number): InstanceEvent {
    const e: InstanceEvent = { instance, atUs: atMs * US, kind };
    this.events.push(e);
    return e;
  }

  input(): CheckInput {
    const products: Record<string, ProductInfo> = {};
    for (const p of this.purchases) products[p.productId] = PRODUCTS[p.productId] ?? { price: 1900, stock: 100 };
    return { ops: this.ops, final: { quiet: true, settleMs: 0 }, faults: this.faults, instanceEvents: this.events, params: this.params, data: { purchases: this.purchases, products }, ledger: this.ledger };
  }

  private spec(rid: string): PurchaseSpec {
    return this.purchases.find((x) => x.requestId === rid) ?? this.purchase(rid);
  }

  private afterAll(): number {
    return Math.max(0, ...this.ops.filter((o) => o.phase !== 'final').map((o) => o.endUs / US)) + 1000;
  }

  private push(p: { process: string; f: string; args: Record<string, unknown>; at: At; value: unknown }): Op {
    const { at } = p;
    const op: Op = { index: this.ops.length, process: p.process, instance: at.instance ?? 0, f: p.f, args: p.args, phase: at.phase ?? 'purchase', startUs: at.start * US, endUs: at.end * US, type: at.type };
    if (at.type === 'ok') op.value = p.value;
    else if (at.type === 'fail') op.code = at.code;
    else {
      if (at.code) op.code = at.code;
      op.error = at.error ?? 'status 500';
    }
    this.ops.push(op);
    return op;
  }
}

export const history = () => new SubHistory();

/** A fully correct purchase: ok call, one kept charge, committed reservation, one confirmation, final read active. */
export function happy(h: SubHistory, rid: string, o: { instance?: number; start?: number } = {}): void {
  const start = o.start ?? 0;
  h.purchase(rid);
  h.create(rid, ok(start, start + 40, { instance: o.instance }));
  h.charge(rid, { at: start + 20, instance: o.instance });
  h.reservation(rid, 'committed', { instance: o.instance });
  h.message(rid, { at: start + 60 });
}
