// The webhook model the checkers share: deliveries grouped into chains (one delivery's attempts, first to last),
// reads of subscriptions and of the dead-letter list, the provider's truth (the payments ledger), which answers an
// injected database fault excuses, and short descriptions of all of these in words a candidate understands.

import type { FaultWindow, InstanceEvent, Op } from '../../../harness/types.ts';
import type { PaymentRecord } from '../../../harness/services/types.ts';
import { excused, ms } from '../../../harness/checkers/verdict.ts';
import type { DeliveryArgs } from '../operations.ts';

export interface Chain {
  id: string;
  args: DeliveryArgs;
  /** Attempts in order (attempt 1 first). */
  attempts: Op[];
  last: Op;
}

export interface Subscription {
  id?: unknown;
  userId?: unknown;
  paymentId?: unknown;
  status?: unknown;
  amount?: unknown;
}

export const argsOf = (op: Op) => op.args as unknown as DeliveryArgs;

const isMain = (op: Op) => op.phase !== 'final';

/** Every delivery's attempts, in order, by delivery id (history order). */
export function chains(ops: Op[]): Chain[] {
  const by = new Map<string, Op[]>();
  for (const op of ops) {
    if (op.f !== 'deliver' || !isMain(op)) continue;
    const id = String(argsOf(op).delivery);
    (by.get(id) ?? by.set(id, []).get(id)!).push(op);
  }
  return [...by].map(([id, attempts]) => {
    attempts.sort((a, b) => argsOf(a).attempt - argsOf(b).attempt || a.startUs - b.startUs);
    return { id, args: argsOf(attempts[0]), attempts, last: attempts[attempts.length - 1] };
  });
}

export const isValidKind = (c: Chain) => c.args.kind === 'valid' || c.args.kind === 'duplicate';
export const isHostileKind = (c: Chain) => c.args.kind === 'forged' || c.args.kind === 'stale';

/** The attempt reached the candidate and got an answer of this class. */
export const is2xx = (op: Op) => op.type === 'ok';
export const is4xx = (op: Op) => op.type === 'fail' && /^HTTP_4\d\d$/.test(op.code ?? '');
/** Refused before the request was written (the instance was down): the candidate never saw it. */
export const neverSent = (op: Op) => op.type === 'fail' && op.code === 'UNAVAILABLE';
/** 5xx, a timeout, a reset, or any other non-answer after the request was written. */
export const isUnanswered = (op: Op) => op.type === 'info';

/** Service windows (notifications failing) never excuse a webhook's answer: only database faults and instance kills do. */
export function excusedByInfra(op: Op, faults: FaultWindow[], events: InstanceEvent[]): boolean {
  return excused(op, faults.filter((w) => !w.fault.startsWith('service-')), events);
}

/** A service window (the notification service failing) the op overlapped, for messages. */
export function serviceWindowDuring(op: Op, faults: FaultWindow[]): FaultWindow | undefined {
  const end = op.endUs < 0 ? Number.MAX_SAFE_INTEGER : op.endUs;
  return faults.find((w) => w.fault.startsWith('service-') && op.startUs <= w.endUs && end >= w.startUs);
}

/** `200`, `409`, `500`, `a timeout`, `a reset connection` ... */
export function answerOf(op: Op): string {
  if (op.type === 'ok') return String(op.status ?? 200);
  if (op.status) return String(op.status);
  if (op.code === 'UNAVAILABLE') return 'no connection (instance down)';
  const e = op.error ?? '';
  if (/timeout/i.test(e)) return 'no answer (timeout)';
  if (/reset|closed/i.test(e)) return 'a dropped connection';
  return `no answer (${e || 'unknown'})`;
}

const short = (s: string, n = 60) => (s.length > n ? `${s.slice(0, n)}…` : s);
/** A payment or user id as the candidate would see it quoted (injection strings stay readable). */
export const q = (s: unknown) => JSON.stringify(s);

/** `delivery p3.2 (attempt 1) to instance 1 at 120.3 ms, answered 409` */
export function describeAttempt(op: Op): string {
  const a = argsOf(op);
  return `delivery ${a.delivery}${a.attempt > 1 ? ` (attempt ${a.attempt})` : ''} to instance ${op.instance} at ${ms(op.startUs)} ms, answered ${answerOf(op)}`;
}

/** The answers a chain got, in order: `500, 500, 200`. */
export function answersOf(c: Chain): string {
  return c.attempts.map(answerOf).join(', ');
}

/** A compact counterexample entry for a delivery attempt (the body cut short). */
export function briefDelivery(op: Op): Record<string, unknown> {
  const a = argsOf(op);
  return {
    op: op.index,
    delivery: a.delivery,
    attempt: a.attempt,
    kind: a.kind,
    variant: a.variant,
    instance: op.instance,
    paymentId: a.paymentId,
    idempotencyKey: a.idempotencyKey,
    eventStatus: a.eventStatus,
    answer: answerOf(op),
    ...(op.error && op.type !== 'ok' ? { error: short(op.error, 160) } : {}),
    rawBody: short(a.rawBody, 120),
    ...(a.tampered ? { tampered: a.tampered } : {}),
    startMs: ms(op.startUs),
    endMs: ms(op.endUs),
  };
}

export function briefRead(op: Op): Record<string, unknown> {
  return {
    op: op.index,
    f: op.f,
    instance: op.instance,
    ...(op.args.paymentId !== undefined ? { paymentId: op.args.paymentId } : {}),
    outcome: op.type === 'ok' ? 'ok' : `${op.type === 'fail' ? 'fail' : 'indeterminate'} (${op.code ?? op.error ?? ''})`,
    ...(op.type === 'ok' ? { value: Array.isArray(op.value) && op.value.length > 5 ? [...op.value.slice(0, 5), `… ${op.value.length - 5} more`] : op.value } : { error: op.error }),
    phase: op.phase,
    startMs: ms(op.startUs),
    endMs: ms(op.endUs),
  };
}

/** Reads of a payment's subscriptions by payment id, in invocation order (every phase). */
export function readsByPayment(ops: Op[]): Map<string, Op[]> {
  const out = new Map<string, Op[]>();
  for (const op of ops) {
    if (op.f !== 'read') continue;
    const id = String(op.args.paymentId);
    (out.get(id) ?? out.set(id, []).get(id)!).push(op);
  }
  for (const reads of out.values()) reads.sort((a, b) => a.startUs - b.startUs);
  return out;
}

/** The final reads of a payment (after faults healed and the system went quiet). */
export function finalReads(ops: Op[], paymentId: string): Op[] {
  return ops.filter((op) => op.f === 'read' && op.phase === 'final' && String(op.args.paymentId) === paymentId);
}

export function finalDeadLetterReads(ops: Op[]): Op[] {
  return ops.filter((op) => op.f === 'dead-letters' && op.phase === 'final');
}

/** The subscriptions an ok read returned (non-objects dropped). */
export function subsOf(read: Op): Subscription[] {
  return Array.isArray(read.value) ? (read.value.filter((s) => s && typeof s === 'object') as Subscription[]) : [];
}

export const activeOf = (subs: Subscription[]) => subs.filter((s) => s.status === 'active');

/** Distinct subscriptions (by id when they have one). */
export function distinctSubs(subs: Subscription[]): Subscription[] {
  const seen = new Set<string>();
  return subs.filter((s) => {
    if (s.id === undefined || s.id === null) return true;
    const k = String(s.id);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** `no subscription`, `a pending subscription`, `2 subscriptions (active, pending)` */
export function describeState(subs: Subscription[]): string {
  if (!subs.length) return 'no subscription';
  if (subs.length === 1) return `a${/^[aeiou]/.test(String(subs[0].status)) ? 'n' : ''} ${String(subs[0].status)} subscription`;
  return `${subs.length} subscriptions (${subs.map((s) => String(s.status)).join(', ')})`;
}

/** Tally of violation kinds, only when there is more than one kind: ` [3 refused, 1 not-active]`. */
export function tally(problems: string[]): string {
  const counts = new Map<string, number>();
  for (const p of problems) counts.set(p, (counts.get(p) ?? 0) + 1);
  return counts.size > 1 ? ` [${[...counts].map(([k, n]) => `${n} ${k}`).join(', ')}]` : '';
}

/** `sub_1 active, sub_2 pending` */
export function describeSubs(subs: Subscription[]): string {
  if (!subs.length) return 'no subscription';
  return subs.map((s) => `${s.id === undefined ? '(no id)' : String(s.id)} ${String(s.status)}`).join(', ');
}

/** The provider's truth: every payment it knows (decoys and poison are not among them). */
export function truth(payments: PaymentRecord[] | undefined): Map<string, PaymentRecord> {
  return new Map((payments ?? []).map((p) => [p.paymentId, p]));
}

/** Delivery chains per payment. */
export function chainsByPayment(all: Chain[]): Map<string, Chain[]> {
  const out = new Map<string, Chain[]>();
  for (const c of all) {
    const id = String(c.args.paymentId);
    (out.get(id) ?? out.set(id, []).get(id)!).push(c);
  }
  return out;
}

/** `its success event (evt_…) was delivered 4 times: p3.1 to instance 0 at 12.0 ms (200), ...` */
export function describeEventDeliveries(list: Chain[], limit = 4): string {
  if (!list.length) return 'none of its events was delivered';
  const parts = list.slice(0, limit).map((c) => `${c.id} ${c.args.eventStatus}${c.args.variant === 'concurrent' || c.args.variant === 'racing' ? ' (same instant)' : ''} to instance ${c.attempts[0].instance} at ${ms(c.attempts[0].startUs)} ms → ${answersOf(c)}`);
  return parts.join('; ') + (list.length > limit ? `; … ${list.length - limit} more` : '');
}
