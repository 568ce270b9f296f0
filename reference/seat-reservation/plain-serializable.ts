// Reference (plain, textbook): written apart from gauntlet, from the contract alone. SERIALIZABLE transactions that
// retry every serialization failure until an overall deadline. It must pass every check (CONTRACT §8).
//
// Seat reservation with SERIALIZABLE transactions: each operation reads the seat, decides and writes
// inside one serializable transaction. PostgreSQL aborts any transaction whose outcome would not match
// some serial order (SQLSTATE 40001), and we simply run it again, with capped exponential backoff
// and full jitter, until it commits or an overall deadline passes.
import type { PoolClient } from 'pg';
import type { AppContext, SetupContext } from 'gauntlet';

type SeatErrorCode = 'SEAT_TAKEN' | 'SEAT_NOT_FOUND' | 'HOLD_EXPIRED';
type Status = 'held' | 'reserved';

export interface SeatReservation { seatId: string; userId: string; timestamp: Date | string }

interface Seat { userId: string | null; status: Status | null; takenAt: Date | null; expired: boolean }
interface SeatRow { user_id: string | null; status: Status | null; taken_at: Date | null; expired: boolean | null }

const DEADLINE_MS = 30_000;
const BASE_DELAY_MS = 10;
const MAX_DELAY_MS = 1_000;
const SEAT_CODES: readonly string[] = ['SEAT_TAKEN', 'SEAT_NOT_FOUND', 'HOLD_EXPIRED'];
// 40001 serialization failure, 40P01 deadlock, 57P0x backend shut down/terminated, 08xxx connection exceptions.
const RETRYABLE_SQLSTATES = new Set(['40001', '40P01', '57P01', '57P02', '57P03']);
const RETRYABLE_NODE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT']);
const CONNECTION_LOST = /connection terminated|not queryable|timeout exceeded when trying to connect/i;

function seatError(code: SeatErrorCode, seatId: string): Error {
  return Object.assign(new Error(`${code}: seat ${seatId}`), { code });
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

function isRetryable(err: unknown): boolean {
  const code = codeOf(err);
  if (SEAT_CODES.includes(code)) return false;
  if (RETRYABLE_SQLSTATES.has(code) || RETRYABLE_NODE_CODES.has(code) || code.startsWith('08')) return true;
  return err instanceof Error && CONNECTION_LOST.test(err.message);
}

function backoffMs(attempt: number): number {
  return Math.random() * Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt); // full jitter
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function requireId(name: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0) throw new TypeError(`${name} must be a non-empty string`);
}

export async function setup(ctx: SetupContext): Promise<void> {
  const { seats } = ctx.scenario as { seats: string[] };
  await ctx.pg.query(`
    CREATE TABLE IF NOT EXISTS seats (
      id              text PRIMARY KEY,
      user_id         text,
      status          text CHECK (status IN ('held', 'reserved')),
      hold_expires_at timestamptz,
      taken_at        timestamptz,
      CHECK ((user_id IS NULL) = (status IS NULL)),
      CHECK ((status = 'held') = (hold_expires_at IS NOT NULL))
    )`);
  await ctx.pg.query('INSERT INTO seats (id) SELECT unnest($1::text[]) ON CONFLICT (id) DO NOTHING', [seats]);
  ctx.log('seats created', { count: seats.length });
}

export default async function create(ctx: AppContext) {
  const pool = ctx.pg;

  async function attempt<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    const onError = (err: Error) => ctx.log('database client error', { error: err.message });
    client.on('error', onError);
    let broken: Error | undefined;
    try {
      await client.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError as Error; // connection is unusable: destroy it instead of pooling it
      }
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  async function serializable<T>(operation: string, seatId: string, work: (client: PoolClient) => Promise<T>): Promise<T> {
    const deadline = Date.now() + DEADLINE_MS;
    for (let n = 1; ; n++) {
      try {
        return await attempt(work);
      } catch (err) {
        if (!isRetryable(err) || Date.now() >= deadline) {
          if (!SEAT_CODES.includes(codeOf(err))) ctx.log('operation failed', { operation, seatId, attempts: n, error: String(err) });
          throw err;
        }
        if (n % 10 === 0) ctx.log('still retrying', { operation, seatId, attempts: n, code: codeOf(err) });
        await sleep(Math.min(backoffMs(n), Math.max(0, deadline - Date.now())));
      }
    }
  }

  async function readSeat(client: PoolClient, seatId: string): Promise<Seat> {
    const { rows } = await client.query<SeatRow>(
      `SELECT user_id, status, taken_at, status = 'held' AND hold_expires_at <= now() AS expired
         FROM seats WHERE id = $1`,
      [seatId],
    );
    const row = rows[0];
    if (!row) throw seatError('SEAT_NOT_FOUND', seatId);
    return { userId: row.user_id, status: row.status, takenAt: row.taken_at, expired: row.expired === true };
  }

  async function take(client: PoolClient, seatId: string, userId: string, ttlMs: number | null): Promise<SeatReservation> {
    const { rows } = await client.query<{ taken_at: Date }>(
      `UPDATE seats
          SET user_id = $2,
              status = CASE WHEN $3::float8 IS NULL THEN 'reserved' ELSE 'held' END,
              hold_expires_at = now() + $3::float8 * interval '1 millisecond',
              taken_at = now()
        WHERE id = $1
        RETURNING taken_at`,
      [seatId, userId, ttlMs],
    );
    return { seatId, userId, timestamp: rows[0]!.taken_at };
  }

  const isOtherLiveHolder = (seat: Seat, userId: string) => seat.userId !== null && seat.userId !== userId && !seat.expired;
  const current = (seatId: string, seat: Seat): SeatReservation =>
    ({ seatId, userId: seat.userId!, timestamp: seat.takenAt! });

  return {
    async reserveSeat(seatId: string, userId: string): Promise<SeatReservation> {
      requireId('seatId', seatId);
      requireId('userId', userId);
      const reservation = await serializable('reserveSeat', seatId, async (client) => {
        const seat = await readSeat(client, seatId);
        if (seat.userId === userId && seat.status === 'reserved') return current(seatId, seat);
        if (isOtherLiveHolder(seat, userId)) throw seatError('SEAT_TAKEN', seatId);
        return take(client, seatId, userId, null); // free, an expired hold, or my own hold
      });
      ctx.log('seat reserved', { seatId, userId });
      return reservation;
    },

    async getReservation(seatId: string): Promise<SeatReservation | null> {
      requireId('seatId', seatId);
      return serializable('getReservation', seatId, async (client) => {
        const seat = await readSeat(client, seatId);
        return seat.userId === null || seat.expired ? null : current(seatId, seat);
      });
    },

    async holdSeat(seatId: string, userId: string, ttlMs: number): Promise<SeatReservation> {
      requireId('seatId', seatId);
      requireId('userId', userId);
      if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError('ttlMs must be a positive number');
      const hold = await serializable('holdSeat', seatId, async (client) => {
        const seat = await readSeat(client, seatId);
        if (seat.userId === userId && seat.status === 'reserved') return current(seatId, seat);
        if (isOtherLiveHolder(seat, userId)) throw seatError('SEAT_TAKEN', seatId);
        return take(client, seatId, userId, ttlMs); // new hold, or renew my own
      });
      ctx.log('seat held', { seatId, userId, ttlMs });
      return hold;
    },

    async confirmHold(seatId: string, userId: string): Promise<SeatReservation> {
      requireId('seatId', seatId);
      requireId('userId', userId);
      const reservation = await serializable('confirmHold', seatId, async (client) => {
        const seat = await readSeat(client, seatId);
        if (seat.userId === userId && seat.status === 'reserved') return current(seatId, seat);
        if (seat.userId === userId && !seat.expired) return take(client, seatId, userId, null);
        if (isOtherLiveHolder(seat, userId)) throw seatError('SEAT_TAKEN', seatId);
        throw seatError('HOLD_EXPIRED', seatId);
      });
      ctx.log('hold confirmed', { seatId, userId });
      return reservation;
    },

    async releaseSeat(seatId: string, userId: string): Promise<void> {
      requireId('seatId', seatId);
      requireId('userId', userId);
      await serializable('releaseSeat', seatId, async (client) => {
        const seat = await readSeat(client, seatId);
        if (seat.userId !== userId) return; // not mine (or already released): nothing to do
        await client.query(
          'UPDATE seats SET user_id = NULL, status = NULL, hold_expires_at = NULL, taken_at = NULL WHERE id = $1',
          [seatId],
        );
      });
      ctx.log('seat released', { seatId, userId });
    },
  };
}
