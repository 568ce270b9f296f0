// Shared by the notification-fanout module references (not a reference itself: self-test skips `_`-prefixed
// entries): the parts that are not the delivery strategy — the contract's types, the tables (users with their
// addresses and preferences, the limits, events, deliveries, dead letters, SMS slots, provider pauses), an
// idempotent publish that stores the event and its deliveries, resolved from the user's preferences, in one
// statement, one provider call read into an outcome, the backoff, the per-user SMS admission and the dead-letter
// list. How deliveries are claimed, retried
// and recovered stays in each reference.
//
// (The BullMQ reference is a submission folder of its own, with its own package.json: the bundle of a submission
// may take files only from inside its folder, so it carries its own copy of the few parts it needs.)
import type { PoolClient } from 'pg';
import type { AppContext, SetupContext } from 'gauntlet';

export type EventKind = 'created' | 'renewed' | 'payment-failed' | 'cancelled';
export type Channel = 'email' | 'sms' | 'push';
export type Preferences = Record<EventKind, Channel[]>;
export interface Recipient { userId: string; email: string; phone: string; pushToken: string; preferences: Preferences }
export interface SubscriptionEvent { eventId: string; kind: EventKind; userId: string; occurredAt: string }
export interface DeadLetter { eventId: string; channel: Channel; reason: string }

export const CHANNELS: readonly Channel[] = ['email', 'sms', 'push'];
export const KINDS: readonly EventKind[] = ['created', 'renewed', 'payment-failed', 'cancelled'];

type Pool = AppContext['pg'];

/** A delivery that failed this many attempts (5xx, reset, timeout) is given up (429 and 409 are not failures). */
export const MAX_ATTEMPTS = 10;
/** Per provider call: a held response is abandoned after this (the contract allows at most 5 s). */
export const CALL_TIMEOUT_MS = 2000;
/**
 * Backoff between failed attempts: exponential, capped, with "equal jitter" (half fixed, half random). The contract
 * asks for retries over at least 5 s before 10 failures may be given up, and for giving up within 20 s: the 9 gaps
 * are 50–100, 100–200, 200–400, 400–800, 800–1600 ms and then 1–2 s, 5.55–11.1 s in all.
 */
const BACKOFF_BASE_MS = 100;
const BACKOFF_CAP_MS = 2000;
export function backoffMs(failedAttempts: number): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, failedAttempts - 1));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}
/**
 * The per-user SMS window, a little longer than the contract's 60 s: an SMS is counted from the moment its attempt
 * is admitted, and the provider may record it up to a call timeout later.
 */
const SMS_WINDOW_S = 65;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A provider URL from the context (`ctx.services.email`, `.sms`, `.push`). */
export function providerUrl(ctx: AppContext, channel: Channel): string {
  return (ctx.services as unknown as Record<Channel, string>)[channel];
}

export async function createTables(ctx: SetupContext): Promise<void> {
  await ctx.pg.query(`
    CREATE TABLE IF NOT EXISTS users (
      user_id     text PRIMARY KEY,
      email       text,
      phone       text,
      push_token  text,
      preferences jsonb NOT NULL DEFAULT '{}'::jsonb
    );
    CREATE TABLE IF NOT EXISTS settings (
      key   text PRIMARY KEY,
      value jsonb NOT NULL
    );
    CREATE TABLE IF NOT EXISTS events (
      event_id    text PRIMARY KEY,
      kind        text NOT NULL,
      user_id     text NOT NULL,
      occurred_at text,
      created_at  timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE IF NOT EXISTS deliveries (
      event_id         text NOT NULL,
      channel          text NOT NULL,
      user_id          text NOT NULL,
      kind             text NOT NULL,
      to_addr          text NOT NULL,
      status           text NOT NULL DEFAULT 'pending',      -- pending | sent | dead
      attempts         int NOT NULL DEFAULT 0,                -- failed attempts (5xx, reset, timeout)
      next_attempt_at  timestamptz NOT NULL DEFAULT now(),
      lease_owner      text,
      lease_until      timestamptz NOT NULL DEFAULT '-infinity',
      first_attempt_at timestamptz,
      sent_at          timestamptz,
      last_error       text,
      PRIMARY KEY (event_id, channel)
    );
    CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (channel, next_attempt_at) WHERE status = 'pending';
    CREATE TABLE IF NOT EXISTS dead_letters (
      event_id   text NOT NULL,
      channel    text NOT NULL,
      reason     text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (event_id, channel)
    );
    -- One row per SMS admitted under the per-user limit (kept while it may still be sent).
    CREATE TABLE IF NOT EXISTS sms_slots (
      event_id   text PRIMARY KEY,
      user_id    text NOT NULL,
      attempt_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX IF NOT EXISTS sms_slots_user ON sms_slots (user_id, attempt_at);
    -- The per-user SMS admission as one statement: the per-user lock is held only while it runs (a transaction kept
    -- open across round trips would hold it for as long as its instance takes to die). Each statement inside sees
    -- what the previous holder committed.
    CREATE OR REPLACE FUNCTION sms_admit(p_user text, p_event text, p_limit double precision, p_window_s int)
    RETURNS text LANGUAGE plpgsql AS $fn$
    DECLARE
      n bigint;
    BEGIN
      PERFORM pg_advisory_xact_lock(hashtextextended('sms:' || p_user, 0));
      UPDATE sms_slots SET attempt_at = clock_timestamp() WHERE event_id = p_event;
      IF FOUND THEN RETURN 'ok'; END IF;  -- admitted before: a retry keeps its slot
      SELECT count(*) INTO n FROM sms_slots
       WHERE user_id = p_user AND attempt_at > clock_timestamp() - make_interval(secs => p_window_s);
      IF n >= p_limit THEN RETURN 'over'; END IF;
      INSERT INTO sms_slots (event_id, user_id, attempt_at) VALUES (p_event, p_user, clock_timestamp());
      RETURN 'ok';
    END
    $fn$;
    -- A 429's Retry-After per instance and provider, so a restarted instance still waits it out.
    CREATE TABLE IF NOT EXISTS provider_pauses (
      instance int NOT NULL,
      channel  text NOT NULL,
      until    timestamptz NOT NULL,
      PRIMARY KEY (instance, channel)
    );
  `);
  const scenario = ctx.scenario as { users?: Recipient[]; limits?: { smsPerUserPerMinute?: number } };
  const users = scenario.users ?? [];
  // The users and the limits together (setup may run again: IF NOT EXISTS; the starting preferences win then too).
  await inTransaction(ctx.pg, async (client) => {
    await client.query(
      `INSERT INTO users (user_id, email, phone, push_token, preferences)
       SELECT u->>'userId', u->>'email', u->>'phone', u->>'pushToken', COALESCE(u->'preferences', '{}'::jsonb)
         FROM jsonb_array_elements($1::jsonb) AS u
       ON CONFLICT (user_id) DO UPDATE SET email = EXCLUDED.email, phone = EXCLUDED.phone,
         push_token = EXCLUDED.push_token, preferences = EXCLUDED.preferences`,
      [JSON.stringify(users)],
    );
    await client.query(
      `INSERT INTO settings (key, value) VALUES ('limits', $1::jsonb) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
      [JSON.stringify(scenario.limits ?? {})],
    );
  });
}

/**
 * Open up to `n` connections of `pool` now (n queries at once), so the first burst of work does not wait for
 * connection set-up (TCP and SCRAM authentication cost tens to hundreds of milliseconds each on a busy machine).
 * Best effort: a server out of connection slots only means the pool grows later.
 */
export async function warmUp(pool: Pool, n: number): Promise<void> {
  await Promise.allSettled(Array.from({ length: n }, () => pool.query('SELECT 1')));
}

/** `fn`, tried again on any error (a database with no free connection slot, a dropped connection) a few times. */
export async function withRetries<T>(fn: () => Promise<T>, tries = 10): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= tries) throw err;
      await sleep(Math.min(1000, 100 * attempt) * (0.5 + Math.random() / 2));
    }
  }
}

export async function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (err) {
    try { await client.query('ROLLBACK'); } catch { /* the connection is gone */ }
    client.release(err as Error); // a possibly broken connection is discarded, not reused
    throw err;
  }
}

/** The contract's checks on an event; an error (an indeterminate rejection) when it is not one. */
export function checkEvent(event: SubscriptionEvent): SubscriptionEvent {
  const e = (event ?? {}) as Partial<SubscriptionEvent>;
  if (typeof e.eventId !== 'string' || !e.eventId) throw new Error('event.eventId must be a non-empty string');
  if (typeof e.userId !== 'string' || !e.userId) throw new Error('event.userId must be a non-empty string');
  if (!KINDS.includes(e.kind as EventKind)) throw new Error(`unknown event kind ${JSON.stringify(e.kind)}`);
  return e as SubscriptionEvent;
}

/**
 * Accept an event for good, in one statement (so one round trip, and atomic without an explicit transaction): the
 * event (idempotent on eventId) and one pending delivery per channel its user wants for its kind, resolved from the
 * preferences committed when the statement starts — those of every setPreferences acknowledged before this call —
 * with the address of that moment. A retry inserts nothing: the event exists, so no delivery is resolved again.
 */
export async function acceptEvent(pg: Pool, event: SubscriptionEvent): Promise<void> {
  await pg.query(
    `WITH ev AS (
       INSERT INTO events (event_id, kind, user_id, occurred_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (event_id) DO NOTHING
       RETURNING event_id, kind, user_id
     ), wanted AS (
       SELECT DISTINCT ev.event_id, c.channel, ev.user_id, ev.kind,
              CASE c.channel WHEN 'email' THEN u.email WHEN 'sms' THEN u.phone ELSE u.push_token END AS to_addr
         FROM ev
         JOIN users u ON u.user_id = ev.user_id
         CROSS JOIN LATERAL jsonb_array_elements_text(
           CASE jsonb_typeof(u.preferences -> ev.kind) WHEN 'array' THEN u.preferences -> ev.kind ELSE '[]'::jsonb END
         ) AS c(channel)
        WHERE c.channel IN ('email', 'sms', 'push')
     )
     INSERT INTO deliveries (event_id, channel, user_id, kind, to_addr)
     SELECT event_id, channel, user_id, kind, to_addr FROM wanted WHERE to_addr IS NOT NULL AND to_addr <> ''
     ON CONFLICT (event_id, channel) DO NOTHING`,
    [event.eventId, event.kind, event.userId, event.occurredAt ?? null],
  );
}

export async function savePreferences(pg: Pool, userId: string, preferences: Preferences): Promise<void> {
  if (typeof userId !== 'string' || !userId) throw new Error('userId must be a non-empty string');
  if (!preferences || typeof preferences !== 'object' || Array.isArray(preferences)) throw new Error('preferences must be an object');
  // Stored as given, read per kind by wantedChannels (unknown channels ignored there).
  await pg.query(
    `INSERT INTO users (user_id, preferences) VALUES ($1, $2::jsonb)
     ON CONFLICT (user_id) DO UPDATE SET preferences = EXCLUDED.preferences`,
    [userId, JSON.stringify(preferences)],
  );
}

export async function deadLetters(pg: Pool): Promise<DeadLetter[]> {
  const { rows } = await pg.query<{ event_id: string; channel: Channel; reason: string }>(
    `SELECT event_id, channel, reason FROM dead_letters ORDER BY created_at, event_id, channel`);
  return rows.map((r) => ({ eventId: r.event_id, channel: r.channel, reason: r.reason }));
}

/** Record a delivery as given up: listed once (the key is (eventId, channel)). */
export async function recordDeadLetter(client: PoolClient, eventId: string, channel: Channel, reason: string): Promise<void> {
  await client.query(
    `INSERT INTO dead_letters (event_id, channel, reason) VALUES ($1, $2, $3) ON CONFLICT (event_id, channel) DO NOTHING`,
    [eventId, channel, reason]);
  // An SMS given up was not sent: its slot under the per-user limit goes back.
  if (channel === 'sms') await client.query(`DELETE FROM sms_slots WHERE event_id = $1`, [eventId]);
}

export async function smsLimit(pg: Pool): Promise<number> {
  const { rows } = await pg.query<{ value: { smsPerUserPerMinute?: unknown } }>(`SELECT value FROM settings WHERE key = 'limits'`);
  const n = Number(rows[0]?.value?.smsPerUserPerMinute);
  return Number.isFinite(n) && n >= 0 ? n : Infinity;
}

/**
 * The per-user SMS limit, across instances (sms_admit, made by setup): an SMS already admitted keeps its slot (its
 * attempt time moves on); a new one is admitted only while the user has fewer than `limit` slots in the window.
 * 'over': it must not be sent.
 */
export async function admitSms(pg: Pool, userId: string, eventId: string, limit: number): Promise<'ok' | 'over'> {
  const { rows } = await pg.query<{ verdict: 'ok' | 'over' }>(
    `SELECT sms_admit($1, $2, $3, $4) AS verdict`, [userId, eventId, Number.isFinite(limit) ? limit : 1e9, SMS_WINDOW_S]);
  return rows[0].verdict;
}

/** What one provider call came to. */
export type Outcome =
  | { kind: 'sent' }
  | { kind: 'give-up'; reason: string }              // 422 invalid_recipient (or another final 4xx)
  | { kind: 'rate-limited'; retryAfterMs: number }   // 429: the provider, for this instance, for that long
  | { kind: 'in-progress' }                          // 409 request_in_progress: the first call still runs
  | { kind: 'failed'; error: string };               // 5xx, reset, timeout: transient, counted

function retryAfterMs(res: Response): number {
  const ms = Number(res.headers.get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const s = Number(res.headers.get('retry-after'));
  return Number.isFinite(s) && s > 0 ? s * 1000 : 1000;
}

/** `POST {provider}/send` for one delivery, with the key that stays the same across retries, instances and restarts. */
export async function sendOnce(baseUrl: string, d: { eventId: string; channel: Channel; kind: EventKind; to: string }): Promise<Outcome> {
  try {
    const res = await fetch(`${baseUrl}/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': `${d.eventId}:${d.channel}` },
      body: JSON.stringify({ to: d.to, template: d.kind, data: { eventId: d.eventId } }),
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
    const body = (await res.json().catch(() => null)) as { code?: unknown } | null;
    const code = typeof body?.code === 'string' ? body.code : '';
    if (res.status >= 200 && res.status < 300) return { kind: 'sent' };
    if (res.status === 429) return { kind: 'rate-limited', retryAfterMs: retryAfterMs(res) };
    if (res.status === 409 && code === 'request_in_progress') return { kind: 'in-progress' };
    if (res.status === 422 && code === 'invalid_recipient') return { kind: 'give-up', reason: 'invalid-recipient' };
    if (res.status >= 500 || res.status === 408) return { kind: 'failed', error: `HTTP ${res.status} ${code}`.trim() };
    return { kind: 'give-up', reason: `rejected: HTTP ${res.status} ${code}`.trim() };
  } catch (err) {
    // A reset, a refused connection or our own timeout: the outcome is unknown, the same key makes a retry safe.
    return { kind: 'failed', error: String((err as Error)?.message ?? err).slice(0, 200) };
  }
}
