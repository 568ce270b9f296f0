// The run store: every graded run in SQLite (better-sqlite3), `.gauntlet/gauntlet.db` by default. Runs, the
// submissions they graded (by content hash), seeds, results (the full result document), each scenario's status,
// metrics and history file, each check, manual scores, and the benchmark reference's throughput per machine
// (app/reference-figures.ts). Every write is one transaction: a run interrupted while being recorded leaves no
// trace, never half a record.

import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { GradeResult } from '../../../rubric/result.ts';
import { UsageError } from '../../errors.ts';
import { fingerprint } from './fingerprint.ts';
import type { ReferenceFigure } from '../reference-figures.ts';

export const DEFAULT_STORE = path.join('.gauntlet', 'gauntlet.db');
const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS submissions (
  id           INTEGER PRIMARY KEY,
  path         TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  files        TEXT NOT NULL,
  first_seen   TEXT NOT NULL,
  UNIQUE (path, content_hash)
);
CREATE TABLE IF NOT EXISTS runs (
  id              TEXT PRIMARY KEY,
  submission_id   INTEGER NOT NULL REFERENCES submissions(id),
  started_at      TEXT,
  recorded_at     TEXT NOT NULL,
  duration_ms     INTEGER,
  seed            INTEGER NOT NULL,
  profile         TEXT NOT NULL,
  instances       INTEGER,
  challenges      TEXT NOT NULL,
  min_score       REAL,
  verdict         TEXT NOT NULL CHECK (verdict IN ('pass', 'fail', 'reject')),
  score_total     REAL NOT NULL,
  score_automated REAL NOT NULL,
  score_manual    REAL,
  red_flags       TEXT NOT NULL,
  run_dir         TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_time ON runs (recorded_at);
CREATE INDEX IF NOT EXISTS runs_by_submission ON runs (submission_id, recorded_at);
CREATE TABLE IF NOT EXISTS results (
  run_id     TEXT PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
  json       TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS scenarios (
  run_id       TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  challenge    TEXT NOT NULL,
  scenario     TEXT NOT NULL,
  status       TEXT NOT NULL,
  skipped      TEXT,
  duration_ms  INTEGER,
  history_file TEXT,
  metrics      TEXT NOT NULL,
  PRIMARY KEY (run_id, challenge, scenario)
);
CREATE TABLE IF NOT EXISTS checks (
  run_id    TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  challenge TEXT NOT NULL,
  scenario  TEXT NOT NULL,
  check_id  TEXT NOT NULL,
  passed    INTEGER,
  message   TEXT NOT NULL,
  PRIMARY KEY (run_id, challenge, scenario, check_id)
);
CREATE TABLE IF NOT EXISTS manual_scores (
  run_id      TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  item_id     TEXT NOT NULL,
  kind        TEXT NOT NULL CHECK (kind IN ('score', 'override')),
  value       REAL NOT NULL,
  note        TEXT,
  interviewer TEXT,
  scored_at   TEXT NOT NULL,
  PRIMARY KEY (run_id, item_id, kind)
);
CREATE TABLE IF NOT EXISTS reference_throughput (
  key             TEXT PRIMARY KEY,
  throughput      REAL NOT NULL,
  busy            REAL NOT NULL,
  measured_at     TEXT NOT NULL
);`;

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
}

/** Test hooks: run inside the transaction, just before it commits. */
export interface WriteHooks {
  beforeCommit?(): void;
}

export class RunStore {
  readonly file: string;
  private db: Database.Database;

  private constructor(file: string, db: Database.Database) {
    this.file = file;
    this.db = db;
  }

  static open(file: string = DEFAULT_STORE): RunStore {
    const abs = path.resolve(file);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    let db: Database.Database;
    try {
      db = new Database(abs);
    } catch (err) {
      throw new UsageError(`cannot open the run store ${abs}: ${(err as Error).message}`, 'pass --store <file> with a writable location');
    }
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 10000');
      db.pragma('foreign_keys = ON');
      db.pragma('synchronous = NORMAL');
      const version = db.transaction(() => {
        db.exec(SCHEMA);
        const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
        if (!row) db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?)").run(String(SCHEMA_VERSION));
        return row ? Number(row.value) : SCHEMA_VERSION;
      })();
      if (version > SCHEMA_VERSION) throw new UsageError(`${abs} was written by a newer gauntlet (store schema ${version}); upgrade gauntlet or use another --store`);
    } catch (err) {
      db.close();
      if (err instanceof UsageError) throw err;
      throw new UsageError(`${abs} is not a gauntlet run store: ${(err as Error).message}`, 'pass --store <file> to use another one');
    }
    return new RunStore(abs, db);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** The benchmark reference's throughput measured before under this key (app/reference-figures.ts). */
  referenceFigure(key: string): ReferenceFigure | undefined {
    const row = this.db.prepare('SELECT throughput, busy, measured_at FROM reference_throughput WHERE key = ?').get(key) as { throughput: number; busy: number; measured_at: string } | undefined;
    return row ? { throughputPerS: row.throughput, busy: row.busy, measuredAt: row.measured_at } : undefined;
  }

  putReferenceFigure(key: string, f: ReferenceFigure): void {
    this.db.prepare('INSERT INTO reference_throughput (key, throughput, busy, measured_at) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET throughput = excluded.throughput, busy = excluded.busy, measured_at = excluded.measured_at').run(key, f.throughputPerS, f.busy, f.measuredAt);
  }

  /** Record a graded run (or replace it, same run id) in one transaction. */
  recordRun(r: GradeResult, hooks: WriteHooks = {}): void {
    if (!r.runId) throw new Error('a result without a runId cannot be stored');
    const fp = fingerprint(r.submission, r.challenges.flatMap((c) => (c.file ? [c.file] : [])));
    const now = new Date().toISOString();
    this.db.transaction(() => {
      this.db.prepare('INSERT INTO submissions (path, content_hash, files, first_seen) VALUES (?, ?, ?, ?) ON CONFLICT (path, content_hash) DO NOTHING').run(r.submission, fp.hash, JSON.stringify(fp.files), now);
      const sub = this.db.prepare('SELECT id FROM submissions WHERE path = ? AND content_hash = ?').get(r.submission, fp.hash) as { id: number };
      this.db.prepare('DELETE FROM runs WHERE id = ?').run(r.runId);
      this.db.prepare(`INSERT INTO runs (id, submission_id, started_at, recorded_at, duration_ms, seed, profile, instances, challenges, min_score, verdict, score_total, score_automated, score_manual, red_flags, run_dir)
        VALUES (@id, @sub, @startedAt, @now, @durationMs, @seed, @profile, @instances, @challenges, @minScore, @verdict, @total, @automated, @manual, @redFlags, @runDir)`).run({
        id: r.runId, sub: sub.id, startedAt: r.startedAt ?? null, now, durationMs: r.durationMs ?? null, seed: r.seed, profile: r.profile, instances: r.instances ?? null,
        challenges: JSON.stringify(r.challenges.map((c) => ({ id: c.id, status: c.status }))), minScore: r.minScore ?? null, verdict: r.verdict,
        total: r.score.total, automated: r.score.automated, manual: r.score.manual, redFlags: JSON.stringify(r.redFlags.map((f) => f.id)), runDir: r.runDir ?? null,
      });
      const sc = this.db.prepare('INSERT INTO scenarios (run_id, challenge, scenario, status, skipped, duration_ms, history_file, metrics) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
      const ck = this.db.prepare('INSERT OR REPLACE INTO checks (run_id, challenge, scenario, check_id, passed, message) VALUES (?, ?, ?, ?, ?, ?)');
      for (const ch of r.challenges) {
        for (const s of ch.scenarios) {
          sc.run(r.runId, ch.id, s.id, s.status, s.skipped ?? null, s.durationMs ?? null, s.historyFile ?? null, JSON.stringify(s.metrics));
          for (const c of s.checks) ck.run(r.runId, ch.id, s.id, c.id, c.passed === null ? null : c.passed ? 1 : 0, c.message);
        }
      }
      this.writeManual(r);
      this.db.prepare('INSERT INTO results (run_id, json, updated_at) VALUES (?, ?, ?)').run(r.runId, JSON.stringify(r), now);
      hooks.beforeCommit?.();
    })();
  }

  /** Replace a stored run's result after re-scoring (manual scores), in one transaction. */
  updateResult(r: GradeResult, hooks: WriteHooks = {}): void {
    this.db.transaction(() => {
      const done = this.db.prepare('UPDATE runs SET verdict = ?, score_total = ?, score_automated = ?, score_manual = ?, red_flags = ? WHERE id = ?').run(r.verdict, r.score.total, r.score.automated, r.score.manual, JSON.stringify(r.redFlags.map((f) => f.id)), r.runId);
      if (done.changes !== 1) throw new UsageError(`run ${r.runId} is not in the store ${this.file}`);
      this.writeManual(r);
      this.db.prepare('UPDATE results SET json = ?, updated_at = ? WHERE run_id = ?').run(JSON.stringify(r), new Date().toISOString(), r.runId);
      hooks.beforeCommit?.();
    })();
  }

  private writeManual(r: GradeResult): void {
    this.db.prepare('DELETE FROM manual_scores WHERE run_id = ?').run(r.runId);
    const m = r.manual;
    if (!m) return;
    const ins = this.db.prepare('INSERT INTO manual_scores (run_id, item_id, kind, value, note, interviewer, scored_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const at = m.scoredAt ?? new Date().toISOString();
    for (const [id, e] of Object.entries(m.scores)) ins.run(r.runId, id, 'score', e.score, e.note ?? null, m.interviewer ?? null, at);
    for (const [id, o] of Object.entries(m.overrides ?? {})) ins.run(r.runId, id, 'override', o.awarded, o.note, m.interviewer ?? null, at);
  }

  getResult(runId: string): GradeResult | null {
    const row = this.db.prepare('SELECT json FROM results WHERE run_id = ?').get(runId) as { json: string } | undefined;
    return row ? (JSON.parse(row.json) as GradeResult) : null;
  }

  /** A run named by its id, a unique prefix of it, `last`, or `last~N` (N runs before the last). */
  resolveRun(ref: string): string {
    const rel = /^(?:last|latest)(?:~(\d+))?$/.exec(ref);
    if (rel) {
      const row = this.db.prepare('SELECT id FROM runs ORDER BY recorded_at DESC, rowid DESC LIMIT 1 OFFSET ?').get(Number(rel[1] ?? 0)) as { id: string } | undefined;
      if (!row) throw new UsageError(`no run ${ref} in the store ${this.file}`, 'grade something first, or pass --store to another store');
      return row.id;
    }
    const exact = this.db.prepare('SELECT id FROM runs WHERE id = ?').get(ref) as { id: string } | undefined;
    if (exact) return exact.id;
    const like = this.db.prepare("SELECT id FROM runs WHERE id LIKE ? ESCAPE '\\' ORDER BY recorded_at DESC LIMIT 6").all(`${ref.replace(/[\\%_]/g, (c) => '\\' + c)}%`) as { id: string }[];
    if (like.length === 1) return like[0].id;
    if (!like.length) throw new UsageError(`no run "${ref}" in the store ${this.file}`, 'gauntlet history lists the stored runs');
    throw new UsageError(`"${ref}" matches several runs: ${like.slice(0, 5).map((x) => x.id).join(', ')}`, 'give more of the run id');
  }

  listRuns(o: { submission?: string; limit?: number } = {}): RunRow[] {
    const where = o.submission ? 'WHERE s.path = ?' : '';
    const rows = this.db.prepare(`SELECT r.*, s.path AS submission_path, s.content_hash FROM runs r JOIN submissions s ON s.id = r.submission_id ${where} ORDER BY r.recorded_at DESC, r.rowid DESC LIMIT ?`).all(...(o.submission ? [path.resolve(o.submission)] : []), o.limit ?? 20) as Record<string, unknown>[];
    return rows.map((x) => ({
      id: String(x.id),
      submissionPath: String(x.submission_path),
      contentHash: String(x.content_hash),
      startedAt: (x.started_at as string) ?? null,
      recordedAt: String(x.recorded_at),
      seed: Number(x.seed),
      profile: String(x.profile),
      instances: x.instances === null ? null : Number(x.instances),
      challenges: JSON.parse(String(x.challenges)),
      verdict: x.verdict as RunRow['verdict'],
      scoreTotal: Number(x.score_total),
      scoreAutomated: Number(x.score_automated),
      scoreManual: x.score_manual === null ? null : Number(x.score_manual),
      redFlags: JSON.parse(String(x.red_flags)),
      runDir: (x.run_dir as string) ?? null,
    }));
  }

  /** Row counts per table (for tests and `history --json`). */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const t of ['submissions', 'runs', 'results', 'scenarios', 'checks', 'manual_scores']) out[t] = (this.db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
    return out;
  }
}
