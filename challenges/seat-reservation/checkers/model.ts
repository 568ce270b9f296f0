// The seat model the checkers share: from the history, each user's claims on each seat, with the interval in
// which the claim was *surely* in force (it was granted, and could not yet have ended) and the interval in
// which it *may* have been in force (it may have been granted, and may not yet have ended). Violations need
// two surely-active claims; justifications need only a possibly-active one. Indeterminate ops are "may".

import type { Op } from '../../../harness/types.ts';

export const INF = Number.MAX_SAFE_INTEGER;

export interface Claim {
  seatId: string;
  userId: string;
  op: Op;
  kind: 'reservation' | 'hold';
  /** Surely in force from `sureFrom` to `sureUntil` (empty when the op was not ok). */
  sureFrom: number;
  sureUntil: number;
  /** Possibly in force from `mayFrom` to `mayUntil`. */
  mayFrom: number;
  mayUntil: number;
  /** What ends the possibly-in-force interval (`mayUntil`): a release surely after it, or the hold's expiry. */
  endedBy: 'release' | 'expiry' | null;
}

/** Tolerance for holds: a hold of `ttlMs` is surely live until invoke + ttl − slack, possibly until completion + ttl + slack. */
export function holdSlackUs(ttlMs: number): number {
  return Math.max(25_000, ttlMs * 100); // max(25 ms, 10 % of the TTL)
}

const CLAIM_F: Record<string, Claim['kind']> = { reserve: 'reservation', confirm: 'reservation', hold: 'hold' };

/** The user an ok claim granted: the body's userId when it has one, else the caller. */
export function grantedUser(op: Op): string {
  const v = op.value as { userId?: unknown } | null | undefined;
  return v && v.userId !== undefined && v.userId !== null ? String(v.userId) : String(op.args.userId);
}

export function seatOf(op: Op): string {
  return String(op.args.seatId);
}

export function endOf(op: Op): number {
  return op.endUs < 0 ? INF : op.endUs;
}

/** Every claim (granted or possibly granted) per seat. A failed claim op never claims. */
export function claimsBySeat(ops: Op[]): Map<string, Claim[]> {
  const releases = new Map<string, Op[]>(); // key seat|user → release ops that ok'd or may have
  for (const op of ops) {
    if (op.f === 'release' && op.type !== 'fail') {
      const key = `${seatOf(op)}|${String(op.args.userId)}`;
      (releases.get(key) ?? releases.set(key, []).get(key)!).push(op);
    }
  }
  const out = new Map<string, Claim[]>();
  for (const op of ops) {
    const kind = CLAIM_F[op.f];
    if (!kind || op.type === 'fail') continue;
    const userId = String(op.args.userId);
    if (op.type === 'ok' && grantedUser(op) !== userId) continue; // an ok naming someone else grants the caller nothing
    const seatId = seatOf(op);
    let sureUntil = INF;
    let mayUntil = INF;
    let endedBy: Claim['endedBy'] = null;
    if (kind === 'hold') {
      const ttlMs = Number(op.args.ttlMs);
      const slack = holdSlackUs(ttlMs);
      sureUntil = op.startUs + ttlMs * 1000 - slack;
      mayUntil = endOf(op) === INF ? INF : endOf(op) + ttlMs * 1000 + slack;
      endedBy = 'expiry';
    }
    // A release by the same user, invoked after this claim may have taken effect, may end it.
    for (const r of releases.get(`${seatId}|${userId}`) ?? []) {
      if (endOf(r) < op.startUs) continue; // finished before this claim began: irrelevant
      if (r.startUs < sureUntil) sureUntil = Math.max(r.startUs, op.endUs);
      // It surely ended the claim only if it was invoked after the claim completed: one sent while the claim was
      // still in flight may have run first and found nothing to release.
      if (r.type === 'ok' && endOf(r) < mayUntil && r.startUs >= endOf(op)) {
        mayUntil = endOf(r);
        endedBy = 'release';
      }
    }
    const claim: Claim = {
      seatId,
      userId,
      op,
      kind,
      sureFrom: op.type === 'ok' ? op.endUs : INF,
      sureUntil: op.type === 'ok' ? sureUntil : -1,
      mayFrom: op.startUs,
      mayUntil,
      endedBy,
    };
    (out.get(seatId) ?? out.set(seatId, []).get(seatId)!).push(claim);
  }
  return out;
}

export function surelyActive(c: Claim): boolean {
  return c.sureFrom < c.sureUntil;
}

/** Final-phase reads per seat (ok ones carry the holder or null). */
export function finalReads(ops: Op[]): Map<string, Op[]> {
  const out = new Map<string, Op[]>();
  for (const op of ops) {
    if (op.phase !== 'final' || op.f !== 'read') continue;
    const seat = seatOf(op);
    (out.get(seat) ?? out.set(seat, []).get(seat)!).push(op);
  }
  return out;
}

/** The holder a read reported, or null. */
export function holderOf(read: Op): string | null {
  const v = read.value as { userId?: unknown } | null | undefined;
  return v && v.userId !== undefined && v.userId !== null ? String(v.userId) : null;
}

/** Main-phase ops only (the final reads are judged separately). */
export function mainOps(ops: Op[]): Op[] {
  return ops.filter((op) => op.phase !== 'final');
}
