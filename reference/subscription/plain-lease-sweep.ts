// Reference (plain, textbook): written apart from gauntlet, from the contract and the challenge README alone. A
// persisted saga with a 3 s lease per purchase and a recovery sweep every 1 s in every instance (FOR UPDATE SKIP
// LOCKED): a crash is recovered only after the lease expires. It must pass every check within the published bounds.
//
// Subscription purchase as a persisted state machine (saga) with a lease per purchase,
// idempotent remote steps, retries with capped exponential backoff + full jitter,
// a transactional outbox for the notification and a recovery sweep for crashed workers.
import { randomUUID } from 'node:crypto';
import type { AppContext, SetupContext } from 'gauntlet';

type Pool = AppContext['pg'];

interface Purchase {
  id: string; requestId: string; userId: string; productId: string;
  status: 'active'; chargeId: string; amount: number;
}
interface Row {
  request_id: string; id: string; user_id: string; product_id: string; step: string;
  reservation_id: string | null; charge_id: string | null; amount: number | null;
  currency: string | null; error_code: string | null;
}

const LEASE = "interval '3 seconds'";       // a worker's lease on a purchase
const HEARTBEAT_MS = 1000;                  // lease renewal while a worker is alive
const SWEEP_MS = 1000;                      // recovery sweep period
const OUTBOX_MS = 1000;                     // notification outbox poll period
const CALL_TIMEOUT_MS = 1000;               // per remote call
const BASE_MS = 50, CAP_MS = 1000;          // backoff
const CALL_GIVE_UP_MS = 8000;               // a remote step gives up (the sweep resumes it later)
const WAIT_FOR_OTHER_MS = 18000;            // caller waiting for another worker's outcome
const SUCCESS = ['active', 'notified'];
const FINAL = [...SUCCESS, 'failed'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const backoff = (attempt: number) => Math.random() * Math.min(CAP_MS, BASE_MS * 2 ** attempt);
const codedError = (code: string, message = code) => Object.assign(new Error(message), { code });
class LeaseLost extends Error {}

export async function setup(ctx: SetupContext): Promise<void> {
  await ctx.pg.query(`
    CREATE TABLE IF NOT EXISTS purchases (
      request_id     text PRIMARY KEY,
      id             text NOT NULL,
      user_id        text NOT NULL,
      product_id     text NOT NULL,
      step           text NOT NULL DEFAULT 'new',
      reservation_id text,
      charge_id      text,
      amount         integer,
      currency       text,
      error_code     text,
      locked_by      text,
      locked_until   timestamptz NOT NULL DEFAULT now(),
      created_at     timestamptz NOT NULL DEFAULT now(),
      updated_at     timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX IF NOT EXISTS purchases_unfinished ON purchases (locked_until)
      WHERE step NOT IN ('active', 'notified', 'failed');
    CREATE TABLE IF NOT EXISTS outbox (
      id              bigserial PRIMARY KEY,
      request_id      text NOT NULL UNIQUE,
      payload         jsonb NOT NULL,
      attempts        integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      locked_until    timestamptz,
      delivered_at    timestamptz,
      last_error      text
    );
    -- The outbox poll reads only undelivered rows that are due: without this, every poll scans every row ever sent.
    CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL;`);
}

interface Reply { status: number; body: any }

/** One remote call with an idempotency key, a timeout, and retries on transient failures. */
async function callWithRetry(method: string, url: string, key: string, body: unknown,
                             isAlive: () => boolean = () => true): Promise<Reply> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    let wait = backoff(attempt);
    try {
      const reply = await callOnce(method, url, key, body);
      if (!isTransient(reply)) return reply;
      wait = Math.max(wait, retryAfterMs(reply));
    } catch { /* timeout, reset, ghost success: same key makes the retry safe */ }
    if (!isAlive()) throw new LeaseLost();
    if (Date.now() - started + wait > CALL_GIVE_UP_MS) throw codedError('UNAVAILABLE', `${method} ${url} kept failing`);
    await sleep(wait);
    if (!isAlive()) throw new LeaseLost();
  }
}

async function callOnce(method: string, url: string, key: string, body: unknown): Promise<Reply & { headers: Headers }> {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
  });
  const text = await res.text();
  let parsed: any = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = { raw: text }; }
  return { status: res.status, body: parsed, headers: res.headers };
}

function isTransient(r: Reply): boolean {
  return r.status >= 500 || r.status === 429 || (r.status === 409 && r.body?.code === 'request_in_progress');
}

function retryAfterMs(r: Reply & { headers?: Headers }): number {
  const ms = Number(r.headers?.get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const s = Number(r.headers?.get('retry-after'));
  return Number.isFinite(s) && s > 0 ? s * 1000 : 0;
}

export default async function create(ctx: AppContext) {
  const { pg, services } = ctx;
  let stopped = false;

  const toPurchase = (r: Row): Purchase => ({
    id: r.id, requestId: r.request_id, userId: r.user_id, productId: r.product_id,
    status: 'active', chargeId: r.charge_id!, amount: r.amount!,
  });
  const outcome = (r: Row): Purchase => {
    if (SUCCESS.includes(r.step)) return toPurchase(r);
    throw codedError(r.error_code ?? 'PURCHASE_FAILED');
  };
  const load = async (requestId: string): Promise<Row | null> =>
    (await pg.query<Row>('SELECT * FROM purchases WHERE request_id = $1', [requestId])).rows[0] ?? null;

  /** Try to take the lease on an unfinished purchase whose lease has expired. */
  async function claim(requestId: string, worker: string): Promise<Row | null> {
    const { rows } = await pg.query<Row>(
      `UPDATE purchases SET locked_by = $2, locked_until = now() + ${LEASE}
        WHERE request_id = $1 AND step <> ALL($3) AND locked_until < now() RETURNING *`,
      [requestId, worker, FINAL]);
    return rows[0] ?? null;
  }

  /** Drive a purchase we hold the lease on to a final step. Every transition is fenced by the lease. */
  async function drive(start: Row, worker: string): Promise<Row> {
    let alive = true;
    const heartbeat = setInterval(() => {
      pg.query(`UPDATE purchases SET locked_until = now() + ${LEASE} WHERE request_id = $1 AND locked_by = $2`,
        [start.request_id, worker]).then((r) => { if (r.rowCount === 0) alive = false; }, () => {});
    }, HEARTBEAT_MS);
    const isAlive = () => alive && !stopped;

    const advance = async (step: string, fields: Record<string, unknown> = {}): Promise<Row> => {
      const cols = Object.keys(fields);
      const sets = cols.map((c, i) => `${c} = $${i + 4}`).join(', ');
      const { rows } = await pg.query<Row>(
        `UPDATE purchases SET step = $3, updated_at = now(), locked_until = now() + ${LEASE}${sets ? ', ' + sets : ''}
          WHERE request_id = $1 AND locked_by = $2 RETURNING *`,
        [start.request_id, worker, step, ...cols.map((c) => fields[c])]);
      if (!rows[0]) throw new LeaseLost();
      return rows[0];
    };
    const call = (method: string, url: string, step: string, body?: unknown) =>
      callWithRetry(method, url, `${start.request_id}:${step}`, body, isAlive);

    try {
      let row = start;
      while (!FINAL.includes(row.step)) {
        switch (row.step) {
          case 'new': {
            const r = await call('POST', `${services.inventory}/reservations`, 'reserve',
              { productId: row.product_id, quantity: 1 });
            if (r.status === 201) {
              row = await advance('reserved', { reservation_id: r.body.id, amount: r.body.amount, currency: r.body.currency ?? 'usd' });
            } else if (r.status === 409 || r.status === 404) {
              row = await advance('failed', { error_code: 'OUT_OF_STOCK' });
            } else {
              row = await advance('failed', { error_code: 'PURCHASE_FAILED' });
            }
            break;
          }
          case 'reserved': {
            const r = await call('POST', `${services.payments}/charges`, 'charge', {
              customerId: row.user_id, amount: row.amount, currency: row.currency,
              metadata: { requestId: row.request_id },
            });
            if (r.status === 201) row = await advance('charged', { charge_id: r.body.id });
            else if (r.status === 402) row = await advance('compensating', { error_code: 'PAYMENT_DECLINED' });
            else row = await advance('compensating', { error_code: 'PURCHASE_FAILED' });
            break;
          }
          case 'charged': {
            const r = await call('POST', `${services.inventory}/reservations/${row.reservation_id}/commit`, 'commit', {});
            if (r.status >= 200 && r.status < 300) row = await activate(row, worker);
            else row = await advance('compensating', { error_code: 'PURCHASE_FAILED' });
            break;
          }
          case 'compensating': {
            if (row.charge_id) {
              const r = await call('POST', `${services.payments}/refunds`, 'refund', { chargeId: row.charge_id });
              if (r.status >= 400 && r.body?.code !== 'already_refunded' && r.body?.code !== 'charge_not_refundable') {
                ctx.log('refund rejected', { requestId: row.request_id, status: r.status, body: r.body });
              }
            }
            if (row.reservation_id) {
              await call('DELETE', `${services.inventory}/reservations/${row.reservation_id}`, 'release');
            }
            row = await advance('failed');
            break;
          }
          default:
            throw new Error(`unknown step ${row.step}`);
        }
      }
      return row;
    } catch (err) {
      // Give the purchase back at once so the sweep can resume it (unless someone else already has it).
      if (!(err instanceof LeaseLost)) {
        await pg.query(`UPDATE purchases SET locked_until = now() WHERE request_id = $1 AND locked_by = $2`,
          [start.request_id, worker]).catch(() => {});
      }
      throw err;
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** Mark the purchase active and record its confirmation in the outbox, in one transaction. */
  async function activate(row: Row, worker: string): Promise<Row> {
    const client = await pg.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<Row>(
        `UPDATE purchases SET step = 'active', updated_at = now() WHERE request_id = $1 AND locked_by = $2 RETURNING *`,
        [row.request_id, worker]);
      if (!rows[0]) throw new LeaseLost();
      const payload = { channel: 'email', to: row.user_id, template: 'subscription-created', data: { requestId: row.request_id } };
      await client.query(`INSERT INTO outbox (request_id, payload) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
        [row.request_id, payload]);
      await client.query('COMMIT');
      setImmediate(() => void deliverOutbox());
      return rows[0];
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  async function createSubscriptionWithRetry(req: { requestId: string; userId: string; productId: string }): Promise<Purchase> {
    const worker = `${ctx.instance}:${randomUUID()}`;
    const inserted = await pg.query<Row>(
      `INSERT INTO purchases (request_id, id, user_id, product_id, locked_by, locked_until)
       VALUES ($1, $2, $3, $4, $5, now() + ${LEASE}) ON CONFLICT (request_id) DO NOTHING RETURNING *`,
      [req.requestId, randomUUID(), req.userId, req.productId, worker]);
    let mine: Row | null = inserted.rows[0] ?? null;
    const deadline = Date.now() + WAIT_FOR_OTHER_MS;
    for (;;) {
      if (!mine) {
        const row = await load(req.requestId);
        if (!row) throw codedError('UNAVAILABLE', 'purchase row vanished');
        if (FINAL.includes(row.step)) return outcome(row);
        mine = await claim(req.requestId, worker);
      }
      if (mine) {
        try {
          return outcome(await drive(mine, worker));
        } catch (err) {
          if (!(err instanceof LeaseLost)) throw err;   // indeterminate: the sweep will finish it
          mine = null;                                    // someone else took over: wait for them
        }
      }
      if (Date.now() > deadline) throw codedError('UNAVAILABLE', 'purchase still in progress');
      await sleep(100);
    }
  }

  async function getSubscription(requestId: string): Promise<Purchase | null> {
    const row = await load(requestId);
    return row && SUCCESS.includes(row.step) ? toPurchase(row) : null;
  }

  /** Recovery: claim unfinished purchases whose worker stopped renewing its lease. */
  let sweeping = false;
  async function sweep() {
    if (sweeping || stopped) return;
    sweeping = true;
    try {
      const worker = `${ctx.instance}:sweep:${randomUUID()}`;
      const { rows } = await pg.query<Row>(
        `UPDATE purchases p SET locked_by = $1, locked_until = now() + ${LEASE}
           FROM (SELECT request_id FROM purchases
                  WHERE step <> ALL($2) AND locked_until < now()
                  ORDER BY updated_at LIMIT 20 FOR UPDATE SKIP LOCKED) c
          WHERE p.request_id = c.request_id RETURNING p.*`,
        [worker, FINAL]);
      for (const row of rows) {
        drive(row, worker).catch((err) => ctx.log('recovery deferred', { requestId: row.request_id, error: String(err) }));
      }
    } catch (err) {
      ctx.log('sweep failed', { error: String(err) });
    } finally {
      sweeping = false;
    }
  }

  /** Outbox: one attempt per due message per poll, then its own backoff via next_attempt_at. */
  let delivering = false;
  async function deliverOutbox() {
    if (delivering || stopped) return;
    delivering = true;
    try {
      const { rows } = await pg.query<{ id: string; request_id: string; payload: unknown; attempts: number }>(
        `UPDATE outbox o SET locked_until = now() + interval '5 seconds'
           FROM (SELECT id FROM outbox
                  WHERE delivered_at IS NULL AND next_attempt_at <= now()
                    AND (locked_until IS NULL OR locked_until < now())
                  ORDER BY id LIMIT 50 FOR UPDATE SKIP LOCKED) c
          WHERE o.id = c.id RETURNING o.*`);
      await Promise.all(rows.map(async (m) => {
        let wait = backoff(m.attempts), error = 'no answer';
        try {
          const r = await callOnce('POST', `${services.notifications}/messages`, `${m.request_id}:notify`, m.payload);
          if (!isTransient(r)) {
            if (r.status >= 400) ctx.log('notification rejected', { requestId: m.request_id, status: r.status, body: r.body });
            await pg.query(`UPDATE outbox SET delivered_at = now(), locked_until = NULL, last_error = $2 WHERE id = $1`,
              [m.id, r.status >= 400 ? `${r.status}` : null]);
            await pg.query(`UPDATE purchases SET step = 'notified', updated_at = now() WHERE request_id = $1 AND step = 'active'`,
              [m.request_id]);
            return;
          }
          wait = Math.max(wait, retryAfterMs(r));
          error = `${r.status}`;
        } catch (err) { error = String(err); }
        await pg.query(
          `UPDATE outbox SET attempts = attempts + 1, locked_until = NULL, last_error = $2,
                  next_attempt_at = now() + $3 * interval '1 millisecond' WHERE id = $1`,
          [m.id, error, Math.ceil(wait)]);
      }));
    } catch (err) {
      ctx.log('outbox failed', { error: String(err) });
    } finally {
      delivering = false;
    }
  }

  const timers = [setInterval(() => void sweep(), SWEEP_MS), setInterval(() => void deliverOutbox(), OUTBOX_MS)];
  return {
    createSubscriptionWithRetry,
    getSubscription,
    stop() { stopped = true; timers.forEach(clearInterval); },
  };
}

export async function close(service: { stop(): void }): Promise<void> {
  service.stop();
}
