// The 100-point rubric as data: sections, items, points, and how each item is earned. An item is automatic
// (check ids and measured evidence, with partial credit), manual (an interviewer scores it 0–5 with a guide) or
// mixed (both, as two rubric lines). Checks record; the rubric decides (ARCHITECTURE principle 7).
// Which checks earn an item, and which raise a red flag, the challenges declare (CheckInfo.rubric, .redFlag).

import { challenges } from '../challenges/index.ts';
import { PIPELINE_CHECK_IDS } from '../harness/pipeline-checks.ts';
import type { CheckInfo } from '../harness/scenario.ts';

/** Measured evidence beyond checks; each yields a share 0..1, or "not measured" (see rubric/measures.ts). */
export type MeasureId =
  | 'throughput-ratio'
  | 'answer-latency'
  | 'schema-keys'
  | 'schema-indexes'
  | 'clean-sessions'
  | 'strict-types'
  | 'no-hardcoded-config'
  | 'parameterised-sql'
  | 'structured-logging'
  | 'own-tests'
  | 'reported-metrics';

/** Marks an automatic part earned by the checks that feed its item (`CheckInfo.rubric`); resolved below. */
const FED: string[] = [];

/** One way an automatic part earns points: the pass share of some checks, or a measure. */
export type AutoPart = { points: number; checks: string[] } | { points: number; measure: MeasureId };

export interface RubricItem {
  /** Stable id: the key of a manual score (`gauntlet score --manual`). */
  id: string;
  section: string;
  item: string;
  points: number;
  /** What the item is about, in one line. */
  about: string;
  /** Automatic parts. An unmeasured part (its challenge not in this run) hands its points to the others. */
  auto?: AutoPart[];
  /** Points an interviewer awards by scoring the item 0–5 with the guide (scaled to these points). */
  manual?: number;
  /** What 0, 3 and 5 look like. Every item with a manual part has one. */
  guide?: { 0: string; 3: string; 5: string };
  /** Follow-up questions for the interview, 2–3 per item. */
  questions: string[];
}

export const SECTIONS = [
  { id: 'concurrency', title: 'Concurrency & Data Integrity', points: 25 },
  { id: 'design', title: 'System Design & Architecture', points: 25 },
  { id: 'performance', title: 'Scalability & Performance', points: 20 },
  { id: 'code', title: 'Code Quality', points: 20 },
  { id: 'advanced', title: 'Advanced', points: 10 },
] as const;

const [S1, S2, S3, S4, S5] = SECTIONS.map((s) => s.title);

const ITEMS: RubricItem[] = [
  // Concurrency & Data Integrity
  {
    id: 'locking', section: S1, item: 'Locking', points: 5,
    about: 'The write that decides who wins is arbitrated by the shared store, across processes.',
    auto: [{ points: 5, checks: FED }],
    questions: [
      'Which lock (row lock, conditional write, advisory lock, Redis key) decides the winner, and what happens to a lock when its holder dies?',
      'How would the answer change if the seat table were sharded across two databases?',
      'Where can a lock be held across a network call, and why is that dangerous?',
    ],
  },
  {
    id: 'transactions', section: S1, item: 'Transactions', points: 5,
    about: 'Writes that belong together commit together; nothing is left half-done or held open.',
    auto: [
      { points: 4, checks: FED },
      { points: 1, measure: 'clean-sessions' },
    ],
    questions: [
      'Which isolation level do your transactions run at, and which anomaly would the next weaker level let through?',
      'What happens to an open transaction when the process is killed between two statements?',
      'Which of your operations could be one statement instead of a transaction, and would that be better?',
    ],
  },
  {
    id: 'race-prevention', section: S1, item: 'Race prevention', points: 5,
    about: 'Simultaneous requests produce one outcome and truthful answers for everyone else.',
    auto: [{ points: 5, checks: FED }],
    questions: [
      'Walk through two requests for the same seat interleaving statement by statement in your code. Where is the decision made?',
      'How would you show, in a test, that your fix removes the race rather than narrowing it?',
      'Which of your reads could be stale by the time you act on it?',
    ],
  },
  {
    id: 'idempotency', section: S1, item: 'Idempotency', points: 5,
    about: 'Retries and duplicates do nothing new: same key, same result.',
    auto: [{ points: 5, checks: FED }],
    questions: [
      'What is your idempotency key for each operation, where is it stored, and for how long?',
      'Two duplicates arrive at the same instant on two instances: which one does the work, and what does the other answer?',
      'What should happen when the same key arrives with a different body?',
    ],
  },
  {
    id: 'error-recovery', section: S1, item: 'Error recovery', points: 5,
    about: 'Faults (dropped connections, killed backends, crashes) end in a consistent state and a definite answer.',
    auto: [{ points: 5, checks: FED }],
    questions: [
      'A database connection drops after the COMMIT was sent but before its reply came back. What does your code tell the user, and is it true?',
      'After an instance is killed mid-request, what finishes or undoes its work, and when?',
      'Which errors do you retry, which do you surface, and how did you decide?',
    ],
  },

  // System Design & Architecture
  {
    id: 'technology-choices', section: S2, item: 'Justified technology choices', points: 5,
    about: 'Why PostgreSQL, Redis, a queue or none of them, for this workload.',
    manual: 5,
    guide: {
      0: 'No reasoning given, or a tool chosen because it was at hand.',
      3: 'The choices are named with one real trade-off each (e.g. "Postgres because the seat row is the source of truth").',
      5: 'Choices weighed against alternatives for this workload: contention, durability, failure modes, and what it costs to operate.',
    },
    questions: [
      'Why this store for the seat (or payment) state, and what would make you pick the other one?',
      'What would you give up by putting the whole flow in Redis?',
      'Which part of your design would you change first at 100× the traffic?',
    ],
  },
  {
    id: 'error-handling', section: S2, item: 'Error handling', points: 5,
    about: 'Errors have meaning at the boundary: contract codes for real conflicts, retries for transient faults.',
    auto: [{ points: 5, checks: FED }],
    questions: [
      'Which errors does a caller of your service need to tell apart, and how do they?',
      'What does your service answer while the database is unreachable, and why that?',
      'Where do errors from a dependency you do not control (payments, notifications) stop?',
    ],
  },
  {
    id: 'database-design', section: S2, item: 'Database design rationale', points: 5,
    about: 'Keys and constraints that enforce the invariants, chosen for the queries the service runs.',
    auto: [{ points: 2, measure: 'schema-keys' }],
    manual: 3,
    guide: {
      0: 'Ad-hoc tables: no keys, invariants enforced (if at all) in application code.',
      3: 'Primary keys and unique constraints that make the invariant ("one holder per seat") impossible to break.',
      5: 'Constraints, indexes and isolation level explained against the actual queries, with the write path and the read path both considered.',
    },
    questions: [
      'Which constraint in your schema makes a double booking impossible, even with a bug in the code?',
      'Why is each index there, and which query would do a full scan without it?',
      'How would the schema change if a reservation had to keep its history?',
    ],
  },
  {
    id: 'api-design', section: S2, item: 'API design', points: 5,
    about: 'Operations that are safe to retry, with clear and consistent error semantics.',
    auto: [{ points: 2, checks: FED }],
    manual: 3,
    guide: {
      0: 'Inconsistent errors: the same situation gets different answers, or every failure is a 500.',
      3: 'The contract codes used consistently, idempotent where the contract says so.',
      5: 'Every operation is retry-safe by design, with error semantics a client can act on (retry, give up, ask the user) and documented.',
    },
    questions: [
      'Which of your operations is safe for a client to retry after a timeout, and how does the client know?',
      'What status would you return for "seat taken", "seat unknown", "hold expired", and why those?',
      'How would you version this API when holds get a new field?',
    ],
  },
  {
    id: 'monitoring', section: S2, item: 'Monitoring', points: 5,
    about: 'The service says what it decided and what went wrong, in a form a dashboard can use.',
    auto: [{ points: 2, measure: 'structured-logging' }],
    manual: 3,
    guide: {
      0: 'Silent, or console output nobody could search.',
      3: 'Logs through ctx.log at decisions and failures, with ids (seat, user, payment).',
      5: 'Structured logs with ids, outcomes and durations that a dashboard or an alert could be built on, and a view of what to alert on.',
    },
    questions: [
      'At 3 a.m. two customers hold one seat. Which log lines would you search for, and what would they show?',
      'Which three numbers would you put on this service\'s dashboard?',
      'What would you alert on, and what would you deliberately not alert on?',
    ],
  },

  // Scalability & Performance
  {
    id: 'caching', section: S3, item: 'Caching', points: 5,
    about: 'Caching only where it cannot serve a stale answer, with invalidation, lifetimes and the cache\'s own failure reasoned out.',
    // subscription-reads' checks measure it (freshness, invalidation, fallback, stampedes); without that challenge in
    // the run, these points go to the manual part.
    auto: [{ points: 3, checks: FED }],
    manual: 2,
    guide: {
      0: 'No thought given, or a cache that can serve a stale holder (a second winner in disguise).',
      3: 'A cache that cannot lie about the holder (write-through or invalidated on every write), or a reasoned decision not to cache.',
      5: 'Caching justified by measurement, with invalidation, TTLs and the failure of the cache itself reasoned out.',
    },
    questions: [
      'Where would a cache help this service, and what must never be served from it?',
      'Your cache and your database disagree about a seat. Which wins, and how did they come to disagree?',
      'What happens to the service when the cache is down or empty?',
    ],
  },
  {
    id: 'database-optimisation', section: S3, item: 'Database optimisation', points: 5,
    about: 'Short transactions and indexed hot paths; throughput close to the best reference under the same load, callers answered within the deadline under contention, and reads kept off the primary.',
    // The checks part is subscription-reads' (primary offload, no stampede); elsewhere it is unmeasured and the other
    // parts share its point.
    auto: [
      { points: 1, measure: 'throughput-ratio' },
      { points: 1, measure: 'schema-indexes' },
      { points: 1, measure: 'answer-latency' },
      { points: 1, checks: FED },
    ],
    manual: 1,
    guide: {
      0: 'Full scans on the hot path, long transactions or locks held across round trips.',
      3: 'Indexed lookups and short transactions on the hot path.',
      5: 'Single-statement hot paths where possible, contention measured, and the cost of each query known.',
    },
    questions: [
      'How many round trips to the database does one reservation take, and could it be one?',
      'Under contention for one row, what limits your throughput: locks, connections or CPU?',
      'How big should the connection pool be for four instances, and why not bigger?',
    ],
  },
  {
    id: 'load-balancing', section: S3, item: 'Load balancing', points: 5,
    about: 'Any instance can serve any request: no state that only one process knows.',
    auto: [{ points: 5, checks: FED }],
    questions: [
      'What breaks if a request is retried on a different instance than the first attempt?',
      'Is anything in your instances\' memory that another instance would need? How did you check?',
      'How would sticky sessions change your design, and why might you still not want them?',
    ],
  },
  {
    id: 'performance-monitoring', section: S3, item: 'Performance monitoring', points: 5,
    about: 'Latency, throughput and retries measured per operation, in a form a team could alert on.',
    // subscription-reads' optional metrics(), compared with what the harness measured; without it in the run, these
    // points go to the manual part.
    auto: [{ points: 2, measure: 'reported-metrics' }],
    manual: 3,
    guide: {
      0: 'No performance figures at all.',
      3: 'Latency or error counts logged for the main operations.',
      5: 'Per-operation metrics (p50/p99, error and retry rates, pool saturation) with a view of which to alert on.',
    },
    questions: [
      'What is the p99 of a reservation under the last-seat burst, and where does that time go?',
      'How would you notice that retries are hiding a database problem?',
      'Which metric would tell you the connection pool is the bottleneck?',
    ],
  },

  // Code Quality
  {
    id: 'clean-code', section: S4, item: 'Clean code', points: 5,
    about: 'Readable, small functions with one concern each, names that say what they mean.',
    manual: 5,
    guide: {
      0: 'Hard to follow: long functions mixing SQL, decisions and error handling, unclear names.',
      3: 'Readable with clear names; the critical section is easy to find.',
      5: 'Small functions with one concern each, no dead code, the invariant visible in the code and commented where it is subtle.',
    },
    questions: [
      'Point to the few lines that guarantee one winner. Could a new colleague find them?',
      'What would you extract or rename first if this code went to production?',
    ],
  },
  {
    id: 'type-safety', section: S4, item: 'Type safety', points: 5,
    about: 'Strict types across the public surface, errors and database rows; no `any` escape hatches.',
    auto: [{ points: 2, measure: 'strict-types' }],
    manual: 3,
    guide: {
      0: '`any` everywhere, or plain JavaScript with no types at the boundaries.',
      3: 'A typed public surface (the contract\'s types), few escape hatches.',
      5: 'Strict types including error codes and database rows, untyped data validated at the boundary.',
    },
    questions: [
      'What is the type of a row your query returns, and what checks that it is true?',
      'How do callers know which error codes a method can reject with?',
      'Where did you reach for `any` or a cast, and what would remove it?',
    ],
  },
  {
    id: 'error-handling-code', section: S4, item: 'Error handling in code', points: 5,
    about: 'Every promise handled, pooled clients released and listened to, nothing swallowed.',
    auto: [{ points: 5, checks: FED }],
    questions: [
      'What happens to a pooled client when the query on it throws? Show where it is released.',
      'Is there any catch in your code that hides an error a caller needed to know about?',
      'How does an unhandled rejection in your code affect the other requests on the same instance?',
    ],
  },
  {
    id: 'testing', section: S4, item: 'Testing', points: 5,
    about: 'The candidate\'s own tests, especially of concurrency and failure.',
    auto: [{ points: 2, measure: 'own-tests' }],
    manual: 3,
    guide: {
      0: 'No tests of their own.',
      3: 'Happy-path tests that run.',
      5: 'Concurrency and failure tests of their own (parallel calls, a killed connection, a duplicate), which would catch a regression.',
    },
    questions: [
      'How would you test the race without gauntlet? What makes such a test reliable?',
      'Which failure did you test by injecting it, and how?',
    ],
  },

  // Advanced
  {
    id: 'distributed-systems', section: S5, item: 'Distributed systems', points: 5,
    about: 'Correct with several processes, clocks, partial failures and crashes.',
    auto: [{ points: 5, checks: FED }],
    questions: [
      'Whose clock decides that a hold has expired, and what if two instances\' clocks disagree by a second?',
      'A Redis lock expires while its holder is paused by garbage collection. What stops the holder\'s late write?',
      'Which of your guarantees would survive a network partition between an instance and the database?',
    ],
  },
  {
    id: 'security', section: S5, item: 'Security', points: 5,
    about: 'Signed input verified, SQL parameterised, secrets and URLs taken from the context.',
    auto: [
      { points: 2, checks: FED },
      { points: 2, measure: 'parameterised-sql' },
      { points: 1, measure: 'no-hardcoded-config' },
    ],
    questions: [
      'How do you compare the signature, and why does the comparison function matter?',
      'What stops a replayed webhook from an hour ago?',
      'Where could user input reach a SQL string or a Redis key name, and what happens then?',
    ],
  },
];

/** Red flags (CONTRACT §5), each raised by the checks that declare it (`CheckInfo.redFlag`). Any rejects the submission. */
const FLAGS: { id: string; title: string }[] = [
  { id: 'no-concurrency-handling', title: 'No concurrency handling: two users were told they hold the same seat' },
  { id: 'no-idempotency', title: 'No idempotency: a duplicate or a retry did the work twice' },
  { id: 'security-vulnerability', title: 'Security vulnerability: forged or injected input changed data' },
  { id: 'no-error-handling', title: 'No error handling: an instance died on its own' },
  { id: 'no-retry-mechanism', title: 'No retry mechanism: a purchase never completed once the faults healed' },
];

/** Every check of every registered challenge (the pipeline's `loads` and `no-crash` once), in registry order. */
const DECLARED: CheckInfo[] = [...new Map(challenges.flatMap((c) => c.checks).map((k) => [k.id, k])).values()];

/** The rubric: each item's "share of checks passed" part lists the checks that declare they feed the item. */
export const RUBRIC: RubricItem[] = ITEMS.map((item) => ({
  ...item,
  auto: item.auto?.map((p) => ('checks' in p && p.checks === FED ? { points: p.points, checks: DECLARED.filter((k) => k.rubric.includes(item.id)).map((k) => k.id) } : p)),
}));

export const RED_FLAGS: { id: string; checks: string[]; title: string }[] = FLAGS.map((f) => ({ ...f, checks: DECLARED.filter((k) => k.redFlag === f.id).map((k) => k.id) }));

/** The stable check ids of CONTRACT §5, by challenge (`*`: the pipeline's, in every challenge). */
export const CONTRACT_CHECKS: Record<string, string[]> = {
  ...Object.fromEntries(challenges.map((c) => [c.id, c.checks.map((k) => k.id).filter((id) => !PIPELINE_CHECK_IDS.includes(id))])),
  '*': [...PIPELINE_CHECK_IDS],
};

/** The rubric lines an item produces: one automatic line and/or one manual line. */
export function autoPoints(item: RubricItem): number {
  return (item.auto ?? []).reduce((s, p) => s + p.points, 0);
}

export function findItem(key: string): RubricItem | undefined {
  const k = key.trim().toLowerCase();
  return RUBRIC.find((i) => i.id === k || i.item.toLowerCase() === k || `${i.section} / ${i.item}`.toLowerCase() === k);
}
