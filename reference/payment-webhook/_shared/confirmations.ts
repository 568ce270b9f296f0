// Shared by the payment-webhook references (not a reference itself): sending a subscription's confirmation (one
// Idempotency-Key per payment, so a lost answer or two instances racing still make one message), the delay before
// the next try, and the sweeper loop that each reference feeds with its own `sweepOnce` (where its outbox lives).
import crypto from 'node:crypto';
import type { AppContext } from 'gauntlet';

const SEND_TIMEOUT_MS = 2_000;
const SWEEP_POLL_MS = 200;
/** Rows a sweep claims at most; a full batch means there may be more, so the sweeper goes again at once. */
export const SWEEP_BATCH = 10;
const SEND_BACKOFF_BASE_MS = 50;
const SEND_BACKOFF_CAP_MS = 1_000;

export type Sent = { ok: true } | { ok: false; error: string; retryAfterMs?: number };

/** One key per payment's confirmation: every retry and every instance sends the same one. */
export function confirmationKey(paymentId: string): string {
  return `subscription-confirmed:${crypto.createHash('sha256').update(paymentId).digest('hex').slice(0, 32)}`;
}

export async function send(ctx: AppContext, paymentId: string, to: string, key: string): Promise<Sent> {
  try {
    const res = await fetch(`${ctx.services.notifications}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify({ channel: 'email', to, template: 'subscription-confirmed', data: { paymentId } }),
      signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
    });
    await res.text().catch(() => '');
    if (res.ok) return { ok: true };
    const ms = Number(res.headers.get('retry-after-ms') ?? NaN);
    const s = Number(res.headers.get('retry-after') ?? NaN);
    const retryAfterMs = Number.isFinite(ms) ? ms : Number.isFinite(s) ? s * 1000 : res.status === 409 ? 100 : undefined;
    return { ok: false, error: `status ${res.status}`, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/** After a failed send: Retry-After when the service gave one, else capped exponential backoff with full jitter. */
export function nextTryInMs(failed: { retryAfterMs?: number }, attempts: number): number {
  const delay = failed.retryAfterMs ?? Math.random() * Math.min(SEND_BACKOFF_CAP_MS, SEND_BACKOFF_BASE_MS * 2 ** attempts);
  return Math.max(20, delay);
}

/**
 * Runs `sweepOnce` (which sends what is due and returns how many rows it claimed) every SWEEP_POLL_MS, and at once
 * when kicked; never two sweeps at a time in this process, and a failed sweep waits for the next poll.
 */
export function startSweeper(ctx: AppContext, what: string, sweepOnce: () => Promise<number>) {
  let stopped = false;
  let running = false;
  let again = false;
  let timer: NodeJS.Timeout | undefined;

  const schedule = () => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(kick, SWEEP_POLL_MS);
    timer.unref();
  };

  function kick(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    (async () => {
      try {
        do {
          again = false;
          while (!stopped && (await sweepOnce()) === SWEEP_BATCH);
        } while (again && !stopped);
      } catch (err) {
        ctx.log(`${what} sweep failed; retrying on the next poll`, { error: (err as Error).message });
      } finally {
        running = false;
        schedule();
      }
    })();
  }

  schedule();
  return {
    kick: () => setImmediate(kick),
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
