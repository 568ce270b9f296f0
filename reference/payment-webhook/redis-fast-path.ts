// Reference solution for payment-webhook: the inbox/outbox design of inbox-outbox.ts, with Redis in front as a fast
// path and a per-payment lock — and the database still the only authority.
//
// STRATEGY
//   1. Authenticate and validate as inbox-outbox.ts does (HMAC over t + "." + the raw bytes, constant time, 300 s
//      tolerance; poison to `dead_letters` with a 400).
//   2. Fast path: `GET webhook:done:<idempotencyKey>`. The key is written only *after* the event's transaction
//      committed, so when it is there the event is surely done and a duplicate is acknowledged without touching the
//      database. When it is missing (never seen, expired, Redis restarted) nothing is lost: the database decides.
//   3. A per-payment lock (`SET webhook:lock:<paymentId> <token> NX PX 3000`, released by a compare-and-delete
//      script) lines up the events of one payment across instances, so a storm of duplicates queues in Redis
//      instead of in PostgreSQL's row locks. It is an optimisation only: a lock that expires, or Redis failing, lets
//      two transactions race, and the inbox's primary key, the unique payment_id and the forward-only WHERE still
//      make the outcome exactly once. After 1 s of waiting the handler proceeds without it.
//   4. The same transaction as inbox-outbox.ts (inbox row, forward-only upsert, outbox row) and the same outbox
//      sweeper for the confirmation.
//
// TRADE-OFFS
//   + Duplicate storms (a provider retrying a backlog, the same delivery to every instance) cost one Redis read each
//     once the first copy committed, and wait in Redis rather than holding database connections.
//   + Redis can fail or forget without any effect on correctness: every Redis call fails open to the database.
//   - Two stores to run and reason about; the fast path only helps after the first copy committed (concurrent first
//     copies still go to the database, in line behind the lock).
//   - A lock held by a process that dies delays that payment's other events by up to the lock's TTL.
//
// CHOOSE IT when duplicate volume is high enough that the database's lock queue or connection pool is the
// bottleneck, and you already run Redis; never to replace the database's constraints.
import crypto from 'node:crypto';
import type { AppContext, SetupContext, Subscription, WebhookService } from 'gauntlet';
import type { Pool, PoolClient, QueryConfig, QueryResult } from 'pg';

type Log = AppContext['log'];
type EventStatus = 'pending' | 'success' | 'failed';
interface Event { paymentId: string; status: EventStatus; amount: number; userId: string; idempotencyKey: string }

const TOLERANCE_S = 300;
const QUERY_TIMEOUT_MS = 3_000;
const CONNECT_TIMEOUT_MS = 3_000;
const RETRY_BUDGET_MS = 5_000;
const SEND_TIMEOUT_MS = 2_000;
const SWEEP_POLL_MS = 200;
const SWEEP_BATCH = 10;
const SEND_BACKOFF_BASE_MS = 50;
const SEND_BACKOFF_CAP_MS = 1_000;
const DONE_TTL_S = 24 * 3600;
const LOCK_TTL_MS = 3_000;
const LOCK_WAIT_MS = 1_000;
const REDIS_TIMEOUT_MS = 500;
const STATUS_OF: Record<EventStatus, Subscription['status']> = { pending: 'pending', success: 'active', failed: 'failed' };

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
CREATE TABLE IF NOT EXISTS dead_letters (
  id              bigserial PRIMARY KEY,
  body_hash       text NOT NULL UNIQUE,
  idempotency_key text,
  reason          text NOT NULL,
  raw_body        text NOT NULL,
  received_at     timestamptz NOT NULL DEFAULT now()
)`;

const SQL = {
  inbox: 'INSERT INTO webhook_inbox (idempotency_key, payment_id, status) VALUES ($1, $2, $3) ON CONFLICT (idempotency_key) DO NOTHING',
  // Forward only: an existing row changes only from pending, and only to a final status.
  apply: `INSERT INTO subscriptions (id, payment_id, user_id, amount, status) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (payment_id) DO UPDATE SET status = EXCLUDED.status, updated_at = now()
      WHERE subscriptions.status = 'pending' AND EXCLUDED.status <> 'pending'
    RETURNING status`,
  outbox: 'INSERT INTO notification_outbox (payment_id, recipient, idempotency_key) VALUES ($1, $2, $3) ON CONFLICT (payment_id) DO NOTHING',
  deadLetter: 'INSERT INTO dead_letters (body_hash, idempotency_key, reason, raw_body) VALUES ($1, $2, $3, $4) ON CONFLICT (body_hash) DO NOTHING',
  due: `SELECT payment_id, recipient, idempotency_key, attempts FROM notification_outbox
    WHERE sent_at IS NULL AND next_attempt_at <= now() ORDER BY next_attempt_at LIMIT ${SWEEP_BATCH} FOR UPDATE SKIP LOCKED`,
  sent: 'UPDATE notification_outbox SET sent_at = now(), attempts = attempts + 1, last_error = NULL WHERE payment_id = $1',
  later: `UPDATE notification_outbox SET attempts = attempts + 1, last_error = $2,
    next_attempt_at = now() + $3::double precision * interval '1 millisecond' WHERE payment_id = $1`,
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
        log('webhook dead-lettered', { reason: parsed.reason, idempotencyKey: parsed.idempotencyKey });
        return { status: 400, body: { error: `invalid event: ${parsed.reason}`, deadLettered: true } };
      }
      const e = parsed.event;
      const doneKey = `webhook:done:${e.idempotencyKey}`;
      if ((await redisCall(log, () => ctx.redis.get(doneKey))) === '1') return { status: 200, body: { received: true, outcome: 'duplicate' } };
      const unlock = await lockPayment(ctx, e.paymentId);
      let outcome: string;
      try {
        outcome = await withRetry(log, 'apply', () =>
          transaction(pool, async (client) => {
            const fresh = await run(client, SQL.inbox, [e.idempotencyKey, e.paymentId, e.status]);
            if (fresh.rowCount === 0) return 'duplicate';
            const applied = await run(client, SQL.apply, [`sub_${crypto.randomUUID()}`, e.paymentId, e.userId, e.amount, STATUS_OF[e.status]]);
            if (applied.rows[0]?.status === 'active') await run(client, SQL.outbox, [e.paymentId, e.userId, confirmationKey(e.paymentId)]);
            return applied.rowCount ? 'applied' : 'out-of-date';
          }),
        );
      } finally {
        await unlock();
      }
      // Only now is the event surely recorded: from here on its duplicates can skip the database.
      await redisCall(log, () => ctx.redis.set(doneKey, '1', 'EX', DONE_TTL_S));
      if (outcome === 'applied' && e.status === 'success') sweeper.kick();
      log('webhook processed', { paymentId: e.paymentId, status: e.status, outcome });
      return { status: 200, body: { received: true, outcome } };
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
// Authentication and validation.

/** null when authentic; otherwise why not (never says which part of the HMAC was wrong). */
export function verifySignature(secret: string, header: string | undefined, rawBody: string, nowS = Date.now() / 1000): string | null {
  if (!header) return 'missing gauntlet-signature header';
  let t: string | undefined;
  const v1: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (k === 't') t = v;
    else if (k === 'v1') v1.push(v);
  }
  if (!t || !/^\d{1,12}$/.test(t) || v1.length === 0) return 'malformed gauntlet-signature header';
  if (Math.abs(nowS - Number(t)) > TOLERANCE_S) return 'signature timestamp outside the 300 s tolerance';
  const expected = crypto.createHmac('sha256', secret).update(`${t}.${rawBody}`, 'utf8').digest();
  for (const candidate of v1) {
    if (!/^[0-9a-f]{64}$/i.test(candidate)) continue;
    if (crypto.timingSafeEqual(Buffer.from(candidate, 'hex'), expected)) return null;
  }
  return 'signature mismatch';
}

export function parseEvent(rawBody: string): { event: Event } | { reason: string; idempotencyKey?: string } {
  let v: unknown;
  try {
    v = JSON.parse(rawBody);
  } catch {
    return { reason: 'body is not valid JSON' };
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return { reason: 'body is not a JSON object' };
  const o = v as Record<string, unknown>;
  const idempotencyKey = typeof o.idempotencyKey === 'string' && o.idempotencyKey ? o.idempotencyKey : undefined;
  const problems: string[] = [];
  if (typeof o.paymentId !== 'string' || !o.paymentId) problems.push('paymentId must be a non-empty string');
  if (o.status !== 'pending' && o.status !== 'success' && o.status !== 'failed') problems.push('status must be pending, success or failed');
  if (typeof o.amount !== 'number' || !Number.isSafeInteger(o.amount) || o.amount < 0) problems.push('amount must be a whole number ≥ 0');
  if (typeof o.userId !== 'string' || !o.userId) problems.push('userId must be a non-empty string');
  if (!idempotencyKey) problems.push('idempotencyKey must be a non-empty string');
  if (problems.length) return { reason: problems.join('; '), ...(idempotencyKey ? { idempotencyKey } : {}) };
  return { event: { paymentId: o.paymentId as string, status: o.status as EventStatus, amount: o.amount as number, userId: o.userId as string, idempotencyKey: idempotencyKey! } };
}

/** One key per payment's confirmation: every retry and every instance sends the same one. */
function confirmationKey(paymentId: string): string {
  return `subscription-confirmed:${crypto.createHash('sha256').update(paymentId).digest('hex').slice(0, 32)}`;
}

// ---------------------------------------------------------------------------------------------------------
// Redis: a fast path and a lock, both failing open (the database decides).

const UNLOCK = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
const FAILED = Symbol('redis failed');

/** A Redis call with a deadline; any failure is logged and returned as FAILED (the caller falls back to the database). */
async function redisCall<T>(log: Log, call: () => Promise<T>): Promise<T | typeof FAILED> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([call(), new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('redis timeout')), REDIS_TIMEOUT_MS)))]);
  } catch (err) {
    if ((err as { code?: string }).code === 'GAUNTLET_NO_REDIS') throw err;
    log('redis unavailable; falling back to the database', { error: (err as Error).message });
    return FAILED;
  } finally {
    clearTimeout(timer);
  }
}

/** Wait up to LOCK_WAIT_MS for the payment's lock; returns its release (a no-op when it was not obtained). */
async function lockPayment(ctx: AppContext, paymentId: string): Promise<() => Promise<void>> {
  const key = `webhook:lock:${crypto.createHash('sha256').update(paymentId).digest('hex').slice(0, 32)}`;
  const token = crypto.randomUUID();
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    const got = await redisCall(ctx.log, () => ctx.redis.set(key, token, 'PX', LOCK_TTL_MS, 'NX'));
    if (got === 'OK') return async () => void (await redisCall(ctx.log, () => ctx.redis.eval(UNLOCK, 1, key, token)));
    if (got === FAILED || Date.now() >= deadline) return async () => {}; // proceed unlocked: the database still decides
    await sleep(5 + Math.random() * 20);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The outbox sweeper.

function startSweeper(ctx: AppContext) {
  const pool = ctx.pg;
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

  async function sweepOnce(): Promise<number> {
    return transaction(pool, async (client) => {
      const { rows } = await run(client, SQL.due, []);
      await Promise.all(
        rows.map(async (row) => {
          const r = await send(ctx, row.payment_id, row.recipient, row.idempotency_key);
          if (r.ok) await run(client, SQL.sent, [row.payment_id]);
          else {
            const delay = r.retryAfterMs ?? Math.random() * Math.min(SEND_BACKOFF_CAP_MS, SEND_BACKOFF_BASE_MS * 2 ** row.attempts);
            await run(client, SQL.later, [row.payment_id, r.error, Math.max(20, delay)]);
            ctx.log('confirmation not sent yet; will retry', { paymentId: row.payment_id, attempt: row.attempts + 1, error: r.error });
          }
        }),
      );
      return rows.length;
    });
  }

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
        ctx.log('outbox sweep failed; retrying on the next poll', { error: (err as Error).message });
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

async function send(ctx: AppContext, paymentId: string, to: string, key: string): Promise<{ ok: true } | { ok: false; error: string; retryAfterMs?: number }> {
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

// ---------------------------------------------------------------------------------------------------------
// Plumbing: transactions, retries, statements with timeouts on clients that may die.

const ROLLED_BACK = new Set(['40001', '40P01', '57014', '53300', '55P03']);
const CONNECTION_LOST = new Set(['57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT']);
const CONNECTION_MESSAGE = /connection terminated|connection error|not queryable|query read timeout|timeout exceeded when trying to connect|socket hang up|server closed the connection|connection ended/i;

function isConnectionLoss(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return CONNECTION_LOST.has(e?.code ?? '') || CONNECTION_MESSAGE.test(e?.message ?? '');
}

function isTransient(err: unknown): boolean {
  return ROLLED_BACK.has((err as { code?: string })?.code ?? '') || isConnectionLoss(err);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Re-run on transient errors (capped exponential backoff, full jitter) within a budget. Every caller is idempotent. */
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

async function connect(pool: Pool): Promise<PoolClient> {
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const pending = pool.connect();
  try {
    return await Promise.race([
      pending,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          timedOut = true;
          reject(new Error('timeout exceeded when trying to connect'));
        }, CONNECT_TIMEOUT_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (timedOut) pending.then((c) => c.release(), () => {});
  }
}

function run(client: PoolClient, text: string, values: unknown[]): Promise<QueryResult> {
  return client.query({ text, values, query_timeout: QUERY_TIMEOUT_MS } as QueryConfig);
}

/** A client with an 'error' listener while checked out; destroyed (not reused) if its connection broke. */
async function withClient<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await connect(pool);
  let broken: Error | undefined;
  const onError = (err: Error) => {
    broken ??= err;
  };
  client.on('error', onError);
  try {
    return await fn(client);
  } catch (err) {
    if (isConnectionLoss(err)) broken ??= err as Error;
    throw err;
  } finally {
    client.removeListener('error', onError);
    client.release(broken ?? false);
  }
}

function query(pool: Pool, text: string, values: unknown[]): Promise<QueryResult> {
  return withClient(pool, (client) => run(client, text, values));
}

async function transaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
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
