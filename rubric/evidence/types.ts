// The automatic evidence beyond the challenge checks, as plain values: what a static read of the submission's
// source found, and what the scenario database and Redis namespace looked like right after a run.

export type { ScenarioInspection, TableInfo } from '../../harness/evidence-types.ts';

/** A place in the submission's source, for evidence a reviewer can open. */
export interface SourceRef {
  /** Path relative to the submission folder (or absolute when the file lives outside it). */
  file: string;
  line: number;
  /** The line (trimmed, at most 160 characters). */
  text: string;
}

export interface TypeScriptEvidence {
  /** false when no TypeScript file was graded (plain JavaScript), or the `typescript` package is not installed. */
  checked: boolean;
  reason?: string;
  /** `tsc --strict --noEmit` errors in the submission's own files. */
  errors: number;
  explicitAny: number;
  /** The first few of each. */
  errorSamples: (SourceRef & { message: string })[];
  anySamples: SourceRef[];
}

export interface TestEvidence {
  files: string[];
  /** Test files that exercise concurrency (Promise.all, parallel calls, races). */
  concurrencyTests: number;
  /** Test files that exercise failures (rejections, errors, retries, timeouts). */
  failureTests: number;
}

export interface StaticEvidence {
  /** Source files read (relative to the submission), candidate code and own tests. */
  files: string[];
  linesOfCode: number;
  typescript: TypeScriptEvidence;
  /** Credentials, connection URLs or service URLs written in the code instead of taken from the context. */
  hardcoded: (SourceRef & { kind: 'credential' | 'database-url' | 'service-url' })[];
  /** SQL text built from caller input (interpolated or concatenated), not bound as a parameter; `source` says which input, e.g. "parameter seatId" or "JSON.parse(rawBody).userId". */
  interpolatedSql: (SourceRef & { source: string })[];
  /** Transaction control (BEGIN/START TRANSACTION/COMMIT/ROLLBACK) sent through a pool, where each query may run on a different connection. */
  poolTransactions: SourceRef[];
  /** Calls to ctx.log (the structured log the harness collects). */
  ctxLogCalls: number;
  consoleCalls: number;
  /** Retry loops or backoff found (retry/backoff names, SQLSTATE codes 40001/40P01, loops around awaits in try/catch). */
  retries: SourceRef[];
  /** Errors of a write dropped on the floor. */
  swallowedErrors: (SourceRef & { how: 'empty-catch' | 'catch-noop' | 'catch-returns-success' })[];
  /** Isolation levels that need retries (SERIALIZABLE, REPEATABLE READ). */
  strictIsolation: SourceRef[];
  usesRedis: boolean;
  usesPostgres: boolean;
  tests: TestEvidence;
}

/** Everything the rubric can use besides check results. */
export interface SubmissionEvidence {
  static: StaticEvidence | null;
  /** Why there is no static evidence (nothing attempted, unreadable sources). */
  staticError?: string;
}
