// Reference solution for seat-reservation: optimistic concurrency with a version column (compare-and-set).
//
// STRATEGY
//   Read the seat with its `version`, decide in application code (`plan`), then write with
//     UPDATE seats SET ..., version = version + 1 WHERE seat_id = $1 AND version = $3
//   If another writer got there first the version moved and the UPDATE touches zero rows: nothing was
//   written, so read again and decide again on the fresh state (bounded attempts, small jittered backoff).
//   No lock is held between the read and the write, no transaction is opened: each statement stands alone.
//   A rejection is always decided on a committed read ("someone else holds it"), so it is definite; a lost
//   race only means "look again", never "SEAT_TAKEN" by itself: the next read says whether the winner really
//   took the seat (it may have released it, or only extended a hold that has since expired).
//   Hold expiry is lazy and judged by the database clock (`expires_at > clock_timestamp()` in the read, and
//   again in confirm's write so a hold that expires between read and write is not confirmed).
//
// TRADE-OFFS
//   + No locks held across round trips, nothing to leak; readers never block writers. Cheap when conflicts
//     are rare: one read and one write per call.
//   + The version check works anywhere a conditional write exists (another database, a document store, an
//     HTTP API with ETag/If-Match), and the decision logic stays in plain code.
//   - Under heavy contention on one row, work is wasted: every loser re-reads. It converges here because a
//     seat, once reserved, decides every later read; a counter that everybody increments would thrash.
//   - Needs a retry budget; when it runs out the honest answer is an error, not a guess.
//
// CHOOSE IT when conflicts are rare or cheap to redo, the decision needs code rather than a SQL predicate,
// or the store offers compare-and-set but no locks (ETags, DynamoDB conditions, Redis WATCH).
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
type Kind = 'reserve' | 'hold' | 'confirm' | 'release';
type Write = 'reserve' | 'hold' | 'extend' | 'confirm' | 'clear';
type Plan = { answer: Claim | null } | { write: Write };

const QUERY_TIMEOUT_MS = 3_000; // a blackholed connection must fail the attempt, not hang the call
const CONNECT_TIMEOUT_MS = 4_000; // the harness gives a call 10 s: fail an attempt early enough to retry it
const RETRY_ATTEMPTS = 30;
const RETRY_BUDGET_MS = 8_000;
const BACKOFF_BASE_MS = 10;
const BACKOFF_CAP_MS = 250;
const CAS_ATTEMPTS = 20; // read-decide-write rounds lost to other writers before giving up
const CAS_BACKOFF_BASE_MS = 2;
const CAS_BACKOFF_CAP_MS = 50;

const COLUMNS = 'seat_id, user_id, status, claimed_at, expires_at, version';
// Liveness is judged by the database clock, never by this process's clock.
const READ = `SELECT ${COLUMNS}, user_id IS NOT NULL AND (status = 'reserved' OR expires_at > clock_timestamp()) AS live
  FROM seats WHERE seat_id = $1`;
const TTL = `clock_timestamp() + $4::double precision * interval '1 millisecond'`;
const CAS = 'seat_id = $1 AND version = $2';

// Each write succeeds only if nobody wrote since our read ($2 = the version we read).
const WRITES: Record<Write, (seatId: string, version: string, userId: string, ttlMs: number) => [string, unknown[]]> = {
  reserve: (s, v, u) => [`UPDATE seats SET user_id = $3, status = 'reserved', claimed_at = clock_timestamp(), expires_at = NULL,
    version = version + 1 WHERE ${CAS} RETURNING ${COLUMNS}`, [s, v, u]],
  hold: (s, v, u, ttl) => [`UPDATE seats SET user_id = $3, status = 'held', claimed_at = clock_timestamp(), expires_at = ${TTL},
    version = version + 1 WHERE ${CAS} RETURNING ${COLUMNS}`, [s, v, u, ttl]],
  extend: (s, v, u, ttl) => [`UPDATE seats SET expires_at = ${TTL}, version = version + 1
    WHERE ${CAS} AND user_id = $3 RETURNING ${COLUMNS}`, [s, v, u, ttl]],
  // The hold may expire between our read and this write without anyone else writing: check the clock again.
  confirm: (s, v, u) => [`UPDATE seats SET status = 'reserved', claimed_at = clock_timestamp(), expires_at = NULL,
    version = version + 1 WHERE ${CAS} AND user_id = $3 AND expires_at > clock_timestamp() RETURNING ${COLUMNS}`, [s, v, u]],
  clear: (s, v) => [`UPDATE seats SET user_id = NULL, status = NULL, claimed_at = NULL, expires_at = NULL,
    version = version + 1 WHERE ${CAS} RETURNING ${COLUMNS}`, [s, v]],
};

const SCHEMA = `CREATE TABLE IF NOT EXISTS seats (
  seat_id    text PRIMARY KEY,
  user_id    text,
  status     text CHECK (status IN ('held', 'reserved')),
  claimed_at timestamptz,
  expires_at timestamptz,
  version    bigint NOT NULL DEFAULT 0,
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

  function run(kind: Kind, seatId: string, userId: string, ttlMs = 0): Promise<Claim | null> {
    // A hold can expire, and a released seat can be taken, between a lost attempt and its retry: after a lost
    // connection a rejection of those two is not definite (see withRetry).
    return withRetry(ctx.log, kind, kind !== 'hold' && kind !== 'release', async () => {
      for (let round = 1; round <= CAS_ATTEMPTS; round++) {
        const row = (await query(pool, READ, [seatId])).rows[0];
        const decided = plan(kind, seatId, row, userId);
        if ('answer' in decided) return decided.answer;
        const [text, values] = WRITES[decided.write](seatId, row.version, userId, ttlMs);
        const written = (await query(pool, text, values)).rows[0];
        if (written) return decided.write === 'clear' ? null : toClaim(written);
        // Someone wrote first (or, for confirm, the hold just expired): look again before deciding.
        await sleep(Math.random() * Math.min(CAS_BACKOFF_CAP_MS, CAS_BACKOFF_BASE_MS * 2 ** round));
      }
      // Not a SEAT_TAKEN: we never saw the seat taken, only changing. An indeterminate error is the truth.
      throw Object.assign(new Error(`seat ${seatId}: still contended after ${CAS_ATTEMPTS} attempts`), { code: 'CONTENDED' });
    });
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

/** The rules, as a pure function of the seat as last read (`live` judged by the database clock). */
function plan(kind: Kind, seatId: string, row: QueryResultRow | undefined, userId: string): Plan {
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

// ---------------------------------------------------------------------------------------------------------
// Plumbing: errors, retries, statements on pool clients with timeouts.

const SEAT_CODES = new Set(['SEAT_TAKEN', 'SEAT_NOT_FOUND', 'HOLD_EXPIRED']);
// Serialization failure, deadlock, statement timeout: the transaction was rolled back, definitely.
const ROLLED_BACK = new Set(['40001', '40P01', '57014']);
// The connection died: whatever was in flight (a COMMIT included) may or may not have taken effect.
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
 * a business rejection on a retry is still definite when an earlier attempt may have taken effect; when it
 * is not, the original connection error is surfaced instead (an indeterminate outcome, which is the truth).
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

function exec(client: PoolClient, text: string, values: unknown[] = []): Promise<QueryResult> {
  return client.query({ text, values, query_timeout: QUERY_TIMEOUT_MS } as QueryConfig); // per-query read timeout (not in @types/pg)
}

/** A client checked out for `use`: an 'error' listener meanwhile; destroyed, not reused, if its connection broke. */
async function withClient<T>(pool: Pool, use: (client: PoolClient, markBroken: (err: Error) => void) => Promise<T>): Promise<T> {
  const client = await connect(pool);
  let broken: Error | undefined;
  const onError = (err: Error) => {
    broken ??= err;
  };
  client.on('error', onError);
  try {
    return await use(client, onError);
  } catch (err) {
    if (isConnectionLoss(err)) broken ??= err as Error;
    throw err;
  } finally {
    client.removeListener('error', onError);
    client.release(broken);
  }
}

function query(pool: Pool, text: string, values: unknown[]): Promise<QueryResult> {
  return withClient(pool, (client) => exec(client, text, values));
}
