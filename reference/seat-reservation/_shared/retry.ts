// Shared by the seat-reservation references (not a reference itself): the retry of a whole call on transient
// database errors, and the jittered sleep it (and the strategies' own loops) wait with.
import type { AppContext } from 'gauntlet';
import { isSeatError } from './claims.ts';
import { isConnectionLoss, isTransient } from './db-errors.ts';

type Log = AppContext['log'];

const RETRY_ATTEMPTS = 30;
const RETRY_BUDGET_MS = 8_000;
const BACKOFF_BASE_MS = 10;
const BACKOFF_CAP_MS = 250;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const backoffMs = (attempt: number) => Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);

/**
 * Runs `attempt` again on transient database errors (capped exponential backoff, full jitter, bounded).
 * Every operation here is idempotent for the same user, so re-running the whole call is safe even when a
 * lost connection leaves it unknown whether the previous attempt committed. `definiteAfterLoss` says whether
 * a business rejection on a retry is still definite when an earlier attempt may have taken effect: for a hold
 * (it may have expired since) or a release (someone may have taken the seat since) it is not, and the
 * original connection error is surfaced instead (an indeterminate outcome, which is the truth).
 */
export async function withRetry<T>(log: Log, op: string, definiteAfterLoss: boolean, attempt: () => Promise<T>): Promise<T> {
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
