// Seat reservation with pessimistic locking: every decision is taken inside a transaction that holds the
// seat's row lock (SELECT ... FOR UPDATE), so concurrent callers on any instance are serialised by PostgreSQL.
import type { PoolClient } from 'pg';
import { withTransaction } from './db.ts';

interface SeatReservation { seatId: string; userId: string; timestamp: Date | string }

interface SeatRow {
  user_id: string | null;
  status: 'held' | 'reserved' | null;
  updated_at: Date | null;
  expired: boolean;
}

function seatError(code: 'SEAT_TAKEN' | 'SEAT_NOT_FOUND' | 'HOLD_EXPIRED', seatId: string): Error {
  const err = new Error(`${code}: ${seatId}`) as Error & { code: string };
  err.code = code;
  return err;
}

export async function setup(ctx: any): Promise<void> {
  await ctx.pg.query(`
    CREATE TABLE IF NOT EXISTS seats (
      id         text PRIMARY KEY,
      user_id    text,
      status     text,
      expires_at timestamptz,
      updated_at timestamptz
    )`);
  await ctx.pg.query('INSERT INTO seats (id) SELECT unnest($1::text[]) ON CONFLICT (id) DO NOTHING', [ctx.scenario.seats]);
}

export default async function create(ctx: any) {
  const pool = ctx.pg;

  // Lock the seat row and read its state. A hold counts as expired when its expiry is in the past.
  async function lockSeat(client: PoolClient, seatId: string): Promise<SeatRow> {
    const { rows } = await client.query(
      `SELECT user_id, status, updated_at,
              (status = 'held' AND expires_at <= clock_timestamp()) AS expired
         FROM seats WHERE id = $1 FOR UPDATE`,
      [seatId],
    );
    if (rows.length === 0) throw seatError('SEAT_NOT_FOUND', seatId);
    return { ...rows[0], expired: rows[0].expired === true };
  }

  async function takeSeat(client: PoolClient, seatId: string, userId: string, status: 'held' | 'reserved', ttlMs?: number): Promise<SeatReservation> {
    const { rows } = await client.query(
      `UPDATE seats
          SET user_id = $2, status = $3,
              expires_at = CASE WHEN $3 = 'held' THEN clock_timestamp() + $4::int * interval '1 millisecond' END,
              updated_at = clock_timestamp()
        WHERE id = $1
        RETURNING updated_at`,
      [seatId, userId, status, status === 'held' ? Math.ceil(ttlMs!) : null],
    );
    ctx.log(status === 'held' ? 'seat held' : 'seat reserved', { seatId, userId, ...(ttlMs ? { ttlMs } : {}) });
    return { seatId, userId, timestamp: rows[0].updated_at };
  }

  function isTakenByOther(seat: SeatRow, userId: string): boolean {
    return seat.user_id !== null && seat.user_id !== userId && !seat.expired;
  }

  return {
    async reserveSeat(seatId: string, userId: string): Promise<SeatReservation> {
      return withTransaction(pool, async (client) => {
        const seat = await lockSeat(client, seatId);
        if (seat.user_id === userId && seat.status === 'reserved') {
          return { seatId, userId, timestamp: seat.updated_at! };
        } else if (isTakenByOther(seat, userId)) {
          throw seatError('SEAT_TAKEN', seatId);
        } else {
          return takeSeat(client, seatId, userId, 'reserved');
        }
      });
    },

    async getReservation(seatId: string): Promise<SeatReservation | null> {
      const { rows } = await pool.query(
        `SELECT user_id, updated_at, (status = 'held' AND expires_at <= clock_timestamp()) AS expired
           FROM seats WHERE id = $1`,
        [seatId],
      );
      if (rows.length === 0) throw seatError('SEAT_NOT_FOUND', seatId);
      const row = rows[0];
      if (row.user_id === null || row.expired === true) return null;
      return { seatId, userId: row.user_id, timestamp: row.updated_at };
    },

    async holdSeat(seatId: string, userId: string, ttlMs: number): Promise<SeatReservation> {
      if (!(ttlMs > 0)) throw new RangeError('ttlMs must be positive');
      return withTransaction(pool, async (client) => {
        const seat = await lockSeat(client, seatId);
        if (seat.user_id === userId && seat.status === 'reserved') {
          return { seatId, userId, timestamp: seat.updated_at! };
        } else if (isTakenByOther(seat, userId)) {
          throw seatError('SEAT_TAKEN', seatId);
        } else {
          return takeSeat(client, seatId, userId, 'held', ttlMs);
        }
      });
    },

    async confirmHold(seatId: string, userId: string): Promise<SeatReservation> {
      return withTransaction(pool, async (client) => {
        const seat = await lockSeat(client, seatId);
        if (seat.user_id === userId && seat.status === 'reserved') {
          return { seatId, userId, timestamp: seat.updated_at! };
        } else if (seat.user_id === userId && !seat.expired) {
          return takeSeat(client, seatId, userId, 'reserved');
        } else if (isTakenByOther(seat, userId)) {
          throw seatError('SEAT_TAKEN', seatId);
        } else {
          throw seatError('HOLD_EXPIRED', seatId);
        }
      });
    },

    async releaseSeat(seatId: string, userId: string): Promise<void> {
      await withTransaction(pool, async (client) => {
        const seat = await lockSeat(client, seatId);
        if (seat.user_id === userId) {
          await client.query(
            'UPDATE seats SET user_id = NULL, status = NULL, expires_at = NULL, updated_at = NULL WHERE id = $1',
            [seatId],
          );
          ctx.log('seat released', { seatId, userId });
        }
      });
    },
  };
}
