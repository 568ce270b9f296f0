// The 100-point rubric as data: sections, items, points, and for automatic items the check ids that are their
// evidence. Checks record; the rubric decides (ARCHITECTURE principle 7). Manual items carry a scoring guide.

export interface RubricItem {
  section: string;
  item: string;
  points: number;
  source: 'auto' | 'manual';
  /** Check ids whose pass share awards the points (auto items). */
  checks?: string[];
  /** What 0, 3 and 5 look like (manual items). */
  guide?: string;
}

const S1 = 'Concurrency & Data Integrity';
const S2 = 'System Design & Architecture';
const S3 = 'Scalability & Performance';
const S4 = 'Code Quality';
const S5 = 'Advanced';

export const RUBRIC: RubricItem[] = [
  { section: S1, item: 'Locking', points: 5, source: 'auto', checks: ['single-winner', 'hold-expires', 'release-frees-seat'] },
  { section: S1, item: 'Transactions', points: 5, source: 'auto', checks: ['winner-durable', 'no-lost-seats', 'one-subscription-per-payment', 'no-orphan-charge'] },
  { section: S1, item: 'Race prevention', points: 5, source: 'auto', checks: ['single-winner', 'definite-rejections', 'duplicates-acknowledged'] },
  { section: S1, item: 'Idempotency', points: 5, source: 'auto', checks: ['idempotent-rereserve', 'one-subscription-per-payment', 'notification-exactly-once', 'no-double-charge'] },
  { section: S1, item: 'Error recovery', points: 5, source: 'auto', checks: ['no-crash', 'definite-rejections', 'eventually-processed', 'crash-recovered', 'eventually-created'] },
  { section: S2, item: 'Justified technology choices', points: 5, source: 'manual', guide: '0: no reasoning; 3: choices named with one trade-off; 5: choices weighed against alternatives for this workload (contention, durability, operations).' },
  { section: S2, item: 'Error handling', points: 5, source: 'auto', checks: ['definite-rejections', 'no-crash', 'poison-dead-lettered', 'notification-decoupled'] },
  { section: S2, item: 'Database design rationale', points: 5, source: 'manual', guide: '0: ad-hoc tables; 3: keys and constraints that enforce the invariants; 5: constraints, indexes and isolation level explained against the queries.' },
  { section: S2, item: 'API design', points: 5, source: 'manual', guide: '0: inconsistent errors; 3: contract codes used consistently; 5: idempotent, retry-safe operations with clear error semantics.' },
  { section: S2, item: 'Monitoring', points: 5, source: 'manual', guide: '0: silent; 3: logs through ctx.log at decisions and failures; 5: structured logs with ids and counts a dashboard could use.' },
  { section: S3, item: 'Caching', points: 5, source: 'manual', guide: '0: none or unsafe caching; 3: a cache that cannot serve stale winners; 5: caching justified by measurement, with invalidation reasoned out.' },
  { section: S3, item: 'Database optimisation', points: 5, source: 'manual', guide: '0: full scans, long transactions; 3: indexed lookups, short transactions; 5: single-statement hot paths, contention measured.' },
  { section: S3, item: 'Load balancing', points: 5, source: 'auto', checks: ['single-winner', 'winner-durable'] },
  { section: S3, item: 'Performance monitoring', points: 5, source: 'manual', guide: '0: none; 3: latency or error counts logged; 5: metrics per operation (p99, retries) a team could alert on.' },
  { section: S4, item: 'Clean code', points: 5, source: 'manual', guide: '0: hard to follow; 3: readable with clear names; 5: small functions, one concern each, no dead code.' },
  { section: S4, item: 'Type safety', points: 5, source: 'manual', guide: '0: any everywhere; 3: typed public surface; 5: strict types including errors and database rows.' },
  { section: S4, item: 'Error handling in code', points: 5, source: 'auto', checks: ['no-crash', 'definite-rejections'] },
  { section: S4, item: 'Testing', points: 5, source: 'manual', guide: '0: none; 3: happy-path tests; 5: concurrency and failure tests of their own.' },
  { section: S5, item: 'Distributed systems', points: 5, source: 'auto', checks: ['single-winner', 'winner-durable', 'hold-expires', 'crash-recovered', 'eventually-processed'] },
  { section: S5, item: 'Security', points: 5, source: 'auto', checks: ['signature-enforced', 'definite-rejections'] },
];

/** Red flags (CONTRACT §5): the check that raises each. Any of them rejects the submission. */
export const RED_FLAGS: { id: string; checks: string[] }[] = [
  { id: 'no-concurrency-handling', checks: ['single-winner'] },
  { id: 'no-idempotency', checks: ['one-subscription-per-payment', 'no-double-charge'] },
  { id: 'security-vulnerability', checks: ['signature-enforced'] },
  { id: 'no-error-handling', checks: ['no-crash'] },
  { id: 'no-retry-mechanism', checks: ['eventually-created'] },
];
