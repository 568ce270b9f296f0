// The subscription model the checkers share: the purchases a scenario made (from its data), each purchase's calls
// and final read, and the mock ledgers attributed to purchases (charges by metadata, key or customer; refunds by
// charge; reservations by key; confirmations by data.requestId).

import type { CheckInput } from '../../../harness/scenario.ts';
import type { ChargeRecord, LedgerSnapshot, MessageRecord, RefundRecord, ReservationRecord } from '../../../harness/services/types.ts';
import type { Op } from '../../../harness/types.ts';
import { brief, ms } from '../../../harness/checkers/verdict.ts';
import type { PurchaseValue } from '../operations.ts';

/** What a purchase should end as, given the world the scenario built (catalogue, declines, commit failures). */
export type Expect = 'active' | 'active-or-out-of-stock' | 'declined' | 'purchase-failed';

export interface PurchaseSpec {
  requestId: string;
  userId: string;
  productId: string;
  expect: Expect;
  /** Scenario-specific role: `crash-retried`, `crash-abandoned`, `duplicate`, `outage` ... */
  group?: string;
}

export interface ProductInfo {
  price: number;
  stock: number;
}

export const TEMPLATE = 'subscription-created';

export function purchasesOf(data: CheckInput['data']): PurchaseSpec[] {
  return (data.purchases as PurchaseSpec[] | undefined) ?? [];
}

export function productsOf(data: CheckInput['data']): Record<string, ProductInfo> {
  return (data.products as Record<string, ProductInfo> | undefined) ?? {};
}

/** Calls made during the workload (not the final reads). */
export const mainOps = (ops: Op[]) => ops.filter((o) => o.phase !== 'final');

/** Every create call, per requestId, in invocation order. */
export function createsByRequest(ops: Op[]): Map<string, Op[]> {
  const by = new Map<string, Op[]>();
  for (const op of mainOps(ops)) {
    if (op.f !== 'create') continue;
    const rid = String(op.args.requestId);
    (by.get(rid) ?? by.set(rid, []).get(rid)!).push(op);
  }
  return by;
}

export type FinalState =
  | { kind: 'active'; value: PurchaseValue; op: Op }
  | { kind: 'none'; op: Op }
  /** A read answered something that is not this purchase, active (another requestId, another status). */
  | { kind: 'wrong'; value: unknown; op: Op }
  | { kind: 'unreadable'; op?: Op };

/** The purchase as the final reads (after healing and quiescence) show it: the last final read that answered. */
export function finalStates(ops: Op[]): Map<string, FinalState> {
  const by = new Map<string, FinalState>();
  for (const op of ops) {
    if (op.phase !== 'final' || op.f !== 'get') continue;
    const rid = String(op.args.requestId);
    if (op.type !== 'ok') {
      if (!by.has(rid)) by.set(rid, { kind: 'unreadable', op });
      continue;
    }
    const v = op.value as PurchaseValue | null | undefined;
    if (v === null || v === undefined) by.set(rid, { kind: 'none', op });
    else if (v.requestId === rid && v.status === 'active') by.set(rid, { kind: 'active', value: v, op });
    else by.set(rid, { kind: 'wrong', value: v, op });
  }
  return by;
}

export function finalOf(states: Map<string, FinalState>, rid: string): FinalState {
  return states.get(rid) ?? { kind: 'unreadable' };
}

export function describeFinal(f: FinalState): string {
  switch (f.kind) {
    case 'active':
      return `active (subscription ${f.value.id}, charge ${f.value.chargeId})`;
    case 'none':
      return 'no subscription';
    case 'wrong':
      return `an answer that is not this active purchase: ${JSON.stringify(f.value).slice(0, 160)}`;
    default:
      return f.op ? `unreadable (${f.op.error ?? f.op.code ?? 'no answer'})` : 'never read';
  }
}

/** A charge with what became of it, for counterexamples. */
export interface ChargeView {
  id: string;
  key: string | null;
  instance: number;
  atMs: number;
  amount: number;
  status: ChargeRecord['status'];
  refunded: boolean;
  refundAtMs?: number;
}

export interface ChargeAttribution {
  byRequest: Map<string, ChargeView[]>;
  /** Succeeded charges that belong to no purchase of the scenario. */
  unattributed: ChargeView[];
}

const metadataRequestId = (c: ChargeRecord): string | undefined => {
  const m = c.metadata as Record<string, unknown> | undefined;
  return m && typeof m === 'object' && typeof m.requestId === 'string' ? m.requestId : undefined;
};

/**
 * Which purchase a charge belongs to: `metadata.requestId` when given; else an idempotency key containing the
 * requestId; else the customer (each purchase of a scenario has its own user, so `customerId = userId` is exact).
 */
export function attributeCharges(ledger: LedgerSnapshot, purchases: PurchaseSpec[]): ChargeAttribution {
  const refunds = new Map<string, RefundRecord>();
  for (const r of ledger.refunds) if (!refunds.has(r.chargeId)) refunds.set(r.chargeId, r);
  const known = new Set(purchases.map((p) => p.requestId));
  const byUser = new Map(purchases.map((p) => [p.userId, p.requestId]));
  const byRequest = new Map<string, ChargeView[]>();
  const unattributed: ChargeView[] = [];
  for (const c of ledger.charges) {
    const refund = refunds.get(c.id);
    const view: ChargeView = { id: c.id, key: c.key, instance: c.instance, atMs: ms(c.atUs), amount: c.amount, status: c.status, refunded: !!refund, ...(refund ? { refundAtMs: ms(refund.atUs) } : {}) };
    const meta = metadataRequestId(c);
    const rid = (meta && known.has(meta) ? meta : undefined) ?? requestIdInKey(c.key, purchases) ?? byUser.get(c.customerId);
    if (rid) (byRequest.get(rid) ?? byRequest.set(rid, []).get(rid)!).push(view);
    else if (c.status === 'succeeded') unattributed.push(view);
  }
  return { byRequest, unattributed };
}

/** The requestId an idempotency key was derived from, when exactly one purchase's requestId occurs in it. */
export function requestIdInKey(key: string | null, purchases: PurchaseSpec[]): string | undefined {
  if (!key) return undefined;
  const hits = purchases.filter((p) => key.includes(p.requestId));
  return hits.length === 1 ? hits[0].requestId : undefined;
}

/** Charges that took money and were not refunded. */
export const keptCharges = (charges: ChargeView[] | undefined) => (charges ?? []).filter((c) => c.status === 'succeeded' && !c.refunded);
export const netCharged = (charges: ChargeView[] | undefined) => keptCharges(charges).reduce((s, c) => s + c.amount, 0);

/** Reservations per purchase (by idempotency key only: reservation bodies do not name the purchase). */
export function reservationsByRequest(ledger: LedgerSnapshot, purchases: PurchaseSpec[]): Map<string, ReservationRecord[]> {
  const by = new Map<string, ReservationRecord[]>();
  for (const r of ledger.reservations) {
    const rid = requestIdInKey(r.key, purchases);
    if (rid) (by.get(rid) ?? by.set(rid, []).get(rid)!).push(r);
  }
  return by;
}

export function reservationView(r: ReservationRecord) {
  return {
    id: r.id,
    productId: r.productId,
    key: r.key,
    instance: r.instance,
    state: r.state,
    transitions: r.transitions.map((t) => `${t.state}@${ms(t.atUs)}ms by ${t.instance === -1 ? 'the harness' : `instance ${t.instance}`} (${t.cause})`),
  };
}

/** Confirmations (template `subscription-created`) per requestId named in their data; the rest are strays. */
export function confirmations(ledger: LedgerSnapshot): { byRequest: Map<string, MessageRecord[]>; strays: MessageRecord[] } {
  const byRequest = new Map<string, MessageRecord[]>();
  const strays: MessageRecord[] = [];
  for (const m of ledger.messages) {
    if (m.template !== TEMPLATE) continue;
    const rid = (m.data as { requestId?: unknown } | undefined)?.requestId;
    if (typeof rid === 'string') (byRequest.get(rid) ?? byRequest.set(rid, []).get(rid)!).push(m);
    else strays.push(m);
  }
  return { byRequest, strays };
}

export function messageView(m: MessageRecord) {
  return { id: m.id, to: m.to, channel: m.channel, template: m.template, data: m.data, key: m.key, instance: m.instance, atMs: ms(m.atUs) };
}

/** The create calls of a purchase, briefly, for counterexamples. */
export const callsOf = (creates: Map<string, Op[]>, rid: string) => (creates.get(rid) ?? []).map(brief);

export { instanceLost } from '../../../harness/checkers/verdict.ts';
