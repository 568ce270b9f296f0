// The interview question bank: topics with questions and what a strong answer contains, each tied to the checks
// and concerns that make it urgent. `orderTopics` puts first what a run showed: a failed single-winner brings the
// concurrency deep-dive to the top, a failed crash check the consistency questions, and so on.

import type { GradeResult } from './result.ts';
import { RED_FLAGS } from './rubric.ts';

const RED_FLAG_CHECKS = new Set(RED_FLAGS.flatMap((f) => f.checks));

export interface Question {
  q: string;
  /** What a strong answer contains. */
  listenFor: string;
}

export interface Topic {
  id: string;
  title: string;
  /** Checks whose failure makes this topic urgent (most telling first). */
  checks: string[];
  /** Concerns that make it relevant. */
  concerns: string[];
  /** Challenges it belongs to ('*': any). */
  challenges: string[];
  questions: Question[];
}

export const TOPICS: Topic[] = [
  {
    id: 'concurrency', title: 'Concurrency deep-dive', checks: ['single-winner', 'definite-rejections', 'no-double-charge', 'one-subscription-per-payment', 'idempotent-rereserve'], concerns: [], challenges: ['*'],
    questions: [
      { q: 'A thousand requests for the last seat arrive in the same millisecond on four processes. Walk me through exactly what your code does for two of them, statement by statement.', listenFor: 'Names the one step where the database arbitrates (row lock, conditional write, unique constraint); explains why the read-then-write window is closed; knows what the loser observes.' },
      { q: 'What is the difference between a check-then-act race and a lost update, and which one does your design prevent, and how?', listenFor: 'Check-then-act: a decision on a stale read. Lost update: a write overwriting another. Conditional writes or locks held across read and write prevent both.' },
      { q: 'Why does a mutex inside one process not help here?', listenFor: 'Several processes (and restarts) share no memory; only the shared store can serialise them.' },
      { q: 'Optimistic or pessimistic concurrency control for this workload, and why?', listenFor: 'Under heavy contention for one row optimistic retries storm; pessimistic or a single conditional statement queues cheaply. Under low contention optimistic avoids lock waits.' },
      { q: 'How would you prove the fix, not just observe the bug disappear?', listenFor: 'A test that forces the interleaving or releases many calls together and checks an invariant over all answers, repeated; reasoning about the database guarantee it relies on.' },
    ],
  },
  {
    id: 'crash-consistency', title: 'Consistency after crashes', checks: ['winner-durable', 'no-lost-seats', 'crash-recovered', 'no-orphan-charge', 'no-crash'], concerns: ['no-transaction-handling'], challenges: ['*'],
    questions: [
      { q: 'Your process is killed between two writes of one operation. What state is left, and who repairs it?', listenFor: 'One transaction (or one statement) makes it all-or-nothing; otherwise a recovery step on start-up or a reconciler that finishes or compensates.' },
      { q: 'The COMMIT was sent and the connection died before the reply. Did the reservation happen? What do you tell the user?', listenFor: 'Unknown: the honest answer is "indeterminate"; an idempotent retry or a read of the outcome resolves it. Never answer success or failure blindly.' },
      { q: 'What does "durable" mean for a reservation in your design, and when exactly does it become true?', listenFor: 'Committed in the shared store before answering ok; not a cache or process memory.' },
    ],
  },
  {
    id: 'resilience', title: 'Resilience: retries, timeouts, backoff', checks: ['eventually-created', 'retry-backoff', 'honours-retry-after', 'notification-decoupled', 'eventually-processed', 'definite-rejections'], concerns: ['no-retries', 'swallowed-errors'], challenges: ['*'],
    questions: [
      { q: 'Which errors are safe to retry, and which are not? Give one of each from your code.', listenFor: 'Serialization failures, deadlocks and refused connections roll back and are safe; a timeout after sending is only safe with idempotency; business rejections are final.' },
      { q: 'Describe your backoff. Why jitter? What caps it?', listenFor: 'Capped exponential backoff with full jitter, a total budget, and Retry-After honoured; jitter avoids synchronised retry storms.' },
      { q: 'The payment provider returns 429 with Retry-After: 2 on one instance. What do the other instances do?', listenFor: 'Each follows the answers it got; optionally shares a circuit state; never hammers a provider that asked to wait.' },
      { q: 'Where does a circuit breaker belong in this flow, and what does the user see while it is open?', listenFor: 'Around a failing dependency, failing fast with a definite, retryable error; half-open probing to recover.' },
    ],
  },
  {
    id: 'sql-vs-nosql', title: 'SQL vs NoSQL', checks: [], concerns: [], challenges: ['*'],
    questions: [
      { q: 'Could this service run on Redis alone? What would you lose?', listenFor: 'Durability guarantees (fsync policy, replication lag, failover losing writes), constraints and transactions across keys; Lua scripts give atomicity within one node only.' },
      { q: 'When would you choose a document store for reservations?', listenFor: 'When the aggregate is one document and single-document atomic updates suffice; not when invariants span documents.' },
      { q: 'Redlock: would you trust it to decide who wins a seat?', listenFor: 'Not alone: locks expire under pauses and clock jumps; a fencing token checked by the store is needed.' },
    ],
  },
  {
    id: 'schema-indexes', title: 'Schema and indexes', checks: ['winner-durable'], concerns: ['poor-database-design'], challenges: ['*'],
    questions: [
      { q: 'Show me the constraint that makes a double booking impossible even if the application code has a bug.', listenFor: 'A primary key or unique constraint on the seat (or seat + event); partial unique indexes for "one active hold per seat".' },
      { q: 'Which indexes does the hot path use? How did you check?', listenFor: 'EXPLAIN (ANALYZE) of the actual queries; the primary key lookup; no index on low-selectivity columns for nothing.' },
      { q: 'How would you model holds, reservations and their history without slowing the hot path?', listenFor: 'Current state in one row (or a partial unique index), history appended elsewhere; expiry as data (expires_at) judged by one clock.' },
    ],
  },
  {
    id: 'read-write-separation', title: 'Read/write separation and replicas', checks: ['winner-durable', 'single-winner'], concerns: [], challenges: ['*'],
    questions: [
      { q: 'You add a read replica. Which reads can go to it, and which must not?', listenFor: 'Decisions (is the seat free?) and read-your-writes must go to the primary; listings and dashboards can tolerate lag.' },
      { q: 'A user reserves and immediately reloads the page, which reads from a replica 200 ms behind. What do they see, and how do you fix it?', listenFor: 'A stale "free" seat; fixes: read from primary after a write, session stickiness with LSN/timestamps, or return the state in the write response.' },
      { q: 'What would CQRS change for this service, and is it worth it here?', listenFor: 'Separate models for commands and queries; worth it only when read load or shape differs greatly; adds eventual consistency to reason about.' },
    ],
  },
  {
    id: 'caching', title: 'Caching', checks: ['winner-durable'], concerns: [], challenges: ['*'],
    questions: [
      { q: 'Where would you cache seat availability, and how do you stop it from selling a taken seat?', listenFor: 'A cache may only hint (show availability); the decision always goes to the source of truth; invalidate or write-through on change.' },
      { q: 'Your cache says free, the database says taken. How did that happen, and what does the user see?', listenFor: 'A missed or racing invalidation, a TTL, a per-process cache; the write path must reject with SEAT_TAKEN regardless.' },
      { q: 'What happens when the cache is cold or down during an on-sale?', listenFor: 'Thundering herd on the database; request coalescing, warmed caches, or serving without the cache with a budget.' },
    ],
  },
  {
    id: 'load-balancing', title: 'Load balancing and horizontal scaling', checks: ['crash-recovered', 'winner-durable', 'single-winner'], concerns: [], challenges: ['*'],
    questions: [
      { q: 'What in your instances must be stateless for round-robin balancing to be safe? Is it?', listenFor: 'No decision state in process memory; caches only as hints; sessions and locks in shared stores.' },
      { q: 'How many database connections do four instances open at peak, and what is the database\'s limit?', listenFor: 'Pool size × instances must stay under max_connections with headroom; a pooler (PgBouncer) in transaction mode for many instances.' },
      { q: 'Throughput stops growing at three instances. Where do you look?', listenFor: 'Contention on a hot row, connection limits, lock waits, the database CPU; measure before adding instances.' },
    ],
  },
  {
    id: 'seat-integrity', title: 'Seat integrity: holds, expiry, release', checks: ['hold-expires', 'release-frees-seat', 'no-lost-seats', 'idempotent-rereserve'], concerns: [], challenges: ['seat-reservation'],
    questions: [
      { q: 'A hold expires at 12:00:00.000 and a confirm arrives at 12:00:00.001 on an instance whose clock is 2 s slow. What happens?', listenFor: 'Expiry judged by one clock (the database\'s), never the instance\'s; the confirm fails with HOLD_EXPIRED.' },
      { q: 'Do you expire holds with a background job or lazily? What are the trade-offs?', listenFor: 'Lazy expiry (expires_at in the predicate) is exact and needs no job; a sweeper adds lag and a failure mode but keeps tables tidy.' },
      { q: 'Payment fails after the hold was confirmed. How does the seat go back on sale, and can it go back twice?', listenFor: 'A release that only clears the releaser\'s own claim, idempotently; never clears someone else\'s newer claim.' },
    ],
  },
  {
    id: 'payment-orchestration', title: 'Payment orchestration and sagas', checks: ['no-orphan-charge', 'no-double-charge', 'crash-recovered', 'eventually-created', 'retry-backoff'], concerns: ['no-transaction-handling', 'no-retries'], challenges: ['subscription', 'payment-webhook'],
    questions: [
      { q: 'Walk me through your purchase flow as a saga: each step, its compensation, and where the state of the saga lives.', listenFor: 'Reserve → charge → store → commit → notify; compensations refund and release; a durable record of the step reached, so a restart resumes or compensates.' },
      { q: 'The charge succeeded but the response was lost (a ghost success). How do you avoid charging twice?', listenFor: 'An idempotency key per purchase attempt sent to the provider, and a lookup (GET /charges?idempotencyKey) before charging again.' },
      { q: 'Orchestration or choreography for this flow, and why?', listenFor: 'Orchestration keeps the flow and its compensations in one place (easier to reason about failures); choreography decouples but scatters the state.' },
      { q: 'Why not one distributed transaction (two-phase commit) across payment, inventory and your database?', listenFor: 'External services do not take part in 2PC; blocking coordinator failures; sagas trade isolation for availability.' },
    ],
  },
  {
    id: 'event-ordering', title: 'Event ordering and webhooks', checks: ['no-state-regression', 'eventually-processed', 'one-subscription-per-payment', 'duplicates-acknowledged', 'poison-dead-lettered'], concerns: [], challenges: ['payment-webhook'],
    questions: [
      { q: '"success" arrives before "pending" for the same payment. What does your service end up with, and why?', listenFor: 'A state machine that only moves forward (or a version/timestamp check); out-of-order events never downgrade; optionally a fetch of the current status from the provider.' },
      { q: 'Two identical webhooks arrive at the same instant on two instances. Which one creates the subscription?', listenFor: 'A unique constraint on the payment (or idempotency key) decides; the other sees the conflict and acknowledges with 2xx.' },
      { q: 'What is a poison message, and what do you do with one?', listenFor: 'A message that can never be processed; acknowledge it (4xx/2xx) so it is not redelivered forever, and keep it in a dead-letter store for a human.' },
      { q: 'When do you answer a webhook: before or after the work is durable?', listenFor: 'After it is durably recorded (or processed); a 2xx before durability loses events on a crash.' },
    ],
  },
  {
    id: 'fanout', title: 'Notification fan-out: bursts, limits and dead letters', checks: ['delivered-exactly-once', 'backlog-drained', 'rate-limits-respected', 'dead-lettered', 'preferences-respected', 'publish-decoupled', 'no-loss-on-crash'], concerns: ['no-retries'], challenges: ['notification-fanout'],
    questions: [
      { q: 'Ten thousand renewal events arrive in one second and the SMS provider accepts 40 a second. Walk me through what your system does for the next few minutes, per channel.', listenFor: 'Events are accepted into a durable queue or outbox at once; each channel drains at its own pace with its own workers; SMS waits on the provider\'s limit without holding email and push back; progress is observable (queue depth, age of the oldest delivery).' },
      { q: 'A provider answers 429 with Retry-After: 2. What do this worker, the other workers of this instance and the other instances do?', listenFor: 'The whole instance pauses that provider until the time passed (a shared pause, not per message); other instances follow their own answers or share a circuit state in Redis; the 429 is not counted as a failed attempt.' },
      { q: 'How do you enforce "at most 3 SMS per user per minute" across four instances, and what happens to the fourth?', listenFor: 'A counter or sliding window in a shared store (Redis INCR with expiry, a sorted set, or a count under a row lock), checked and recorded atomically before sending; the excess is dropped to a dead letter or another channel, by a stated policy.' },
      { q: 'When do you give a message up, and what does an operator do with the dead-letter queue?', listenFor: 'Final answers (invalid recipient) at once; transient failures after a bounded number of attempts with backoff; the dead letter keeps the reason and the payload; operators can inspect, fix and replay; alerts on its growth.' },
      { q: 'A user turns SMS off while an event for them is being published. Which preferences apply, and how does your design decide?', listenFor: 'The preferences read in the same transaction that accepts the event (a snapshot at publish time); a change racing it may apply or not, but one acknowledged before the publish always does; no cached copy.' },
    ],
  },
  {
    id: 'reads', title: 'Read replicas, caches and consistency', checks: ['read-your-writes', 'bounded-staleness', 'cache-invalidated', 'monotonic-reads', 'no-stampede', 'primary-offload', 'replica-fallback', 'cache-fallback'], concerns: [], challenges: ['subscription-reads'],
    questions: [
      { q: 'A user changes plan and the next page load goes to another instance that reads from a replica 300 ms behind. What do they see, and how does your design make sure it is the new plan?', listenFor: 'A consistency token from the write (its commit LSN or the row version), sent back like a cookie; the read uses a copy known to be at least that new (replica replay position, the cache entry\'s version) or the primary; no sticky sessions, nothing in process memory.' },
      { q: 'Walk me through the set-after-write race in cache-aside. How does your cache avoid keeping the old value?', listenFor: 'A reader misses, reads the old row (slow, or from a lagging replica), the writer commits and deletes the key, the reader then sets the old value; fixes: versioned entries set only if newer (a Lua compare), write-through with versions, short lifetimes as a backstop, never caching a replica answer without its version.' },
      { q: 'How far behind may the replica be before you stop reading from it, and how do you know how far behind it is?', listenFor: 'A bound from the product (here 2 s); the primary\'s pg_current_wal_lsn against the replica\'s pg_last_wal_replay_lsn, sampled cheaply per instance (not per read), or a heartbeat row; replay timestamps mislead when the primary is idle; fall back to the primary past the bound.' },
      { q: 'A hot key expires while 500 requests a second read it. What reaches the database, and how would you bound it?', listenFor: 'Without coalescing every concurrent miss queries the database (a stampede); single flight per key per instance, or a short Redis lock with others waiting or served stale; early refresh or jittered lifetimes.' },
      { q: 'Redis goes away for a minute. What happens to reads, to writes, and to what is in the cache when it comes back?', listenFor: 'Reads fall back to the databases (with a short timeout on cache calls), writes still commit; invalidations missed while Redis was down are bounded by entry lifetimes or replayed; no stale entry survives past the bound.' },
    ],
  },
  {
    id: 'notifications', title: 'Notifications', checks: ['notification-exactly-once', 'notification-decoupled', 'notification-delivered'], concerns: [], challenges: ['payment-webhook', 'subscription'],
    questions: [
      { q: 'How do you send exactly one confirmation email when your service can crash at any point?', listenFor: 'At-least-once delivery plus an idempotency key at the provider (effectively once); an outbox written in the same transaction as the state change.' },
      { q: 'The notification service is down for ten minutes. What happens to purchases and to the emails?', listenFor: 'Purchases succeed; emails wait in an outbox or queue and are retried with backoff; nothing is lost.' },
      { q: 'What is the transactional outbox pattern, and what problem does it solve here?', listenFor: 'Write the message to a table in the same transaction as the state; a relay sends it later; no dual-write inconsistency.' },
    ],
  },
  {
    id: 'security', title: 'Security', checks: ['signature-enforced'], concerns: ['hard-coded-values', 'sql-built-from-input'], challenges: ['*'],
    questions: [
      { q: 'How do you verify the webhook signature, and why does the comparison need to be constant-time?', listenFor: 'HMAC over timestamp + raw body, timingSafeEqual on equal-length buffers, timestamp within a tolerance to stop replays.' },
      { q: 'Where could input from a caller reach SQL, a Redis key or a log line unescaped?', listenFor: 'Parameters everywhere; keys built from validated ids; no secrets or personal data in logs.' },
    ],
  },
  {
    id: 'observability', title: 'Observability', checks: [], concerns: ['no-monitoring'], challenges: ['*'],
    questions: [
      { q: 'Which log line would have told you, in production, that two users got the same seat?', listenFor: 'Structured logs at decisions with seat, user and outcome; a metric on conflicts; an invariant check (a nightly query) as a safety net.' },
      { q: 'Which metrics and alerts would you set up for this service on day one?', listenFor: 'Latency percentiles per operation, error and retry rates, pool saturation, conflicts per second; alerts on symptoms users feel.' },
    ],
  },
];

export interface OrderedTopic extends Topic {
  /** Why the topic is where it is: failed checks and concerns from the run. */
  reasons: string[];
  urgency: number;
}

/** Topics ordered by what the run showed: failed checks first (most telling check first), then concerns, then relevance. */
export function orderTopics(result?: GradeResult): OrderedTopic[] {
  if (!result) return TOPICS.map((t) => ({ ...t, reasons: [], urgency: 0 }));
  const failed = new Map<string, string[]>();
  for (const ch of result.challenges) {
    for (const sc of ch.scenarios) {
      for (const c of sc.checks) {
        if (c.passed !== false) continue;
        const list = failed.get(c.id) ?? failed.set(c.id, []).get(c.id)!;
        list.push(`${ch.id}/${sc.id}`);
      }
    }
  }
  const concerns = new Set((result.concerns ?? []).map((c) => c.id));
  const attempted = new Set<string>(result.challenges.filter((c) => c.status !== 'not-attempted').map((c) => c.id));
  const ordered = TOPICS.map((t, base) => {
    const reasons: string[] = [];
    let urgency = 0;
    t.checks.forEach((id, rank) => {
      const where = failed.get(id);
      if (!where) return;
      // The topic's lead check failing puts it first, a red-flag lead (single-winner → concurrency) above all.
      urgency += rank === 0 ? (RED_FLAG_CHECKS.has(id) ? 5000 : 2000) : 1000 - rank * 100;
      reasons.push(`${id} failed in ${where.slice(0, 3).join(', ')}`);
    });
    for (const c of t.concerns) {
      if (!concerns.has(c)) continue;
      urgency += 300;
      reasons.push(`concern: ${c}`);
    }
    if (t.challenges.includes('*') || t.challenges.some((c) => attempted.has(c))) urgency += 10;
    return { ...t, reasons, urgency: urgency - base / 100 };
  });
  return ordered.sort((a, b) => b.urgency - a.urgency);
}
