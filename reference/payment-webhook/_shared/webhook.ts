// Shared by the payment-webhook references (not a reference itself): the part of the webhook that is not the
// strategy — authenticate (401), validate and dead-letter poison (400, final for the provider, never a 5xx it would
// redeliver forever) — and the two reads of the service.
import crypto from 'node:crypto';
import type { AppContext, WebhookService } from 'gauntlet';
import { type Event, parseEvent, verifySignature } from './event.ts';
import { query, withRetry } from './db.ts';

export const DEAD_LETTERS = `CREATE TABLE IF NOT EXISTS dead_letters (
  id              bigserial PRIMARY KEY,
  body_hash       text NOT NULL UNIQUE,
  idempotency_key text,
  reason          text NOT NULL,
  raw_body        text NOT NULL,
  received_at     timestamptz NOT NULL DEFAULT now()
)`;

const SQL = {
  deadLetter: 'INSERT INTO dead_letters (body_hash, idempotency_key, reason, raw_body) VALUES ($1, $2, $3, $4) ON CONFLICT (body_hash) DO NOTHING',
  read: 'SELECT id, user_id, payment_id, status, amount FROM subscriptions WHERE payment_id = $1',
  deadLetters: 'SELECT idempotency_key, reason, raw_body FROM dead_letters ORDER BY id',
};

type Delivery = Parameters<WebhookService['handlePaymentWebhook']>[0];
type Answer = Awaited<ReturnType<WebhookService['handlePaymentWebhook']>>;

/** The authentic, valid event to apply; or the answer already due (refused, or poison stored in dead_letters). */
export async function admit(ctx: AppContext, { headers, rawBody }: Delivery): Promise<{ event: Event } | { answer: Answer }> {
  const refused = verifySignature(ctx.webhookSecret, headers['gauntlet-signature'], rawBody);
  if (refused) {
    ctx.log('webhook refused', { reason: refused });
    return { answer: { status: 401, body: { error: refused } } };
  }
  const parsed = parseEvent(rawBody);
  if ('reason' in parsed) {
    const hash = crypto.createHash('sha256').update(rawBody).digest('hex');
    await withRetry(ctx.log, 'dead-letter', () => query(ctx.pg, SQL.deadLetter, [hash, parsed.idempotencyKey ?? null, parsed.reason, rawBody]));
    ctx.log('webhook dead-lettered', { reason: parsed.reason, idempotencyKey: parsed.idempotencyKey });
    return { answer: { status: 400, body: { error: `invalid event: ${parsed.reason}`, deadLettered: true } } };
  }
  return parsed;
}

/** getSubscriptionsByPaymentId and getDeadLetters: plain reads of `subscriptions` and `dead_letters`. */
export function reads(ctx: AppContext): Pick<WebhookService, 'getSubscriptionsByPaymentId' | 'getDeadLetters'> {
  return {
    async getSubscriptionsByPaymentId(paymentId) {
      const { rows } = await withRetry(ctx.log, 'read', () => query(ctx.pg, SQL.read, [paymentId]));
      return rows.map((r) => ({ id: r.id, userId: r.user_id, paymentId: r.payment_id, status: r.status, amount: Number(r.amount) }));
    },

    async getDeadLetters() {
      const { rows } = await withRetry(ctx.log, 'dead-letters', () => query(ctx.pg, SQL.deadLetters, []));
      return rows.map((r) => ({ ...(r.idempotency_key !== null ? { idempotencyKey: r.idempotency_key } : {}), reason: r.reason, rawBody: r.raw_body }));
    },
  };
}
