// Shared by the seat-reservation references (not a reference itself: self-test skips `_`-prefixed entries):
// the `seats` table, its setup, and the committed read every reference answers getReservation with.
import type { SetupContext } from 'gauntlet';

export const COLUMNS = 'seat_id, user_id, status, claimed_at, expires_at';
// Liveness is judged by the database clock, never by this process's clock.
export const LIVE = `user_id IS NOT NULL AND (status = 'reserved' OR expires_at > clock_timestamp()) AS live`;
export const READ = `SELECT ${COLUMNS}, ${LIVE} FROM seats WHERE seat_id = $1`;

/** The seats table, with one more column when a strategy needs one (a version, a fence). */
function schema(extraColumn?: string): string {
  return `CREATE TABLE IF NOT EXISTS seats (
  seat_id    text PRIMARY KEY,
  user_id    text,
  status     text CHECK (status IN ('held', 'reserved')),
  claimed_at timestamptz,
  expires_at timestamptz,${extraColumn ? `\n  ${extraColumn},` : ''}
  CHECK ((user_id IS NULL) = (status IS NULL)),
  CHECK (status IS DISTINCT FROM 'held' OR expires_at IS NOT NULL)
)`;
}

/** The module's `setup`: creates the table and the scenario's seats, all free. */
export function seatsSetup(extraColumn?: string): (ctx: SetupContext) => Promise<void> {
  const ddl = schema(extraColumn);
  return async function setup(ctx: SetupContext): Promise<void> {
    const seats = ctx.scenario.seats as string[];
    await ctx.pg.query(ddl);
    await ctx.pg.query('INSERT INTO seats (seat_id) SELECT unnest($1::text[]) ON CONFLICT (seat_id) DO NOTHING', [seats]);
  };
}
