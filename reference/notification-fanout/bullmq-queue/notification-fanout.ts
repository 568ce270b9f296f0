// Reference (a job queue library: BullMQ on Redis): written apart from gauntlet, from the contract and the challenge
// README alone. A submission folder of its own: package.json pins bullmq 6 (installed with `npm ci` from the lock
// file, e.g. `gauntlet grade <this folder> --install`), gauntlet.json points at this module.
//
// `publish` resolves the user's preferences in PostgreSQL and stores the event with its deliveries in one statement
// (idempotent on eventId), then adds one job per delivery to its channel's queue and awaits the adds, so the jobs
// are in Redis when publish resolves. The job id is `<channel>-<eventId>` (BullMQ refuses ids with a ':'): adding it
// again is a no-op, so a retried publish sends nothing new; a relay in every instance re-adds the jobs of an event
// whose publish died between the two steps. Each instance runs one BullMQ worker per channel (4 jobs in flight), so
// one channel's outage or rate limit never holds the others back. The worker sends `POST {provider}/send` with the
// Idempotency-Key `<eventId>:<channel>`. A 429 calls `worker.rateLimit(Retry-After)` and throws
// `Worker.RateLimitError()`: the job goes back to the queue without counting an attempt and the queue (every
// instance: stricter than the contract asks) sends that provider nothing until then. A 5xx, reset or timeout throws:
// BullMQ retries with this module's backoff (exponential, equal jitter); the 10th failure, a 422 invalid_recipient
// or the per-user SMS limit (counted in PostgreSQL, one statement under a per-user lock) writes a dead letter in
// PostgreSQL and completes the job. A killed instance's active jobs come back through BullMQ's stalled check
// (locks of 5 s, checked every 2 s).
//
// Trade-offs: two stores (PostgreSQL for what must be queried: users, preferences, SMS counts, dead letters; Redis
// for the queues) and a relay to bridge them, where the polled outbox has one; BullMQ's own retry bookkeeping
// (attemptsMade) and stalled-job recovery replace hand-written leases, and idle workers block on Redis instead of
// polling. The queue's rate limiter is queue-wide, so a 429 pauses the provider for every instance, not only the one
// that got it; and BullMQ would give a job up on its own when its attempts ran out, so jobs get more attempts than
// the contract's 10 and the module gives up itself, writing the dead letter before the job completes.
import { Queue, Worker, DelayedError, type Job } from 'bullmq';
import pgLib from 'pg';
import type { AppContext, SetupContext } from 'gauntlet';
import {
  CHANNELS, MAX_ATTEMPTS, acceptEvent, admitSms, backoffMs, checkEvent, createTables, deadLetters, inTransaction,
  providerUrl, recordDeadLetter, savePreferences, sendOnce, sleep, smsLimit, warmUp, withRetries,
  type Channel, type Delivery, type Preferences, type SubscriptionEvent,
} from './store.ts';

const LOCK_MS = 5000;           // an active job's lock; a killed worker's jobs stall after this
const STALLED_CHECK_MS = 2000;  // how often each worker looks for stalled jobs
const CONCURRENCY = 4;          // jobs in flight per channel and instance
const RELAY_MS = 1000;          // the relay's period
const RELAY_AFTER_S = 2;        // an event not marked queued this long after publish gets its jobs (re)added
const RETRY_DB_MS = 300;        // a database error before the provider call: the job waits this long, not counted

export async function setup(ctx: SetupContext): Promise<void> {
  await withRetries(() => createTables(ctx)); // idempotent: IF NOT EXISTS, ON CONFLICT
}

/** ioredis options from the context's redis URL (BullMQ makes its own connections, blocking ones included). */
function redisOptions(url: string) {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    username: decodeURIComponent(u.username) || undefined,
    password: decodeURIComponent(u.password) || undefined,
    db: Number(u.pathname.slice(1) || 0),
    maxRetriesPerRequest: null, // BullMQ's workers require it
  };
}

/** A job id per (event, channel); BullMQ ids may not contain ':' and may not look like integers. */
const jobIdOf = (d: Pick<Delivery, 'eventId' | 'channel'>) => `${d.channel}-${encodeURIComponent(d.eventId)}`;

export default async function create(ctx: AppContext) {
  // The workers and the relay get a pool of their own, so a backlog never makes publish wait for a connection of ctx.pg.
  const pg = new pgLib.Pool({ connectionString: ctx.databaseUrl, max: 4, idleTimeoutMillis: 60_000 });
  pg.on('error', (err) => ctx.log('idle worker connection lost', { error: err.message }));
  pg.on('connect', (client) => client.on('error', (err) => ctx.log('worker connection lost', { error: err.message })));
  await Promise.all([warmUp(ctx.pg, 4), warmUp(pg, 2)]);
  const limit = await withRetries(() => smsLimit(pg));
  const connection = redisOptions(ctx.redisUrl);
  const log = (message: string) => (err: unknown) => ctx.log(message, { error: String((err as Error)?.message ?? err) });

  const queues = Object.fromEntries(CHANNELS.map((channel) => {
    const q = new Queue(`fanout-${channel}`, {
      connection,
      defaultJobOptions: {
        // More attempts than the contract's 10: the processor gives up itself (dead letter first), never BullMQ.
        attempts: MAX_ATTEMPTS + 5,
        backoff: { type: 'equal-jitter' },
        // Kept an hour: while a job exists, adding its id again is a no-op (a publish retry sends nothing new).
        removeOnComplete: { age: 3600 },
        removeOnFail: { age: 3600 },
      },
    });
    q.on('error', log(`queue ${channel} error`));
    return [channel, q];
  })) as Record<Channel, Queue>;

  async function enqueue(deliveries: Delivery[]): Promise<void> {
    await Promise.all(deliveries.map((d) => queues[d.channel].add('send', d, { jobId: jobIdOf(d) })));
  }

  // This instance's own view of a 429, so no job of it calls the provider early even before Redis has the limit.
  const pausedUntil: Record<Channel, number> = { email: 0, sms: 0, push: 0 };

  function processor(channel: Channel) {
    return async (job: Job<Delivery>, token?: string): Promise<string> => {
      const d = job.data;
      const worker = workers[channel];
      const wait = pausedUntil[channel] - Date.now();
      if (wait > 0) {
        await worker.rateLimit(wait);
        throw Worker.RateLimitError();
      }
      try {
        // Given up already (the dead letter was written, then this job stalled or was added again).
        const dead = await pg.query(`SELECT 1 FROM dead_letters WHERE event_id = $1 AND channel = $2`, [d.eventId, channel]);
        if (dead.rowCount) return 'given up';
        if (job.attemptsMade >= MAX_ATTEMPTS) {
          // Failed 10 attempts, and writing the dead letter failed then: write it now, send nothing more.
          await inTransaction(pg, (client) => recordDeadLetter(client, d.eventId, channel, `provider failed ${job.attemptsMade} attempts`));
          return 'given up';
        }
        // The per-user SMS limit, checked for each attempt: an SMS over it is given up, never sent.
        if (channel === 'sms' && (await admitSms(pg, d.userId, d.eventId, limit)) === 'over') {
          await inTransaction(pg, (client) => recordDeadLetter(client, d.eventId, channel, 'user-rate-limit'));
          ctx.log('delivery given up', { eventId: d.eventId, channel, reason: 'user-rate-limit' });
          return 'user-rate-limit';
        }
      } catch (err) {
        // The database, not the provider, failed: wait a little without counting an attempt.
        log('database error before a send')(err);
        await job.moveToDelayed(Date.now() + RETRY_DB_MS, token);
        throw new DelayedError();
      }

      // Look at the pause again right before the call: a 429 may have come in while this job read the database.
      const late = pausedUntil[channel] - Date.now();
      if (late > 0) {
        await worker.rateLimit(late);
        throw Worker.RateLimitError();
      }
      const outcome = await sendOnce(providerUrl(ctx, channel), d);
      switch (outcome.kind) {
        case 'sent':
          return 'sent';
        case 'give-up':
          await inTransaction(pg, (client) => recordDeadLetter(client, d.eventId, channel, outcome.reason));
          ctx.log('delivery given up', { eventId: d.eventId, channel, reason: outcome.reason });
          return outcome.reason;
        case 'rate-limited':
          ctx.log('provider rate-limited: queue paused', { channel, retryAfterMs: outcome.retryAfterMs });
          pausedUntil[channel] = Math.max(pausedUntil[channel], Date.now() + outcome.retryAfterMs + 5);
          await worker.rateLimit(outcome.retryAfterMs + 5);
          throw Worker.RateLimitError();
        case 'in-progress':
          // The first call with this key still runs at the provider: look again later, not a failed attempt.
          await job.moveToDelayed(Date.now() + backoffMs(job.attemptsMade + 1), token);
          throw new DelayedError();
        case 'failed':
          if (job.attemptsMade + 1 >= MAX_ATTEMPTS) {
            // If this write fails the error counts the attempt, and the next run writes the dead letter unsent.
            await inTransaction(pg, (client) => recordDeadLetter(client, d.eventId, channel, `provider failed ${job.attemptsMade + 1} attempts (last: ${outcome.error})`));
            ctx.log('delivery given up', { eventId: d.eventId, channel, reason: 'provider failed', attempts: job.attemptsMade + 1 });
            return 'given up';
          }
          throw new Error(outcome.error); // BullMQ retries after backoffMs(attemptsMade)
      }
    };
  }

  const workers = {} as Record<Channel, Worker<Delivery>>;
  for (const channel of CHANNELS) {
    const w = new Worker<Delivery>(`fanout-${channel}`, processor(channel), {
      connection,
      concurrency: CONCURRENCY,
      lockDuration: LOCK_MS,
      stalledInterval: STALLED_CHECK_MS,
      maxStalledCount: 1000, // a job whose instances keep dying is retried, never failed for stalling
      // A limiter that never binds by itself: without one, BullMQ does not look at the limit worker.rateLimit sets.
      limiter: { max: 1_000_000, duration: 1000 },
      settings: { backoffStrategy: (attemptsMade: number) => backoffMs(attemptsMade) },
      autorun: false,
    });
    w.on('error', log(`worker ${channel} error`));
    workers[channel] = w;
  }
  for (const channel of CHANNELS) workers[channel].run().catch(log(`worker ${channel} stopped`));
  ctx.log('queue workers started', { instance: ctx.instance, channels: CHANNELS, concurrency: CONCURRENCY, smsPerUserPerMinute: limit });

  // The relay: an event stored but never marked queued (its publish died after the commit) gets its jobs added.
  let stopped = false;
  const relay = (async () => {
    while (!stopped) {
      await sleep(RELAY_MS);
      try {
        await inTransaction(pg, async (client) => {
          const { rows } = await client.query<{ event_id: string; deliveries: Delivery[] }>(
            `SELECT event_id, deliveries FROM events
              WHERE NOT enqueued AND created_at < now() - make_interval(secs => $1)
              ORDER BY created_at LIMIT 100 FOR UPDATE SKIP LOCKED`, [RELAY_AFTER_S]);
          for (const r of rows) await enqueue(r.deliveries);
          if (rows.length) await client.query(`UPDATE events SET enqueued = true WHERE event_id = ANY($1)`, [rows.map((r) => r.event_id)]);
        });
      } catch (err) {
        log('relay error')(err);
      }
    }
  })();

  return {
    async publish(event: SubscriptionEvent): Promise<void> {
      const e = checkEvent(event);
      const { deliveries, enqueued } = await acceptEvent(ctx.pg, e);
      if (enqueued) return;
      await enqueue(deliveries); // durable once these resolve: the jobs are in Redis
      // Only spares the relay a (harmless, idempotent) second add: not waited for.
      ctx.pg.query(`UPDATE events SET enqueued = true WHERE event_id = $1`, [e.eventId])
        .catch(log('marking an event queued failed (the relay will add its jobs again, a no-op)'));
    },

    async setPreferences(userId: string, preferences: Preferences): Promise<void> {
      await savePreferences(ctx.pg, userId, preferences);
    },

    async getDeadLetters() {
      return deadLetters(ctx.pg);
    },

    async stop(): Promise<void> {
      stopped = true;
      await Promise.race([
        Promise.allSettled([relay, ...CHANNELS.map((c) => workers[c].close()), ...CHANNELS.map((c) => queues[c].close())]),
        sleep(5000),
      ]);
      await pg.end().catch((err) => ctx.log('closing the worker pool failed', { error: String(err) }));
    },
  };
}

export async function close(service: { stop(): Promise<void> }): Promise<void> {
  await service.stop();
}
