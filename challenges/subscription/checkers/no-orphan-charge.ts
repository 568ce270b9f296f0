// no-orphan-charge: every purchase ends whole or not at all. Money kept ⇔ an active subscription naming that
// charge; a purchase that failed (or never became active) keeps no money and no stock; what the caller was told
// matches what was kept; no charge belongs to no purchase; and the inventory balances (committed stock = active
// purchases per product, nothing left reserved or expired unreleased once the system went quiet).

import type { Checker } from '../../../harness/scenario.ts';
import type { LedgerSnapshot, ReservationRecord } from '../../../harness/services/types.ts';
import { summarise, unknown } from '../../../harness/checkers/verdict.ts';
import {
  attributeCharges,
  callsOf,
  createsByRequest,
  describeFinal,
  finalOf,
  finalStates,
  keptCharges,
  purchasesOf,
  requestIdInKey,
  reservationView,
  reservationsByRequest,
  type ChargeView,
  type PurchaseSpec,
} from './model.ts';

interface Violation {
  kind: string;
  reason: string;
  [detail: string]: unknown;
}

const chargeList = (cs: ChargeView[]) => cs.map((c) => `${c.id} (${c.amount}, instance ${c.instance}, ${c.atMs} ms)`).join(', ');

export const noOrphanCharge: Checker = {
  id: 'no-orphan-charge',
  check({ ops, data, ledger }) {
    if (!ledger) return unknown('no-orphan-charge', 'no payment ledger was recorded for this scenario');
    const purchases = purchasesOf(data);
    const finals = finalStates(ops);
    const creates = createsByRequest(ops);
    const { byRequest, unattributed } = attributeCharges(ledger, purchases);
    const reservations = reservationsByRequest(ledger, purchases);
    const violations: Violation[] = [];

    for (const p of purchases) {
      const rid = p.requestId;
      const f = finalOf(finals, rid);
      const charges = byRequest.get(rid) ?? [];
      const kept = keptCharges(charges);
      const detail = { requestId: rid, userId: p.userId, final: describeFinal(f), charges, reservations: (reservations.get(rid) ?? []).map(reservationView), calls: callsOf(creates, rid) };
      if (f.kind === 'active') {
        if (!kept.length) violations.push({ kind: 'active-unpaid', reason: `${rid} is an active subscription but no charge for it is kept${charges.length ? ` (its charges: ${chargeList(charges)}; refunded or declined)` : ''}`, ...detail });
        else if (!kept.some((c) => c.id === f.value.chargeId)) violations.push({ kind: 'wrong-charge', reason: `${rid} is active with charge ${f.value.chargeId}, but the money kept for it is ${chargeList(kept)}`, ...detail });
      } else if (kept.length) {
        violations.push({
          kind: 'orphan-charge',
          reason: `${rid} (user ${p.userId}) kept ${chargeList(kept)} without an active subscription (${describeFinal(f)}): the charge was never refunded`,
          ...detail,
        });
      }
      // What the caller was told must match what was kept.
      for (const op of creates.get(rid) ?? []) {
        if (op.type === 'ok' && f.kind === 'none') violations.push({ kind: 'told-active', reason: `${rid} was answered with subscription ${(op.value as { id?: string })?.id} on instance ${op.instance} (op ${op.index}), but after the run it does not exist`, ...detail });
        if (op.type === 'fail' && op.code !== 'NOT_IMPLEMENTED' && (f.kind === 'active' || kept.length)) violations.push({ kind: 'told-failed', reason: `${rid} was answered ${op.code} on instance ${op.instance} (op ${op.index}), but ${f.kind === 'active' ? 'it is an active subscription' : `it kept ${chargeList(kept)}`}: a definite failure must keep nothing`, ...detail });
      }
    }

    for (const c of unattributed) {
      if (c.refunded) continue;
      violations.push({ kind: 'unattributed-charge', reason: `charge ${c.id} (${c.amount}, instance ${c.instance}, ${c.atMs} ms, ${c.key ? `key ${c.key}` : 'no key'}) belongs to no purchase of this run and was never refunded`, charge: c });
    }

    violations.push(...inventory(ledger, purchases, finals));
    return summarise('no-orphan-charge', violations, 'every kept charge has its active subscription, every failed purchase kept no money and no stock, and the inventory balances', (v) => v.reason);
  },
};

/** Stock: committed = active purchases per product; nothing left reserved or expired by its TTL (nobody released it). */
function inventory(ledger: LedgerSnapshot, purchases: PurchaseSpec[], finals: ReturnType<typeof finalStates>): Violation[] {
  const out: Violation[] = [];
  const active = new Map<string, number>();
  for (const p of purchases) if (finalOf(finals, p.requestId).kind === 'active') active.set(p.productId, (active.get(p.productId) ?? 0) + 1);
  const byProduct = new Map<string, ReservationRecord[]>();
  for (const r of ledger.reservations) (byProduct.get(r.productId) ?? byProduct.set(r.productId, []).get(r.productId)!).push(r);
  const products = new Set([...active.keys(), ...byProduct.keys()]);
  const owner = (r: ReservationRecord) => requestIdInKey(r.key, purchases);
  for (const product of products) {
    const rs = byProduct.get(product) ?? [];
    const committed = rs.filter((r) => r.state === 'committed');
    const want = active.get(product) ?? 0;
    if (committed.length !== want) {
      const extra = committed.filter((r) => {
        const rid = owner(r);
        return rid !== undefined && finalOf(finals, rid).kind !== 'active';
      });
      out.push({
        kind: 'stock-mismatch',
        reason:
          committed.length > want
            ? `${product}: ${committed.length} reservation(s) committed for ${want} active subscription(s): stock was kept for purchases that do not exist${extra.length ? ` (e.g. ${extra.map((r) => `${r.id} of ${owner(r)}`).join(', ')})` : ''}`
            : `${product}: ${want} active subscription(s) but only ${committed.length} reservation(s) committed: some purchases were activated without committing their stock`,
        productId: product,
        committed: committed.length,
        active: want,
        reservations: (extra.length ? extra : committed).slice(0, 6).map(reservationView),
      });
    }
    for (const r of rs) {
      const rid = owner(r);
      if (r.state === 'reserved') out.push({ kind: 'reservation-left', reason: `reservation ${r.id} (${product}${rid ? `, ${rid}` : ''}, made by instance ${r.instance}) was neither committed nor released once the system went quiet`, reservation: reservationView(r) });
      else if (r.state === 'expired' && r.transitions.some((t) => t.cause === 'ttl')) out.push({ kind: 'reservation-expired', reason: `reservation ${r.id} (${product}${rid ? `, ${rid}` : ''}, made by instance ${r.instance}) was never committed nor released: it only came back when its TTL ran out`, reservation: reservationView(r) });
    }
  }
  return out;
}
