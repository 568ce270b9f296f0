// The run store's interface, the same for both backends (store.ts: a SQLite file; postgres-store.ts: a PostgreSQL
// database shared by a fleet of grading workers). Open one with openStore() (index.ts). Every method is async and
// every write is one transaction: a run interrupted while being recorded leaves no trace, never half a record.

import type { GradeResult, MachineId } from '../../../rubric/result.ts';
import type { ReferenceFigure } from '../reference-figures.ts';

/** One stored run as `gauntlet history` lists it. */
export interface RunRow {
  id: string;
  submissionPath: string;
  contentHash: string;
  startedAt: string | null;
  recordedAt: string;
  seed: number;
  profile: string;
  instances: number | null;
  challenges: { id: string; status: string }[];
  verdict: GradeResult['verdict'];
  scoreTotal: number;
  scoreAutomated: number;
  scoreManual: number | null;
  redFlags: string[];
  runDir: string | null;
  /** The batch tag the run was recorded under (grade --batch, a queue job's batch). */
  batch: string | null;
  /** The queue job that produced the run. */
  jobId: string | null;
  /** The machine that graded it (null for runs recorded before gauntlet said). */
  machine: MachineId | null;
}

export interface RecordExtras {
  /** A batch tag (gauntlet queue add --batch, or grade --batch): compare --batch reads a batch back. */
  batch?: string;
  /** The queue job that produced this run: at most one run per job id is ever stored. */
  jobId?: string;
  /** Read the submission's files (fingerprint and source) from this folder instead of result.submission (a worker grades an unpacked copy; result.submission then names the original). */
  filesFrom?: string;
}

/** Test hooks: run inside the transaction, just before it commits. */
export interface WriteHooks {
  beforeCommit?(): void | Promise<void>;
}

export interface RunStore {
  /** Where it is: the SQLite file's absolute path, or the PostgreSQL URL with any password replaced by *** */
  readonly location: string;
  /** Record a graded run in one transaction. 'duplicate' (nothing written) when extras.jobId already has a stored run. Replaces a run with the same runId otherwise. */
  recordRun(r: GradeResult, extras?: RecordExtras, hooks?: WriteHooks): Promise<'recorded' | 'duplicate'>;
  /** Replace a stored run's result after re-scoring (manual scores), in one transaction; a UsageError when the run is not stored. */
  updateResult(r: GradeResult, hooks?: WriteHooks): Promise<void>;
  getResult(runId: string): Promise<GradeResult | null>;
  /** A run named by its id, a unique prefix of it, `last`, or `last~N` (N runs before the last); a UsageError otherwise. */
  resolveRun(ref: string): Promise<string>;
  /** Stored runs, newest first (20 unless `limit` says). */
  listRuns(o?: { submission?: string; limit?: number; batch?: string }): Promise<RunRow[]>;
  /** The run stored for a queue job, if any. */
  runForJob(jobId: string): Promise<string | null>;
  /** The submission's text files as stored with the run (relative path → text), or null. */
  submissionSource(runId: string): Promise<Record<string, string> | null>;
  /** Row counts per table (for tests and `history --json`). */
  counts(): Promise<Record<string, number>>;
  /** The benchmark reference's throughput measured before under this key (app/reference-figures.ts). */
  referenceFigure(key: string): Promise<ReferenceFigure | undefined>;
  putReferenceFigure(key: string, f: ReferenceFigure): Promise<void>;
  close(): Promise<void>;
}
