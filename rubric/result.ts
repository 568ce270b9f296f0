// The graded result — the `--json` document (CONTRACT §7): the kernel's challenge results with the rubric's score,
// red flags, concerns and rubric lines, the static evidence and manual scoring. The kernel never sees these types.

import type { ChallengeResult, ProfileName } from '../harness/types.ts';
import type { SubmissionEvidence } from './evidence/types.ts';
import type { ManualScoring } from './manual.ts';

export interface RedFlag {
  id: string;
  check: string;
  evidence: string;
}

export interface RubricLine {
  section: string;
  item: string;
  points: number;
  awarded: number | null;
  source: 'auto' | 'manual';
  evidence: string[];
  /** Additive: the rubric item's stable id (the key of a manual score). */
  id?: string;
  /** Additive: the item has an automatic and a manual part, each its own line. */
  mixed?: boolean;
  /** Additive: how the points were earned, in words (share of checks, measured figures, the interviewer's note). */
  detail?: string;
  /** Additive: an automatic line an interviewer overrode; what the harness had awarded. */
  autoAwarded?: number;
}

/** A "major concern" of the rubric: not a rejection, a warning with its evidence. */
export interface Concern {
  id: string;
  title: string;
  evidence: string[];
}

export interface Score {
  automated: number;
  automatedMax: number;
  manual: number | null;
  manualMax: number;
  total: number;
  max: 100;
}

/**
 * The machine that graded a run (harness/app/machine-id.ts): timing figures (throughput, latency) compare only
 * between runs of one machine. `id` is a short hash of the other fields.
 */
export interface MachineId {
  id: string;
  host: string;
  cpu: string;
  cores: number;
  memoryGb: number;
  node: string;
  os: string;
}

/** The `--json` document (CONTRACT §7). Extra fields are additive; the listed ones are fixed. */
export interface GradeResult {
  schemaVersion: 1;
  tool: 'gauntlet';
  submission: string;
  seed: number;
  profile: ProfileName;
  verdict: 'pass' | 'fail' | 'reject' | 'inconclusive';
  score: Score;
  redFlags: RedFlag[];
  challenges: ChallengeResult[];
  rubric: RubricLine[];
  runId?: string;
  runDir?: string;
  instances?: number;
  startedAt?: string;
  durationMs?: number;
  infrastructure?: { postgres: string; redis: string };
  /** Additive: the machine that graded the run (compare says when timing figures come from different machines). */
  machine?: MachineId;
  /**
   * How the submission was kept in (docs/security.md): `network` contained (a namespace per instance reaching only
   * its scenario's endpoints) or open (with why); `filesystem` under Node's permission model or open (HTTP mode,
   * --no-sandbox).
   */
  sandbox?: { network: 'contained' | 'open'; how?: string; reason?: string; filesystem: 'permission model' | 'read-only (bubblewrap)' | 'open' };
  /** Additive: major concerns (warnings with evidence), the static evidence, the gate, manual scoring, report files. */
  concerns?: Concern[];
  evidence?: SubmissionEvidence;
  minScore?: number;
  manual?: ManualScoring;
  reports?: Partial<Record<'html' | 'md' | 'junit', string>>;
}
