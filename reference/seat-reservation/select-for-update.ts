// Reference solution for seat-reservation: pessimistic locking, SELECT ... FOR UPDATE in a transaction.
//
// STRATEGY
//   BEGIN; SELECT ... FROM seats WHERE seat_id = $1 FOR UPDATE; decide in application code; UPDATE; COMMIT.
//   The row lock makes read-decide-write atomic: a second caller blocks on the SELECT until the first commits,
//   then reads the committed state (READ COMMITTED re-reads the locked row) and decides on it. The rules live
//   in one pure function (`plan`, the same in every read-decide-write reference), easy to read and unit test.
//   Everything happens on one client from pool.connect(): it carries an 'error' listener while checked out,
//   a failure rolls back, and a client whose connection broke is released with the error so the pool destroys
//   it instead of handing a dead connection to the next caller.
//   Fast path: a plain committed read that already decides the call (someone else holds it, it is already
//   yours, no such seat) is a valid answer without any lock, so only callers that will write queue on the row
//   lock. Under a 1000-caller burst this turns 999 lock waits into 999 cheap reads once the winner committed.
//
// TRADE-OFFS
//   + Works for any rule you can compute after reading, including rules over several rows (lock them all, in
//     a fixed order, to avoid deadlocks).
//   + Easy to reason about: while you hold the lock, nobody else changes the row.
//   - The lock is held for several round trips (SELECT → UPDATE → COMMIT): throughput on one hot row is bounded
//     by 1 / (lock hold time), and added network latency stretches every waiter's wait.
//   - A client is held across awaits: forget the release, the listener or the ROLLBACK and the pool leaks or
//     the process crashes. Deadlocks are possible once several rows are locked in different orders.
//
// CHOOSE IT when the decision needs application logic or several rows, contention per row is moderate, and you
// want the simplest correct transaction. For one-row predicates prefer the conditional UPDATE.
//
// Semantics, shared by every reference, and `plan`: _shared/rules.ts. The transaction around it, the writes and the
// plumbing (retries, clients, the service): _shared/transaction-attempt.ts and the rest of _shared/.
import type { AppContext, SeatService } from 'gauntlet';
import { READ, seatsSetup } from './_shared/schema.ts';
import { seatService } from './_shared/service.ts';
import { transactionAttempt } from './_shared/transaction-attempt.ts';

export const setup = seatsSetup();

export default async function create(ctx: AppContext): Promise<SeatService> {
  // The row lock makes the read-decide-write atomic: a second caller waits on the SELECT until the first commits.
  return seatService(ctx, ctx.pg, transactionAttempt(ctx.pg, 'BEGIN', `${READ} FOR UPDATE`));
}
