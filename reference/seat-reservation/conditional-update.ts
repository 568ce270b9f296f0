// Reference solution for seat-reservation: one conditional UPDATE per call, no explicit transaction.
//
// STRATEGY
//   Every state change is a single statement whose WHERE clause *is* the business rule:
//     UPDATE seats SET user_id = $2, status = 'reserved' ...
//     WHERE seat_id = $1 AND (user_id IS NULL OR user_id = $2 OR expires_at <= clock_timestamp())
//     RETURNING ...
//   PostgreSQL serialises concurrent UPDATEs of one row with the row lock, and under READ COMMITTED
//   re-evaluates the WHERE clause against the row the winner committed (EvalPlanQual). So of 1000
//   concurrent callers exactly one sees "free" and gets a row back; every other one gets zero rows, which
//   is proof that at that instant someone else held the seat: a definite SEAT_TAKEN. Zero rows is
//   ambiguous only between "taken" and "no such seat", which one cheap SELECT settles.
//   Hold expiry is lazy: `expires_at <= clock_timestamp()` counts an expired hold as free, judged by the
//   database clock, so no sweeper job and no clock skew between instances.
//
// TRADE-OFFS
//   + One round trip per call, row lock held only for the statement: the fastest and most contention-proof
//     of the strategies, and nothing to leak (no client held across awaits, no transaction left open).
//   + Retrying is trivially safe: every statement is idempotent for the same user.
//   - The rule must fit in one WHERE clause over one row. Rules that span rows or need a read the
//     decision depends on in application code (quotas, "at most 4 seats per user", pricing) outgrow it;
//     then use SELECT ... FOR UPDATE or SERIALIZABLE (see the sibling files).
//   - Business logic lives in SQL, which some teams find harder to read and test.
//
// CHOOSE IT when the invariant is about one row and can be written as a predicate: seat/slot/ticket
// claiming, compare-and-set on a status column, inventory counters (`stock = stock - 1 WHERE stock > 0`).
//
// Semantics, shared by every reference: _shared/rules.ts. Plumbing (retries, clients, the service): _shared/.
import type { AppContext, SeatService } from 'gauntlet';
import { type SeatCode, seatError, toClaim } from './_shared/claims.ts';
import { query } from './_shared/pg.ts';
import type { Kind } from './_shared/rules.ts';
import { COLUMNS, seatsSetup } from './_shared/schema.ts';
import { seatService } from './_shared/service.ts';

const CLAIMABLE = '(user_id IS NULL OR user_id = $2 OR expires_at <= clock_timestamp())';
const TTL = `clock_timestamp() + $3::double precision * interval '1 millisecond'`;

const SQL: Record<Kind, string> = {
  // Own reservation: unchanged (idempotent, same timestamp). Own live hold, free seat, expired hold: reserved now.
  reserve: `UPDATE seats SET
      claimed_at = CASE WHEN user_id = $2 AND status = 'reserved' THEN claimed_at ELSE clock_timestamp() END,
      user_id = $2, status = 'reserved', expires_at = NULL
    WHERE seat_id = $1 AND ${CLAIMABLE}
    RETURNING ${COLUMNS}`,
  // Own reservation: unchanged. Own live hold: extended. Free or expired: a new hold.
  hold: `UPDATE seats SET
      claimed_at = CASE WHEN user_id = $2 AND (status = 'reserved' OR expires_at > clock_timestamp())
                        THEN claimed_at ELSE clock_timestamp() END,
      expires_at = CASE WHEN user_id = $2 AND status = 'reserved' THEN NULL ELSE ${TTL} END,
      status = CASE WHEN user_id = $2 AND status = 'reserved' THEN 'reserved' ELSE 'held' END,
      user_id = $2
    WHERE seat_id = $1 AND ${CLAIMABLE}
    RETURNING ${COLUMNS}`,
  // Only your own live hold (or your reservation, for a retried confirm) becomes a reservation.
  confirm: `UPDATE seats SET
      claimed_at = CASE WHEN status = 'reserved' THEN claimed_at ELSE clock_timestamp() END,
      status = 'reserved', expires_at = NULL
    WHERE seat_id = $1 AND user_id = $2 AND (status = 'reserved' OR expires_at > clock_timestamp())
    RETURNING ${COLUMNS}`,
  // Yours (live or not), nobody's, or an expired hold: cleared. Someone else's live claim: zero rows.
  release: `UPDATE seats SET user_id = NULL, status = NULL, claimed_at = NULL, expires_at = NULL
    WHERE seat_id = $1 AND ${CLAIMABLE}
    RETURNING seat_id`,
};
const EXISTS = 'SELECT 1 FROM seats WHERE seat_id = $1';
// Zero rows from a write means someone else holds the seat (or, for confirm, no live hold of yours) — or no such seat.
const REJECTED: Record<Kind, SeatCode> = { reserve: 'SEAT_TAKEN', hold: 'SEAT_TAKEN', confirm: 'HOLD_EXPIRED', release: 'SEAT_TAKEN' };

export const setup = seatsSetup();

export default async function create(ctx: AppContext): Promise<SeatService> {
  const pool = ctx.pg;

  return seatService(ctx, pool, async (kind, seatId, userId, ttlMs) => {
    const won = await query(pool, SQL[kind], kind === 'hold' ? [seatId, userId, ttlMs] : [seatId, userId]);
    if (won.rows[0]) return kind === 'release' ? null : toClaim(won.rows[0]);
    const exists = (await query(pool, EXISTS, [seatId])).rowCount === 1;
    throw exists ? seatError(REJECTED[kind], seatId) : seatError('SEAT_NOT_FOUND', seatId);
  });
}
