// Reference (plain, textbook): written apart from gauntlet, from the contract and the challenge README alone. Signed
// raw body, an idempotency table and the subscription change in one transaction, and an outbox polled every 1 s.
// It must pass every check within the published bounds.
//
// payment-webhook: signed webhook -> idempotent subscription change + transactional outbox.
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { PoolClient } from 'pg';
import type { AppContext, SetupContext } from 'gauntlet';

type PaymentStatus = 'success' | 'failed' | 'pending';
type SubStatus = 'active' | 'pending' | 'failed';
interface PaymentWebhook { paymentId: string; status: PaymentStatus; amount: number; userId: string; idempotencyKey: string }

const TOLERANCE_S = 300;
const POLL_MS = 1000;
const BATCH = 10;
const BACKOFF_BASE_MS = 50;
const BACKOFF_CAP_MS = 1000;
const HTTP_TIMEOUT_MS = 2000;

const TO_SUB: Record<PaymentStatus, SubStatus> = { pending: 'pending', failed: 'failed', success: 'active' };
// A subscription only ever moves up this order: pending -> failed | active, and active is final.
const RANK: Record<SubStatus, number> = { pending: 0, failed: 1, active: 2 };

export async function setup(ctx: SetupContext): Promise<void> {
  await ctx.pg.query(`
    CREATE TABLE IF NOT EXISTS subscriptions (
      id          text PRIMARY KEY,
      payment_id  text NOT NULL UNIQUE,
      user_id     text NOT NULL,
      status      text NOT NULL CHECK (status IN ('pending', 'failed', 'active')),
      amount      numeric NOT NULL,
      updated_at  timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE IF NOT EXISTS processed_events (
      idempotency_key text PRIMARY KEY,
      payment_id      text NOT NULL,
      processed_at    timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE IF NOT EXISTS dead_letters (
      body_hash       text PRIMARY KEY,
      idempotency_key text,
      reason          text NOT NULL,
      raw_body        text NOT NULL,
      created_at      timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE IF NOT EXISTS outbox (
      id              bigserial PRIMARY KEY,
      payment_id      text NOT NULL UNIQUE,
      user_id         text NOT NULL,
      status          text NOT NULL DEFAULT 'pending',  -- pending | sent | failed
      attempts        int NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      last_error      text,
      sent_at         timestamptz
    );
    CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
  `);
}

// ---------- signature ----------

function verifySignature(header: string | undefined, rawBody: string, secret: string): string | null {
  if (!header) return 'missing signature';
  let t: string | undefined;
  const v1: string[] = [];
  for (const part of header.split(',')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const k = part.slice(0, i).trim();
    const v = part.slice(i + 1).trim();
    if (k === 't') t = v;
    else if (k === 'v1') v1.push(v);
  }
  if (!t || !/^\d+$/.test(t) || v1.length === 0) return 'malformed signature header';
  if (Math.abs(Date.now() / 1000 - Number(t)) > TOLERANCE_S) return 'stale timestamp';
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`, 'utf8').digest();
  const ok = v1.some((sig) => /^[0-9a-f]{64}$/i.test(sig) && timingSafeEqual(Buffer.from(sig, 'hex'), expected));
  return ok ? null : 'signature mismatch';
}

// ---------- validation ----------

function validate(body: unknown): string | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body is not an object';
  const b = body as Record<string, unknown>;
  for (const f of ['paymentId', 'userId', 'idempotencyKey']) {
    if (typeof b[f] !== 'string' || (b[f] as string).length === 0) return `${f} must be a non-empty string`;
  }
  if (typeof b.amount !== 'number' || !Number.isFinite(b.amount) || b.amount < 0) return 'amount must be a non-negative number';
  if (b.status !== 'success' && b.status !== 'failed' && b.status !== 'pending') return 'unknown status';
  return null;
}

// ---------- helpers ----------

function backoffMs(attempt: number): number {
  // capped exponential backoff with full jitter
  return Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
}

function retryAfterMs(res: Response): number | null {
  const ms = Number(res.headers.get('retry-after-ms'));
  if (ms > 0) return ms;
  const s = Number(res.headers.get('retry-after'));
  return s > 0 ? s * 1000 : null;
}

async function inTransaction<T>(pool: AppContext['pg'], fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (err) {
    try { await client.query('ROLLBACK'); } catch { /* connection already gone */ }
    client.release(err as Error); // discard a possibly broken connection
    throw err;
  }
}

export default async function create(ctx: AppContext) {
  const { pg, services, webhookSecret } = ctx;

  // The provider's view of the payment is never behind any event; ask it when an event may be stale.
  async function currentStatus(paymentId: string): Promise<PaymentStatus | null> {
    try {
      const res = await fetch(`${services.payments}/payments/${encodeURIComponent(paymentId)}`, {
        signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
      });
      if (!res.ok) return null;
      const p = (await res.json()) as { status?: unknown };
      return p.status === 'success' || p.status === 'failed' || p.status === 'pending' ? p.status : null;
    } catch {
      return null; // fall back to the event's own status
    }
  }

  async function deadLetter(rawBody: string, reason: string, idempotencyKey: string | null) {
    const hash = createHash('sha256').update(rawBody, 'utf8').digest('hex');
    await pg.query(
      `INSERT INTO dead_letters (body_hash, idempotency_key, reason, raw_body) VALUES ($1, $2, $3, $4)
       ON CONFLICT (body_hash) DO NOTHING`,
      [hash, idempotencyKey, reason, rawBody],
    );
  }

  async function apply(event: PaymentWebhook, target: SubStatus): Promise<'processed' | 'duplicate'> {
    return inTransaction(pg, async (client) => {
      const seen = await client.query(
        `INSERT INTO processed_events (idempotency_key, payment_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
        [event.idempotencyKey, event.paymentId],
      );
      if (seen.rowCount === 0) return 'duplicate';

      let activated = false;
      const inserted = await client.query(
        `INSERT INTO subscriptions (id, payment_id, user_id, status, amount) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (payment_id) DO NOTHING`,
        [randomUUID(), event.paymentId, event.userId, target, event.amount],
      );
      if (inserted.rowCount === 1) {
        activated = target === 'active';
      } else {
        const { rows } = await client.query<{ status: SubStatus }>(
          `SELECT status FROM subscriptions WHERE payment_id = $1 FOR UPDATE`, [event.paymentId]);
        if (RANK[target] > RANK[rows[0].status]) {
          await client.query(`UPDATE subscriptions SET status = $2, updated_at = now() WHERE payment_id = $1`,
            [event.paymentId, target]);
          activated = target === 'active';
        }
      }
      if (activated) {
        await client.query(
          `INSERT INTO outbox (payment_id, user_id) VALUES ($1, $2) ON CONFLICT (payment_id) DO NOTHING`,
          [event.paymentId, event.userId],
        );
      }
      return 'processed';
    });
  }

  async function handlePaymentWebhook(req: { headers: Record<string, string>; rawBody: string }) {
    const authError = verifySignature(req.headers['gauntlet-signature'], req.rawBody, webhookSecret);
    if (authError) return { status: 401, body: { error: authError } };

    let parsed: unknown;
    let reason: string | null;
    try {
      parsed = JSON.parse(req.rawBody);
      reason = validate(parsed);
    } catch {
      reason = 'invalid JSON';
    }
    try {
      if (reason) {
        const key = (parsed as { idempotencyKey?: unknown } | undefined)?.idempotencyKey;
        await deadLetter(req.rawBody, reason, typeof key === 'string' ? key : null);
        return { status: 400, body: { error: reason } };
      }
      const event = parsed as PaymentWebhook;
      let target = TO_SUB[event.status];
      if (event.status === 'pending') {
        const now = await currentStatus(event.paymentId);
        if (now && RANK[TO_SUB[now]] > RANK[target]) target = TO_SUB[now];
      }
      const result = await apply(event, target);
      return { status: 200, body: { received: true, result } };
    } catch (err) {
      ctx.log('webhook failed; provider will redeliver', { error: String(err) });
      return { status: 500, body: { error: 'temporarily unavailable' } };
    }
  }

  // ---------- outbox worker ----------

  async function send(paymentId: string, userId: string): Promise<{ ok: boolean; retry: boolean; delayMs?: number; error?: string }> {
    try {
      const res = await fetch(`${services.notifications}/messages`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'idempotency-key': 'subscription-confirmed-' + createHash('sha256').update(paymentId, 'utf8').digest('hex'),
        },
        body: JSON.stringify({ channel: 'email', to: userId, template: 'subscription-confirmed', data: { paymentId } }),
        signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
      });
      await res.text().catch(() => undefined);
      if (res.ok) return { ok: true, retry: false };
      const retry = res.status >= 500 || res.status === 409 || res.status === 429 || res.status === 408;
      return { ok: false, retry, delayMs: retryAfterMs(res) ?? undefined, error: `HTTP ${res.status}` };
    } catch (err) {
      return { ok: false, retry: true, error: String(err) }; // network error or timeout: outcome unknown, retry same key
    }
  }

  async function drainOnce(): Promise<number> {
    return inTransaction(pg, async (client) => {
      const { rows } = await client.query<{ id: string; payment_id: string; user_id: string; attempts: number }>(
        `SELECT id, payment_id, user_id, attempts FROM outbox
          WHERE status = 'pending' AND next_attempt_at <= now()
          ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`, [BATCH]);
      for (const row of rows) {
        const r = await send(row.payment_id, row.user_id);
        if (r.ok) {
          await client.query(`UPDATE outbox SET status = 'sent', sent_at = now(), attempts = attempts + 1 WHERE id = $1`, [row.id]);
        } else if (r.retry) {
          const delay = Math.max(r.delayMs ?? 0, backoffMs(row.attempts));
          await client.query(
            `UPDATE outbox SET attempts = attempts + 1, last_error = $2,
                    next_attempt_at = now() + make_interval(secs => $3) WHERE id = $1`,
            [row.id, r.error, delay / 1000]);
        } else {
          ctx.log('confirmation rejected permanently', { paymentId: row.payment_id, error: r.error });
          await client.query(`UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = $2 WHERE id = $1`,
            [row.id, r.error]);
        }
      }
      return rows.length;
    });
  }

  let running = false;
  const timer = setInterval(async () => {
    if (running) return; // one worker at a time per instance
    running = true;
    try {
      while ((await drainOnce()) === BATCH) { /* keep going while there is a backlog */ }
    } catch (err) {
      ctx.log('outbox poll failed', { error: String(err) });
    } finally {
      running = false;
    }
  }, POLL_MS);

  return {
    handlePaymentWebhook,

    async getSubscriptionsByPaymentId(paymentId: string) {
      const { rows } = await pg.query(
        `SELECT id, user_id, payment_id, status, amount FROM subscriptions WHERE payment_id = $1`, [paymentId]);
      return rows.map((r) => ({ id: r.id, userId: r.user_id, paymentId: r.payment_id, status: r.status, amount: Number(r.amount) }));
    },

    async getDeadLetters() {
      const { rows } = await pg.query(`SELECT idempotency_key, reason, raw_body FROM dead_letters ORDER BY created_at`);
      return rows.map((r) => ({ idempotencyKey: r.idempotency_key ?? undefined, reason: r.reason, rawBody: r.raw_body }));
    },

    stop() { clearInterval(timer); },
  };
}

export async function close(service: { stop(): void }): Promise<void> {
  service.stop();
}
