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
// Semantics (shared by every reference): getReservation returns the reservation, or the live hold with
// `hold: true` and `expiresAt`, or null; SEAT_NOT_FOUND for an unknown seat. holdSeat on your own live hold
// extends it; on your own reservation returns the reservation. confirmHold without a live hold of yours
// (expired, never held, or someone else's) is HOLD_EXPIRED. releaseSeat of your own hold/reservation frees
// it, of a free seat is a no-op, of someone else's live claim is SEAT_TAKEN.
import type { AppContext, SeatReservation, SeatService, SetupContext } from 'gauntlet';
import type { Pool, PoolClient, QueryConfig, QueryResult, QueryResultRow } from 'pg';

type Claim = SeatReservation & { hold?: true; expiresAt?: Date };
type Log = AppContext['log'];

const QUERY_TIMEOUT_MS = 3_000; // a blackholed connection must fail the attempt, not hang the call
const CONNECT_TIMEOUT_MS = 4_000; // the harness gives a call 10 s: fail an attempt early enough to retry it
const RETRY_ATTEMPTS = 30;
const RETRY_BUDGET_MS = 8_000;
const BACKOFF_BASE_MS = 10;
const BACKOFF_CAP_MS = 250;

const COLUMNS = 'seat_id, user_id, status, claimed_at, expires_at';
const CLAIMABLE = '(user_id IS NULL OR user_id = $2 OR expires_at <= clock_timestamp())';
const TTL = `clock_timestamp() + $3::double precision * interval '1 millisecond'`;

const SQL = {
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
  // Liveness judged by the database clock, never by this process's clock.
  read: `SELECT ${COLUMNS}, user_id IS NOT NULL AND (status = 'reserved' OR expires_at > clock_timestamp()) AS live
    FROM seats WHERE seat_id = $1`,
  exists: 'SELECT 1 FROM seats WHERE seat_id = $1',
};

const SCHEMA = `CREATE TABLE IF NOT EXISTS seats (
  seat_id    text PRIMARY KEY,
  user_id    text,
  status     text CHECK (status IN ('held', 'reserved')),
  claimed_at timestamptz,
  expires_at timestamptz,
  CHECK ((user_id IS NULL) = (status IS NULL)),
  CHECK (status IS DISTINCT FROM 'held' OR expires_at IS NOT NULL)
)`;

export async function setup(ctx: SetupContext): Promise<void> {
  const seats = ctx.scenario.seats as string[];
  await ctx.pg.query(SCHEMA);
  await ctx.pg.query('INSERT INTO seats (seat_id) SELECT unnest($1::text[]) ON CONFLICT (seat_id) DO NOTHING', [seats]);
}

export default async function create(ctx: AppContext): Promise<SeatService> {
  const pool = ctx.pg;
  const log = ctx.log;

  async function exists(seatId: string): Promise<boolean> {
    return (await query(pool, SQL.exists, [seatId])).rowCount === 1;
  }

  return {
    reserveSeat: (seatId, userId) =>
      withRetry(log, 'reserveSeat', true, async () => {
        const won = await query(pool, SQL.reserve, [seatId, userId]);
        if (won.rows[0]) return toClaim(won.rows[0]);
        throw (await exists(seatId)) ? seatError('SEAT_TAKEN', seatId) : seatError('SEAT_NOT_FOUND', seatId);
      }),

    holdSeat: (seatId, userId, ttlMs) => {
      checkTtl(ttlMs);
      // A hold can expire between a lost attempt and its retry, so a rejection after a lost attempt is not definite.
      return withRetry(log, 'holdSeat', false, async () => {
        const won = await query(pool, SQL.hold, [seatId, userId, ttlMs]);
        if (won.rows[0]) return toClaim(won.rows[0]);
        throw (await exists(seatId)) ? seatError('SEAT_TAKEN', seatId) : seatError('SEAT_NOT_FOUND', seatId);
      });
    },

    confirmHold: (seatId, userId) =>
      withRetry(log, 'confirmHold', true, async () => {
        const done = await query(pool, SQL.confirm, [seatId, userId]);
        if (done.rows[0]) return toClaim(done.rows[0]);
        throw (await exists(seatId)) ? seatError('HOLD_EXPIRED', seatId) : seatError('SEAT_NOT_FOUND', seatId);
      }),

    releaseSeat: (seatId, userId) =>
      withRetry(log, 'releaseSeat', false, async () => {
        const done = await query(pool, SQL.release, [seatId, userId]);
        if (done.rowCount === 1) return;
        throw (await exists(seatId)) ? seatError('SEAT_TAKEN', seatId) : seatError('SEAT_NOT_FOUND', seatId);
      }),

    getReservation: (seatId) =>
      withRetry(log, 'getReservation', true, async () => {
        const row = (await query(pool, SQL.read, [seatId])).rows[0];
        if (!row) throw seatError('SEAT_NOT_FOUND', seatId);
        return row.live ? toClaim(row) : null;
      }),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Plumbing: errors, retries, one statement on a pool client with a timeout.

const SEAT_CODES = new Set(['SEAT_TAKEN', 'SEAT_NOT_FOUND', 'HOLD_EXPIRED']);
// Serialization failure and deadlock roll the statement back: definitely did not happen.
const ROLLED_BACK = new Set(['40001', '40P01', '57014']);
// The connection died: whatever was in flight may or may not have committed.
const CONNECTION_LOST_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08004', '08006']);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
const NETWORK_MESSAGE =
  /connection terminated|connection error|not queryable|query read timeout|timeout exceeded when trying to connect|socket hang up|server closed the connection|connection ended/i;

function seatError(code: string, seatId: string): Error {
  const text: Record<string, string> = { SEAT_TAKEN: 'is taken', SEAT_NOT_FOUND: 'does not exist', HOLD_EXPIRED: 'has no live hold of yours' };
  return Object.assign(new Error(`seat ${seatId} ${text[code]}`), { code });
}

function isSeatError(err: unknown): boolean {
  return SEAT_CODES.has((err as { code?: string })?.code ?? '');
}

function isConnectionLoss(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return CONNECTION_LOST_SQLSTATES.has(e?.code ?? '') || NETWORK_CODES.has(e?.code ?? '') || NETWORK_MESSAGE.test(e?.message ?? '');
}

function isTransient(err: unknown): boolean {
  return ROLLED_BACK.has((err as { code?: string })?.code ?? '') || isConnectionLoss(err);
}

function checkTtl(ttlMs: number): void {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new TypeError(`ttlMs must be a positive number of milliseconds, got ${ttlMs}`);
}

function toClaim(row: QueryResultRow): Claim {
  const claim: Claim = { seatId: row.seat_id, userId: row.user_id, timestamp: row.claimed_at };
  return row.status === 'held' ? { ...claim, hold: true, expiresAt: row.expires_at } : claim;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const backoffMs = (attempt: number) => Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);

/**
 * Runs `attempt` again on transient database errors (capped exponential backoff, full jitter, bounded).
 * Every operation here is idempotent for the same user, so re-running the whole call is safe even when a
 * lost connection leaves it unknown whether the previous attempt committed. `definiteAfterLoss` says whether
 * a business rejection on a retry is still definite when an earlier attempt may have taken effect: for a hold
 * (it may have expired since) or a release (someone may have taken the seat since) it is not, and the
 * original connection error is surfaced instead (an indeterminate outcome, which is the truth).
 */
async function withRetry<T>(log: Log, op: string, definiteAfterLoss: boolean, attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + RETRY_BUDGET_MS;
  let lost: unknown;
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (isSeatError(err)) throw lost !== undefined && !definiteAfterLoss ? lost : err;
      if (!isTransient(err) || n >= RETRY_ATTEMPTS || Date.now() >= deadline) throw err;
      if (isConnectionLoss(err)) {
        lost ??= err;
        log('seat-reservation: retrying after a lost connection', { op, attempt: n, error: String((err as Error).message) });
      }
      await sleep(backoffMs(n));
    }
  }
}

/** pool.connect() with a deadline; a client that arrives after the deadline goes straight back. */
async function connect(pool: Pool): Promise<PoolClient> {
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const pending = pool.connect();
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(new Error('timeout exceeded when trying to connect'));
    }, CONNECT_TIMEOUT_MS);
  });
  try {
    return await Promise.race([pending, deadline]);
  } finally {
    clearTimeout(timer);
    if (timedOut) pending.then((client) => client.release(), () => {});
  }
}

/** One statement on its own client: an 'error' listener while checked out, destroyed if the connection broke. */
async function query(pool: Pool, text: string, values: unknown[]): Promise<QueryResult> {
  const client = await connect(pool);
  let broken: Error | undefined;
  const onError = (err: Error) => {
    broken ??= err;
  };
  client.on('error', onError);
  try {
    return await client.query({ text, values, query_timeout: QUERY_TIMEOUT_MS } as QueryConfig); // per-query read timeout (not in @types/pg)
  } catch (err) {
    if (isConnectionLoss(err)) broken ??= err as Error;
    throw err;
  } finally {
    client.removeListener('error', onError);
    client.release(broken);
  }
}
