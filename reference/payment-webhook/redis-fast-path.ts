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
//
// The inbox transaction and the outbox sweeper: inbox-outbox.ts. Authentication, validation and dead letters, the
// reads and the plumbing: _shared/.
import crypto from 'node:crypto';
import type { AppContext, WebhookService } from 'gauntlet';
import { sleep } from './_shared/db.ts';
import { admit, reads } from './_shared/webhook.ts';
import { applyEvent, startOutboxSweeper } from './inbox-outbox.ts';

// The same tables as inbox-outbox.ts.
export { setup } from './inbox-outbox.ts';

type Log = AppContext['log'];

const DONE_TTL_S = 24 * 3600;
const LOCK_TTL_MS = 3_000;
const LOCK_WAIT_MS = 1_000;
const REDIS_TIMEOUT_MS = 500;

export default async function create(ctx: AppContext): Promise<WebhookService & { stop(): void }> {
  const log = ctx.log;
  const sweeper = startOutboxSweeper(ctx);

  return {
    async handlePaymentWebhook(delivery) {
      const admitted = await admit(ctx, delivery);
      if ('answer' in admitted) return admitted.answer;
      const e = admitted.event;
      const doneKey = `webhook:done:${e.idempotencyKey}`;
      if ((await redisCall(log, () => ctx.redis.get(doneKey))) === '1') return { status: 200, body: { received: true, outcome: 'duplicate' } };
      const unlock = await lockPayment(ctx, e.paymentId);
      let outcome: string;
      try {
        outcome = await applyEvent(ctx.pg, log, e);
      } finally {
        await unlock();
      }
      // Only now is the event surely recorded: from here on its duplicates can skip the database.
      await redisCall(log, () => ctx.redis.set(doneKey, '1', 'EX', DONE_TTL_S));
      if (outcome === 'applied' && e.status === 'success') sweeper.kick();
      log('webhook processed', { paymentId: e.paymentId, status: e.status, outcome });
      return { status: 200, body: { received: true, outcome } };
    },
    ...reads(ctx),
    stop: () => sweeper.stop(),
  };
}

export async function close(service: { stop(): void }): Promise<void> {
  service.stop();
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
