// Builds tiny hand-written webhook histories for the checker tests: payments at the provider, deliveries (one attempt
// or a chain of redeliveries), mid-run and final reads, dead-letter reads, notification messages, faults and instance
// events; then `h.input()` gives the checker's CheckInput (with a ledger).

import type { CheckInput } from '../../../harness/scenario.ts';
import type { FaultWindow, InstanceEvent, Op, OpType } from '../../../harness/types.ts';
import type { LedgerSnapshot, MessageRecord, PaymentRecord } from '../../../harness/services/types.ts';
import type { DeliveryArgs, DeliveryKind } from '../operations.ts';

const US = 1000;

/** When a call ran (ms since the scenario started) and how it ended. */
export interface At {
  start: number;
  end: number;
  type: OpType;
  status?: number;
  code?: string;
  error?: string;
  instance?: number;
}

type Opts = { instance?: number };
/** Answered 2xx. */
export const ok = (start: number, end: number, o: Opts & { status?: number } = {}): At => ({ start, end, type: 'ok', status: o.status ?? 200, ...o });
/** Answered 4xx (final for the provider). */
export const refused = (status: number, start: number, end: number, o: Opts = {}): At => ({ start, end, type: 'fail', status, code: `HTTP_${status}`, ...o });
/** Answered 5xx (indeterminate; the provider redelivers). */
export const error = (status: number, start: number, end: number, o: Opts = {}): At => ({ start, end, type: 'info', status, code: `HTTP_${status}`, error: `status ${status}`, ...o });
/** No answer: a timeout or a dropped connection after the request was written. */
export const noAnswer = (start: number, end: number, o: Opts & { error?: string } = {}): At => ({ start, end, type: 'info', error: o.error ?? 'timeout: no answer within 8000 ms', ...o });
/** Refused before sending: the instance was down. */
export const down = (start: number, end: number, o: Opts = {}): At => ({ start, end, type: 'fail', code: 'UNAVAILABLE', error: 'instance unreachable (refused)', ...o });

export interface Ev {
  paymentId: string;
  status: string;
  amount: number;
  userId: string;
  idempotencyKey: string;
  rawBody: string;
}

export interface Sub {
  id: string;
  userId: string;
  paymentId: string;
  status: string;
  amount: unknown;
}

export class WebhookHistory {
  readonly ops: Op[] = [];
  readonly faults: FaultWindow[] = [];
  readonly events: InstanceEvent[] = [];
  readonly payments: PaymentRecord[] = [];
  readonly messages: MessageRecord[] = [];
  private deliveries = 0;
  private keys = 0;

  /** A payment as the provider knows it (its final status). */
  payment(paymentId: string, status: PaymentRecord['status'] = 'success', o: { amount?: number; userId?: string } = {}): PaymentRecord {
    const p: PaymentRecord = { paymentId, status, amount: o.amount ?? 1900, userId: o.userId ?? `user-${paymentId}` };
    this.payments.push(p);
    return p;
  }

  /** An event of a known payment (amount and user from the payment unless given). */
  event(paymentId: string, status: string, o: Partial<Ev> = {}): Ev {
    const p = this.payments.find((x) => x.paymentId === paymentId);
    const e = { paymentId, status, amount: p?.amount ?? 1900, userId: p?.userId ?? `user-${paymentId}`, idempotencyKey: `evt_${++this.keys}`, ...o } as Ev;
    e.rawBody = o.rawBody ?? `{ "paymentId": ${JSON.stringify(e.paymentId)}, "status": "${e.status}", "amount": ${e.amount}, "userId": ${JSON.stringify(e.userId)}, "idempotencyKey": "${e.idempotencyKey}" }`;
    return e;
  }

  /** One delivery of `e`: one attempt per `at` (redeliveries), all with the same delivery id. */
  deliver(e: Ev, ats: At | At[], o: { kind?: DeliveryKind; variant?: string; tampered?: DeliveryArgs['tampered']; phase?: string } = {}): Op[] {
    const id = `d${++this.deliveries}`;
    return (Array.isArray(ats) ? ats : [ats]).map((at, i) => {
      const args: DeliveryArgs = {
        delivery: id,
        attempt: i + 1,
        kind: o.kind ?? 'valid',
        variant: o.variant ?? 'first',
        paymentId: e.paymentId,
        idempotencyKey: e.idempotencyKey,
        eventStatus: e.status,
        amount: e.amount,
        userId: e.userId,
        rawBody: e.rawBody,
        ...(o.tampered ? { tampered: o.tampered } : {}),
      };
      return this.push('provider', 'deliver', args as unknown as Record<string, unknown>, at, { status: at.status }, o.phase);
    });
  }

  /** A read of a payment's subscriptions (`null`: the read failed with a 500). */
  read(paymentId: string, subs: Sub[] | null, at: At, phase = 'main'): Op {
    const a = subs === null ? error(500, at.start, at.end, { instance: at.instance }) : at;
    return this.push('reader', 'read', { paymentId }, a, subs, phase);
  }

  /** A final read (after every main-phase op). */
  final(paymentId: string, subs: Sub[] | null, instance = 0): Op {
    const t = this.afterAll();
    return this.read(paymentId, subs, ok(t, t + 1, { instance }), 'final');
  }

  /** A final read of the dead-letter list (`'not-implemented'`: no getDeadLetters()). */
  deadLetters(entries: { idempotencyKey?: string; reason: string; rawBody: string }[] | 'not-implemented' | null, instance = 0): Op {
    const t = this.afterAll();
    if (entries === 'not-implemented') return this.push('final-read', 'dead-letters', {}, { start: t, end: t + 1, type: 'fail', code: 'NOT_IMPLEMENTED', instance }, undefined, 'final');
    if (entries === null) return this.push('final-read', 'dead-letters', {}, error(500, t, t + 1, { instance }), undefined, 'final');
    return this.push('final-read', 'dead-letters', {}, ok(t, t + 1, { instance }), entries, 'final');
  }

  /** A message the notification service accepted. */
  message(paymentId: string, o: { to?: string; key?: string | null; template?: string; channel?: string; instance?: number; atMs?: number } = {}): MessageRecord {
    const p = this.payments.find((x) => x.paymentId === paymentId);
    const m: MessageRecord = {
      id: `msg_${this.messages.length + 1}`,
      channel: o.channel ?? 'email',
      to: o.to ?? p?.userId ?? `user-${paymentId}`,
      template: o.template ?? 'subscription-confirmed',
      data: { paymentId },
      key: o.key === undefined ? `confirm-${paymentId}` : o.key,
      instance: o.instance ?? 0,
      atUs: (o.atMs ?? 50) * US,
      attempt: this.messages.length + 1,
    };
    this.messages.push(m);
    return m;
  }

  fault(fault: string, startMs: number, endMs: number, detail?: Record<string, unknown>): FaultWindow {
    const w = { fault, startUs: startMs * US, endUs: endMs * US, ...(detail ? { detail } : {}) };
    this.faults.push(w);
    return w;
  }

  instanceEvent(instance: number, kind: InstanceEvent['kind'], atMs: number): InstanceEvent {
    const e: InstanceEvent = { instance, atUs: atMs * US, kind };
    this.events.push(e);
    return e;
  }

  input(o: { ledger?: boolean } = {}): CheckInput {
    const ledger: LedgerSnapshot = { version: 1, attempts: [], charges: [], refunds: [], messages: this.messages, reservations: [], payments: this.payments, stock: {} };
    return { ops: this.ops, final: { paymentIds: [], quiet: true }, faults: this.faults, instanceEvents: this.events, params: {}, data: {}, ...(o.ledger === false ? {} : { ledger }) };
  }

  private afterAll(): number {
    return Math.max(0, ...this.ops.filter((x) => x.phase !== 'final').map((x) => x.endUs / US)) + 1000;
  }

  private push(process: string, f: string, args: Record<string, unknown>, at: At, value: unknown, phase = 'main'): Op {
    const op: Op = { index: this.ops.length, process, instance: at.instance ?? 0, f, args, phase, startUs: at.start * US, endUs: at.end * US, type: at.type };
    if (at.type === 'ok') op.value = f === 'deliver' ? { status: at.status ?? 200 } : value;
    if (at.code) op.code = at.code;
    if (at.error) op.error = at.error;
    if (at.status) op.status = at.status;
    this.ops.push(op);
    return op;
  }
}

export const history = () => new WebhookHistory();

/** A subscription as getSubscriptionsByPaymentId returns it. */
export function sub(paymentId: string, status: string, o: Partial<Sub> = {}): Sub {
  return { id: o.id ?? `sub_${paymentId}`, userId: o.userId ?? `user-${paymentId}`, paymentId, status, amount: o.amount ?? 1900 };
}
