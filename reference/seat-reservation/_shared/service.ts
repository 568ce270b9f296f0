// Shared by the seat-reservation references (not a reference itself): the SeatService every reference returns,
// built from its strategy's one `attempt` per call. The service checks the TTL, retries whole calls on transient
// errors (withRetry), and answers getReservation with one committed read.
import type { AppContext, SeatService } from 'gauntlet';
import type { Pool } from 'pg';
import { type Claim, checkTtl, seatError, toClaim } from './claims.ts';
import { query } from './pg.ts';
import type { Kind } from './rules.ts';
import { READ } from './schema.ts';
import { withRetry } from './retry.ts';

/** One try of a call, under the strategy's concurrency control: the claim, null (a release), or a rejection. */
export type Attempt = (kind: Kind, seatId: string, userId: string, ttlMs: number) => Promise<Claim | null>;

export function seatService(ctx: AppContext, pool: Pool, attempt: Attempt): SeatService {
  function run(kind: Kind, seatId: string, userId: string, ttlMs = 0): Promise<Claim | null> {
    // A hold can expire, and a released seat can be taken, between a lost attempt and its retry: after a lost
    // connection a rejection of those two is not definite (see withRetry).
    return withRetry(ctx.log, kind, kind !== 'hold' && kind !== 'release', () => attempt(kind, seatId, userId, ttlMs));
  }

  return {
    reserveSeat: async (seatId, userId) => (await run('reserve', seatId, userId)) as Claim,
    holdSeat: async (seatId, userId, ttlMs) => {
      checkTtl(ttlMs);
      return (await run('hold', seatId, userId, ttlMs)) as Claim;
    },
    confirmHold: async (seatId, userId) => (await run('confirm', seatId, userId)) as Claim,
    releaseSeat: async (seatId, userId) => {
      await run('release', seatId, userId);
    },
    getReservation: (seatId) =>
      withRetry(ctx.log, 'get', true, async () => {
        const row = (await query(pool, READ, [seatId])).rows[0];
        if (!row) throw seatError('SEAT_NOT_FOUND', seatId);
        return row.live ? toClaim(row) : null;
      }),
  };
}
