// The fast unit target (`npm run test:unit`, well under a minute): the test files that need neither PostgreSQL nor
// Redis nor candidate instances — checkers over synthetic histories, wire decoders, reporters, the rubric, the SQL
// and static evidence. Each may open loopback sockets of its own. Checked by running it where no database answers:
//   unshare -n sh -c 'ip link set lo up; npm run test:unit'
// A new test file that needs neither belongs here too; `npm test` runs everything, these included.
// Two groups: most files run two at a time (one per core), sharing module instances within a worker (isolate: false:
// imports are paid once per worker, about 20 s less — so a test must never mutate what a module exports, e.g. sort a
// shared array in place); the files that measure time or CPU run afterwards, one at a time, each isolated, on a
// machine no other test file keeps busy (the CPU-share test counts other programs' CPU). `npm test` (vitest.config.ts)
// runs the same two groups first, then the integration files.
import { defineConfig } from 'vitest/config';

/** Files that time calls, sockets or CPU use: run one at a time, after the rest. */
export const TIMING_FILES = [
  'harness/cpu-share.test.ts',
  'harness/generator/steady-load.test.ts',
  'harness/generator/client.test.ts',
  'test/errors.test.ts',
  'harness/generator/release-priority.test.ts',
  'harness/machine-watch.test.ts',
];

/** Every file of the unit target. */
export const UNIT_FILES = [
  'challenges/notification-fanout/checkers/backlog-drained.test.ts',
  'harness/history/history.test.ts',
  'harness/app/bench/sections.test.ts',
  'challenges/notification-fanout/checkers/dead-lettered.test.ts',
  'challenges/notification-fanout/checkers/delivered-exactly-once.test.ts',
  'challenges/notification-fanout/checkers/no-loss-on-crash.test.ts',
  'challenges/notification-fanout/checkers/preferences-respected.test.ts',
  'challenges/notification-fanout/checkers/publish-decoupled.test.ts',
  'challenges/notification-fanout/checkers/rate-limits-respected.test.ts',
  'challenges/subscription-reads/checkers/bounded-staleness.test.ts',
  'challenges/subscription-reads/checkers/cache-invalidated.test.ts',
  'challenges/subscription-reads/checkers/fallback.test.ts',
  'challenges/subscription-reads/checkers/model.test.ts',
  'challenges/subscription-reads/checkers/monotonic-reads.test.ts',
  'challenges/subscription-reads/checkers/no-stampede.test.ts',
  'challenges/subscription-reads/checkers/primary-offload.test.ts',
  'challenges/subscription-reads/checkers/read-your-writes.test.ts',
  'challenges/subscription-reads/scenarios/metrics.test.ts',
  'challenges/payment-webhook/checkers/duplicates-acknowledged.test.ts',
  'challenges/payment-webhook/checkers/eventually-processed.test.ts',
  'challenges/payment-webhook/checkers/no-state-regression.test.ts',
  'challenges/payment-webhook/checkers/notification-exactly-once.test.ts',
  'challenges/payment-webhook/checkers/one-subscription-per-payment.test.ts',
  'challenges/payment-webhook/checkers/poison-dead-lettered.test.ts',
  'challenges/payment-webhook/checkers/signature-enforced.test.ts',
  'challenges/payment-webhook/provider/provider.test.ts',
  'challenges/seat-reservation/checkers/definite-rejections.test.ts',
  'challenges/seat-reservation/checkers/hold-release.test.ts',
  'challenges/seat-reservation/checkers/idempotent-rereserve.test.ts',
  'challenges/seat-reservation/checkers/no-lost-seats.test.ts',
  'challenges/seat-reservation/checkers/single-winner.test.ts',
  'challenges/seat-reservation/checkers/winner-durable.test.ts',
  'challenges/subscription/checkers/crash-recovered.test.ts',
  'challenges/subscription/checkers/eventually-created.test.ts',
  'challenges/subscription/checkers/honours-retry-after.test.ts',
  'challenges/subscription/checkers/no-double-charge.test.ts',
  'challenges/subscription/checkers/no-orphan-charge.test.ts',
  'challenges/subscription/checkers/notification-decoupled.test.ts',
  'challenges/subscription/checkers/notification-delivered.test.ts',
  'challenges/subscription/checkers/retry-backoff.test.ts',
  'harness/candidate-view.test.ts',
  'harness/history/latency.test.ts',
  'harness/infra/abort-socket.test.ts',
  'harness/nemesis/startup-watch.test.ts',
  'harness/nemesis/redis-faults.test.ts',
  'harness/app/reporters/library-notes.test.ts',
  'harness/app/reporters/reporters.test.ts',
  'harness/wire/correlate.test.ts',
  'harness/wire/pg-wire.test.ts',
  'harness/wire/query-log.test.ts',
  'harness/wire/redis-script-scan.test.ts',
  'harness/wire/resp-reply-parser.test.ts',
  'harness/wire/resp-request-parser.test.ts',
  'rubric/evidence/sources.test.ts',
  'rubric/evidence/sql/shape.test.ts',
  'rubric/evidence/static/isolation.test.ts',
  'rubric/evidence/static/retries.test.ts',
  'rubric/evidence/static/sql-from-input.test.ts',
  'rubric/evidence/static/tests.test.ts',
  'rubric/evidence/wire/wire.test.ts',
  'rubric/manual.test.ts',
  'rubric/questions.test.ts',
  'rubric/rubric.test.ts',
  'harness/generator/http-client.test.ts',
  'challenges/seat-reservation/operations.test.ts',
  'challenges/payment-webhook/operations.test.ts',
  'challenges/subscription/operations.test.ts',
  'challenges/notification-fanout/operations.test.ts',
  'harness/cleanup.test.ts',
  'test/reference-discovery.test.ts',
  'test/layers.test.ts',
  'test/registry.test.ts',
  'harness/app/reference-figures.test.ts',
  'harness/app/convoy-yardstick.test.ts',
  'harness/app/batch/tokens.test.ts',
  'harness/app/batch/similarity.test.ts',
  'harness/app/batch/batch-report.test.ts',
  'harness/app/fleet/pack.test.ts',
  'harness/scenario-runner.test.ts',
  'harness/app/scenario-pipeline.test.ts',
  'harness/app/grade-chain.test.ts',
  'test/suite-files.test.ts',
  'test/unit-target.test.ts',
  ...TIMING_FILES,
];

/**
 * The two unit groups, as `npm run test:unit` (here) and `npm test` (vitest.config.ts, with its longer timeouts and
 * excludes) run them: the parallel files sharing their worker's modules, then the timing files one at a time.
 */
export function unitProjects(options: { testTimeout: number; hookTimeout?: number; exclude?: string[] }) {
  const shared = { setupFiles: ['test/setup-cleanup.ts'], pool: 'forks' as const, ...options };
  return [
    { test: { ...shared, name: 'unit', include: UNIT_FILES.filter((f) => !TIMING_FILES.includes(f)), maxWorkers: 2, isolate: false, sequence: { groupOrder: 0 } } },
    { test: { ...shared, name: 'unit-timing', include: TIMING_FILES, fileParallelism: false, sequence: { groupOrder: 1 } } },
  ];
}

export default defineConfig({ test: { projects: unitProjects({ testTimeout: 30_000 }) } });
