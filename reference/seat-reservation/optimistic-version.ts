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
// Semantics, shared by every reference, and `plan`: _shared/rules.ts. Plumbing (retries, clients, the service): _shared/.
import type { AppContext, SeatService } from 'gauntlet';
import { toClaim } from './_shared/claims.ts';
import { query } from './_shared/pg.ts';
import { type Write, plan } from './_shared/rules.ts';
import { sleep } from './_shared/retry.ts';
import { COLUMNS, LIVE, seatsSetup } from './_shared/schema.ts';
import { seatService } from './_shared/service.ts';

const CAS_ATTEMPTS = 20; // read-decide-write rounds lost to other writers before giving up
const CAS_BACKOFF_BASE_MS = 2;
const CAS_BACKOFF_CAP_MS = 50;

const VERSIONED = `${COLUMNS}, version`;
const READ = `SELECT ${VERSIONED}, ${LIVE} FROM seats WHERE seat_id = $1`;
const TTL = `clock_timestamp() + $4::double precision * interval '1 millisecond'`;
const CAS = 'seat_id = $1 AND version = $2';

// Each write succeeds only if nobody wrote since our read ($2 = the version we read).
const WRITES: Record<Write, (seatId: string, version: string, userId: string, ttlMs: number) => [string, unknown[]]> = {
  reserve: (s, v, u) => [`UPDATE seats SET user_id = $3, status = 'reserved', claimed_at = clock_timestamp(), expires_at = NULL,
    version = version + 1 WHERE ${CAS} RETURNING ${VERSIONED}`, [s, v, u]],
  hold: (s, v, u, ttl) => [`UPDATE seats SET user_id = $3, status = 'held', claimed_at = clock_timestamp(), expires_at = ${TTL},
    version = version + 1 WHERE ${CAS} RETURNING ${VERSIONED}`, [s, v, u, ttl]],
  extend: (s, v, u, ttl) => [`UPDATE seats SET expires_at = ${TTL}, version = version + 1
    WHERE ${CAS} AND user_id = $3 RETURNING ${VERSIONED}`, [s, v, u, ttl]],
  // The hold may expire between our read and this write without anyone else writing: check the clock again.
  confirm: (s, v, u) => [`UPDATE seats SET status = 'reserved', claimed_at = clock_timestamp(), expires_at = NULL,
    version = version + 1 WHERE ${CAS} AND user_id = $3 AND expires_at > clock_timestamp() RETURNING ${VERSIONED}`, [s, v, u]],
  clear: (s, v) => [`UPDATE seats SET user_id = NULL, status = NULL, claimed_at = NULL, expires_at = NULL,
    version = version + 1 WHERE ${CAS} RETURNING ${VERSIONED}`, [s, v]],
};

export const setup = seatsSetup('version    bigint NOT NULL DEFAULT 0');

export default async function create(ctx: AppContext): Promise<SeatService> {
  const pool = ctx.pg;

  return seatService(ctx, pool, async (kind, seatId, userId, ttlMs) => {
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
