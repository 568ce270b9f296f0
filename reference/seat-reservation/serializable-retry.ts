// Reference solution for seat-reservation: a SERIALIZABLE transaction, retried on serialization failure.
//
// STRATEGY
//   BEGIN ISOLATION LEVEL SERIALIZABLE; SELECT the seat; decide in application code (`plan`); UPDATE; COMMIT.
//   No explicit lock: PostgreSQL's serializable snapshot isolation promises the outcome of some serial order,
//   and aborts a transaction with SQLSTATE 40001 (or 40P01 on a deadlock) when it cannot. Two callers that both
//   read "free" cannot both commit: the second is aborted and simply runs again, reads the winner's row and
//   answers SEAT_TAKEN. The retry is not optional: without it the raw 40001 reaches the caller as an
//   indeterminate error. It is bounded (attempts and time) with capped exponential backoff and full jitter,
//   so a thundering herd spreads out instead of colliding again at once.
//   A rejection decided inside the transaction is only trusted after COMMIT succeeds (data read by a
//   serializable transaction is not guaranteed until it commits), so rejections commit first, then throw.
//   Fast path: a plain committed read that already decides the call (someone else holds it, it is already
//   yours, no such seat) answers without a transaction, so only would-be writers pay for conflicts.
//
// TRADE-OFFS
//   + The transaction reads like single-threaded code: any rule over any number of rows is safe, with no lock
//     ordering to get right and no lock to forget. The database finds the conflicts you did not think of.
//   - Every transaction must be retryable as a whole: no side effects (emails, HTTP calls) inside it, and
//     the caller must tolerate latency spikes when many retry. Hot rows make it abort-heavy.
//   - Predicate locks cost memory and CPU; false positives abort transactions that did not truly conflict.
//
// CHOOSE IT when the rules span several rows or tables and are hard to lock correctly by hand, contention is
// moderate, and the work in the transaction is pure database work that can be re-run.
//
// Semantics, shared by every reference, and `plan`: _shared/rules.ts. The transaction around it, the writes and the
// plumbing (retries, clients, the service): _shared/transaction-attempt.ts and the rest of _shared/.
import type { AppContext, SeatService } from 'gauntlet';
import { READ, seatsSetup } from './_shared/schema.ts';
import { seatService } from './_shared/service.ts';
import { transactionAttempt } from './_shared/transaction-attempt.ts';

export const setup = seatsSetup();

export default async function create(ctx: AppContext): Promise<SeatService> {
  // No lock: a conflicting transaction is aborted with 40001 (or 40P01), and withRetry (_shared/retry.ts) runs it again.
  return seatService(ctx, ctx.pg, transactionAttempt(ctx.pg, 'BEGIN ISOLATION LEVEL SERIALIZABLE', READ));
}
