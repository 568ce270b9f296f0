// Reference solution for subscription: the same persisted saga, with its resilience expressed as cockatiel policies.
//
// STRATEGY
//   Every remote call goes through one composed policy per service, outermost first:
//     retry(transient, exponential backoff with full jitter 30 ms → 1 s, never below Retry-After)
//       → circuit breaker (opens when ≥ 90 % of the last 2 s of calls failed; probes again after 500 ms)
//         → timeout (1 s per attempt, aggressive: a held response is abandoned and its socket aborted)
//   so the retry budget, the per-attempt timeout and load shedding during an outage are configuration, not loops.
//   Retry-After is honoured by wrapping the library's backoff: the delay is max(jittered backoff, Retry-After-Ms).
//   While the gateway is down the breaker answers most attempts itself (BrokenCircuitError, retried with backoff
//   like any transient failure), so a dead service sees a trickle of probes instead of every purchase's retries.
//   The saga around it is the persisted state machine of state-machine.ts: a row per purchase moving
//   pending → reserved → charged → active (or → compensating → failed), a key per remote step derived from the
//   requestId, a lease so one worker drives a purchase, a sweep (SKIP LOCKED) that resumes what a dead instance left,
//   and a transactional outbox for the confirmation. Here the steps are a table: each state names its remote call
//   and what each answer moves the purchase to.
//
// TRADE-OFFS
//   + The policies are declared once, reviewed once, and reused by every call; the library's backoffs, breakers and
//     timeouts are well tested, and its events (onRetry, onBreak) are natural hooks for metrics.
//   + The breaker cuts retry traffic to a dead service far below what backoff alone allows.
//   - Composition order matters and is easy to get wrong (a timeout outside the retry bounds the whole purchase, not
//     one attempt; a breaker outside the retry counts a purchase once however often it failed).
//   - A breaker is per process: four instances make four independent judgements, and a breaker shared by all calls
//     to a service can open on a burst of failures of one endpoint and delay healthy ones (here: 500 ms at most).
//   - Retry-After needs a custom backoff: the library knows nothing of HTTP.
//   - One more dependency, and its abstractions to learn.
//
// The request's check, the purchase reads, the confirmation message and the background loop: _shared/purchases.ts.
import type { AppContext, SetupContext, SubscriptionService } from 'gauntlet';
import type { Pool } from 'pg';
import { randomUUID } from 'node:crypto';
import { type PurchaseRow, activePurchase, checkRequest, codeError, confirmation, every, loadPurchase, sleep, toPurchase, transientDb } from './_shared/purchases.ts';
import {
  BrokenCircuitError,
  ExponentialBackoff,
  SamplingBreaker,
  TaskCancelledError,
  TimeoutStrategy,
  circuitBreaker,
  fullJitterGenerator,
  handleWhen,
  retry,
  timeout,
  wrap,
  type IBackoff,
  type IBackoffFactory,
  type IPolicy,
  type IRetryBackoffContext,
} from 'cockatiel';

const ATTEMPT_TIMEOUT_MS = 1_000;
const BACKOFF = { initialDelay: 30, maxDelay: 1_000, exponent: 2, generator: fullJitterGenerator };
const LEASE_MS = 1_500;
const HEARTBEAT_MS = 400;
const SWEEP_EVERY_MS = 300;
const OUTBOX_EVERY_MS = 200;
const ANSWER_WITHIN_MS = 15_000;

type State = 'pending' | 'reserved' | 'charged' | 'compensating' | 'active' | 'failed';
type Code = 'OUT_OF_STOCK' | 'PAYMENT_DECLINED' | 'PURCHASE_FAILED';
type Service = 'payments' | 'inventory' | 'notifications';

interface Row extends PurchaseRow {
  state: State;
  reservation_id: string | null;
  currency: string | null;
  refunded: boolean;
  failure_code: Code | null;
}

export async function setup(ctx: SetupContext): Promise<void> {
  await dbRetry.execute(() => ctx.pg.query(`
    CREATE TABLE IF NOT EXISTS purchases (
      request_id      TEXT PRIMARY KEY,
      user_id         TEXT NOT NULL,
      product_id      TEXT NOT NULL,
      subscription_id TEXT NOT NULL UNIQUE,
      state           TEXT NOT NULL,
      reservation_id  TEXT,
      amount          INTEGER,
      currency        TEXT,
      charge_id       TEXT,
      refunded        BOOLEAN NOT NULL DEFAULT false,
      failure_code    TEXT,
      locked_by       TEXT,
      locked_until    TIMESTAMPTZ,
      updated_at      TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
    );
    CREATE INDEX IF NOT EXISTS purchases_open ON purchases (updated_at) WHERE state NOT IN ('active', 'failed');
    CREATE TABLE IF NOT EXISTS confirmations (
      request_id   TEXT PRIMARY KEY REFERENCES purchases (request_id),
      message      JSONB NOT NULL,
      tries        INTEGER NOT NULL DEFAULT 0,
      due_at       TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
      locked_until TIMESTAMPTZ,
      delivered_at TIMESTAMPTZ,
      rejected     TEXT
    );
    CREATE INDEX IF NOT EXISTS confirmations_due ON confirmations (due_at) WHERE delivered_at IS NULL AND rejected IS NULL;
  `));
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP with policies.

/** A failure worth another attempt: no answer, 5xx, 429, 409 request_in_progress. */
class Transient extends Error {
  constructor(message: string, readonly retryAfterMs?: number) {
    super(message);
  }
}
interface Answer {
  status: number;
  body: any;
}

const transient = (err: Error) => err instanceof Transient || err instanceof TaskCancelledError || err instanceof BrokenCircuitError;

/** The library's exponential backoff, never shorter than what the last answer's Retry-After asked for. */
function honouringRetryAfter(inner: IBackoffFactory<unknown>): IBackoffFactory<IRetryBackoffContext<unknown>> {
  const told = (ctx: IRetryBackoffContext<unknown>) => ('error' in ctx.result && ctx.result.error instanceof Transient ? (ctx.result.error.retryAfterMs ?? 0) : 0);
  const step = (b: IBackoff<unknown>, ctx: IRetryBackoffContext<unknown>): IBackoff<IRetryBackoffContext<unknown>> => ({
    duration: Math.max(b.duration, told(ctx)),
    next: (c) => step(b.next(c), c),
  });
  return { next: (ctx) => step(inner.next(ctx), ctx) };
}

async function attempt(url: string, method: 'POST' | 'DELETE', key: string, body: unknown, signal: AbortSignal): Promise<Answer> {
  let res: Response;
  try {
    res = await fetch(url, { method, headers: { 'content-type': 'application/json', 'idempotency-key': key }, body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch (err) {
    throw new Transient(`${method} ${url}: ${(err as Error).message}`);
  }
  const text = await res.text().catch(() => '');
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = { raw: text };
  }
  if (res.status >= 500 || res.status === 429 || (res.status === 409 && json?.code === 'request_in_progress')) {
    const ms = Number(res.headers.get('retry-after-ms'));
    const s = Number(res.headers.get('retry-after'));
    throw new Transient(`${method} ${url}: ${res.status}`, ms > 0 ? ms : s > 0 ? s * 1000 : undefined);
  }
  return { status: res.status, body: json };
}

/** Database errors worth another try (no connection to be had, one lost, a conflict): the library retries them too. */
const dbRetry = retry(handleWhen(transientDb), { maxAttempts: 30, backoff: new ExponentialBackoff(BACKOFF) });

export default async function create(ctx: AppContext): Promise<SubscriptionService & { stop(): void }> {
  const pg: Pool = ctx.pg;
  const me = `i${ctx.instance}-${randomUUID().slice(0, 8)}`;
  let stopped = false;

  // One breaker per service, shared by every call of this process to it (that is what makes it useful).
  const breaker = (name: Service) => {
    const b = circuitBreaker(handleWhen(transient), { halfOpenAfter: 500, breaker: new SamplingBreaker({ threshold: 0.9, duration: 2_000, minimumRps: 5 }) });
    b.onBreak(() => ctx.log(`${name}: circuit open`));
    b.onReset(() => ctx.log(`${name}: circuit closed`));
    return b;
  };
  const breakers: Record<Service, ReturnType<typeof breaker>> = { payments: breaker('payments'), inventory: breaker('inventory'), notifications: breaker('notifications') };
  const perAttempt = timeout(ATTEMPT_TIMEOUT_MS, TimeoutStrategy.Aggressive);
  const retrying = retry(handleWhen(transient), { maxAttempts: 500, backoff: honouringRetryAfter(new ExponentialBackoff(BACKOFF)) });
  const withRetries: Record<Service, IPolicy> = {
    payments: wrap(retrying, breakers.payments, perAttempt),
    inventory: wrap(retrying, breakers.inventory, perAttempt),
    notifications: wrap(retrying, breakers.notifications, perAttempt),
  };
  const once: IPolicy = wrap(breakers.notifications, perAttempt);

  /** A remote step: retried by the policies until it answers for real, or `stop` aborts (lease lost, shutdown). */
  const call = (service: Service, path: string, method: 'POST' | 'DELETE', key: string, body: unknown, stop: AbortSignal): Promise<Answer> =>
    withRetries[service].execute(({ signal }) => attempt(ctx.services[service] + path, method, key, body, signal), stop) as Promise<Answer>;

  // -------------------------------------------------------------------------------------------------------------
  // The saga: per state, its remote call and where each answer leads.

  const load = (rid: string) => loadPurchase<Row>(pg, rid);
  async function move(row: Row, fields: Partial<Row>): Promise<Row> {
    const cols = Object.keys(fields);
    const r = await pg.query<Row>(
      `UPDATE purchases SET ${cols.map((c, i) => `${c} = $${i + 3}`).join(', ')}, updated_at = clock_timestamp() WHERE request_id = $1 AND state = $2 RETURNING *`,
      [row.request_id, row.state, ...cols.map((c) => (fields as Record<string, unknown>)[c])],
    );
    return r.rows[0] ?? (await load(row.request_id))!; // someone else moved it: continue from where they got
  }
  async function activate(row: Row): Promise<Row> {
    const client = await pg.connect();
    try {
      await client.query('BEGIN');
      const r = await client.query<Row>(`UPDATE purchases SET state = 'active', updated_at = clock_timestamp() WHERE request_id = $1 AND state = 'charged' RETURNING *`, [row.request_id]);
      if (r.rows[0]) await client.query('INSERT INTO confirmations (request_id, message) VALUES ($1, $2) ON CONFLICT DO NOTHING', [row.request_id, confirmation(row)]);
      await client.query('COMMIT');
      return r.rows[0] ?? (await load(row.request_id))!;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  const steps: Partial<Record<State, (row: Row, stop: AbortSignal) => Promise<Row>>> = {
    async pending(row, stop) {
      const a = await call('inventory', '/reservations', 'POST', `${row.request_id}:reserve`, { productId: row.product_id, quantity: 1 }, stop);
      if (a.status === 201) return move(row, { state: 'reserved', reservation_id: a.body.id, amount: a.body.amount, currency: a.body.currency });
      if (a.status === 409 || a.status === 404) return move(row, { state: 'failed', failure_code: 'OUT_OF_STOCK' });
      throw new Error(`reserve answered ${a.status}`);
    },
    async reserved(row, stop) {
      const body = { customerId: row.user_id, amount: row.amount, currency: row.currency, metadata: { requestId: row.request_id } };
      const a = await call('payments', '/charges', 'POST', `${row.request_id}:charge`, body, stop);
      if (a.status === 201) return move(row, { state: 'charged', charge_id: a.body.id });
      if (a.status === 402) return move(row, { state: 'compensating', failure_code: 'PAYMENT_DECLINED' });
      throw new Error(`charge answered ${a.status}`);
    },
    async charged(row, stop) {
      const a = await call('inventory', `/reservations/${encodeURIComponent(row.reservation_id!)}/commit`, 'POST', `${row.request_id}:commit`, undefined, stop);
      if (a.status === 200) return activate(row);
      if (a.status === 409) return move(row, { state: 'compensating', failure_code: 'PURCHASE_FAILED' });
      throw new Error(`commit answered ${a.status}`);
    },
    async compensating(row, stop) {
      if (row.charge_id && !row.refunded) {
        const a = await call('payments', '/refunds', 'POST', `${row.request_id}:refund`, { chargeId: row.charge_id }, stop);
        if (a.status !== 201 && a.status !== 409) throw new Error(`refund answered ${a.status}`);
        return move(row, { refunded: true });
      }
      if (row.reservation_id) {
        const a = await call('inventory', `/reservations/${encodeURIComponent(row.reservation_id)}`, 'DELETE', `${row.request_id}:release`, undefined, stop);
        if (a.status !== 200 && a.status !== 404) throw new Error(`release answered ${a.status}`);
      }
      return move(row, { state: 'failed' });
    },
  };

  // -------------------------------------------------------------------------------------------------------------
  // Leases: one worker per purchase, across processes; a dead worker's lease runs out.

  const running = new Map<string, Promise<void>>();
  const lease = `locked_until = clock_timestamp() + ${LEASE_MS} * interval '1 millisecond'`;
  async function claim(rid: string): Promise<Row | null> {
    const r = await pg.query<Row>(`UPDATE purchases SET locked_by = $2, ${lease} WHERE request_id = $1 AND state NOT IN ('active', 'failed') AND (locked_by IS NULL OR locked_by = $2 OR locked_until < clock_timestamp()) RETURNING *`, [rid, me]);
    return r.rows[0] ?? null;
  }
  function drive(first: Row): Promise<void> {
    const known = running.get(first.request_id);
    if (known) return known;
    const rid = first.request_id;
    const lost = new AbortController();
    const heartbeat = setInterval(() => {
      pg.query(`UPDATE purchases SET ${lease} WHERE request_id = $1 AND locked_by = $2`, [rid, me])
        .then((r) => r.rowCount === 0 && lost.abort())
        .catch(() => {});
    }, HEARTBEAT_MS);
    const p = (async () => {
      let row = first;
      try {
        while (row.state !== 'active' && row.state !== 'failed') {
          if (lost.signal.aborted || stopped) return;
          row = await steps[row.state]!(row, lost.signal);
        }
      } finally {
        clearInterval(heartbeat);
        running.delete(rid);
        await pg.query('UPDATE purchases SET locked_by = NULL, locked_until = NULL WHERE request_id = $1 AND locked_by = $2', [rid, me]).catch(() => {});
      }
    })();
    running.set(rid, p);
    p.catch((err) => ctx.log('purchase step failed; the sweep will resume it', { requestId: rid, error: (err as Error).message }));
    return p;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Background: the recovery sweep and the confirmation outbox, on every instance.

  async function sweep(): Promise<void> {
    const r = await pg.query<Row>(
      `UPDATE purchases SET locked_by = $1, ${lease}
        WHERE request_id IN (SELECT request_id FROM purchases
                              WHERE state NOT IN ('active', 'failed') AND (locked_by IS NULL OR locked_until < clock_timestamp())
                              ORDER BY updated_at LIMIT 20 FOR UPDATE SKIP LOCKED)
        RETURNING *`,
      [me],
    );
    for (const row of r.rows) {
      ctx.log('resuming an unfinished purchase', { requestId: row.request_id, state: row.state });
      drive(row).catch(() => {});
    }
  }

  async function deliver(): Promise<void> {
    const due = await pg.query<{ request_id: string; message: unknown; tries: number }>(
      `UPDATE confirmations SET locked_until = clock_timestamp() + interval '3 seconds'
        WHERE request_id IN (SELECT request_id FROM confirmations
                              WHERE delivered_at IS NULL AND rejected IS NULL AND due_at <= clock_timestamp()
                                AND (locked_until IS NULL OR locked_until < clock_timestamp())
                              ORDER BY due_at LIMIT 50 FOR UPDATE SKIP LOCKED)
        RETURNING request_id, message, tries`,
    );
    await Promise.all(
      due.rows.map(async (m) => {
        try {
          const a = (await once.execute(({ signal }) => attempt(`${ctx.services.notifications}/messages`, 'POST', `${m.request_id}:notify`, m.message, signal))) as Answer;
          if (a.status >= 200 && a.status < 300) await pg.query('UPDATE confirmations SET delivered_at = clock_timestamp(), locked_until = NULL WHERE request_id = $1', [m.request_id]);
          else await pg.query('UPDATE confirmations SET rejected = $2, locked_until = NULL WHERE request_id = $1', [m.request_id, `${a.status} ${JSON.stringify(a.body)}`]);
        } catch (err) {
          // One attempt per turn; the next one is due after the library's backoff (or Retry-After, if longer).
          const [jitter] = fullJitterGenerator(m.tries, BACKOFF);
          const wait = Math.max(jitter, err instanceof Transient ? (err.retryAfterMs ?? 0) : 0);
          await pg.query(`UPDATE confirmations SET tries = tries + 1, due_at = clock_timestamp() + $2 * interval '1 millisecond', locked_until = NULL WHERE request_id = $1`, [m.request_id, wait]);
        }
      }),
    );
  }

  every(ctx, SWEEP_EVERY_MS, 'sweep', () => stopped, sweep);
  every(ctx, OUTBOX_EVERY_MS, 'confirmations', () => stopped, deliver);

  return {
    async createSubscriptionWithRetry(req) {
      const { requestId, userId, productId } = checkRequest(req);
      const deadline = Date.now() + ANSWER_WITHIN_MS;
      await dbRetry.execute(() =>
        pg.query(
          `INSERT INTO purchases (request_id, user_id, product_id, subscription_id, state, locked_by, locked_until)
           VALUES ($1, $2, $3, $4, 'pending', $5, clock_timestamp() + ${LEASE_MS} * interval '1 millisecond') ON CONFLICT (request_id) DO NOTHING`,
          [requestId, userId, productId, `sub_${randomUUID()}`, me],
        ),
      );
      for (;;) {
        const row = await dbRetry.execute(() => load(requestId));
        if (!row) throw new Error(`purchase ${requestId} vanished`);
        if (row.state === 'active') return toPurchase(row);
        if (row.state === 'failed') throw codeError(row.failure_code ?? 'PURCHASE_FAILED', `purchase ${requestId} failed: ${row.failure_code}`);
        if (Date.now() >= deadline) throw new Error(`purchase ${requestId} is still in progress; call again with the same requestId`);
        const claimed = running.has(requestId) ? null : await dbRetry.execute(() => claim(requestId));
        const mine = running.get(requestId) ?? (claimed ? drive(claimed) : null);
        if (mine) await Promise.race([mine.catch(() => sleep(100)), sleep(Math.max(0, deadline - Date.now()))]);
        else await sleep(100 + Math.random() * 100); // another instance drives it: wait for the outcome
      }
    },

    async getSubscription(requestId) {
      return dbRetry.execute(() => activePurchase(pg, requestId));
    },

    stop() {
      stopped = true;
    },
  };
}

export async function close(service: { stop(): void }): Promise<void> {
  service.stop();
}
