// scoreChallenges on synthetic results: the arithmetic, partial credit (share of checks per challenge, mean
// over challenges), unmeasured parts, measures, red flags, manual scores and overrides, not-attempted challenges,
// the verdict and re-scoring. No database, no processes: the rubric is a pure function.

import { describe, expect, it } from 'vitest';
import { checkShare, rescore, scoreChallenges, sectionTotals, verdictOf, type ScoreInput } from './score.ts';
import { RUBRIC } from './rubric.ts';
import { allSeatPassing, bad, challenge, expectedChecks, gradeResult, notAttempted, ok, scenario, seatScenario, staticEvidence, undecided, wireEvidence } from './test-results.ts';
import type { ChallengeResult } from '../harness/types.ts';
import type { RubricLine } from './result.ts';

const T = { timeout: 5000 };
const input = (extra: ScoreInput = {}): ScoreInput => ({ expectedChecks, ...extra });
const line = (rubric: RubricLine[], id: string, source: 'auto' | 'manual' = 'auto') => rubric.find((l) => l.id === id && l.source === source)!;
const sum = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) * 10) / 10;

describe('arithmetic', () => {
  it('lines always sum to 100; automated and manual add up; manual is null until scored', T, () => {
    const { rubric, score } = scoreChallenges([allSeatPassing()], input({ evidence: staticEvidence() }));
    expect(sum(rubric.map((l) => l.points))).toBe(100);
    expect(score.max).toBe(100);
    expect(score.automated).toBe(sum(rubric.filter((l) => l.source === 'auto').map((l) => l.awarded ?? 0)));
    expect(score.automatedMax + score.manualMax).toBe(100);
    expect(score.manual).toBeNull();
    expect(score.total).toBe(score.automated);
    expect(rubric.filter((l) => l.source === 'manual').every((l) => l.awarded === null)).toBe(true);
    for (const l of rubric) expect(l.awarded === null || (l.awarded >= 0 && l.awarded <= l.points), l.id).toBe(true);
  });

  it('a mixed item is two lines with the same name; a manual item one line; an automatic one one line', T, () => {
    const { rubric } = scoreChallenges([allSeatPassing()], input({ evidence: staticEvidence() }));
    expect(rubric.filter((l) => l.item === 'Database design rationale').map((l) => [l.source, l.points, l.mixed])).toEqual([['auto', 2, true], ['manual', 3, true]]);
    expect(rubric.filter((l) => l.item === 'Clean code').map((l) => l.source)).toEqual(['manual']);
    expect(rubric.filter((l) => l.item === 'Locking').map((l) => l.source)).toEqual(['auto']);
    expect(rubric.length).toBe(RUBRIC.reduce((n, i) => n + (i.auto ? 1 : 0) + (i.manual ? 1 : 0), 0));
  });

  it('sections add up', T, () => {
    const { rubric } = scoreChallenges([allSeatPassing()], input({ evidence: staticEvidence() }));
    const totals = sectionTotals(rubric);
    expect(totals.map((s) => s.points)).toEqual([25, 25, 20, 20, 10]);
    expect(totals.find((s) => s.section === 'Concurrency & Data Integrity')).toMatchObject({ awarded: 25, pending: 0 });
  });
});

describe('partial credit from checks', () => {
  it('a check failing in one of its scenarios costs its share', T, () => {
    // Locking on seat-reservation: single-winner ×4 scenarios + hold-expires + release-frees-seat = 6 results, 1 failed.
    const seat = challenge('seat-reservation', ['last-seat', 'many-seats', 'holds', 'load'].map((s) => seatScenario(s, s === 'last-seat' ? { 'single-winner': bad('single-winner') } : {})));
    const { rubric } = scoreChallenges([seat], input());
    expect(line(rubric, 'locking').awarded).toBe(Math.round(5 * (5 / 6) * 10) / 10);
    expect(line(rubric, 'locking').detail).toMatch(/5 of 6 passed \(failed: single-winner in last-seat\)/);
    expect(line(rubric, 'locking').evidence).toEqual(['single-winner', 'hold-expires', 'release-frees-seat']);
  });

  it('averages over the challenges a check list spans; a not-attempted challenge counts 0', T, () => {
    const r = checkShare(['idempotent-rereserve', 'one-subscription-per-payment', 'no-double-charge'], [allSeatPassing(), notAttempted('payment-webhook'), notAttempted('subscription')], input());
    expect(r.share).toBeCloseTo(1 / 3);
    expect(r.detail).toMatch(/payment-webhook: not attempted/);
    const { rubric, score } = scoreChallenges([allSeatPassing(), notAttempted('payment-webhook')], input());
    expect(line(rubric, 'idempotency').awarded).toBe(2.5);
    expect(score.automated).toBeLessThan(scoreChallenges([allSeatPassing()], input()).score.automated);
  });

  it('challenges outside the run do not weigh at all', T, () => {
    expect(checkShare(['idempotent-rereserve', 'one-subscription-per-payment'], [allSeatPassing()], input()).share).toBe(1);
  });

  it('checks of scenarios not selected are out of scope, not failed', T, () => {
    const seat = challenge('seat-reservation', [seatScenario('last-seat')]);
    const { rubric } = scoreChallenges([seat], input());
    expect(line(rubric, 'locking').awarded).toBe(5);
    // Nothing of it could be measured in this run: it leaves the automated maximum rather than scoring 0 of 5.
    expect(line(rubric, 'idempotency')).toMatchObject({ awarded: 0, points: 0 });
    expect(line(rubric, 'idempotency').detail).toMatch(/none of its checks ran.*leave the automated maximum/);
  });

  it('a skipped scenario (not implemented) counts its checks as failed, but not loads or no-crash', T, () => {
    const seat = challenge('seat-reservation', [seatScenario('last-seat'), scenario('holds', [], { skipped: 'not implemented: holdSeat' })]);
    const locking = checkShare(['single-winner', 'hold-expires', 'release-frees-seat'], [seat], input());
    expect(locking.share).toBeCloseTo(1 / 4);
    expect(locking.detail).toMatch(/hold-expires in holds \(not implemented\)/);
    expect(checkShare(['no-crash'], [seat], input()).share).toBe(1);
  });

  it('a scenario whose module did not load counts every check it would have run as failed', T, () => {
    const seat = challenge('seat-reservation', [scenario('last-seat', [bad('loads')], { status: 'error' })]);
    const r = checkShare(['single-winner', 'no-crash'], [seat], input());
    expect(r.share).toBe(0);
    expect(r.detail).toMatch(/did not run/);
  });

  it('an environment error (no Redis) is never held against the submission', T, () => {
    const seat = challenge('seat-reservation', [seatScenario('last-seat'), scenario('holds', [], { status: 'error', environmentError: true })]);
    expect(checkShare(['single-winner', 'hold-expires'], [seat], input()).share).toBe(1);
  });

  it('an undecided check earns nothing (never a pass) and raises no red flag', T, () => {
    const seat = challenge('seat-reservation', [seatScenario('last-seat', { 'single-winner': undecided('single-winner') })]);
    const { rubric, redFlags } = scoreChallenges([seat], input());
    expect(line(rubric, 'locking').awarded).toBe(0);
    expect(redFlags).toEqual([]);
  });
});

describe('measures and unmeasured parts', () => {
  it('an unmeasured part hands its points to the measured parts of the item', T, () => {
    // Security: signature-enforced (payment-webhook, not in this run) is unmeasured; the two static measures share 5.
    const { rubric } = scoreChallenges([allSeatPassing()], input({ evidence: staticEvidence({ interpolatedSql: [{ file: 'a.ts', line: 3, text: 'x', source: 'parameter userId' }] }) }));
    expect(line(rubric, 'security')).toMatchObject({ points: 5, awarded: Math.round((5 / 3) * 10) / 10 });
  });

  it('a mixed item with nothing measured moves its automatic points to the manual part', T, () => {
    const uninspected = challenge('seat-reservation', [seatScenario('last-seat')]);
    const { rubric } = scoreChallenges([uninspected], input());
    expect(line(rubric, 'database-design')).toMatchObject({ points: 0, awarded: 0 });
    expect(line(rubric, 'database-design', 'manual').points).toBe(5);
    // Fully automatic items with nothing measured leave the maximum; everything else adds up to 100.
    const left = rubric.filter((l) => /leave the automated maximum/.test(l.detail ?? '')).map((l) => RUBRIC.find((i) => i.id === l.id)!.points);
    expect(sum(rubric.map((l) => l.points)) + sum(left)).toBe(100);
  });

  it('throughput against the same-run reference: full from 0.75×, none at 0.25×, none when the scenario failed', T, () => {
    const withRatio = (ratio: number, pass = true) =>
      challenge('seat-reservation', [seatScenario('load', pass ? {} : { 'single-winner': bad('single-winner') }, { metrics: { operations: 100, ok: 50, fail: 50, indeterminate: 0, p50Ms: 1, p99Ms: 3, throughputPerS: 1000, maxInFlight: 8, throughputRatio: ratio, referenceThroughputPerS: 2000, loadThroughputPerS: 1000 } })]);
    const opt = (ratio: number, pass = true) => line(scoreChallenges([withRatio(ratio, pass)], input()).rubric, 'database-optimisation');
    // No tables inspected, no answer times: schema-indexes and answer-latency are unmeasured, so throughput carries
    // all 4 automatic points.
    expect(opt(0.9)).toMatchObject({ points: 4, awarded: 4 });
    expect(opt(0.5)).toMatchObject({ awarded: 2 });
    expect(opt(0.2)).toMatchObject({ awarded: 0 });
    expect(opt(0.9, false).awarded).toBe(0);
    expect(opt(0.9).detail).toMatch(/0\.9× the fastest reference/);
  });

  it('slow but correct: answers after the deadline cost answer-latency points and raise a concern, never a check', T, () => {
    const withSlow = (slowCalls: number, pass = true) =>
      challenge('seat-reservation', [seatScenario('last-seat', pass ? {} : { 'single-winner': bad('single-winner') }, { metrics: { operations: 1000, ok: 1, fail: 999, indeterminate: 0, p50Ms: 9000, p99Ms: 17000, throughputPerS: 50, maxInFlight: 1000, slowCalls, maxLatencyMs: 17800, answerDeadlineMs: 10000 } })]);
    const scored = (slow: number, pass = true) => scoreChallenges([withSlow(slow, pass)], input());
    expect(line(scored(0).rubric, 'database-optimisation')).toMatchObject({ points: 4, awarded: 4 });
    expect(line(scored(500).rubric, 'database-optimisation')).toMatchObject({ awarded: 2 });
    expect(line(scored(500).rubric, 'database-optimisation').detail).toMatch(/500 of 1000 answered after 10000 ms \(slowest 17800 ms\)/);
    expect(line(scored(0, false).rubric, 'database-optimisation').awarded).toBe(0);
    expect(scored(0).concerns.map((c) => c.id)).not.toContain('slow-under-contention');
    const concern = scored(450).concerns.find((c) => c.id === 'slow-under-contention');
    expect(concern?.evidence[0]).toMatch(/seat-reservation\/last-seat: 450 of 1000 calls answered after 10000 ms \(slowest 17800 ms/);
    expect(scored(450).redFlags).toEqual([]);
  });

  it('slow answers taken on a busy machine are the machine\'s: no answer-latency points lost, no concern (CONTRACT §8)', T, () => {
    const run = (slowCalls: number, machine: { loadPerCore: number; otherCpuCores: number; harnessLagMaxMs: number }) =>
      challenge('seat-reservation', [seatScenario('last-seat', {}, { metrics: { operations: 503, ok: 1, fail: 502, indeterminate: 0, p50Ms: 4000, p99Ms: 12000, throughputPerS: 50, maxInFlight: 503, slowCalls, maxLatencyMs: 12800, answerDeadlineMs: 10000, ...machine } })]);
    const scored = (slow: number, machine: { loadPerCore: number; otherCpuCores: number; harnessLagMaxMs: number }) => scoreChallenges([run(slow, machine)], input());
    // The case that accused a plain FOR UPDATE solution: 38 of 503 after 10 s, graded beside another grade.
    const busy = scored(38, { loadPerCore: 2.1, otherCpuCores: 0.9, harnessLagMaxMs: 120 });
    expect(busy.concerns.map((c) => c.id)).not.toContain('slow-under-contention');
    const opt = line(busy.rubric, 'database-optimisation');
    // Nothing else in the item was measured here, so it is unmeasured as a whole: nothing lost.
    expect(opt.awarded).toBe(opt.points);
    expect(opt.detail).toMatch(/38 answered after 10000 ms, not scored: the machine was busy \(other programs used 0\.9 cores' worth of CPU/);
    // A short workload's blip is not a busy machine: 0.9 cores over 0.8 s is 0.72 s of CPU, under the 1 s floor.
    const blip = challenge('seat-reservation', [seatScenario('last-seat', {}, { metrics: { operations: 503, ok: 1, fail: 502, indeterminate: 0, p50Ms: 4000, p99Ms: 12000, throughputPerS: 50, maxInFlight: 503, slowCalls: 38, maxLatencyMs: 12800, answerDeadlineMs: 10000, loadPerCore: 0.5, otherCpuCores: 0.9, harnessLagMaxMs: 40, workloadMs: 800 } })]);
    expect(scoreChallenges([blip], input()).concerns.map((c) => c.id)).toContain('slow-under-contention');
    // A starved harness excuses them too, whatever else ran.
    expect(scored(38, { loadPerCore: 0.4, otherCpuCores: 0, harnessLagMaxMs: 1500 }).concerns.map((c) => c.id)).not.toContain('slow-under-contention');
    // The same answers on a quiet machine are the code's, however heavy the grade itself was (the load average
    // counts the grade's own processes): the concern and the lost point stand.
    const quiet = scored(38, { loadPerCore: 2.1, otherCpuCores: 0.1, harnessLagMaxMs: 50 });
    expect(quiet.concerns.find((c) => c.id === 'slow-under-contention')?.evidence[0]).toMatch(/38 of 503 calls answered after 10000 ms/);
    expect(line(quiet.rubric, 'database-optimisation').detail).toMatch(/38 of 503 answered after 10000 ms/);
    expect(line(quiet.rubric, 'database-optimisation').detail).not.toMatch(/not scored/);
    expect(line(quiet.rubric, 'database-optimisation').awarded).toBeLessThan(line(quiet.rubric, 'database-optimisation').points);
    // A busy scenario beside a quiet one: the quiet one alone is scored.
    const two = challenge('seat-reservation', [
      seatScenario('last-seat', {}, { metrics: { operations: 500, ok: 1, fail: 499, indeterminate: 0, p50Ms: 4000, p99Ms: 12000, throughputPerS: 50, maxInFlight: 500, slowCalls: 250, maxLatencyMs: 12800, answerDeadlineMs: 10000, loadPerCore: 1.9, otherCpuCores: 1.2, harnessLagMaxMs: 40 } }),
      seatScenario('many-seats', {}, { metrics: { operations: 800, ok: 700, fail: 100, indeterminate: 0, p50Ms: 100, p99Ms: 300, throughputPerS: 500, maxInFlight: 200, slowCalls: 0, maxLatencyMs: 400, answerDeadlineMs: 10000, loadPerCore: 0.8, otherCpuCores: 0, harnessLagMaxMs: 40 } }),
    ]);
    const both = scoreChallenges([two], input());
    expect(line(both.rubric, 'database-optimisation').awarded).toBe(4);
    expect(both.concerns.map((c) => c.id)).not.toContain('slow-under-contention');
  });

  it('a deadline stretched on this machine (the convoy reference) is what slow is counted against, and said', T, () => {
    const run = (slowCalls: number) => challenge('seat-reservation', [seatScenario('last-seat', {}, { metrics: { operations: 1003, ok: 1, fail: 1002, indeterminate: 0, p50Ms: 9600, p99Ms: 18900, throughputPerS: 50, maxInFlight: 1003, slowCalls, slowCallsAfterAnswerDeadline: 479, maxLatencyMs: 19200, answerDeadlineMs: 10000, machineDeadlineMs: 28800, convoyReferenceSlowestMs: 19200, convoyReferenceMeasured: 'now', loadPerCore: 1.9, otherCpuCores: 0.05, harnessLagMaxMs: 40 } })]);
    // The plain FOR UPDATE solution on the standard profile: 479 after 10 s, none after the machine's 28.8 s.
    const plain = scoreChallenges([run(0)], input());
    expect(plain.concerns.map((c) => c.id)).not.toContain('slow-under-contention');
    expect(line(plain.rubric, 'database-optimisation').detail).not.toMatch(/answered after/);
    // Slower than that still: counted, and the line says which deadline and why.
    const slower = scoreChallenges([run(120)], input());
    expect(slower.concerns.find((c) => c.id === 'slow-under-contention')?.evidence[0]).toMatch(/120 of 1003 calls answered after 28800 ms \(the 10000 ms answer deadline, stretched on this machine to 1\.5× the 19200 ms the plainest correct design/);
    expect(line(slower.rubric, 'database-optimisation').detail).toMatch(/120 of 1003 answered after 28800 ms \(the 10000 ms answer deadline/);
  });

  it('static measures: strict types, plain JavaScript, hard-coded config, logging, own tests', T, () => {
    const score = (ev = staticEvidence()) => scoreChallenges([allSeatPassing()], input({ evidence: ev })).rubric;
    expect(line(score(), 'type-safety').awarded).toBe(2);
    expect(line(score(staticEvidence({ typescript: { checked: true, errors: 2, explicitAny: 1, errorSamples: [], anySamples: [] } })), 'type-safety').awarded).toBe(1);
    expect(line(score(staticEvidence({ typescript: { checked: false, reason: 'plain JavaScript: no static types to check', errors: 0, explicitAny: 0, errorSamples: [], anySamples: [] } })), 'type-safety').awarded).toBe(0);
    expect(line(score(staticEvidence({ hardcoded: [{ file: 'a.ts', line: 1, text: "'postgres://x'", kind: 'database-url' }] })), 'security').detail).toMatch(/hard-coded database-url at a\.ts:1/);
    expect(line(score(), 'testing').awarded).toBe(0);
    expect(line(score(staticEvidence({ tests: { files: ['a.test.ts'], concurrencyTests: 1, failureTests: 1 } })), 'testing').awarded).toBe(2);
    // ctxLogLines measured at run time: none logged although the code calls ctx.log → half.
    const quiet = challenge('seat-reservation', [seatScenario('last-seat', {}, { metrics: { operations: 1, ok: 1, fail: 0, indeterminate: 0, p50Ms: 1, p99Ms: 1, throughputPerS: 1, maxInFlight: 1, ctxLogLines: 0 } })]);
    expect(line(scoreChallenges([quiet], input({ evidence: staticEvidence() })).rubric, 'monitoring').awarded).toBe(1);
    const chatty = challenge('seat-reservation', [seatScenario('last-seat', {}, { metrics: { operations: 1, ok: 1, fail: 0, indeterminate: 0, p50Ms: 1, p99Ms: 1, throughputPerS: 1, maxInFlight: 1, ctxLogLines: 12 } })]);
    expect(line(scoreChallenges([chatty], input({ evidence: staticEvidence() })).rubric, 'monitoring').awarded).toBe(2);
  });

  it('performance monitoring: a module\'s own metrics() agreeing with the harness earns the automatic part; none asked, it goes to the manual part', T, () => {
    const metrics = (agreement?: number) => challenge('seat-reservation', [seatScenario('last-seat', {}, { metrics: { operations: 1, ok: 1, fail: 0, indeterminate: 0, p50Ms: 1, p99Ms: 1, throughputPerS: 1, maxInFlight: 1, ...(agreement === undefined ? {} : { metricsAgreement: agreement, metricsDetail: `agreed on ${agreement}` }) } })]);
    const rubric = (agreement?: number) => scoreChallenges([metrics(agreement)], input()).rubric;
    expect(line(rubric(0.5), 'performance-monitoring')).toMatchObject({ points: 2, awarded: 1, detail: 'agreed on 0.5' });
    expect(line(rubric(0), 'performance-monitoring').awarded).toBe(0);
    expect(line(rubric(), 'performance-monitoring')).toMatchObject({ points: 0, awarded: 0 });
    expect(line(rubric(), 'performance-monitoring', 'manual').points).toBe(5);
    expect(line(rubric(1), 'performance-monitoring', 'manual').points).toBe(3);
  });

  it('schema from the inspection and EXPLAIN: keys, statements no index serves, sessions left open', T, () => {
    const inspection = {
      tables: [
        { schema: 'public', name: 'seats', rows: 1, primaryKey: ['seat_id'], unique: [['seat_id']], indexes: [{ name: 'seats_pkey', columns: ['seat_id'], unique: true }], foreignKeys: [], seqScans: 0, indexScans: 9 },
        { schema: 'public', name: 'audit', rows: 1, primaryKey: null, unique: [], indexes: [], foreignKeys: [], seqScans: 3, indexScans: 0 },
      ],
      idleInTransaction: [{ ageMs: 900, query: 'SELECT 1' }],
      advisoryLocks: 0,
      redis: null,
    };
    const wire = wireEvidence({ indexes: { checked: 2, indexed: 1, scans: [{ table: 'audit', rows: 40, sql: 'SELECT * FROM audit WHERE user_id = $1', count: 12, filter: '(user_id = $1)' }], skipped: [] } });
    const seat = challenge('seat-reservation', [seatScenario('last-seat', {}, { inspection, wire })]);
    const { rubric, concerns } = scoreChallenges([seat], input({ evidence: staticEvidence() }));
    expect(line(rubric, 'database-design')).toMatchObject({ points: 2, awarded: 1 });
    expect(line(rubric, 'transactions').detail).toMatch(/1 session idle in a transaction/);
    expect(line(rubric, 'transactions').awarded).toBe(4);
    expect(concerns.map((c) => c.id)).toEqual(['poor-database-design', 'no-transaction-handling']);
    expect(concerns[0].evidence.join(' ')).toMatch(/none on audit/);
    expect(concerns[0].evidence.join(' ')).toMatch(/sequential scan on audit \(40 rows, filter \(user_id = \$1\)\) for "SELECT \* FROM audit WHERE user_id = \$1" \(ran 12 times\)/);
    expect(line(rubric, 'database-optimisation').detail).toMatch(/1 of 2 distinct statements with a predicate can use an index/);
  });

  it('a sequential scan only the final reads caused (an occasional listing) is said, not counted, and raises no concern', T, () => {
    const inspection = {
      tables: [{ schema: 'public', name: 'deliveries', rows: 380, primaryKey: ['event_id', 'channel'], unique: [], indexes: [], foreignKeys: [], seqScans: 2, indexScans: 900 }],
      idleInTransaction: [], advisoryLocks: 0, redis: null,
    };
    const listing = { table: 'deliveries', rows: 380, sql: "SELECT event_id, channel, reason FROM deliveries WHERE status = 'dead' ORDER BY event_id, channel", count: 3, filter: "(status = 'dead'::text)" };
    const grade = (workloadCount: number | undefined) => {
      const wire = wireEvidence({ indexes: { checked: 12, indexed: 11, scans: [{ ...listing, ...(workloadCount !== undefined ? { workloadCount } : {}) }], skipped: [] } });
      return scoreChallenges([challenge('seat-reservation', [seatScenario('last-seat', {}, { inspection, wire })])], input({ evidence: staticEvidence() }));
    };
    const occasional = grade(0);
    expect(occasional.concerns.map((c) => c.id)).not.toContain('poor-database-design');
    expect(line(occasional.rubric, 'database-optimisation').detail).toMatch(/11 of 11 distinct statements with a predicate can use an index; not counted, sent only for the final reads \(an occasional listing\): sequential scan on deliveries \(380 rows/);
    // The same statement sent during the workload too (or by a history without final reads to tell): held against it.
    for (const traffic of [grade(1), grade(undefined)]) {
      expect(traffic.concerns.map((c) => c.id)).toContain('poor-database-design');
      expect(line(traffic.rubric, 'database-optimisation').detail).toMatch(/11 of 12 distinct statements with a predicate can use an index; no index serves sequential scan on deliveries/);
    }
  });

  it('nothing measured: a fully automatic item leaves the automated maximum instead of scoring 0', T, () => {
    // An HTTP-mode server in another language: no source read, no webhook challenge, no SQL recorded.
    const seat = challenge('seat-reservation', [seatScenario('last-seat')]);
    const { rubric, score } = scoreChallenges([seat], input({ evidence: { static: null, staticError: 'no JavaScript or TypeScript source' } }));
    expect(line(rubric, 'security')).toMatchObject({ points: 0, awarded: 0 });
    expect(line(rubric, 'security').detail).toMatch(/leave the automated maximum/);
    expect(score.automatedMax).toBe(rubric.filter((l) => l.source === 'auto').reduce((s, l) => s + l.points, 0));
  });

  it('observed on the wire: the concerns quote the call and the statements', T, () => {
    const finding = (what: string) => ({ count: 2, examples: [{ what, op: 'op 3 reserve {"seatId":"s-1"} on instance 1, 1.00–2.00 ms → ok', statements: ['instance 1 · conn 4 · 1.50 ms  COMMIT → COMMIT with WARNING 25P01: there is no transaction in progress'] }] });
    const wire = wireEvidence({ poolMixups: finding('COMMIT sent on connection 4, which had no transaction in progress'), swallowed: finding('the call was answered ok, but its write failed'), transientErrors: { count: 3, retried: 0, serialization: 3, serializationRetried: 0, serializationExample: 'instance 0 · conn 1 · 5.00 ms  COMMIT → ERROR 40001: could not serialize' } });
    const seat = challenge('seat-reservation', [seatScenario('last-seat', {}, { wire })]);
    const { concerns, redFlags } = scoreChallenges([seat], input({ evidence: staticEvidence() }));
    expect(concerns.map((c) => c.id)).toEqual(['no-retries', 'no-transaction-handling', 'swallowed-errors']);
    const tx = concerns.find((c) => c.id === 'no-transaction-handling')!.evidence[0];
    expect(tx).toMatch(/^seat-reservation\/last-seat: COMMIT sent on connection 4.*\(seen 2 times\)\n  op 3 reserve.*\n    instance 1 · conn 4/);
    expect(concerns[0].evidence[0]).toMatch(/3 serialization failure\(s\).*none was retried/);
    expect(redFlags).toEqual([]);
    // The locks the statements took are evidence on the locking line (never points).
    const { rubric } = scoreChallenges([seat], input({ evidence: staticEvidence() }));
    expect(line(rubric, 'locking').detail).toMatch(/seen on the wire: conditional write \(the WHERE clause decides\) ×5/);
    expect(line(rubric, 'error-recovery').detail).toMatch(/3 transient database error\(s\).*0 followed/);
  });

  it('an injection probe in SQL text raises security-vulnerability and sql-built-from-input, and zeroes parameterised-sql', T, () => {
    const injection = { count: 1, examples: [{ what: 'caller input was pasted into SQL text: the probe "\'; DROP" is in the SQL text, which no longer parses as SQL (use $1 parameters)', statements: ["instance 0 · conn 2 · 3.00 ms  INSERT INTO s VALUES (''; DROP TABLE s; --') → ERROR 42601: syntax error"] }] };
    const c = challenge('payment-webhook', [scenario('hostile', [ok('loads'), ok('no-crash')], { wire: wireEvidence({ injection }) })]);
    const { redFlags, concerns, rubric, score } = scoreChallenges([c], input({ evidence: staticEvidence() }));
    expect(redFlags).toEqual([expect.objectContaining({ id: 'security-vulnerability', check: 'injection-probe' })]);
    expect(redFlags[0].evidence).toMatch(/payment-webhook\/hostile: caller input was pasted.*INSERT INTO s/);
    expect(concerns.map((x) => x.id)).toContain('sql-built-from-input');
    expect(line(rubric, 'security').detail).toMatch(/observed on the wire/);
    expect(verdictOf([c], redFlags, score)).toBe('reject');
  });
});

describe('red flags', () => {
  it.each([
    ['single-winner', 'no-concurrency-handling', 'seat-reservation'],
    ['no-crash', 'no-error-handling', 'seat-reservation'],
    ['one-subscription-per-payment', 'no-idempotency', 'payment-webhook'],
    ['no-double-charge', 'no-idempotency', 'subscription'],
    ['signature-enforced', 'security-vulnerability', 'payment-webhook'],
    ['eventually-created', 'no-retry-mechanism', 'subscription'],
  ] as const)('a failed %s raises %s', (check, flag, ch) => {
    const c = challenge(ch, [scenario('s1', [ok('loads'), bad(check), ok('no-crash')].filter((x, i, a) => a.findIndex((y) => y.id === x.id) === i))]);
    const { redFlags, score } = scoreChallenges([c], input());
    expect(redFlags).toHaveLength(1);
    expect(redFlags[0]).toMatchObject({ id: flag, check });
    expect(redFlags[0].evidence).toMatch(new RegExp(`${ch}/s1: ${check} broken`));
    expect(verdictOf([c], redFlags, score)).toBe('reject');
  });

  it('one flag per kind, however often its check fails', T, () => {
    const seat = challenge('seat-reservation', ['last-seat', 'many-seats'].map((s) => seatScenario(s, { 'single-winner': bad('single-winner') })));
    expect(scoreChallenges([seat], input()).redFlags.map((f) => f.id)).toEqual(['no-concurrency-handling']);
  });
});

describe('manual scores and overrides', () => {
  it('scales a 0–5 score to the manual part and adds it to the total', T, () => {
    const manual = { scores: { 'technology-choices': { score: 4 }, 'database-design': { score: 5, note: 'constraints explained' }, caching: { score: 2.5 } } };
    const { rubric, score } = scoreChallenges([allSeatPassing()], input({ evidence: staticEvidence(), manual }));
    expect(line(rubric, 'technology-choices', 'manual').awarded).toBe(4);
    expect(line(rubric, 'database-design', 'manual')).toMatchObject({ points: 3, awarded: 3 });
    expect(line(rubric, 'database-design', 'manual').detail).toMatch(/scored 5\/5: constraints explained/);
    expect(line(rubric, 'caching', 'manual').awarded).toBe(2.5);
    expect(score.manual).toBe(9.5);
    expect(score.total).toBe(Math.round((score.automated + 9.5) * 10) / 10);
  });

  it('an override replaces an automatic line, keeps what the harness said, and records why', T, () => {
    const seat = challenge('seat-reservation', [seatScenario('last-seat', { 'single-winner': bad('single-winner') })]);
    const manual = { scores: {}, overrides: { locking: { awarded: 4, note: 'the harness host was overloaded' } } };
    const before = line(scoreChallenges([seat], input()).rubric, 'locking');
    const after = line(scoreChallenges([seat], input({ manual })).rubric, 'locking');
    expect(before.awarded).toBe(0);
    expect(after).toMatchObject({ awarded: 4, autoAwarded: 0, source: 'auto' });
    expect(after.detail).toMatch(/overridden by the interviewer \(0 → 4\): the harness host was overloaded/);
  });
});

describe('not attempted, verdicts, re-scoring', () => {
  it('a submission attempting nothing scores no check points, raises nothing, and fails', T, () => {
    const none: ChallengeResult[] = [notAttempted('seat-reservation')];
    const { score, redFlags, concerns, rubric } = scoreChallenges(none, input({ evidence: { static: null, staticError: 'no challenge attempted' } }));
    expect(score.automated).toBe(0);
    expect(redFlags).toEqual([]);
    expect(concerns).toEqual([]);
    expect(sum(rubric.map((l) => l.points))).toBe(100);
    expect(verdictOf(none, redFlags, score)).toBe('fail');
  });

  it('verdict: pass when every attempted challenge passed and the gate holds', T, () => {
    const chs = [allSeatPassing(), notAttempted('payment-webhook')];
    const { score, redFlags } = scoreChallenges(chs, input());
    expect(verdictOf(chs, redFlags, score)).toBe('pass');
    expect(verdictOf(chs, redFlags, score, 100)).toBe('fail');
    const failing = [challenge('seat-reservation', [seatScenario('last-seat', { 'no-lost-seats': bad('no-lost-seats') })])];
    expect(verdictOf(failing, [], score)).toBe('fail');
  });

  it('rescore recomputes rubric, score and verdict with the stored gate and evidence', T, () => {
    const chs = [allSeatPassing()];
    const scored = scoreChallenges(chs, input({ evidence: staticEvidence() }));
    const r = gradeResult(chs, { ...scored, evidence: staticEvidence(), minScore: 80, verdict: verdictOf(chs, scored.redFlags, scored.score, 80) });
    expect(r.verdict).toBe('fail');
    const manual = { scores: Object.fromEntries(RUBRIC.filter((i) => i.manual).map((i) => [i.id, { score: 5 }])) };
    const after = rescore(r, manual);
    expect(after.score.manual).toBe(after.score.manualMax);
    expect(after.verdict).toBe('pass');
    expect(after.manual).toEqual(manual);
    expect(after.challenges).toBe(r.challenges);
  });
});

describe('verdicts and exit codes that mean what they say (CONTRACT §7)', () => {
  const inconclusiveSeat = () => {
    const s = seatScenario('last-seat', { 'definite-rejections': bad('definite-rejections'), 'no-crash': bad('no-crash') });
    return challenge('seat-reservation', [{ ...s, status: 'inconclusive', inconclusive: 'the grading machine was starved' }], 'inconclusive');
  };

  it('inconclusive only when nothing else failed; its failed checks raise no red flag and count neither way', { timeout: 60_000 }, async () => {
    const { exitCodeOf, EXIT_INCONCLUSIVE } = await import('../harness/app/grade.ts');
    const alone = scoreChallenges([inconclusiveSeat()], input());
    expect(alone.redFlags).toEqual([]);
    const verdict = verdictOf([inconclusiveSeat()], alone.redFlags, alone.score);
    expect(verdict).toBe('inconclusive');
    expect(exitCodeOf({ ...gradeResult([inconclusiveSeat()]), verdict, redFlags: [] })).toBe(EXIT_INCONCLUSIVE);
    const failedToo = [inconclusiveSeat(), challenge('payment-webhook', [scenario('hostile', [ok('loads'), bad('poison-dead-lettered')])])];
    expect(verdictOf(failedToo, [], alone.score)).toBe('fail');
    // The inconclusive scenario's checks are not counted against the submission (nor for it).
    expect(checkShare(['definite-rejections'], [inconclusiveSeat()], input()).share).toBeNull();
  });

  it('a failed or rejected grade exits 1 without --min-score; a pass exits 0, or 1 below the gate', T, async () => {
    const { exitCodeOf } = await import('../harness/app/grade.ts');
    const failing = gradeResult([challenge('seat-reservation', [seatScenario('last-seat', { 'no-lost-seats': bad('no-lost-seats') })])]);
    expect(exitCodeOf({ ...failing, verdict: 'fail', redFlags: [] })).toBe(1);
    expect(exitCodeOf({ ...failing, verdict: 'reject' })).toBe(1);
    const passing = { ...gradeResult([allSeatPassing()]), verdict: 'pass' as const, redFlags: [] };
    expect(exitCodeOf(passing)).toBe(0);
    expect(exitCodeOf(passing, 101)).toBe(1);
  });

  it('a challenge that never ran earns no measured points: "nothing to judge"', T, () => {
    const stub = challenge('seat-reservation', ['last-seat', 'many-seats'].map((id) => ({ ...scenario(id, [bad('loads')]), status: 'error' as const })), 'error');
    const { rubric, score, concerns } = scoreChallenges([stub], input({ evidence: staticEvidence() }));
    expect(score.automated).toBe(0);
    expect(concerns).toEqual([]);
    expect(line(rubric, 'type-safety').detail).toMatch(/nothing to judge: seat-reservation never ran/);
    // With one of two attempted challenges running, measures keep half their share.
    const both = scoreChallenges([stub, challenge('payment-webhook', [scenario('hostile', [ok('loads'), ok('signature-enforced'), ok('no-crash')])])], input({ evidence: staticEvidence() }));
    expect(line(both.rubric, 'type-safety').awarded).toBe(1);
    expect(line(both.rubric, 'type-safety').detail).toMatch(/× 0\.5: seat-reservation never ran/);
  });
});
