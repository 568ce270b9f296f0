// Reference solution for subscription: a persisted purchase state machine driven with hand-written retries.
//
// STRATEGY
//   A purchase is a row in PostgreSQL that moves  new → reserved → charged → active  (or → compensating → failed),
//   and every move is written *after* the remote step it records succeeded. Each remote step has its own
//   Idempotency-Key derived from the requestId (`<requestId>:reserve`, `:charge`, `:commit`, `:refund`,
//   `:release`, `:notify`), so repeating a step — after a timeout, a ghost success, on another instance, after a
//   crash — replays the gateway's first answer instead of doing it again. That is the whole trick: the database
//   says which step is next, the key makes redoing it harmless.
//   - Retries: capped exponential backoff with full jitter (random(0, min(1 s, 25 ms·2^n))), never earlier than a
//     Retry-After(-Ms) said, every attempt bounded by a 1 s timeout (a held response must not hang the purchase).
//     Transient = no answer, 5xx, 429, 409 request_in_progress; anything else is the step's real answer.
//   - One worker per purchase: the row carries a lease (owner, until) renewed every 400 ms while a worker drives it.
//     A second call with the same requestId (another instance, a client retry) waits for the lease holder instead
//     of racing it; a dead holder's lease runs out after 1.5 s. Inside one process a Map makes calls share a drive.
//   - Recovery: every instance sweeps every 300 ms for unfinished purchases whose lease ran out and claims them with
//     `FOR UPDATE SKIP LOCKED`, so several instances sweeping at once never take the same row. The sweep starts in
//     create(), so a restarted instance (or any other) finishes what a killed one left behind.
//   - Compensation: a decline releases the reservation; a commit that fails for good refunds the charge and releases
//     the reservation; then the purchase is `failed` with its code, and a repeated call answers that code.
//   - Notifications: activating the purchase inserts its confirmation into an outbox table in the same transaction.
//     A dispatcher (every instance, every 200 ms, rows claimed with SKIP LOCKED) sends it with one attempt per turn
//     and stores the next attempt time (backoff, Retry-After) in the row, so a notification outage never touches a
//     purchase and every instance respects the same schedule.
//
// TRADE-OFFS
//   + Crash-safe at every point: the worst a crash costs is one step redone under the same key.
//   + The request handler and the recovery sweep are the same code (drive), so recovery is exercised constantly.
//   - Leases are timing: a worker stalled longer than the lease (a long GC pause) lets a second worker start. The
//     keys make that harmless for money, but the two may briefly retry the same call from two instances.
//   - More moving parts than a single transaction: a lease, a heartbeat, a sweep and an outbox, each with SQL.
//   - Polling (sweep, outbox, waiting for another worker) costs queries; LISTEN/NOTIFY could wake workers instead.
//
// Time is compressed for grading (lease 1.5 s, sweep 300 ms); production values would be ~30 s and ~10 s.
//
// The request's check, the purchase reads, the confirmation message and the background loop: _shared/purchases.ts.
import type { AppContext, SetupContext, SubscriptionService } from 'gauntlet';
import type { Pool } from 'pg';
import { randomUUID } from 'node:crypto';
import { type PurchaseRow, activePurchase, checkRequest, codeError, confirmation, every, loadPurchase, sleep, toPurchase, transientDb } from './_shared/purchases.ts';

const ATTEMPT_TIMEOUT_MS = 1_000;
const BACKOFF_BASE_MS = 25;
const BACKOFF_CAP_MS = 1_000;
const LEASE_MS = 1_500;
const HEARTBEAT_MS = 400;
const SWEEP_EVERY_MS = 300;
const OUTBOX_EVERY_MS = 200;
const OUTBOX_LEASE_MS = 3_000;
/** The caller gets an answer within this; the purchase carries on in the background if it is not done. */
const ANSWER_WITHIN_MS = 15_000;

type State = 'new' | 'reserved' | 'charged' | 'compensating' | 'active' | 'failed';
type Code = 'OUT_OF_STOCK' | 'PAYMENT_DECLINED' | 'PURCHASE_FAILED';

interface Row extends PurchaseRow {
  state: State;
  reservation_id: string | null;
  currency: string | null;
  refund_id: string | null;
  failure_code: Code | null;
}

export async function setup(ctx: SetupContext): Promise<void> {
  await retryDb(Date.now() + 10_000, () => ctx.pg.query(`
    CREATE TABLE IF NOT EXISTS purchases (
      request_id      TEXT PRIMARY KEY,
      user_id         TEXT NOT NULL,
      product_id      TEXT NOT NULL,
      subscription_id TEXT NOT NULL UNIQUE,
      state           TEXT NOT NULL CHECK (state IN ('new','reserved','charged','compensating','active','failed')),
      reservation_id  TEXT,
      amount          INTEGER,
      currency        TEXT,
      charge_id       TEXT,
      refund_id       TEXT,
      failure_code    TEXT,
      lease_owner     TEXT,
      lease_until     TIMESTAMPTZ,
      created_at      TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
      updated_at      TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
    );
    CREATE INDEX IF NOT EXISTS purchases_unfinished ON purchases (updated_at) WHERE state NOT IN ('active', 'failed');
    CREATE TABLE IF NOT EXISTS outbox (
      request_id      TEXT PRIMARY KEY REFERENCES purchases (request_id),
      payload         JSONB NOT NULL,
      attempts        INTEGER NOT NULL DEFAULT 0,
      next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
      lease_until     TIMESTAMPTZ,
      sent_at         TIMESTAMPTZ,
      failed_reason   TEXT
    );
    CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_reason IS NULL;
  `));
}

const backoffMs = (attempt: number) => Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);

class LeaseLost extends Error {}

/** Retry a database call on transient errors (backoff with full jitter) until the deadline. */
async function retryDb<T>(deadline: number, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!transientDb(err) || Date.now() >= deadline) throw err;
      await sleep(Math.max(10, backoffMs(Math.min(attempt, 6))));
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Remote calls: one attempt, then the retry loop.

interface Answer {
  status: number;
  body: any;
}
type Attempt = Answer & { transient: boolean; retryAfterMs?: number; error?: string };

async function attemptOnce(url: string, method: 'GET' | 'POST' | 'DELETE', key: string | null, body?: unknown): Promise<Attempt> {
  try {
    const res = await fetch(url, {
      method,
      headers: { 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
    });
    const text = await res.text();
    let parsed: any = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = { raw: text };
    }
    const ms = Number(res.headers.get('retry-after-ms'));
    const s = Number(res.headers.get('retry-after'));
    const retryAfterMs = Number.isFinite(ms) && ms > 0 ? ms : Number.isFinite(s) && s > 0 ? s * 1000 : undefined;
    const transient = res.status >= 500 || res.status === 429 || (res.status === 409 && parsed?.code === 'request_in_progress');
    return { status: res.status, body: parsed, transient, retryAfterMs };
  } catch (err) {
    // Timeout, reset, refused: the call may or may not have happened; the same key makes the retry safe.
    return { status: 0, body: null, transient: true, error: (err as Error).message };
  }
}

// ---------------------------------------------------------------------------------------------------------------

export default async function create(ctx: AppContext): Promise<SubscriptionService & { stop(): void }> {
  const pg: Pool = ctx.pg;
  const me = `i${ctx.instance}-${randomUUID().slice(0, 8)}`; // a restarted process is a new owner
  const driving = new Map<string, Promise<void>>();
  let stopped = false;

  /** A remote step with retries; stops early (LeaseLost) when this worker no longer owns the purchase. */
  async function remote(step: string, url: string, method: 'POST' | 'DELETE', key: string, body: unknown, owned: () => boolean): Promise<Answer> {
    for (let attempt = 0; ; attempt++) {
      const a = await attemptOnce(url, method, key, body);
      if (!a.transient) return a;
      if (!owned() || stopped) throw new LeaseLost(`${step}: lease lost`);
      await sleep(Math.max(a.retryAfterMs ?? 0, backoffMs(attempt)));
    }
  }

  const load = (rid: string) => loadPurchase<Row>(pg, rid);

  /** Move from `from` to the given fields; null when another worker moved it first (the caller reloads). */
  async function transition(rid: string, from: State, fields: Partial<Row>): Promise<Row | null> {
    const cols = Object.keys(fields);
    const sets = cols.map((c, i) => `${c} = $${i + 3}`).join(', ');
    const r = await pg.query<Row>(`UPDATE purchases SET ${sets}, updated_at = clock_timestamp() WHERE request_id = $1 AND state = $2 RETURNING *`, [rid, from, ...cols.map((c) => (fields as Record<string, unknown>)[c])]);
    return r.rows[0] ?? null;
  }

  /** Active + its confirmation in the outbox, in one transaction. */
  async function activate(row: Row): Promise<Row | null> {
    const client = await pg.connect();
    try {
      await client.query('BEGIN');
      const r = await client.query<Row>(`UPDATE purchases SET state = 'active', updated_at = clock_timestamp() WHERE request_id = $1 AND state = 'charged' RETURNING *`, [row.request_id]);
      if (r.rows[0]) {
        await client.query('INSERT INTO outbox (request_id, payload) VALUES ($1, $2) ON CONFLICT (request_id) DO NOTHING', [row.request_id, confirmation(row)]);
      }
      await client.query('COMMIT');
      return r.rows[0] ?? null;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  /** One step of the state machine; returns the row after it (reloaded when someone else moved it). */
  async function step(row: Row, owned: () => boolean): Promise<Row> {
    const rid = row.request_id;
    const k = (s: string) => `${rid}:${s}`;
    const after = async (moved: Row | null) => moved ?? (await load(rid))!;
    switch (row.state) {
      case 'new': {
        const a = await remote('reserve', `${ctx.services.inventory}/reservations`, 'POST', k('reserve'), { productId: row.product_id, quantity: 1 }, owned);
        if (a.status === 201) return after(await transition(rid, 'new', { state: 'reserved', reservation_id: a.body.id, amount: a.body.amount, currency: a.body.currency }));
        if (a.status === 409 || a.status === 404) return after(await transition(rid, 'new', { state: 'failed', failure_code: 'OUT_OF_STOCK' }));
        throw new Error(`reserve answered ${a.status} ${JSON.stringify(a.body)}`);
      }
      case 'reserved': {
        const body = { customerId: row.user_id, amount: row.amount, currency: row.currency, metadata: { requestId: rid } };
        const a = await remote('charge', `${ctx.services.payments}/charges`, 'POST', k('charge'), body, owned);
        if (a.status === 201) return after(await transition(rid, 'reserved', { state: 'charged', charge_id: a.body.id }));
        if (a.status === 402) return after(await transition(rid, 'reserved', { state: 'compensating', failure_code: 'PAYMENT_DECLINED' }));
        throw new Error(`charge answered ${a.status} ${JSON.stringify(a.body)}`);
      }
      case 'charged': {
        const a = await remote('commit', `${ctx.services.inventory}/reservations/${encodeURIComponent(row.reservation_id!)}/commit`, 'POST', k('commit'), undefined, owned);
        if (a.status === 200) return after(await activate(row));
        if (a.status === 409 && a.body?.code === 'reservation_expired') {
          ctx.log('commit failed for good after the charge: compensating', { requestId: rid, chargeId: row.charge_id });
          return after(await transition(rid, 'charged', { state: 'compensating', failure_code: 'PURCHASE_FAILED' }));
        }
        throw new Error(`commit answered ${a.status} ${JSON.stringify(a.body)}`);
      }
      case 'compensating': {
        if (row.charge_id && !row.refund_id) {
          const a = await remote('refund', `${ctx.services.payments}/refunds`, 'POST', k('refund'), { chargeId: row.charge_id }, owned);
          const refundId = a.status === 201 ? a.body.id : a.status === 409 ? (a.body?.refundId ?? a.body?.code) : null;
          if (!refundId) throw new Error(`refund answered ${a.status} ${JSON.stringify(a.body)}`);
          return after(await transition(rid, 'compensating', { refund_id: String(refundId) } as Partial<Row>));
        }
        if (row.reservation_id) {
          const a = await remote('release', `${ctx.services.inventory}/reservations/${encodeURIComponent(row.reservation_id)}`, 'DELETE', k('release'), undefined, owned);
          if (a.status !== 200 && a.status !== 404) throw new Error(`release answered ${a.status} ${JSON.stringify(a.body)}`);
        }
        return after(await transition(rid, 'compensating', { state: 'failed' }));
      }
      default:
        return row;
    }
  }

  /** Drive a purchase this process holds the lease of, renewing the lease meanwhile, until it is terminal. */
  async function driveOwned(first: Row): Promise<void> {
    const rid = first.request_id;
    let owned = true;
    const heartbeat = setInterval(() => {
      pg.query('UPDATE purchases SET lease_until = clock_timestamp() + $3 * interval \'1 millisecond\' WHERE request_id = $1 AND lease_owner = $2', [rid, me, LEASE_MS])
        .then((r) => {
          if (r.rowCount === 0) owned = false;
        })
        .catch(() => {}); // a missed renewal is retried in 400 ms; the lease has 1.5 s of slack
    }, HEARTBEAT_MS);
    try {
      let row = first;
      while (row.state !== 'active' && row.state !== 'failed') {
        if (!owned || stopped) throw new LeaseLost('lease lost');
        row = await step(row, () => owned && !stopped);
      }
    } finally {
      clearInterval(heartbeat);
      await pg.query('UPDATE purchases SET lease_owner = NULL, lease_until = NULL WHERE request_id = $1 AND lease_owner = $2', [rid, me]).catch(() => {});
    }
  }

  /** Start driving a purchase this process just claimed (or join the drive already running here). */
  function drive(row: Row): Promise<void> {
    const running = driving.get(row.request_id);
    if (running) return running;
    const p = driveOwned(row).finally(() => driving.delete(row.request_id));
    driving.set(row.request_id, p);
    p.then(kickOutbox, (err) => {
      if (!(err instanceof LeaseLost)) ctx.log('purchase step failed; the sweep will resume it', { requestId: row.request_id, error: (err as Error).message });
    });
    return p;
  }

  /** Take the lease of an unfinished purchase if nobody (alive) holds it. */
  async function claim(rid: string): Promise<Row | null> {
    const r = await pg.query<Row>(
      `UPDATE purchases SET lease_owner = $2, lease_until = clock_timestamp() + $3 * interval '1 millisecond'
        WHERE request_id = $1 AND state NOT IN ('active', 'failed')
          AND (lease_owner IS NULL OR lease_owner = $2 OR lease_until < clock_timestamp())
        RETURNING *`,
      [rid, me, LEASE_MS],
    );
    return r.rows[0] ?? null;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Recovery sweep and outbox dispatcher: every instance runs both; SKIP LOCKED keeps them off each other's rows.

  async function sweep(): Promise<void> {
    const r = await pg.query<Row>(
      `UPDATE purchases SET lease_owner = $1, lease_until = clock_timestamp() + $2 * interval '1 millisecond'
        WHERE request_id IN (
          SELECT request_id FROM purchases
           WHERE state NOT IN ('active', 'failed') AND (lease_owner IS NULL OR lease_until < clock_timestamp())
           ORDER BY updated_at LIMIT 20
           FOR UPDATE SKIP LOCKED)
        RETURNING *`,
      [me, LEASE_MS],
    );
    for (const row of r.rows) {
      ctx.log('recovering an unfinished purchase', { requestId: row.request_id, state: row.state });
      drive(row).catch(() => {});
    }
  }

  let outboxBusy = false;
  async function dispatchOutbox(): Promise<void> {
    if (outboxBusy) return;
    outboxBusy = true;
    try {
      const due = await pg.query<{ request_id: string; payload: unknown; attempts: number }>(
        `UPDATE outbox SET lease_until = clock_timestamp() + $1 * interval '1 millisecond'
          WHERE request_id IN (
            SELECT request_id FROM outbox
             WHERE sent_at IS NULL AND failed_reason IS NULL AND next_attempt_at <= clock_timestamp()
               AND (lease_until IS NULL OR lease_until < clock_timestamp())
             ORDER BY next_attempt_at LIMIT 50
             FOR UPDATE SKIP LOCKED)
          RETURNING request_id, payload, attempts`,
        [OUTBOX_LEASE_MS],
      );
      await Promise.all(
        due.rows.map(async (m) => {
          const a = await attemptOnce(`${ctx.services.notifications}/messages`, 'POST', `${m.request_id}:notify`, m.payload);
          if (a.status >= 200 && a.status < 300) {
            await pg.query('UPDATE outbox SET sent_at = clock_timestamp(), attempts = attempts + 1, lease_until = NULL WHERE request_id = $1', [m.request_id]);
          } else if (a.transient) {
            const delay = Math.max(a.retryAfterMs ?? 0, backoffMs(m.attempts));
            await pg.query(`UPDATE outbox SET attempts = attempts + 1, next_attempt_at = clock_timestamp() + $2 * interval '1 millisecond', lease_until = NULL WHERE request_id = $1`, [m.request_id, delay]);
          } else {
            ctx.log('confirmation rejected for good', { requestId: m.request_id, status: a.status, body: a.body });
            await pg.query('UPDATE outbox SET failed_reason = $2, lease_until = NULL WHERE request_id = $1', [m.request_id, `${a.status} ${JSON.stringify(a.body)}`]);
          }
        }),
      );
    } finally {
      outboxBusy = false;
    }
  }
  function kickOutbox(): void {
    if (!stopped) dispatchOutbox().catch((err) => ctx.log('outbox dispatch failed', { error: (err as Error).message }));
  }

  every(ctx, SWEEP_EVERY_MS, 'recovery sweep', () => stopped, sweep);
  every(ctx, OUTBOX_EVERY_MS, 'outbox dispatch', () => stopped, dispatchOutbox);

  return {
    async createSubscriptionWithRetry(req) {
      const { requestId, userId, productId } = checkRequest(req);
      const deadline = Date.now() + ANSWER_WITHIN_MS;
      // Insert the purchase already leased to this process: the sweep leaves it alone while we drive it.
      await retryDb(deadline, () =>
        pg.query(
          `INSERT INTO purchases (request_id, user_id, product_id, subscription_id, state, lease_owner, lease_until)
           VALUES ($1, $2, $3, $4, 'new', $5, clock_timestamp() + $6 * interval '1 millisecond')
           ON CONFLICT (request_id) DO NOTHING`,
          [requestId, userId, productId, `sub_${randomUUID()}`, me, LEASE_MS],
        ),
      );
      for (let round = 0; ; round++) {
        const row = await retryDb(deadline, () => load(requestId));
        if (!row) throw new Error(`purchase ${requestId} vanished`);
        if (row.state === 'active') return toPurchase(row);
        if (row.state === 'failed') throw codeError(row.failure_code ?? 'PURCHASE_FAILED', `purchase ${requestId} failed: ${row.failure_code}`);
        if (Date.now() >= deadline) throw new Error(`purchase ${requestId} is still in progress (${row.state}); call again with the same requestId`);
        const claimed = driving.has(requestId) ? null : await retryDb(deadline, () => claim(requestId));
        const mine = driving.get(requestId) ?? (claimed ? drive(claimed) : null);
        if (mine) {
          const outcome = await Promise.race([mine.then(() => 'done', () => 'error'), sleep(Math.max(0, deadline - Date.now())).then(() => 'late')]);
          if (outcome === 'error') await sleep(backoffMs(Math.min(round, 5)));
        } else {
          await sleep(100 + Math.random() * 100); // another live worker has it: wait for its outcome
        }
      }
    },

    async getSubscription(requestId) {
      return retryDb(Date.now() + 4_000, () => activePurchase(pg, requestId));
    },

    stop() {
      stopped = true;
    },
  };
}

export async function close(service: { stop(): void }): Promise<void> {
  service.stop();
}
