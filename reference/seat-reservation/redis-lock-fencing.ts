// Reference solution for seat-reservation: a Redis lock per seat, with fencing tokens checked by PostgreSQL.
//
// STRATEGY
//   1. Lock: one Lua script does `SET seat:lock:<id> <random token> NX PX <ttl>` and, only if that succeeded,
//      `INCR seat:fence:<id>`: acquiring the lock and drawing a fencing token are one atomic step, so tokens
//      grow in lock-acquisition order. Release is a Lua compare-and-delete on the random token, so a process
//      whose lock already expired cannot delete its successor's lock.
//   2. Fence: under the lock, the first statement registers the token in the row
//      (`UPDATE seats SET fence = $token WHERE seat_id = $1 AND fence < $token RETURNING ...`) and reads the seat;
//      the write then requires `fence = $token`. A holder paused past its lock TTL (GC, a slow network, a
//      blackholed connection) finds a newer token in the row and writes nothing: its lock was lost, and it
//      starts over. Registering at read time matters: checking the token only at write time would let an old
//      holder slip its write between a new holder's read and write.
//   3. The database stays the authority: each write also carries the business rule as a predicate (the seat
//      is free, yours, or an expired hold), so even with no Redis at all (unreachable, flushed, lock wait too
//      long) the fallback, the same write without a token, can never give a seat to two users.
//   Waiters poll the lock with jittered backoff, bounded in time, and re-read the seat before each try: once
//   the winner committed, everyone else answers SEAT_TAKEN from that read without touching the lock again.
//
// TRADE-OFFS
//   + The lock can guard work outside the database (a call to a payment provider, a file, a cache rebuild)
//     so only one process does it at a time; the fence keeps a late process from corrupting the data after.
//   - Two systems to run and reason about; a lock without a fence is NOT safe (a TTL is a guess about pause
//     lengths), and a fence needs a store that can check it. If Redis loses the counter (flush, failover
//     without persistence) tokens restart low and are refused; the code then raises the counter to the
//     database's fence, at the cost of one extra round.
//   - Slower than letting PostgreSQL arbitrate: lock round trips plus polling, and Redis becomes a dependency
//     for availability. For a single-row rule in one database it is strictly more machinery than needed.
//
// CHOOSE IT when the critical section spans more than one database transaction (external calls, several
// stores) and duplicates are expensive, and the final write can check a token. If the rule fits in one SQL
// statement, prefer the conditional UPDATE; Redis locks alone (Redlock included) are an efficiency device.
//
// Semantics, shared by every reference, and `plan`: _shared/rules.ts. Plumbing (retries, clients, the service): _shared/.
import { randomUUID } from 'node:crypto';
import type { AppContext, SeatService } from 'gauntlet';
import { toClaim } from './_shared/claims.ts';
import { query } from './_shared/pg.ts';
import { type Kind, type Write, plan } from './_shared/rules.ts';
import { sleep } from './_shared/retry.ts';
import { COLUMNS, LIVE, READ, seatsSetup } from './_shared/schema.ts';
import { seatService } from './_shared/service.ts';

type Lock = { token: string; fence: number };

const LOCK_TTL_MS = 3_000; // longer than the critical section (two statements) normally takes; the fence covers the rest
const LOCK_WAIT_MS = 3_000; // after this, stop waiting for the lock and write unfenced (still conditional)
const LOCK_POLL_BASE_MS = 5;
const LOCK_POLL_CAP_MS = 100;
const REDIS_TIMEOUT_MS = 500;
const MAX_ROUNDS = 200;

const ACQUIRE = `if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return redis.call('INCR', KEYS[2]) end
return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
// Raises the token counter to at least ARGV[1] (never lowers it): after Redis lost the counter, catch up with the database.
const CATCH_UP = `if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return 0`;

// Registers our token (no row if a newer token got here first: our lock is gone) and reads the seat.
const REGISTER = `UPDATE seats SET fence = $2 WHERE seat_id = $1 AND fence < $2 RETURNING ${COLUMNS}, ${LIVE}`;

// $3 is our fencing token, or NULL for the unfenced fallback; the business rule is checked either way.
const FENCED = 'seat_id = $1 AND ($3::bigint IS NULL OR fence = $3::bigint)';
const CLAIMABLE = '(user_id IS NULL OR user_id = $2 OR expires_at <= clock_timestamp())';
const TTL = `clock_timestamp() + $4::double precision * interval '1 millisecond'`;
const WRITES: Record<Write, (seatId: string, userId: string, fence: number | null, ttlMs: number) => [string, unknown[]]> = {
  reserve: (s, u, f) => [`UPDATE seats SET user_id = $2, status = 'reserved', claimed_at = clock_timestamp(), expires_at = NULL
    WHERE ${FENCED} AND ${CLAIMABLE} RETURNING ${COLUMNS}`, [s, u, f]],
  hold: (s, u, f, ttl) => [`UPDATE seats SET user_id = $2, status = 'held', claimed_at = clock_timestamp(), expires_at = ${TTL}
    WHERE ${FENCED} AND ${CLAIMABLE} RETURNING ${COLUMNS}`, [s, u, f, ttl]],
  extend: (s, u, f, ttl) => [`UPDATE seats SET expires_at = ${TTL}
    WHERE ${FENCED} AND user_id = $2 AND status = 'held' RETURNING ${COLUMNS}`, [s, u, f, ttl]],
  confirm: (s, u, f) => [`UPDATE seats SET status = 'reserved', claimed_at = clock_timestamp(), expires_at = NULL
    WHERE ${FENCED} AND user_id = $2 AND status = 'held' AND expires_at > clock_timestamp() RETURNING ${COLUMNS}`, [s, u, f]],
  clear: (s, u, f) => [`UPDATE seats SET user_id = NULL, status = NULL, claimed_at = NULL, expires_at = NULL
    WHERE ${FENCED} AND ${CLAIMABLE} RETURNING ${COLUMNS}`, [s, u, f]],
};

export const setup = seatsSetup('fence      bigint NOT NULL DEFAULT 0');

const LOST = Symbol('lost the race: decide again');
const REFUSED = Symbol('token refused: our lock expired, or Redis lost its counter');

export default async function create(ctx: AppContext): Promise<SeatService> {
  const pool = ctx.pg;
  const redis = ctx.redis as AppContext['redis'] | undefined;
  let lastWarnAt = 0;

  function warn(message: string, err: unknown): void {
    if (Date.now() - lastWarnAt < 10_000) return; // once per 10 s, not once per call
    lastWarnAt = Date.now();
    ctx.log(message, { error: String((err as Error)?.message ?? err) });
  }

  /** The lock and a fencing token, 'busy' if someone else holds it, 'unavailable' if Redis does not answer. */
  async function acquire(seatId: string): Promise<Lock | 'busy' | 'unavailable'> {
    if (!redis) return 'unavailable';
    const token = randomUUID();
    try {
      const fence = Number(await evalScript(ACQUIRE, [`seat:lock:${seatId}`, `seat:fence:${seatId}`], [token, LOCK_TTL_MS]));
      return fence > 0 ? { token, fence } : 'busy';
    } catch (err) {
      warn('seat-reservation: Redis unavailable, writing without the lock (conditional writes keep it safe)', err);
      return 'unavailable';
    }
  }

  /** A Lua script with a deadline; a client that throws synchronously (no Redis at all) rejects instead. */
  function evalScript(script: string, keys: string[], args: (string | number)[]): Promise<unknown> {
    return withTimeout(Promise.resolve().then(() => redis!.eval(script, keys.length, ...keys, ...args)), REDIS_TIMEOUT_MS);
  }

  async function release(seatId: string, lock: Lock): Promise<void> {
    // Best effort: if this fails the lock expires by itself after LOCK_TTL_MS.
    await evalScript(RELEASE, [`seat:lock:${seatId}`], [lock.token]).catch(() => {});
  }

  /** Our token was refused. Usually a newer holder got in (no-op here); if Redis lost its counter, catch it up. */
  async function catchUp(seatId: string): Promise<void> {
    const fence = (await query(pool, 'SELECT fence FROM seats WHERE seat_id = $1', [seatId])).rows[0]?.fence ?? 0;
    await evalScript(CATCH_UP, [`seat:fence:${seatId}`], [fence]).catch(() => {});
  }

  /** One read-decide-write, fenced by `fence` (or unfenced when null). LOST: state or token moved, decide again. */
  async function attempt(kind: Kind, seatId: string, userId: string, ttlMs: number, fence: number | null) {
    const row =
      fence === null
        ? (await query(pool, READ, [seatId])).rows[0]
        : (await query(pool, REGISTER, [seatId, fence])).rows[0];
    if (!row) return REFUSED; // (the seat exists: the caller read it) a newer token registered first
    const decided = plan(kind, seatId, row, userId);
    if ('answer' in decided) return decided.answer;
    const [text, values] = WRITES[decided.write](seatId, userId, fence, ttlMs);
    const written = (await query(pool, text, values)).rows[0];
    if (!written) return LOST;
    return decided.write === 'clear' ? null : toClaim(written);
  }

  return seatService(ctx, pool, async (kind, seatId, userId, ttlMs) => {
    const lockDeadline = Date.now() + LOCK_WAIT_MS;
    for (let round = 1; round <= MAX_ROUNDS; round++) {
      // A committed read that already decides the call needs no lock (and frees waiters once a winner committed).
      const seen = plan(kind, seatId, (await query(pool, READ, [seatId])).rows[0], userId);
      if ('answer' in seen) return seen.answer;

      const lock = Date.now() < lockDeadline ? await acquire(seatId) : 'unavailable';
      if (lock === 'busy') {
        await sleep(Math.random() * Math.min(LOCK_POLL_CAP_MS, LOCK_POLL_BASE_MS * 2 ** round));
        continue;
      }
      if (lock === 'unavailable') {
        const outcome = await attempt(kind, seatId, userId, ttlMs, null);
        if (outcome !== LOST && outcome !== REFUSED) return outcome;
        continue;
      }
      try {
        const outcome = await attempt(kind, seatId, userId, ttlMs, lock.fence);
        if (outcome === REFUSED) await catchUp(seatId);
        else if (outcome !== LOST) return outcome;
      } finally {
        await release(seatId, lock);
      }
    }
    throw Object.assign(new Error(`seat ${seatId}: still contended after ${MAX_ROUNDS} rounds`), { code: 'CONTENDED' });
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
