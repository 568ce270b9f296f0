// Reference (outbox with SKIP LOCKED claims and leases): written apart from gauntlet, from the contract and the
// challenge README alone. `publish` inserts the event (idempotent on eventId) and its deliveries, resolved from the
// user's preferences, in one statement (atomic, one round trip), then returns: nothing waits on a provider. In
// every instance one loop per channel claims due deliveries (up to 8 in flight, claimed together in one statement)
// with FOR UPDATE SKIP LOCKED and a 5 s lease (a killed instance's claims are retried by the others once they
// lapse), and sends each with the Idempotency-Key `<eventId>:<channel>`, so a retry after a ghost success, a
// timeout or a crash replays instead of sending again. A 429 pauses that provider in this instance (and is kept in
// PostgreSQL, so a restarted instance still waits it out); a 5xx, reset or timeout backs off exponentially with
// equal jitter and is given up after 10 failures; a 422 invalid_recipient is given up at once; the per-user SMS
// limit is counted in PostgreSQL (one statement under a per-user lock) before each SMS attempt.
//
// Trade-offs: every delivery costs two or three short statements (its share of a claim, SMS admission, result) on
// top of its HTTP call, and idle workers poll (every 50 ms; 12 cheap index scans a cycle over 4 instances) instead
// of being woken by LISTEN/NOTIFY; in exchange PostgreSQL is the only moving part, the state of every delivery is
// one row anyone can read, and a crash needs no recovery code beyond the lease. A 429 is looked at right before each
// call, so only calls already on their way when it arrived can follow it; four instances with eight calls in flight
// per channel drain a burst of hundreds of deliveries within the README's 5 s, held responses included.
import { randomUUID } from 'node:crypto';
import pgLib from 'pg';
import type { AppContext, SetupContext } from 'gauntlet';
import {
  CHANNELS, MAX_ATTEMPTS, acceptEvent, admitSms, backoffMs, checkEvent, createTables, deadLetters, inTransaction,
  providerUrl, recordDeadLetter, savePreferences, sendOnce, sleep, smsLimit, warmUp, withRetries,
  type Channel, type EventKind, type Outcome, type Preferences, type SubscriptionEvent,
} from './_shared/fanout.ts';

const LEASE_S = 5;           // a claim lapses after this: the README wants a killed instance's work resumed within 10 s
const IDLE_POLL_MS = 50;     // nothing due: look again after this
const ERROR_PAUSE_MS = 200;  // a database error in a worker loop: wait a little, then go on
const CONCURRENCY = 8;       // deliveries in flight per channel and instance

export async function setup(ctx: SetupContext): Promise<void> {
  await withRetries(() => createTables(ctx)); // idempotent: IF NOT EXISTS, ON CONFLICT
}

interface Claimed {
  event_id: string;
  channel: Channel;
  user_id: string;
  kind: EventKind;
  to_addr: string;
  attempts: number;
}

export default async function create(ctx: AppContext) {
  // The workers get a pool of their own, so a backlog never makes publish wait for a connection of ctx.pg.
  const pg = new pgLib.Pool({ connectionString: ctx.databaseUrl, max: 5, idleTimeoutMillis: 60_000 });
  pg.on('error', (err) => ctx.log('idle worker connection lost', { error: err.message }));
  pg.on('connect', (client) => client.on('error', (err) => ctx.log('worker connection lost', { error: err.message })));
  const owner = `${ctx.instance}:${process.pid}:${randomUUID()}`;
  await Promise.all([warmUp(ctx.pg, 4), warmUp(pg, 2)]);
  const limit = await withRetries(() => smsLimit(pg));

  // A 429 pauses its provider for this instance until the time has passed; kept in PostgreSQL for a restart.
  const pausedUntil: Record<Channel, number> = { email: 0, sms: 0, push: 0 };
  const { rows: pauses } = await withRetries(() => pg.query<{ channel: Channel; until: Date }>(
    `SELECT channel, until FROM provider_pauses WHERE instance = $1`, [ctx.instance]));
  for (const p of pauses) pausedUntil[p.channel] = Math.max(pausedUntil[p.channel] ?? 0, p.until.getTime());

  /** Claim up to `n` due deliveries of `channel` (one statement), each leased for LEASE_S. */
  async function claim(channel: Channel, n: number): Promise<Claimed[]> {
    const { rows } = await pg.query<Claimed>(
      `UPDATE deliveries d
          SET lease_owner = $2, lease_until = now() + make_interval(secs => $3),
              first_attempt_at = COALESCE(d.first_attempt_at, now())
         FROM (SELECT event_id, channel FROM deliveries
                WHERE channel = $1 AND status = 'pending' AND next_attempt_at <= now() AND lease_until <= now()
                ORDER BY next_attempt_at
                LIMIT $4
                FOR UPDATE SKIP LOCKED) due
        WHERE d.event_id = due.event_id AND d.channel = due.channel
        RETURNING d.event_id, d.channel, d.user_id, d.kind, d.to_addr, d.attempts`,
      [channel, owner, LEASE_S, n]);
    return rows;
  }

  /** Give the claim back without counting an attempt, due again after `delayMs`. */
  async function release(row: Claimed, delayMs: number, error?: string): Promise<void> {
    await pg.query(
      `UPDATE deliveries SET lease_owner = NULL, lease_until = '-infinity',
              next_attempt_at = now() + make_interval(secs => $4), last_error = COALESCE($5, last_error)
        WHERE event_id = $1 AND channel = $2 AND lease_owner = $3 AND status = 'pending'`,
      [row.event_id, row.channel, owner, delayMs / 1000, error ?? null]);
  }

  async function giveUp(row: Claimed, reason: string): Promise<void> {
    await inTransaction(pg, async (client) => {
      const done = await client.query(
        `UPDATE deliveries SET status = 'dead', lease_owner = NULL, lease_until = '-infinity', last_error = $4
          WHERE event_id = $1 AND channel = $2 AND lease_owner = $3 AND status = 'pending'`,
        [row.event_id, row.channel, owner, reason]);
      if (done.rowCount) await recordDeadLetter(client, row.event_id, row.channel, reason);
    });
    ctx.log('delivery given up', { eventId: row.event_id, channel: row.channel, reason });
  }

  async function settle(row: Claimed, outcome: Outcome): Promise<void> {
    switch (outcome.kind) {
      case 'sent':
        await pg.query(
          `UPDATE deliveries SET status = 'sent', sent_at = now(), lease_owner = NULL, lease_until = '-infinity'
            WHERE event_id = $1 AND channel = $2 AND status = 'pending'`,
          [row.event_id, row.channel]);
        return;
      case 'give-up':
        await giveUp(row, outcome.reason);
        return;
      case 'rate-limited': {
        const until = Date.now() + outcome.retryAfterMs + 5;
        pausedUntil[row.channel] = Math.max(pausedUntil[row.channel], until);
        ctx.log('provider rate-limited: paused in this instance', { channel: row.channel, retryAfterMs: outcome.retryAfterMs });
        await inTransaction(pg, async (client) => {
          await client.query(
            `UPDATE deliveries SET lease_owner = NULL, lease_until = '-infinity', last_error = 'HTTP 429 rate_limited',
                    next_attempt_at = to_timestamp($4 / 1000.0)
              WHERE event_id = $1 AND channel = $2 AND lease_owner = $3 AND status = 'pending'`,
            [row.event_id, row.channel, owner, until]);
          await client.query(
            `INSERT INTO provider_pauses (instance, channel, until) VALUES ($1, $2, to_timestamp($3 / 1000.0))
             ON CONFLICT (instance, channel) DO UPDATE SET until = GREATEST(provider_pauses.until, EXCLUDED.until)`,
            [ctx.instance, row.channel, until]);
        });
        return;
      }
      case 'in-progress':
        // Another attempt with this key is still running at the provider: look again later, not a failure.
        await release(row, backoffMs(row.attempts + 1), 'HTTP 409 request_in_progress');
        return;
      case 'failed': {
        const failures = row.attempts + 1;
        if (failures >= MAX_ATTEMPTS) {
          await giveUp(row, `provider failed ${failures} attempts (last: ${outcome.error})`);
          return;
        }
        await pg.query(
          `UPDATE deliveries SET attempts = attempts + 1, last_error = $4, lease_owner = NULL, lease_until = '-infinity',
                  next_attempt_at = now() + make_interval(secs => $5)
            WHERE event_id = $1 AND channel = $2 AND lease_owner = $3 AND status = 'pending'`,
          [row.event_id, row.channel, owner, outcome.error, backoffMs(failures) / 1000]);
      }
    }
  }

  /** One claimed delivery: the SMS limit, the call, its result. */
  async function deliver(row: Claimed): Promise<void> {
    const channel = row.channel;
    // The per-user SMS limit, checked for each attempt: an SMS over it is given up, never sent.
    if (channel === 'sms' && (await admitSms(pg, row.user_id, row.event_id, limit)) === 'over') {
      await giveUp(row, 'user-rate-limit');
      return;
    }
    // Looked at right before the call: a 429 answered to another call of this channel meanwhile pauses this one too.
    if (Date.now() < pausedUntil[channel]) {
      await release(row, pausedUntil[channel] - Date.now());
      return;
    }
    const outcome = await sendOnce(providerUrl(ctx, channel), { eventId: row.event_id, channel, kind: row.kind, to: row.to_addr });
    await settle(row, outcome);
  }

  const logError = (what: string, channel: Channel) => (err: unknown) =>
    ctx.log(what, { channel, error: String((err as Error)?.message ?? err) });

  // One loop per channel: it claims while fewer than CONCURRENCY deliveries are in flight and the provider is not
  // paused, so a held response (up to the call timeout) or a slow provider never stalls the channel.
  let stopped = false;
  async function worker(channel: Channel): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    while (!stopped) {
      if (inFlight.size >= CONCURRENCY) {
        await Promise.race(inFlight);
        continue;
      }
      let rows: Claimed[] = [];
      try {
        if (Date.now() >= pausedUntil[channel]) rows = await claim(channel, CONCURRENCY - inFlight.size);
      } catch (err) {
        // A dropped connection, a failed statement: nothing was claimed; this loop goes on.
        logError('delivery claim failed', channel)(err);
        await sleep(ERROR_PAUSE_MS);
        continue;
      }
      for (const row of rows) {
        // An error after the claim leaves the row leased: it lapses and the delivery is retried with the same key.
        const p: Promise<void> = deliver(row).catch(logError('delivery failed', channel)).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      if (rows.length) continue;
      const paused = pausedUntil[channel] - Date.now();
      await Promise.race([sleep(paused > 0 ? Math.min(paused, 500) : IDLE_POLL_MS), ...inFlight]);
    }
    await Promise.allSettled(inFlight);
  }
  const workers = CHANNELS.map((channel) => worker(channel));
  ctx.log('delivery workers started', { instance: ctx.instance, channels: CHANNELS, smsPerUserPerMinute: limit });

  return {
    async publish(event: SubscriptionEvent): Promise<void> {
      await acceptEvent(ctx.pg, checkEvent(event));
    },

    async setPreferences(userId: string, preferences: Preferences): Promise<void> {
      await savePreferences(ctx.pg, userId, preferences);
    },

    async getDeadLetters() {
      return deadLetters(ctx.pg);
    },

    async stop(): Promise<void> {
      stopped = true;
      await Promise.race([Promise.allSettled(workers), sleep(3000)]);
      await pg.end().catch((err) => ctx.log('closing the worker pool failed', { error: String(err) }));
    },
  };
}

export async function close(service: { stop(): Promise<void> }): Promise<void> {
  await service.stop();
}
