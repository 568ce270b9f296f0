// Shared by the seat-reservation references (not a reference itself): the rules every reference implements, and
// `plan`, the pure function the read-decide-write references (select-for-update, serializable-retry,
// optimistic-version, redis-lock-fencing) decide with. conditional-update writes the same rules as SQL predicates.
//
// Semantics: getReservation returns the reservation, or the live hold with `hold: true` and `expiresAt`, or null;
// SEAT_NOT_FOUND for an unknown seat. holdSeat on your own live hold extends it; on your own reservation returns the
// reservation. confirmHold without a live hold of yours (expired, never held, or someone else's) is HOLD_EXPIRED.
// releaseSeat of your own hold/reservation frees it, of a free seat is a no-op, of someone else's live claim is
// SEAT_TAKEN.
import type { QueryResultRow } from 'pg';
import { type Claim, seatError, toClaim } from './claims.ts';

/** What a call asks for (getReservation is a plain read). */
export type Kind = 'reserve' | 'hold' | 'confirm' | 'release';
/** The write a decision needs; each strategy writes it its own way. */
export type Write = 'reserve' | 'hold' | 'extend' | 'confirm' | 'clear';
export type Plan = { answer: Claim | null } | { write: Write };

/** The rules, as a pure function of the seat as last read (`live` judged by the database clock). */
export function plan(kind: Kind, seatId: string, row: QueryResultRow | undefined, userId: string): Plan {
  if (!row) throw seatError('SEAT_NOT_FOUND', seatId);
  const mine = row.user_id === userId && row.live;
  const someoneElses = row.live && row.user_id !== userId;
  switch (kind) {
    case 'reserve':
      if (someoneElses) throw seatError('SEAT_TAKEN', seatId);
      return mine && row.status === 'reserved' ? { answer: toClaim(row) } : { write: 'reserve' };
    case 'hold':
      if (someoneElses) throw seatError('SEAT_TAKEN', seatId);
      if (mine) return row.status === 'reserved' ? { answer: toClaim(row) } : { write: 'extend' };
      return { write: 'hold' };
    case 'confirm':
      if (!mine) throw seatError('HOLD_EXPIRED', seatId);
      return row.status === 'reserved' ? { answer: toClaim(row) } : { write: 'confirm' };
    case 'release':
      if (someoneElses) throw seatError('SEAT_TAKEN', seatId);
      return row.user_id === null ? { answer: null } : { write: 'clear' };
  }
}
