// Shared by the seat-reservation references (not a reference itself): what a call answers — a claim built from a
// `seats` row, or a business rejection with its contract code — and the check of a hold's TTL.
import type { SeatReservation } from 'gauntlet';
import type { QueryResultRow } from 'pg';

export type Claim = SeatReservation & { hold?: true; expiresAt?: Date };
export type SeatCode = 'SEAT_TAKEN' | 'SEAT_NOT_FOUND' | 'HOLD_EXPIRED';

const SEAT_CODES = new Set<string>(['SEAT_TAKEN', 'SEAT_NOT_FOUND', 'HOLD_EXPIRED']);

export function seatError(code: SeatCode, seatId: string): Error {
  const text: Record<SeatCode, string> = { SEAT_TAKEN: 'is taken', SEAT_NOT_FOUND: 'does not exist', HOLD_EXPIRED: 'has no live hold of yours' };
  return Object.assign(new Error(`seat ${seatId} ${text[code]}`), { code });
}

export function isSeatError(err: unknown): boolean {
  return SEAT_CODES.has((err as { code?: string })?.code ?? '');
}

export function checkTtl(ttlMs: number): void {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new TypeError(`ttlMs must be a positive number of milliseconds, got ${ttlMs}`);
}

export function toClaim(row: QueryResultRow): Claim {
  const claim: Claim = { seatId: row.seat_id, userId: row.user_id, timestamp: row.claimed_at };
  return row.status === 'held' ? { ...claim, hold: true, expiresAt: row.expires_at } : claim;
}
