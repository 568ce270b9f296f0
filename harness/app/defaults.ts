// Every default and limit of a grade in one place: the CLI's option parsing and help text, validateOptions and grade()
// all read them here, so a default changed here changes everywhere (docs/security.md's limits table quotes them).
// Values a lower layer owns (the client's deadlines, the instance log cap, the run store's file) are re-exported from
// there rather than copied.

import type { ProfileName } from '../types.ts';
import { DEFAULT_CALL_TIMEOUT_MS, DEFAULT_HARD_LIMIT_MS } from '../generator/client.ts';
import { DEFAULT_LIMITS } from '../instances/instance-process.ts';
import { DEFAULT_STORE } from './store/store.ts';

export const PROFILES: readonly ProfileName[] = ['quick', 'standard', 'thorough'];

/** A whole-number option's allowed range, inclusive (the CLI rejects anything else as a usage error). */
export interface Range {
  min: number;
  max: number;
}

/** The allowed ranges of the numeric options (gauntlet grade, self-test, history, questions). */
export const LIMITS = {
  instances: { min: 1, max: 16 },
  seed: { min: 0, max: 2 ** 31 - 1 },
  minScore: { min: 0, max: 100 },
  maxHeapMb: { min: 16, max: 65_536 },
  callTimeoutMs: { min: 100, max: 600_000 },
  callHardLimitMs: { min: 1_000, max: 600_000 },
  startTimeoutMs: { min: 1_000, max: 600_000 },
  maxLogBytes: { min: 0, max: 2 ** 31 - 1 },
  selfTestSeeds: { min: 1, max: 50 },
  historyLimit: { min: 1, max: 10_000 },
  questionsLimit: { min: 1, max: 100 },
} as const satisfies Record<string, Range>;

/** What an option left unset means (for grade(), for `gauntlet grade`, and for the commands around it). */
export const DEFAULTS = {
  profile: 'standard' as ProfileName,
  /** App instances per scenario, each its own process. */
  instances: 4,
  /** Where run folders are written. */
  outDir: '.gauntlet/runs',
  /** The CLI's run store; grade() records a run only when given one. */
  store: DEFAULT_STORE,
  /** V8 heap limit of each module instance, MiB. */
  maxHeapMb: 512,
  /** Answer deadline per call: a later answer still counts, reported as slow (harness/generator/client.ts). */
  callTimeoutMs: DEFAULT_CALL_TIMEOUT_MS,
  /** The longest one call is waited for while the system still answers others. */
  callHardLimitMs: DEFAULT_HARD_LIMIT_MS,
  /** How long setup and create may take before an instance counts as not loading. */
  startTimeoutMs: 15_000,
  /** Cap on each instance's captured stdout+stderr, bytes (harness/instances/instance-process.ts). */
  maxLogBytes: DEFAULT_LIMITS.maxLogBytes,
  /** Quiet time after the workload before final reads (scenarios with mock services settle on their ledgers). */
  settleMs: 300,
  /** Far above any scenario's designed length: slow answers are waited for (up to the hard limit each). */
  scenarioTimeoutMs: 300_000,
  /** The range a seed is drawn from when none is given (printed in every result). */
  randomSeed: { min: 1, max: 2 ** 31 - 1 },
  /** gauntlet self-test. */
  selfTest: { seed: 1, seeds: 1, profile: 'quick' as ProfileName },
  /** gauntlet history. */
  historyLimit: 20,
} as const;
