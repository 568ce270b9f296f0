// Reference solution for payment-webhook: treat the event as a notification that *something* changed, and fetch the
// payment's current state from the provider (GET /payments/:id) instead of trusting the event's fields.
//
// STRATEGY
//   1. Authenticate (HMAC-SHA256 over t + "." + the raw body, constant-time, t within 300 s) and validate exactly as
//      inbox-outbox.ts does; poison goes to `dead_letters` with its raw body and is answered 400.
//   2. For a valid event, ask the provider for the payment: GET {payments}/payments/:paymentId, with a timeout and a
//      few retries. Its answer is the truth, whichever event arrived, in whatever order, however many times.
//   3. Apply that state with one statement, no explicit transaction:
//        INSERT INTO subscriptions ... ON CONFLICT (payment_id) DO UPDATE SET status = EXCLUDED.status
//          WHERE subscriptions.status = 'pending' AND EXCLUDED.status <> 'pending'
//      Applying the current state twice changes nothing, so no inbox is needed: duplicates, concurrent copies and
//      stale events all converge on the same row. The WHERE still guards against a slow request that fetched
//      `pending` committing after a faster one that fetched `success`.
//   4. The confirmation lives on the subscription row itself (`confirmation_sent_at`, `confirmation_next_at`), set by
//      the same statement that activates it: an outbox without an outbox table. A sweeper on every instance claims
//      due rows (FOR UPDATE SKIP LOCKED), sends with an Idempotency-Key derived from the payment, and marks them sent
//      or reschedules them with capped exponential backoff and full jitter.
//
// TRADE-OFFS
//   + Immune to reordering and to stale snapshots by construction: the provider's current state always wins.
//   + Less state: no inbox table, one statement per event.
//   - One provider call per event: the provider's availability and rate limits now sit on the webhook's path. When
//     the provider is down the webhook answers 503 and relies on redelivery; at high volume, a queue in between.
//   - Events whose effect is not a state (e.g. "refund issued" counted per event) still need an inbox; see
//     inbox-outbox.ts.
//
// CHOOSE IT when the provider exposes an authoritative read API and events may arrive stale or out of order
// (Stripe's own advice for some objects: "fetch the latest state"), and volume lets you afford the extra call.
//
// Authentication, validation and dead letters, the reads, the plumbing and the sending of confirmations: _shared/.
import crypto from 'node:crypto';
import type { AppContext, SetupContext, WebhookService } from 'gauntlet';
import { SWEEP_BATCH, confirmationKey, nextTryInMs, send, startSweeper } from './_shared/confirmations.ts';
import { query, run, sleep, transaction, withRetry } from './_shared/db.ts';
import { type EventStatus, STATUS_OF } from './_shared/event.ts';
import { DEAD_LETTERS, admit, reads } from './_shared/webhook.ts';

interface Payment { paymentId: string; status: EventStatus; amount: number; userId: string }

const RETRY_BUDGET_MS = 5_000;
const HTTP_TIMEOUT_MS = 2_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS subscriptions (
  id                     text PRIMARY KEY,
  payment_id             text NOT NULL UNIQUE,
  user_id                text NOT NULL,
  amount                 bigint NOT NULL CHECK (amount >= 0),
  status                 text NOT NULL CHECK (status IN ('pending', 'active', 'failed')),
  confirmation_sent_at   timestamptz,
  confirmation_attempts  integer NOT NULL DEFAULT 0,
  confirmation_next_at   timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS subscriptions_confirmation_due ON subscriptions (confirmation_next_at)
  WHERE status = 'active' AND confirmation_sent_at IS NULL;
${DEAD_LETTERS}`;

const SQL = {
  apply: `INSERT INTO subscriptions (id, payment_id, user_id, amount, status) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (payment_id) DO UPDATE SET status = EXCLUDED.status, updated_at = now(), confirmation_next_at = now()
      WHERE subscriptions.status = 'pending' AND EXCLUDED.status <> 'pending'
    RETURNING status`,
  due: `SELECT payment_id, user_id, confirmation_attempts FROM subscriptions
    WHERE status = 'active' AND confirmation_sent_at IS NULL AND confirmation_next_at <= now()
    ORDER BY confirmation_next_at LIMIT ${SWEEP_BATCH} FOR UPDATE SKIP LOCKED`,
  sent: 'UPDATE subscriptions SET confirmation_sent_at = now(), confirmation_attempts = confirmation_attempts + 1 WHERE payment_id = $1',
  later: `UPDATE subscriptions SET confirmation_attempts = confirmation_attempts + 1,
    confirmation_next_at = now() + $2::double precision * interval '1 millisecond' WHERE payment_id = $1`,
};

export async function setup(ctx: SetupContext): Promise<void> {
  await ctx.pg.query(SCHEMA);
}

export default async function create(ctx: AppContext): Promise<WebhookService & { stop(): void }> {
  const pool = ctx.pg;
  const log = ctx.log;
  const sweeper = startConfirmationSweeper(ctx);

  return {
    async handlePaymentWebhook(delivery) {
      const admitted = await admit(ctx, delivery);
      if ('answer' in admitted) return admitted.answer;
      const event = admitted.event;
      const payment = await fetchPayment(ctx, event.paymentId);
      if (!payment) {
        // The provider does not know it (yet): let it redeliver later rather than guess.
        log('payment not found at the provider; asking for a redelivery', { paymentId: event.paymentId });
        return { status: 503, body: { error: 'payment not found at the provider yet' } };
      }
      const applied = await withRetry(log, 'apply', () =>
        query(pool, SQL.apply, [`sub_${crypto.randomUUID()}`, payment.paymentId, payment.userId, payment.amount, STATUS_OF[payment.status]]),
      );
      if (applied.rows[0]?.status === 'active') sweeper.kick();
      log('webhook processed', { paymentId: payment.paymentId, event: event.status, current: payment.status, changed: applied.rowCount === 1 });
      return { status: 200, body: { received: true, current: payment.status } };
    },
    ...reads(ctx),
    stop: () => sweeper.stop(),
  };
}

export async function close(service: { stop(): void }): Promise<void> {
  service.stop();
}

/** The provider's current view of the payment, or null when it does not know it. Retries transport errors and 5xx. */
async function fetchPayment(ctx: AppContext, paymentId: string): Promise<Payment | null> {
  const deadline = Date.now() + RETRY_BUDGET_MS;
  for (let n = 1; ; n++) {
    let why: string;
    try {
      const res = await fetch(`${ctx.services.payments}/payments/${encodeURIComponent(paymentId)}`, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
      const body = (await res.json().catch(() => null)) as Payment | null;
      if (res.status === 404) return null;
      if (res.ok && body && typeof body.status === 'string') return body;
      why = `status ${res.status}`;
    } catch (err) {
      why = (err as Error).message;
    }
    if (Date.now() >= deadline) throw new Error(`the payment provider did not answer for ${paymentId}: ${why}`);
    ctx.log('retrying the payment lookup', { paymentId, attempt: n, error: why });
    await sleep(Math.random() * Math.min(1_000, 50 * 2 ** n));
  }
}

/** The confirmation sweeper: the outbox is the subscription row (due rows claimed with FOR UPDATE SKIP LOCKED). */
function startConfirmationSweeper(ctx: AppContext) {
  return startSweeper(ctx, 'confirmation', () =>
    transaction(ctx.pg, async (client) => {
      const { rows } = await run(client, SQL.due, []);
      await Promise.all(
        rows.map(async (row) => {
          const r = await send(ctx, row.payment_id, row.user_id, confirmationKey(row.payment_id));
          if (r.ok) return run(client, SQL.sent, [row.payment_id]);
          ctx.log('confirmation not sent yet; will retry', { paymentId: row.payment_id, error: r.error });
          return run(client, SQL.later, [row.payment_id, nextTryInMs(r, row.confirmation_attempts)]);
        }),
      );
      return rows.length;
    }),
  );
}
