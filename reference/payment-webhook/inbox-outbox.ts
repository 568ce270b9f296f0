// Reference solution for payment-webhook: an inbox keyed by the event, one subscription per payment, and a
// transactional outbox for the confirmation.
//
// STRATEGY
//   1. Authenticate before anything else: HMAC-SHA256(secret, t + "." + rawBody) over the bytes exactly as received
//      (re-serialised JSON has other bytes), compared in constant time, with t within 300 s of now. Anything else is
//      a 401 that touches nothing.
//   2. Validate the parsed body. A signed event that is not a valid PaymentWebhook (poison) is stored in
//      `dead_letters` with its raw body and a reason, and answered 400: final for the provider, and never a 5xx
//      that it would redeliver forever.
//   3. One transaction per event does everything the event means:
//        INSERT INTO webhook_inbox (idempotency_key ...) ON CONFLICT DO NOTHING   -- 0 rows: a duplicate, answer 200
//        INSERT INTO subscriptions ... ON CONFLICT (payment_id) DO UPDATE ... WHERE status = 'pending'
//        INSERT INTO notification_outbox ...   -- only when this statement made the subscription active
//      The inbox's primary key makes concurrent copies of one event on several instances wait for each other and
//      then see "already done"; the unique payment_id makes two different events of one payment converge on one
//      row; the WHERE makes the status move forward only (pending → active | failed), so a late `pending` is a
//      no-op. Because the inbox row, the effect and the outbox row commit together, a crash or a killed backend
//      leaves all of them or none: the provider's redelivery (we answered 5xx, or never answered) simply redoes it.
//   4. A sweeper on every instance sends the outbox: rows claimed with FOR UPDATE SKIP LOCKED, sent with an
//      Idempotency-Key derived from the payment (so a send whose answer was lost, or two instances racing, still
//      make one message), marked sent, or rescheduled with capped exponential backoff and full jitter (Retry-After
//      honoured). It is kicked right after a commit and otherwise polls every 200 ms.
//   5. Transient database errors (lost connections, serialization failures, deadlocks) are retried with backoff
//      inside a time budget; past it the webhook answers 500 and the provider redelivers later.
//
// TRADE-OFFS
//   + Exactly-once effects without trusting the provider: the database arbitrates every race, across processes.
//   + The webhook never waits on the notification service: its outage only delays confirmations.
//   + Every event ever accepted is on record (inbox), useful for audits and replays.
//   - The inbox grows with every event (prune it past the provider's redelivery horizon, e.g. 30 days).
//   - The event's own fields are trusted once authenticated; if the provider can send stale snapshots of a payment,
//     see fetch-current-state.ts, which asks the provider for the truth instead.
//   - The sweeper holds a transaction open while it calls the notification service (bounded by a 2 s timeout);
//     under very high volume, a lease column (claim, commit, send, mark) keeps transactions short.
//
// CHOOSE IT when events carry the full state you need and must be applied exactly once: payment and billing
// webhooks, order events, anything where "did we already handle this event?" must survive crashes and races.
//
// Authentication, validation and dead letters, the reads, the plumbing and the sending of confirmations: _shared/.
// redis-fast-path.ts reuses this file's transaction and sweeper (applyEvent, startOutboxSweeper) behind its Redis.
import crypto from 'node:crypto';
import type { AppContext, SetupContext, WebhookService } from 'gauntlet';
import type { Pool } from 'pg';
import { SWEEP_BATCH, confirmationKey, nextTryInMs, send, startSweeper } from './_shared/confirmations.ts';
import { run, transaction, withRetry } from './_shared/db.ts';
import { type Event, STATUS_OF } from './_shared/event.ts';
import { DEAD_LETTERS, admit, reads } from './_shared/webhook.ts';

// The signature check and the parser, for the provider simulator's tests.
export { parseEvent, verifySignature } from './_shared/event.ts';

type Log = AppContext['log'];

const SCHEMA = `
CREATE TABLE IF NOT EXISTS webhook_inbox (
  idempotency_key text PRIMARY KEY,
  payment_id      text NOT NULL,
  status          text NOT NULL,
  received_at     timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS subscriptions (
  id         text PRIMARY KEY,
  payment_id text NOT NULL UNIQUE,
  user_id    text NOT NULL,
  amount     bigint NOT NULL CHECK (amount >= 0),
  status     text NOT NULL CHECK (status IN ('pending', 'active', 'failed')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS notification_outbox (
  payment_id      text PRIMARY KEY,
  recipient       text NOT NULL,
  idempotency_key text NOT NULL,
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  sent_at         timestamptz,
  last_error      text
);
CREATE INDEX IF NOT EXISTS notification_outbox_due ON notification_outbox (next_attempt_at) WHERE sent_at IS NULL;
${DEAD_LETTERS}`;

const SQL = {
  inbox: 'INSERT INTO webhook_inbox (idempotency_key, payment_id, status) VALUES ($1, $2, $3) ON CONFLICT (idempotency_key) DO NOTHING',
  // Forward only: an existing row changes only from pending, and only to a final status.
  apply: `INSERT INTO subscriptions (id, payment_id, user_id, amount, status) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (payment_id) DO UPDATE SET status = EXCLUDED.status, updated_at = now()
      WHERE subscriptions.status = 'pending' AND EXCLUDED.status <> 'pending'
    RETURNING status`,
  outbox: 'INSERT INTO notification_outbox (payment_id, recipient, idempotency_key) VALUES ($1, $2, $3) ON CONFLICT (payment_id) DO NOTHING',
  due: `SELECT payment_id, recipient, idempotency_key, attempts FROM notification_outbox
    WHERE sent_at IS NULL AND next_attempt_at <= now() ORDER BY next_attempt_at LIMIT ${SWEEP_BATCH} FOR UPDATE SKIP LOCKED`,
  sent: 'UPDATE notification_outbox SET sent_at = now(), attempts = attempts + 1, last_error = NULL WHERE payment_id = $1',
  later: `UPDATE notification_outbox SET attempts = attempts + 1, last_error = $2,
    next_attempt_at = now() + $3::double precision * interval '1 millisecond' WHERE payment_id = $1`,
};

export async function setup(ctx: SetupContext): Promise<void> {
  await ctx.pg.query(SCHEMA);
}

export default async function create(ctx: AppContext): Promise<WebhookService & { stop(): void }> {
  const sweeper = startOutboxSweeper(ctx);

  return {
    async handlePaymentWebhook(delivery) {
      const admitted = await admit(ctx, delivery);
      if ('answer' in admitted) return admitted.answer;
      const e = admitted.event;
      const outcome = await applyEvent(ctx.pg, ctx.log, e);
      if (outcome === 'applied' && e.status === 'success') sweeper.kick();
      ctx.log('webhook processed', { paymentId: e.paymentId, status: e.status, outcome });
      return { status: 200, body: { received: true, outcome } };
    },
    ...reads(ctx),
    stop: () => sweeper.stop(),
  };
}

export async function close(service: { stop(): void }): Promise<void> {
  service.stop();
}

/** Step 3: the inbox row, the forward-only upsert and the outbox row, in one transaction (retried when transient). */
export function applyEvent(pool: Pool, log: Log, e: Event): Promise<'duplicate' | 'applied' | 'out-of-date'> {
  return withRetry(log, 'apply', () =>
    transaction(pool, async (client) => {
      const fresh = await run(client, SQL.inbox, [e.idempotencyKey, e.paymentId, e.status]);
      if (fresh.rowCount === 0) return 'duplicate';
      const applied = await run(client, SQL.apply, [`sub_${crypto.randomUUID()}`, e.paymentId, e.userId, e.amount, STATUS_OF[e.status]]);
      if (applied.rows[0]?.status === 'active') await run(client, SQL.outbox, [e.paymentId, e.userId, confirmationKey(e.paymentId)]);
      return applied.rowCount ? 'applied' : 'out-of-date';
    }),
  );
}

/** Step 4: the outbox sweeper — due rows claimed with FOR UPDATE SKIP LOCKED, sent, then marked sent or rescheduled. */
export function startOutboxSweeper(ctx: AppContext) {
  return startSweeper(ctx, 'outbox', () =>
    transaction(ctx.pg, async (client) => {
      const { rows } = await run(client, SQL.due, []);
      await Promise.all(
        rows.map(async (row) => {
          const r = await send(ctx, row.payment_id, row.recipient, row.idempotency_key);
          if (r.ok) await run(client, SQL.sent, [row.payment_id]);
          else {
            await run(client, SQL.later, [row.payment_id, r.error, nextTryInMs(r, row.attempts)]);
            ctx.log('confirmation not sent yet; will retry', { paymentId: row.payment_id, attempt: row.attempts + 1, error: r.error });
          }
        }),
      );
      return rows.length;
    }),
  );
}
