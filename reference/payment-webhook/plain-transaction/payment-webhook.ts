// Payment webhook: verify the signature over the raw body, then apply each event in one transaction.
//
// - processed_events remembers every event key we applied; a duplicate inserts nothing and is acknowledged.
// - subscriptions has one row per payment; its status only moves forward (pending -> active | failed).
// - When a subscription becomes active, the same transaction queues its confirmation in notification_outbox.
//   A poller on every instance sends queued confirmations with an Idempotency-Key derived from the payment,
//   so a retry (or two instances racing) never sends a second message.
// - Signed bodies that are not valid events go to dead_letters and get a 400 (final for the provider).
import crypto from 'node:crypto';
import { withTransaction } from './db.ts';

const SIGNATURE_TOLERANCE_S = 300;
const POLL_MS = 250;
const CLAIM_MS = 3000;
const SEND_TIMEOUT_MS = 2000;

const STATUS_FOR_EVENT: Record<string, string> = { success: 'active', failed: 'failed', pending: 'pending' };

interface PaymentEvent { paymentId: string; status: 'success' | 'failed' | 'pending'; amount: number; userId: string; idempotencyKey: string }

export async function setup(ctx: any): Promise<void> {
  await ctx.pg.query(`
    CREATE TABLE IF NOT EXISTS processed_events (
      idempotency_key text PRIMARY KEY,
      payment_id      text NOT NULL,
      processed_at    timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE IF NOT EXISTS subscriptions (
      id         text PRIMARY KEY,
      payment_id text NOT NULL UNIQUE,
      user_id    text NOT NULL,
      amount     numeric NOT NULL,
      status     text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE IF NOT EXISTS notification_outbox (
      payment_id      text PRIMARY KEY,
      user_id         text NOT NULL,
      attempts        integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      sent_at         timestamptz
    );
    -- the poller looks for unsent rows that are due
    CREATE INDEX IF NOT EXISTS notification_outbox_due ON notification_outbox (next_attempt_at) WHERE sent_at IS NULL;
    CREATE TABLE IF NOT EXISTS dead_letters (
      id              bigserial PRIMARY KEY,
      body_hash       text NOT NULL UNIQUE,
      idempotency_key text,
      reason          text NOT NULL,
      raw_body        text NOT NULL,
      received_at     timestamptz NOT NULL DEFAULT now()
    );
  `);
}

function verifySignature(secret: string, header: string | undefined, rawBody: string): boolean {
  if (!header) return false;
  let timestamp = '';
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const [key, value] = part.trim().split('=', 2);
    if (key === 't') timestamp = value ?? '';
    if (key === 'v1' && value) signatures.push(value);
  }
  if (!/^\d+$/.test(timestamp) || signatures.length === 0) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > SIGNATURE_TOLERANCE_S) return false;
  const expected = crypto.createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest();
  return signatures.some((sig) => {
    const given = Buffer.from(sig, 'hex');
    return given.length === expected.length && crypto.timingSafeEqual(given, expected);
  });
}

/** The event, or the reason the body is not a valid one. */
function parseEvent(rawBody: string): { event: PaymentEvent } | { reason: string; idempotencyKey?: string } {
  let body: any;
  try {
    body = JSON.parse(rawBody);
  } catch {
    return { reason: 'body is not valid JSON' };
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { reason: 'body is not a JSON object' };
  const idempotencyKey = typeof body.idempotencyKey === 'string' && body.idempotencyKey !== '' ? body.idempotencyKey : undefined;
  let reason: string | undefined;
  if (typeof body.paymentId !== 'string' || body.paymentId === '') reason = 'paymentId must be a non-empty string';
  else if (!['success', 'failed', 'pending'].includes(body.status)) reason = 'status must be success, failed or pending';
  else if (typeof body.amount !== 'number' || !Number.isFinite(body.amount) || body.amount < 0) reason = 'amount must be a number >= 0';
  else if (typeof body.userId !== 'string' || body.userId === '') reason = 'userId must be a non-empty string';
  else if (!idempotencyKey) reason = 'idempotencyKey must be a non-empty string';
  if (reason) return idempotencyKey ? { reason, idempotencyKey } : { reason };
  return { event: { paymentId: body.paymentId, status: body.status, amount: body.amount, userId: body.userId, idempotencyKey: idempotencyKey! } };
}

export default async function create(ctx: any) {
  const pool = ctx.pg;
  const outbox = startOutboxPoller(ctx);

  return {
    async handlePaymentWebhook(req: { headers: Record<string, string>; rawBody: string }) {
      const { rawBody } = req;
      if (!verifySignature(ctx.webhookSecret, req.headers['gauntlet-signature'], rawBody)) {
        return { status: 401, body: { error: 'invalid signature' } };
      }

      const parsed = parseEvent(rawBody);
      if ('reason' in parsed) {
        const hash = crypto.createHash('sha256').update(rawBody).digest('hex');
        await pool.query(
          `INSERT INTO dead_letters (body_hash, idempotency_key, reason, raw_body) VALUES ($1, $2, $3, $4)
           ON CONFLICT (body_hash) DO NOTHING`,
          [hash, parsed.idempotencyKey ?? null, parsed.reason, rawBody],
        );
        ctx.log('webhook dead-lettered', { reason: parsed.reason });
        return { status: 400, body: { error: parsed.reason } };
      }

      const event = parsed.event;
      const queued = await withTransaction(pool, async (client) => {
        const inserted = await client.query(
          'INSERT INTO processed_events (idempotency_key, payment_id) VALUES ($1, $2) ON CONFLICT (idempotency_key) DO NOTHING',
          [event.idempotencyKey, event.paymentId],
        );
        if (inserted.rowCount === 0) return false; // already processed

        // Insert, or move a pending subscription forward. Nothing ever moves back to pending or away from active.
        const upserted = await client.query(
          `INSERT INTO subscriptions (id, payment_id, user_id, amount, status) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (payment_id) DO UPDATE SET status = EXCLUDED.status, updated_at = now()
             WHERE subscriptions.status = 'pending' AND EXCLUDED.status <> 'pending'
           RETURNING status`,
          [crypto.randomUUID(), event.paymentId, event.userId, event.amount, STATUS_FOR_EVENT[event.status]],
        );
        if (upserted.rows[0]?.status !== 'active') return false;

        await client.query(
          'INSERT INTO notification_outbox (payment_id, user_id) VALUES ($1, $2) ON CONFLICT (payment_id) DO NOTHING',
          [event.paymentId, event.userId],
        );
        return true;
      });
      if (queued) outbox.wake();
      return { status: 200, body: { received: true } };
    },

    async getSubscriptionsByPaymentId(paymentId: string) {
      const { rows } = await pool.query(
        'SELECT id, user_id, payment_id, status, amount FROM subscriptions WHERE payment_id = $1',
        [paymentId],
      );
      return rows.map((r: any) => ({ id: r.id, userId: r.user_id, paymentId: r.payment_id, status: r.status, amount: Number(r.amount) }));
    },

    async getDeadLetters() {
      const { rows } = await pool.query('SELECT idempotency_key, reason, raw_body FROM dead_letters ORDER BY id');
      return rows.map((r: any) => ({ ...(r.idempotency_key ? { idempotencyKey: r.idempotency_key } : {}), reason: r.reason, rawBody: r.raw_body }));
    },

    stop: () => outbox.stop(),
  };
}

export async function close(service: { stop(): void }): Promise<void> {
  service.stop();
}

// ---------------------------------------------------------------------------------------------------------
// Outbox: claim due rows (a short lease, so a crashed instance's rows come back), send, mark sent or retry later.

function startOutboxPoller(ctx: any) {
  const pool = ctx.pg;
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let stopped = false;

  async function sendConfirmation(paymentId: string, userId: string): Promise<{ ok: boolean; retryAfterMs?: number }> {
    const key = 'subscription-confirmed-' + crypto.createHash('sha256').update(paymentId).digest('hex');
    try {
      const res = await fetch(`${ctx.services.notifications}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ channel: 'email', to: userId, template: 'subscription-confirmed', data: { paymentId } }),
        signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
      });
      await res.text().catch(() => '');
      if (res.ok) return { ok: true };
      const retryAfterMs = Number(res.headers.get('retry-after-ms')) || Number(res.headers.get('retry-after')) * 1000 || undefined;
      return { ok: false, retryAfterMs };
    } catch {
      return { ok: false };
    }
  }

  async function processDue(): Promise<void> {
    const { rows } = await pool.query(
      `UPDATE notification_outbox SET next_attempt_at = now() + $1::int * interval '1 millisecond'
        WHERE payment_id IN (
          SELECT payment_id FROM notification_outbox
           WHERE sent_at IS NULL AND next_attempt_at <= now()
           ORDER BY next_attempt_at LIMIT 20 FOR UPDATE SKIP LOCKED)
        RETURNING payment_id, user_id, attempts`,
      [CLAIM_MS],
    );
    await Promise.all(rows.map(async (row: any) => {
      const result = await sendConfirmation(row.payment_id, row.user_id);
      if (result.ok) {
        await pool.query('UPDATE notification_outbox SET sent_at = now(), attempts = attempts + 1 WHERE payment_id = $1', [row.payment_id]);
      } else {
        // Capped exponential backoff with full jitter, unless the service said when to come back.
        const delay = result.retryAfterMs ?? Math.random() * Math.min(1000, 50 * 2 ** row.attempts);
        await pool.query(
          `UPDATE notification_outbox SET attempts = attempts + 1,
                  next_attempt_at = now() + $2::int * interval '1 millisecond' WHERE payment_id = $1`,
          [row.payment_id, Math.max(20, Math.round(delay))],
        );
      }
    }));
  }

  async function poll(): Promise<void> {
    if (running || stopped) return;
    running = true;
    clearTimeout(timer);
    try {
      await processDue();
    } catch (err) {
      ctx.log('outbox poll failed', { error: (err as Error).message });
    } finally {
      running = false;
      if (!stopped) timer = setTimeout(poll, POLL_MS);
    }
  }

  timer = setTimeout(poll, POLL_MS);
  return {
    wake: () => { void poll(); },
    stop: () => { stopped = true; clearTimeout(timer); },
  };
}
