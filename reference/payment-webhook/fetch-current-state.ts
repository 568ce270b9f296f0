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
import crypto from 'node:crypto';
import type { AppContext, SetupContext, Subscription, WebhookService } from 'gauntlet';
import type { Pool, PoolClient, QueryConfig, QueryResult } from 'pg';

type Log = AppContext['log'];
type PaymentStatus = 'pending' | 'success' | 'failed';
interface Payment { paymentId: string; status: PaymentStatus; amount: number; userId: string }

const TOLERANCE_S = 300;
const QUERY_TIMEOUT_MS = 3_000;
const CONNECT_TIMEOUT_MS = 3_000;
const RETRY_BUDGET_MS = 5_000;
const HTTP_TIMEOUT_MS = 2_000;
const SWEEP_POLL_MS = 200;
const SWEEP_BATCH = 10;
const STATUS_OF: Record<PaymentStatus, Subscription['status']> = { pending: 'pending', success: 'active', failed: 'failed' };

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
CREATE TABLE IF NOT EXISTS dead_letters (
  id              bigserial PRIMARY KEY,
  body_hash       text NOT NULL UNIQUE,
  idempotency_key text,
  reason          text NOT NULL,
  raw_body        text NOT NULL,
  received_at     timestamptz NOT NULL DEFAULT now()
)`;

const SQL = {
  apply: `INSERT INTO subscriptions (id, payment_id, user_id, amount, status) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (payment_id) DO UPDATE SET status = EXCLUDED.status, updated_at = now(), confirmation_next_at = now()
      WHERE subscriptions.status = 'pending' AND EXCLUDED.status <> 'pending'
    RETURNING status`,
  deadLetter: 'INSERT INTO dead_letters (body_hash, idempotency_key, reason, raw_body) VALUES ($1, $2, $3, $4) ON CONFLICT (body_hash) DO NOTHING',
  due: `SELECT payment_id, user_id, confirmation_attempts FROM subscriptions
    WHERE status = 'active' AND confirmation_sent_at IS NULL AND confirmation_next_at <= now()
    ORDER BY confirmation_next_at LIMIT ${SWEEP_BATCH} FOR UPDATE SKIP LOCKED`,
  sent: 'UPDATE subscriptions SET confirmation_sent_at = now(), confirmation_attempts = confirmation_attempts + 1 WHERE payment_id = $1',
  later: `UPDATE subscriptions SET confirmation_attempts = confirmation_attempts + 1,
    confirmation_next_at = now() + $2::double precision * interval '1 millisecond' WHERE payment_id = $1`,
  read: 'SELECT id, user_id, payment_id, status, amount FROM subscriptions WHERE payment_id = $1',
  deadLetters: 'SELECT idempotency_key, reason, raw_body FROM dead_letters ORDER BY id',
};

export async function setup(ctx: SetupContext): Promise<void> {
  await ctx.pg.query(SCHEMA);
}

export default async function create(ctx: AppContext): Promise<WebhookService & { stop(): void }> {
  const pool = ctx.pg;
  const log = ctx.log;
  const sweeper = startSweeper(ctx);

  return {
    async handlePaymentWebhook({ headers, rawBody }) {
      const refused = verifySignature(ctx.webhookSecret, headers['gauntlet-signature'], rawBody);
      if (refused) {
        log('webhook refused', { reason: refused });
        return { status: 401, body: { error: refused } };
      }
      const parsed = parseEvent(rawBody);
      if ('reason' in parsed) {
        const hash = crypto.createHash('sha256').update(rawBody).digest('hex');
        await withRetry(log, 'dead-letter', () => query(pool, SQL.deadLetter, [hash, parsed.idempotencyKey ?? null, parsed.reason, rawBody]));
        log('webhook dead-lettered', { reason: parsed.reason });
        return { status: 400, body: { error: `invalid event: ${parsed.reason}`, deadLettered: true } };
      }
      const payment = await fetchPayment(ctx, parsed.paymentId);
      if (!payment) {
        // The provider does not know it (yet): let it redeliver later rather than guess.
        log('payment not found at the provider; asking for a redelivery', { paymentId: parsed.paymentId });
        return { status: 503, body: { error: 'payment not found at the provider yet' } };
      }
      const applied = await withRetry(log, 'apply', () =>
        query(pool, SQL.apply, [`sub_${crypto.randomUUID()}`, payment.paymentId, payment.userId, payment.amount, STATUS_OF[payment.status]]),
      );
      if (applied.rows[0]?.status === 'active') sweeper.kick();
      log('webhook processed', { paymentId: payment.paymentId, event: parsed.status, current: payment.status, changed: applied.rowCount === 1 });
      return { status: 200, body: { received: true, current: payment.status } };
    },

    async getSubscriptionsByPaymentId(paymentId) {
      const { rows } = await withRetry(log, 'read', () => query(pool, SQL.read, [paymentId]));
      return rows.map((r) => ({ id: r.id, userId: r.user_id, paymentId: r.payment_id, status: r.status, amount: Number(r.amount) }));
    },

    async getDeadLetters() {
      const { rows } = await withRetry(log, 'dead-letters', () => query(pool, SQL.deadLetters, []));
      return rows.map((r) => ({ ...(r.idempotency_key !== null ? { idempotencyKey: r.idempotency_key } : {}), reason: r.reason, rawBody: r.raw_body }));
    },

    stop: () => sweeper.stop(),
  };
}

export async function close(service: { stop(): void }): Promise<void> {
  service.stop();
}

// ---------------------------------------------------------------------------------------------------------
// Authentication, validation, the provider.

function verifySignature(secret: string, header: string | undefined, rawBody: string): string | null {
  if (!header) return 'missing gauntlet-signature header';
  const parts = header.split(',').map((p) => [p.slice(0, p.indexOf('=')).trim(), p.slice(p.indexOf('=') + 1).trim()] as const);
  const t = parts.find(([k]) => k === 't')?.[1];
  const v1 = parts.filter(([k, v]) => k === 'v1' && /^[0-9a-f]{64}$/i.test(v)).map(([, v]) => v);
  if (!t || !/^\d{1,12}$/.test(t) || !v1.length) return 'malformed gauntlet-signature header';
  if (Math.abs(Date.now() / 1000 - Number(t)) > TOLERANCE_S) return 'signature timestamp outside the 300 s tolerance';
  const expected = crypto.createHmac('sha256', secret).update(`${t}.${rawBody}`, 'utf8').digest();
  return v1.some((v) => crypto.timingSafeEqual(Buffer.from(v, 'hex'), expected)) ? null : 'signature mismatch';
}

function parseEvent(rawBody: string): { paymentId: string; status: PaymentStatus } | { reason: string; idempotencyKey?: string } {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(rawBody);
  } catch {
    return { reason: 'body is not valid JSON' };
  }
  if (!o || typeof o !== 'object' || Array.isArray(o)) return { reason: 'body is not a JSON object' };
  const idempotencyKey = typeof o.idempotencyKey === 'string' && o.idempotencyKey ? o.idempotencyKey : undefined;
  const problems = [
    typeof o.paymentId === 'string' && o.paymentId ? '' : 'paymentId must be a non-empty string',
    ['pending', 'success', 'failed'].includes(o.status as string) ? '' : 'status must be pending, success or failed',
    typeof o.amount === 'number' && Number.isSafeInteger(o.amount) && o.amount >= 0 ? '' : 'amount must be a whole number ≥ 0',
    typeof o.userId === 'string' && o.userId ? '' : 'userId must be a non-empty string',
    idempotencyKey ? '' : 'idempotencyKey must be a non-empty string',
  ].filter(Boolean);
  if (problems.length) return { reason: problems.join('; '), ...(idempotencyKey ? { idempotencyKey } : {}) };
  return { paymentId: o.paymentId as string, status: o.status as PaymentStatus };
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

function confirmationKey(paymentId: string): string {
  return `subscription-confirmed:${crypto.createHash('sha256').update(paymentId).digest('hex').slice(0, 32)}`;
}

// ---------------------------------------------------------------------------------------------------------
// The confirmation sweeper (the outbox is the subscription row).

function startSweeper(ctx: AppContext) {
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
  const sweepOnce = () =>
    transaction(ctx.pg, async (client) => {
      const { rows } = await run(client, SQL.due, []);
      await Promise.all(
        rows.map(async (row) => {
          const error = await send(ctx, row.payment_id, row.user_id);
          if (error === null) return run(client, SQL.sent, [row.payment_id]);
          ctx.log('confirmation not sent yet; will retry', { paymentId: row.payment_id, error: error.message });
          const delay = error.retryAfterMs ?? Math.random() * Math.min(1_000, 50 * 2 ** row.confirmation_attempts);
          return run(client, SQL.later, [row.payment_id, Math.max(20, delay)]);
        }),
      );
      return rows.length;
    });
  function kick(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    void (async () => {
      try {
        do {
          again = false;
          while (!stopped && (await sweepOnce()) === SWEEP_BATCH);
        } while (again && !stopped);
      } catch (err) {
        ctx.log('confirmation sweep failed; retrying on the next poll', { error: (err as Error).message });
      } finally {
        running = false;
        schedule();
      }
    })();
  }
  schedule();
  return { kick: () => setImmediate(kick), stop: () => ((stopped = true), clearTimeout(timer)) };
}

async function send(ctx: AppContext, paymentId: string, to: string): Promise<null | { message: string; retryAfterMs?: number }> {
  try {
    const res = await fetch(`${ctx.services.notifications}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': confirmationKey(paymentId) },
      body: JSON.stringify({ channel: 'email', to, template: 'subscription-confirmed', data: { paymentId } }),
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    });
    await res.text().catch(() => '');
    if (res.ok) return null;
    const ms = Number(res.headers.get('retry-after-ms') ?? NaN);
    return { message: `status ${res.status}`, ...(Number.isFinite(ms) ? { retryAfterMs: ms } : res.status === 409 ? { retryAfterMs: 100 } : {}) };
  } catch (err) {
    return { message: (err as Error).message };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Plumbing: statements with timeouts on clients that may die, transactions, retries of transient errors.

const TRANSIENT = new Set(['40001', '40P01', '57014', '53300', '55P03', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT']);
const CONNECTION_MESSAGE = /connection terminated|connection error|not queryable|query read timeout|timeout exceeded when trying to connect|socket hang up|server closed the connection|connection ended/i;
const isTransient = (err: unknown) => TRANSIENT.has((err as { code?: string })?.code ?? '') || CONNECTION_MESSAGE.test((err as Error)?.message ?? '');
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function withRetry<T>(log: Log, op: string, attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + RETRY_BUDGET_MS;
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (!isTransient(err) || Date.now() >= deadline) throw err;
      log('payment-webhook: retrying after a transient database error', { op, attempt: n, error: (err as Error).message });
      await sleep(Math.random() * Math.min(500, 20 * 2 ** n));
    }
  }
}

async function withClient<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const pending = pool.connect();
  const client = await Promise.race([
    pending,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(new Error('timeout exceeded when trying to connect'));
      }, CONNECT_TIMEOUT_MS);
    }),
  ]).finally(() => {
    clearTimeout(timer);
    if (timedOut) pending.then((c) => c.release(), () => {});
  });
  let broken: Error | undefined;
  const onError = (err: Error) => (broken ??= err);
  client.on('error', onError);
  try {
    return await fn(client);
  } catch (err) {
    if (isTransient(err) && CONNECTION_MESSAGE.test((err as Error).message ?? '')) broken ??= err as Error;
    if (['57P01', '57P02', '57P03', 'ECONNRESET', 'EPIPE'].includes((err as { code?: string }).code ?? '')) broken ??= err as Error;
    throw err;
  } finally {
    client.removeListener('error', onError);
    client.release(broken ?? false);
  }
}

const run = (client: PoolClient, text: string, values: unknown[]): Promise<QueryResult> => client.query({ text, values, query_timeout: QUERY_TIMEOUT_MS } as QueryConfig);
const query = (pool: Pool, text: string, values: unknown[]) => withClient(pool, (client) => run(client, text, values));

function transaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  return withClient(pool, async (client) => {
    await run(client, 'BEGIN', []);
    try {
      const result = await fn(client);
      await run(client, 'COMMIT', []);
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    }
  });
}
