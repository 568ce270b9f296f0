// Shared types of the grading pipeline: operations and history, fault windows, checks, scenario and challenge
// results. The graded result built on them (score, rubric lines, red flags: the `--json` document of CONTRACT §7)
// is the rubric's (rubric/result.ts); what a scenario observed besides its history is in evidence-types.ts.

import type { ScenarioInspection, ScenarioWireEvidence } from './evidence-types.ts';

/** A registered challenge's id (challenges/index.ts): the kernel names no particular challenge. */
export type ChallengeId = string;
export type ProfileName = 'quick' | 'standard' | 'thorough';

/** One call as the history records it: invoked, then ok, fail (definitely did not happen) or info (may have). */
export type OpType = 'ok' | 'fail' | 'info';

export interface Op {
  /** Position in the history, in invocation order. */
  index: number;
  /** The logical caller (a user, a provider delivery stream ...); free-form, used in counterexamples. */
  process: string;
  /** Which instance the call was sent to (-1 when not sent to an instance). */
  instance: number;
  /** Operation name, e.g. `reserve`, `get`, `hold`. */
  f: string;
  /** The arguments as sent. */
  args: Record<string, unknown>;
  /** Workload phase, e.g. `burst`, `rereserve`, `final`. */
  phase: string;
  /** Monotonic microseconds since the scenario started. */
  startUs: number;
  endUs: number;
  type: OpType;
  /** Parsed result for ok, or the error body for fail/info. */
  value?: unknown;
  /** Contract error code for fail (and for info when one came back that is not definite). */
  code?: string;
  /** Human-readable reason for fail/info (timeout, reset, status 500 ...). */
  error?: string;
  /** HTTP status, when a response arrived. */
  status?: number;
}

/** A fault the nemesis had active, for timelines and for excusing calls the contract lets fail under it. */
export interface FaultWindow {
  fault: string;
  startUs: number;
  endUs: number;
  detail?: Record<string, unknown>;
}

/** Something that happened to an instance process. */
export interface InstanceEvent {
  instance: number;
  atUs: number;
  kind: 'started' | 'exited' | 'killed' | 'restarted' | 'load-error';
  /** For `exited`: exit code or signal, and the last error the process reported. */
  detail?: string;
  /** Died of a database connection an injected fault dropped (an unhandled 'error'): counted by `no-crash`, which says what to add. */
  faultInduced?: boolean;
  /** The `code` of the uncaught error that ended the process, when it reported one. */
  errorCode?: string;
}

export interface CheckResult {
  id: string;
  /** true: holds; false: violated (with a counterexample); null: could not be decided (never a pass). */
  passed: boolean | null;
  message: string;
  counterexample?: unknown;
  /** How many violations were found, when more than the counterexample shows. */
  violations?: number;
}

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

export interface ScenarioMetrics {
  operations: number;
  ok: number;
  fail: number;
  indeterminate: number;
  p50Ms: number;
  p99Ms: number;
  throughputPerS: number;
  maxInFlight: number;
  [extra: string]: number | string | null | undefined;
}

export interface ScenarioResult {
  id: string;
  /** `inconclusive`: the machine, not the submission, prevented a verdict (`inconclusive` says why; CONTRACT §8). */
  status: 'passed' | 'failed' | 'error' | 'inconclusive';
  /** Set for `inconclusive`: why the machine could not run the scenario as designed, and what to do. */
  inconclusive?: string;
  /** Set when the scenario did not run because the submission does not implement it (its checks score 0). */
  skipped?: string;
  /** Set for `error`: what went wrong, in words a candidate understands. */
  error?: string;
  /** The error is the grading environment's (e.g. no Redis), not the submission's. */
  environmentError?: boolean;
  checks: CheckResult[];
  metrics: ScenarioMetrics;
  faults?: FaultWindow[];
  /** Challenges with a replica: how far the standby was behind (WAL bytes; null while it was down), every 250 ms. */
  replicaLag?: { t: number; bytes: number | null }[];
  durationMs?: number;
  /** Where this scenario's history (JSONL) was written. */
  historyFile?: string;
  /** The scenario database and Redis namespace as left after the run (rubric evidence; additive). */
  inspection?: ScenarioInspection;
  /** What the recorded wire shows the code doing (rubric evidence; additive); `error` when it could not be analysed. */
  wire?: ScenarioWireEvidence | { error: string };
}

export interface ChallengeResult {
  id: ChallengeId;
  status: 'passed' | 'failed' | 'error' | 'not-attempted' | 'inconclusive';
  file?: string;
  error?: string;
  scenarios: ScenarioResult[];
}
