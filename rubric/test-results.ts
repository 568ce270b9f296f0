// Builders of synthetic results for the rubric and reporter tests (not a test file): checks, scenarios and
// challenges in a few characters, and an expected-checks table that does not depend on the registry.

import type { ScenarioWireEvidence } from './evidence/wire/types.ts';
import type { ChallengeId, ChallengeResult, CheckResult, ScenarioResult } from '../harness/types.ts';
import type { GradeResult } from './result.ts';
import type { ExpectedChecks } from './score.ts';
import type { StaticEvidence, SubmissionEvidence } from './evidence/types.ts';

export const ok = (id: string): CheckResult => ({ id, passed: true, message: `${id} holds` });
export const bad = (id: string, counterexample: unknown = { ops: [] }): CheckResult => ({ id, passed: false, message: `${id} broken`, counterexample });
export const undecided = (id: string): CheckResult => ({ id, passed: null, message: `${id} undecided` });

export const METRICS = { operations: 10, ok: 1, fail: 9, indeterminate: 0, p50Ms: 1, p99Ms: 2, throughputPerS: 100, maxInFlight: 10 };

export function scenario(id: string, checks: CheckResult[], extra: Partial<ScenarioResult> = {}): ScenarioResult {
  const status = checks.some((c) => c.passed === null) ? 'error' : checks.every((c) => c.passed) ? 'passed' : 'failed';
  return { id, status, checks, metrics: { ...METRICS }, ...extra };
}

export function challenge(id: ChallengeId, scenarios: ScenarioResult[], status?: ChallengeResult['status']): ChallengeResult {
  const st = status ?? (scenarios.some((s) => s.status === 'error') ? 'error' : scenarios.some((s) => s.status === 'failed') ? 'failed' : 'passed');
  return { id, status: st, scenarios, ...(st === 'not-attempted' ? {} : { file: `/sub/${id}.ts` }) };
}

export const notAttempted = (id: ChallengeId): ChallengeResult => ({ id, status: 'not-attempted', scenarios: [] });

/** A seat-reservation-like scenario table, fixed here so the tests do not move with the registry. */
export const SEAT_SCENARIOS: Record<string, string[]> = {
  'last-seat': ['single-winner', 'winner-durable', 'definite-rejections', 'no-lost-seats'],
  'many-seats': ['single-winner', 'winner-durable', 'definite-rejections', 'no-lost-seats', 'idempotent-rereserve'],
  holds: ['single-winner', 'winner-durable', 'definite-rejections', 'hold-expires', 'release-frees-seat'],
  load: ['single-winner'],
};

export const expectedChecks: ExpectedChecks = (c, s) => (c === 'seat-reservation' ? SEAT_SCENARIOS[s] : undefined);

/** A seat scenario with every check passing (loads and no-crash included). */
export const seatScenario = (id: string, override: Record<string, CheckResult> = {}, extra: Partial<ScenarioResult> = {}): ScenarioResult =>
  scenario(id, ['loads', ...SEAT_SCENARIOS[id], 'no-crash'].map((c) => override[c] ?? ok(c)), extra);

/** The catalog of a clean seats table, as the scenario inspection reports it. */
export const SEATS_INSPECTION = {
  tables: [{ schema: 'public', name: 'seats', rows: 1, primaryKey: ['seat_id'], unique: [['seat_id']], indexes: [{ name: 'seats_pkey', columns: ['seat_id'], unique: true }], foreignKeys: [], seqScans: 0, indexScans: 10 }],
  idleInTransaction: [],
  advisoryLocks: 0,
  redis: { keys: 0, withoutTtl: 0, sampleWithoutTtl: [], truncated: false },
};

/** Every seat scenario passing, each inspected (a clean schema, nothing left open). */
export const allSeatPassing = (): ChallengeResult => challenge('seat-reservation', Object.keys(SEAT_SCENARIOS).map((s) => seatScenario(s, {}, { inspection: SEATS_INSPECTION })));

export function staticEvidence(over: Partial<StaticEvidence> = {}): SubmissionEvidence {
  return {
    static: {
      files: ['seat-reservation.ts'],
      linesOfCode: 100,
      typescript: { checked: true, errors: 0, explicitAny: 0, errorSamples: [], anySamples: [] },
      hardcoded: [],
      interpolatedSql: [],
      poolTransactions: [],
      ctxLogCalls: 2,
      consoleCalls: 0,
      retries: [{ file: 'seat-reservation.ts', line: 10, text: 'withRetry' }],
      swallowedErrors: [],
      strictIsolation: [],
      usesRedis: false,
      usesPostgres: true,
      tests: { files: [], concurrencyTests: 0, failureTests: 0 },
      ...over,
    },
  };
}

/** A scenario's wire evidence with nothing found; override what a test needs. */
export function wireEvidence(over: Partial<ScenarioWireEvidence> = {}): ScenarioWireEvidence {
  const none = () => ({ count: 0, examples: [] });
  return {
    statements: 10,
    units: 8,
    dropped: 0,
    attributedOps: 5,
    splitWrites: none(),
    poolMixups: none(),
    failedTransactionWrites: none(),
    outlivedCall: none(),
    checkThenAct: none(),
    swallowed: none(),
    injection: none(),
    techniques: [{ technique: 'conditional write (the WHERE clause decides)', count: 5, example: 'UPDATE seats SET holder = $1 WHERE seat_id = $2 AND holder IS NULL' }],
    transientErrors: { count: 0, retried: 0, serialization: 0, serializationRetried: 0 },
    redisLocks: null,
    indexes: { checked: 2, indexed: 2, scans: [], skipped: [] },
    ...over,
  };
}

export function gradeResult(challenges: ChallengeResult[], extra: Partial<GradeResult> = {}): GradeResult {
  return {
    schemaVersion: 1,
    tool: 'gauntlet',
    submission: '/sub',
    seed: 1,
    profile: 'quick',
    verdict: 'pass',
    score: { automated: 0, automatedMax: 0, manual: null, manualMax: 0, total: 0, max: 100 },
    redFlags: [],
    challenges,
    rubric: [],
    runId: '20260101T000000-1-abcdef',
    ...extra,
  };
}
