// Shared by select-for-update.ts and serializable-retry.ts (not a reference itself): read-decide-write in one
// transaction, behind a lock-free fast path. The two differ only in what makes the transaction safe, which each
// passes in: the statement that begins it and the read it decides on (`FOR UPDATE`, or SERIALIZABLE isolation).
import type { Pool } from 'pg';
import { seatError, toClaim } from './claims.ts';
import { exec, inTransaction, withClient } from './pg.ts';
import { type Write, plan } from './rules.ts';
import { COLUMNS, READ } from './schema.ts';
import type { Attempt } from './service.ts';

const TTL = `clock_timestamp() + $3::double precision * interval '1 millisecond'`;

// Run under the row lock or serializable isolation, so they need no guard; except confirm, whose hold may expire
// between SELECT and UPDATE without anyone writing.
const WRITES: Record<Write, (seatId: string, userId: string, ttlMs: number) => [string, unknown[]]> = {
  reserve: (s, u) => [`UPDATE seats SET user_id = $2, status = 'reserved', claimed_at = clock_timestamp(), expires_at = NULL
    WHERE seat_id = $1 RETURNING ${COLUMNS}`, [s, u]],
  hold: (s, u, ttl) => [`UPDATE seats SET user_id = $2, status = 'held', claimed_at = clock_timestamp(), expires_at = ${TTL}
    WHERE seat_id = $1 RETURNING ${COLUMNS}`, [s, u, ttl]],
  extend: (s, u, ttl) => [`UPDATE seats SET expires_at = ${TTL}
    WHERE seat_id = $1 AND user_id = $2 RETURNING ${COLUMNS}`, [s, u, ttl]],
  confirm: (s, u) => [`UPDATE seats SET status = 'reserved', claimed_at = clock_timestamp(), expires_at = NULL
    WHERE seat_id = $1 AND user_id = $2 AND expires_at > clock_timestamp() RETURNING ${COLUMNS}`, [s, u]],
  clear: (s) => [`UPDATE seats SET user_id = NULL, status = NULL, claimed_at = NULL, expires_at = NULL
    WHERE seat_id = $1 RETURNING ${COLUMNS}`, [s]],
};

/** The attempt: `begin`, then `read` (the seat by $1) inside the transaction, decide, write, COMMIT. */
export function transactionAttempt(pool: Pool, begin: string, read: string): Attempt {
  return (kind, seatId, userId, ttlMs) =>
    // One client for the whole call: a caller that read "free" must not queue for the pool a second time,
    // behind hundreds of fast-path reads, or the winner commits last and nobody's fast path helps.
    withClient(pool, async (client, markBroken) => {
      // Fast path: a committed read that already decides the call needs no transaction.
      const seen = plan(kind, seatId, (await exec(client, READ, [seatId])).rows[0], userId);
      if ('answer' in seen) return seen.answer;

      return inTransaction(client, markBroken, begin, async () => {
        const row = (await exec(client, read, [seatId])).rows[0];
        const decided = plan(kind, seatId, row, userId);
        if ('answer' in decided) return decided.answer;
        const [text, values] = WRITES[decided.write](seatId, userId, ttlMs);
        const written = (await exec(client, text, values)).rows[0];
        if (!written) throw seatError('HOLD_EXPIRED', seatId); // only confirm can miss: its hold expired just now
        return decided.write === 'clear' ? null : toClaim(written);
      });
    });
}
