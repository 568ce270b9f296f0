// Reference (plain, textbook): written apart from gauntlet, from the contract and the challenge README alone. publish
// stores the event and its deliveries (from the preferences at that moment) in one transaction; every instance polls
// the deliveries table every 100 ms, one loop per channel, claiming a batch with FOR UPDATE SKIP LOCKED and a 5 s
// lease, and sends with the Idempotency-Key `<eventId>:<channel>`. Capped exponential backoff with jitter (equal
// jitter, so that 10 attempts span the README's "at least 5 s"), a 429 pauses that provider in this instance for
// Retry-After, dead letter after 10 attempts or on a 422, and the per-user SMS limit counted in PostgreSQL. It must
// pass every check within the published bounds.
//
// notification-fanout: durable publish -> polled outbox of deliveries -> channel providers.
import type { PoolClient } from 'pg';
import type { AppContext, SetupContext } from 'gauntlet';

type EventKind = 'created' | 'renewed' | 'payment-failed' | 'cancelled';
type Channel = 'email' | 'sms' | 'push';
type Preferences = Record<EventKind, Channel[]>;
interface Recipient { userId: string; email: string; phone: string; pushToken: string; preferences: Preferences }
interface SubscriptionEvent { eventId: string; kind: EventKind; userId: string; occurredAt: string }
interface DeadLetter { eventId: string; channel: Channel; reason: string }
interface Scenario { users: Recipient[]; limits: { smsPerUserPerMinute: number } }

type Pool = AppContext['pg'];
type Ctx = AppContext & { services: AppContext['services'] & Record<Channel, string> };

const CHANNELS: Channel[] = ['email', 'sms', 'push'];
const POLL_MS = 100;
const BATCH = 10;
const LEASE_S = 5;                 // a claimed delivery is retried by anyone after this (a crashed instance's work)
const HTTP_TIMEOUT_MS = 2000;
const MAX_ATTEMPTS = 10;           // CONTRACT: give up after at most 10 attempts (429 not counted)
const BACKOFF_BASE_MS = 100;      // 9 gaps of equal-jittered 200, 400 .. 2000 ms: 6.5 s to 13 s in all
const BACKOFF_CAP_MS = 2000;
const SMS_WINDOW_S = 60;
const SMS_WINDOW_MARGIN_S = HTTP_TIMEOUT_MS / 1000; // an attempt may be accepted up to its timeout after it started

interface Delivery { event_id: string; channel: Channel; user_id: string; kind: EventKind; to_address: string; attempts: number }

export async function setup(ctx: SetupContext): Promise<void> {
  const scenario = ctx.scenario as unknown as Scenario;
  await ctx.pg.query(`
    CREATE TABLE IF NOT EXISTS settings (
      key   text PRIMARY KEY,
      value jsonb NOT NULL
    );
    CREATE TABLE IF NOT EXISTS users (
      user_id     text PRIMARY KEY,
      email       text NOT NULL,
      phone       text NOT NULL,
      push_token  text NOT NULL,
      preferences jsonb NOT NULL
    );
    CREATE TABLE IF NOT EXISTS events (
      event_id     text PRIMARY KEY,
      kind         text NOT NULL,
      user_id      text NOT NULL,
      occurred_at  text NOT NULL,
      published_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE IF NOT EXISTS deliveries (
      event_id        text NOT NULL REFERENCES events (event_id),
      channel         text NOT NULL,
      user_id         text NOT NULL,
      kind            text NOT NULL,
      to_address      text NOT NULL,
      status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead')),
      attempts        int NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      last_error      text,
      sent_at         timestamptz,
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
    CREATE TABLE IF NOT EXISTS sms_sends (
      event_id        text PRIMARY KEY,
      user_id         text NOT NULL,
      last_attempt_at timestamptz NOT NULL
    );
    CREATE INDEX IF NOT EXISTS sms_sends_user ON sms_sends (user_id, last_attempt_at);
  `);
  await inTransaction(ctx.pg, async (client) => {
    await client.query(
      `INSERT INTO settings (key, value) VALUES ('smsPerUserPerMinute', $1::jsonb)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
      [JSON.stringify(scenario.limits.smsPerUserPerMinute)]);
    for (const u of scenario.users) {
      await client.query(
        `INSERT INTO users (user_id, email, phone, push_token, preferences) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (user_id) DO UPDATE SET email = EXCLUDED.email, phone = EXCLUDED.phone,
                push_token = EXCLUDED.push_token, preferences = EXCLUDED.preferences`,
        [u.userId, u.email, u.phone, u.pushToken, JSON.stringify(u.preferences)]);
    }
  });
}

// ---------- helpers ----------

async function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
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

function backoffMs(attempt: number): number {
  // capped exponential backoff with equal jitter: half the step for sure, the other half at random
  const step = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
  return step / 2 + Math.random() * (step / 2);
}

function retryAfterMs(res: Response): number {
  const ms = Number(res.headers.get('retry-after-ms'));
  if (ms > 0) return ms;
  const s = Number(res.headers.get('retry-after'));
  return s > 0 ? s * 1000 : 1000;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type SendResult =
  | { kind: 'sent' }
  | { kind: 'final'; error: string }                     // 422 (or another 4xx): give up
  | { kind: 'rate-limited'; waitMs: number }             // 429: pause the provider, not counted
  | { kind: 'busy'; error: string }                      // 409 request_in_progress: the key is still in flight
  | { kind: 'transient'; error: string };                // 5xx, reset, timeout

export default async function create(ctx: AppContext) {
  const { pg, log } = ctx;
  const services = (ctx as Ctx).services;
  const { rows: [limitRow] } = await pg.query<{ value: number }>(`SELECT value FROM settings WHERE key = $1`, ['smsPerUserPerMinute']);
  const smsLimit = Number(limitRow?.value ?? 0);
  const pausedUntil: Record<Channel, number> = { email: 0, sms: 0, push: 0 };
  let stopped = false;

  // ---------- publish ----------

  async function publish(event: SubscriptionEvent): Promise<void> {
    await inTransaction(pg, async (client) => {
      const inserted = await client.query(
        `INSERT INTO events (event_id, kind, user_id, occurred_at) VALUES ($1, $2, $3, $4) ON CONFLICT (event_id) DO NOTHING`,
        [event.eventId, event.kind, event.userId, String(event.occurredAt)]);
      if (inserted.rowCount === 0) return; // a retry of an accepted event: nothing new
      const { rows } = await client.query<{ email: string; phone: string; push_token: string; preferences: Preferences }>(
        `SELECT email, phone, push_token, preferences FROM users WHERE user_id = $1`, [event.userId]);
      const user = rows[0];
      if (!user) {
        log('event for an unknown user: nothing to send', { eventId: event.eventId, userId: event.userId });
        return;
      }
      const wanted = (user.preferences[event.kind] ?? []).filter((c) => CHANNELS.includes(c));
      const address: Record<Channel, string> = { email: user.email, sms: user.phone, push: user.push_token };
      for (const channel of new Set(wanted)) {
        await client.query(
          `INSERT INTO deliveries (event_id, channel, user_id, kind, to_address) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (event_id, channel) DO NOTHING`,
          [event.eventId, channel, event.userId, event.kind, address[channel]]);
      }
    });
  }

  async function setPreferences(userId: string, preferences: Preferences): Promise<void> {
    const res = await pg.query(`UPDATE users SET preferences = $2 WHERE user_id = $1`, [userId, JSON.stringify(preferences)]);
    if (res.rowCount === 0) log('preferences for an unknown user ignored', { userId });
  }

  // ---------- worker ----------

  async function send(d: Delivery): Promise<SendResult> {
    try {
      const res = await fetch(`${services[d.channel]}/send`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `${d.event_id}:${d.channel}` },
        body: JSON.stringify({ to: d.to_address, template: d.kind, data: { eventId: d.event_id } }),
        signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
      });
      const text = await res.text().catch(() => '');
      if (res.status >= 200 && res.status < 300) return { kind: 'sent' };
      if (res.status === 429) return { kind: 'rate-limited', waitMs: retryAfterMs(res) };
      if (res.status === 409) return { kind: 'busy', error: `HTTP 409 ${text.slice(0, 100)}` };
      if (res.status >= 500 || res.status === 408) return { kind: 'transient', error: `HTTP ${res.status} ${text.slice(0, 100)}` };
      return { kind: 'final', error: `HTTP ${res.status} ${text.slice(0, 200)}` };
    } catch (err) {
      return { kind: 'transient', error: String(err) }; // reset or timeout: outcome unknown, retry with the same key
    }
  }

  async function deadLetter(client: PoolClient | Pool, d: Delivery, reason: string, attempts: number) {
    await client.query(
      `UPDATE deliveries SET status = 'dead', attempts = $3, last_error = $4 WHERE event_id = $1 AND channel = $2 AND status = 'pending'`,
      [d.event_id, d.channel, attempts, reason]);
    await client.query(
      `INSERT INTO dead_letters (event_id, channel, reason) VALUES ($1, $2, $3) ON CONFLICT (event_id, channel) DO NOTHING`,
      [d.event_id, d.channel, reason]);
    log('delivery given up', { eventId: d.event_id, channel: d.channel, reason });
  }

  /** The per-user SMS limit, counted in PostgreSQL under a lock on the user: true when this SMS may be sent now. */
  async function takeSmsSlot(d: Delivery): Promise<boolean> {
    return inTransaction(pg, async (client) => {
      await client.query(`SELECT 1 FROM users WHERE user_id = $1 FOR UPDATE`, [d.user_id]);
      const { rows: [{ n }] } = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM sms_sends
          WHERE user_id = $1 AND last_attempt_at > now() - make_interval(secs => $2) AND event_id <> $3`,
        [d.user_id, SMS_WINDOW_S + SMS_WINDOW_MARGIN_S, d.event_id]);
      if (n >= smsLimit) {
        await deadLetter(client, d, `sms limit of ${smsLimit} per user per minute reached`, d.attempts);
        return false;
      }
      await client.query(
        `INSERT INTO sms_sends (event_id, user_id, last_attempt_at) VALUES ($1, $2, now())
         ON CONFLICT (event_id) DO UPDATE SET last_attempt_at = now()`,
        [d.event_id, d.user_id]);
      return true;
    });
  }

  async function deliver(d: Delivery): Promise<void> {
    if (d.channel === 'sms' && !(await takeSmsSlot(d))) return;
    // Another send of this batch may have been told 429 meanwhile: then this one waits too.
    const r: SendResult = Date.now() < pausedUntil[d.channel]
      ? { kind: 'rate-limited', waitMs: pausedUntil[d.channel] - Date.now() }
      : await send(d);
    switch (r.kind) {
      case 'sent':
        await pg.query(
          `UPDATE deliveries SET status = 'sent', sent_at = now(), attempts = attempts + 1 WHERE event_id = $1 AND channel = $2 AND status = 'pending'`,
          [d.event_id, d.channel]);
        return;
      case 'final':
        await inTransaction(pg, (client) => deadLetter(client, d, r.error, d.attempts + 1));
        return;
      case 'rate-limited':
        if (Date.now() + r.waitMs > pausedUntil[d.channel]) {
          pausedUntil[d.channel] = Date.now() + r.waitMs;
          log('provider rate limited: pausing it', { channel: d.channel, waitMs: r.waitMs });
        }
        await pg.query(
          `UPDATE deliveries SET next_attempt_at = now() + make_interval(secs => $3), last_error = 'HTTP 429'
            WHERE event_id = $1 AND channel = $2 AND status = 'pending'`,
          [d.event_id, d.channel, r.waitMs / 1000]);
        return;
      case 'busy':
        // The first call with this key is still in flight at the provider: not a failed attempt, ask again later.
        await pg.query(
          `UPDATE deliveries SET next_attempt_at = now() + make_interval(secs => $3), last_error = $4
            WHERE event_id = $1 AND channel = $2 AND status = 'pending'`,
          [d.event_id, d.channel, Math.max(0.2, backoffMs(d.attempts)) / 1000, r.error]);
        return;
      case 'transient': {
        const attempts = d.attempts + 1;
        if (attempts >= MAX_ATTEMPTS) {
          await inTransaction(pg, (client) => deadLetter(client, d, `gave up after ${attempts} attempts: ${r.error}`, attempts));
          return;
        }
        await pg.query(
          `UPDATE deliveries SET attempts = $3, last_error = $4, next_attempt_at = now() + make_interval(secs => $5)
            WHERE event_id = $1 AND channel = $2 AND status = 'pending'`,
          [d.event_id, d.channel, attempts, r.error, backoffMs(attempts) / 1000]);
      }
    }
  }

  /** Claims due deliveries of one channel for LEASE_S seconds and sends them; the number claimed. */
  async function pollOnce(channel: Channel): Promise<number> {
    const { rows } = await pg.query<Delivery>(
      `UPDATE deliveries SET next_attempt_at = now() + make_interval(secs => $3)
        WHERE (event_id, channel) IN (
          SELECT event_id, channel FROM deliveries
           WHERE status = 'pending' AND channel = $1 AND next_attempt_at <= now()
           ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED)
        RETURNING event_id, channel, user_id, kind, to_address, attempts`,
      [channel, BATCH, LEASE_S]);
    await Promise.all(rows.map(async (d) => {
      try {
        await deliver(d);
      } catch (err) {
        // the lease runs out and the delivery is tried again (same key)
        log('delivery attempt failed to record', { eventId: d.event_id, channel, error: String(err) });
      }
    }));
    return rows.length;
  }

  const loops = CHANNELS.map(async (channel) => {
    while (!stopped) {
      let claimed = 0;
      try {
        if (Date.now() >= pausedUntil[channel]) claimed = await pollOnce(channel);
      } catch (err) {
        log('outbox poll failed', { channel, error: String(err) });
      }
      if (claimed < BATCH && !stopped) await sleep(POLL_MS);
    }
  });
  log('notification worker started', { instance: ctx.instance, smsPerUserPerMinute: smsLimit });

  return {
    publish,
    setPreferences,

    async getDeadLetters(): Promise<DeadLetter[]> {
      const { rows } = await pg.query<{ event_id: string; channel: Channel; reason: string }>(
        `SELECT event_id, channel, reason FROM dead_letters ORDER BY created_at, event_id, channel`);
      return rows.map((r) => ({ eventId: r.event_id, channel: r.channel, reason: r.reason }));
    },

    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

export async function close(service: { stop(): Promise<void> }): Promise<void> {
  await service.stop();
}
