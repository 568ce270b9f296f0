// The run store on both backends, SQLite files and a PostgreSQL database (the same cases run on each): recording and
// reading runs, naming them (id, prefix, last~N), listing (by submission, by batch), re-scoring, submissions by
// content hash with their text files, one run per queue job even when two workers race, the inconclusive verdict,
// and atomicity: a write that throws half-way, and a process killed (SIGKILL) before its transaction commits, both
// leave the store exactly as it was. Then what belongs to one backend: migrating a schema v1 SQLite file in place,
// and PostgreSQL's errors (a malformed URL, an unreachable server, a missing database, a reading command on an
// empty one). The PostgreSQL cases use a database of this file's own, gauntlet_storetest_<pid>_<random>, dropped at
// the end.

import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, NoRunStoreError, type RunStore } from './index.ts';
import { SqliteRunStore } from './store.ts';
import { storeLocation } from './postgres-store.ts';
import { fingerprint } from './fingerprint.ts';
import { InfraError, UsageError } from '../../errors.ts';
import { ident, withPg } from '../../infra/pg-admin.ts';
import { withUrlParts } from '../../infra/url-util.ts';
import { rescore, scoreChallenges } from '../../../rubric/score.ts';
import { allSeatPassing, expectedChecks, gradeResult } from '../../../rubric/test-results.ts';
import type { GradeResult, MachineId } from '../../../rubric/result.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-store-'));
const T = { timeout: 30_000 };

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const database = `gauntlet_storetest_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
const pgUrl = withUrlParts(ADMIN_URL, { path: database });

beforeAll(async () => {
  await withPg(ADMIN_URL, (c) => c.query(`CREATE DATABASE ${ident(database)}`));
});
afterAll(async () => {
  fs.rmSync(tmp, { recursive: true, force: true });
  await withPg(ADMIN_URL, (c) => c.query(`DROP DATABASE IF EXISTS ${ident(database)} WITH (FORCE)`));
});

let n = 0;
function submissionDir(text = 'export default async function create() { return {}; }\n'): string {
  const dir = path.join(tmp, `sub-${++n}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'seat-reservation.ts'), text);
  return dir;
}

const machine: MachineId = { id: 'a1b2c3d4e5f6', host: 'worker-1', cpu: 'Test CPU', cores: 2, memoryGb: 4, node: 'v20.0.0', os: 'Linux 6.1 x64' };

function run(id: string, submission: string, extra: Partial<GradeResult> = {}): GradeResult {
  const challenges = [{ ...allSeatPassing(), file: path.join(submission, 'seat-reservation.ts') }];
  const scored = scoreChallenges(challenges, { expectedChecks });
  return gradeResult(challenges, { ...scored, submission, runId: id, runDir: path.join(tmp, 'runs', id), startedAt: new Date().toISOString(), machine, ...extra });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Backend {
  name: string;
  /** A store spec (file or URL) with nothing in it yet. */
  freshSpec(): Promise<string>;
}

const backends: Backend[] = [
  { name: 'SQLite', freshSpec: async () => path.join(tmp, `store-${++n}.db`) },
  {
    name: 'PostgreSQL',
    // One database for the file: each case starts from no `gauntlet` schema at all (openStore creates it).
    freshSpec: async () => {
      await withPg(pgUrl, (c) => c.query('DROP SCHEMA IF EXISTS gauntlet CASCADE'));
      return pgUrl;
    },
  },
];

/** Open a store, run `f`, always close it. */
async function using<T>(spec: string, f: (s: RunStore) => Promise<T>): Promise<T> {
  const store = await openStore(spec);
  try {
    return await f(store);
  } finally {
    await store.close();
  }
}

/** Record `doc` in a child process that SIGKILLs itself just before the transaction commits. */
function killMidWrite(spec: string, doc: GradeResult, extras: object = {}) {
  const file = path.join(tmp, `to-record-${++n}.json`);
  fs.writeFileSync(file, JSON.stringify(doc));
  const script = path.join(tmp, `kill-mid-write-${n}.mts`);
  fs.writeFileSync(script, `import fs from 'node:fs';
import { openStore } from ${JSON.stringify(path.join(root, 'harness', 'app', 'store', 'index.ts'))};
const store = await openStore(${JSON.stringify(spec)});
await store.recordRun(JSON.parse(fs.readFileSync(${JSON.stringify(file)}, 'utf8')), ${JSON.stringify(extras)}, { beforeCommit: () => { process.kill(process.pid, 'SIGKILL'); } });
console.log('not reached');
`);
  return spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: root, encoding: 'utf8', timeout: 20_000 });
}

describe.each(backends)('the run store on $name', (backend) => {
  const fresh = async () => openStore(await backend.freshSpec());

  it('stores a run with its submission, scenarios, checks, machine and history locations; reads it back whole', T, async () => {
    const store = await fresh();
    try {
      const sub = submissionDir();
      const r = run('20260101T000000-1-aaaaaa', sub);
      expect(await store.recordRun(r)).toBe('recorded');
      expect(await store.getResult(r.runId!)).toEqual(r);
      expect(await store.counts()).toEqual({ submissions: 1, runs: 1, results: 1, scenarios: 4, checks: 4 + 5 + 5 + 1 + 8, manual_scores: 0 });
      const [row] = await store.listRuns();
      expect(row).toMatchObject({ id: r.runId, submissionPath: sub, seed: 1, profile: 'quick', verdict: 'pass', scoreTotal: r.score.total, scoreManual: null, redFlags: [], batch: null, jobId: null, machine });
      expect(row.contentHash).toBe(fingerprint(sub, [path.join(sub, 'seat-reservation.ts')]).hash);
      // The same run recorded again replaces it (no duplicate rows).
      expect(await store.recordRun(r)).toBe('recorded');
      expect((await store.counts()).runs).toBe(1);
      expect((await store.counts()).checks).toBe(23);
    } finally {
      await store.close();
    }
  });

  it('names runs by id, unique prefix, last and last~N; says what is wrong otherwise', T, async () => {
    const store = await fresh();
    try {
      const sub = submissionDir();
      for (const id of ['20260101T000000-1-aaaaaa', '20260101T000001-2-bbbbbb', '20260102T000000-3-cccccc']) await store.recordRun(run(id, sub));
      expect(await store.resolveRun('last')).toBe('20260102T000000-3-cccccc');
      expect(await store.resolveRun('last~2')).toBe('20260101T000000-1-aaaaaa');
      expect(await store.resolveRun('20260102')).toBe('20260102T000000-3-cccccc');
      expect(await store.resolveRun('20260101T000001-2-bbbbbb')).toBe('20260101T000001-2-bbbbbb');
      await expect(store.resolveRun('20260101')).rejects.toThrow(/matches several runs/);
      await expect(store.resolveRun('nope')).rejects.toThrow(UsageError);
      await expect(store.resolveRun('100%')).rejects.toThrow(/no run "100%"/);
      await expect(store.resolveRun('last~9')).rejects.toThrow(/no run last~9/);
      expect((await store.listRuns({ limit: 2 })).map((r) => r.id)).toEqual(['20260102T000000-3-cccccc', '20260101T000001-2-bbbbbb']);
      expect(await store.listRuns({ submission: '/elsewhere' })).toEqual([]);
      expect((await store.listRuns({ submission: sub })).length).toBe(3);
    } finally {
      await store.close();
    }
  });

  it('lists a batch, finds the run of a queue job, and stores an inconclusive verdict', T, async () => {
    const store = await fresh();
    try {
      const sub = submissionDir();
      await store.recordRun(run('20260101T000000-1-aaaaaa', sub), { batch: 'spring', jobId: 'job-1' });
      await store.recordRun(run('20260101T000001-2-bbbbbb', sub, { verdict: 'inconclusive' }), { batch: 'spring' });
      await store.recordRun(run('20260101T000002-3-cccccc', sub), { batch: 'autumn' });
      expect((await store.listRuns({ batch: 'spring' })).map((r) => [r.id, r.batch, r.jobId, r.verdict])).toEqual([
        ['20260101T000001-2-bbbbbb', 'spring', null, 'inconclusive'],
        ['20260101T000000-1-aaaaaa', 'spring', 'job-1', 'pass'],
      ]);
      expect(await store.listRuns({ batch: 'winter' })).toEqual([]);
      expect(await store.runForJob('job-1')).toBe('20260101T000000-1-aaaaaa');
      expect(await store.runForJob('job-2')).toBeNull();
      expect((await store.getResult('20260101T000001-2-bbbbbb'))!.verdict).toBe('inconclusive');
    } finally {
      await store.close();
    }
  });

  it('stores one run per queue job: a second recording is a duplicate, even when two workers race', T, async () => {
    const spec = await backend.freshSpec();
    const sub = submissionDir();
    await using(spec, async (store) => {
      expect(await store.recordRun(run('20260101T000000-1-aaaaaa', sub), { jobId: 'job-7' })).toBe('recorded');
      const before = await store.counts();
      expect(await store.recordRun(run('20260101T000001-2-bbbbbb', sub), { jobId: 'job-7' })).toBe('duplicate');
      expect(await store.counts()).toEqual(before);
    });
    // Two workers (two stores, two connections) record one job at once; each transaction waits before committing,
    // so both have looked for the job's run before either is stored.
    const [a, b] = [await openStore(spec), await openStore(spec)];
    try {
      const slow = { beforeCommit: () => sleep(300) };
      const outcomes = await Promise.all([
        a.recordRun(run('20260102T000000-1-dddddd', sub), { jobId: 'job-8', batch: 'race' }, slow),
        b.recordRun(run('20260102T000000-2-eeeeee', sub), { jobId: 'job-8', batch: 'race' }, slow),
      ]);
      expect(outcomes.sort()).toEqual(['duplicate', 'recorded']);
      const stored = await a.listRuns({ batch: 'race' });
      expect(stored).toHaveLength(1);
      expect(await a.runForJob('job-8')).toBe(stored[0].id);
      expect((await a.counts()).runs).toBe(2);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('keeps the submission\'s text files with the run: small UTF-8 files only, read from filesFrom when given', T, async () => {
    const store = await fresh();
    try {
      const copy = submissionDir('export const a = "ünïcode";\n');
      fs.mkdirSync(path.join(copy, 'lib'));
      fs.writeFileSync(path.join(copy, 'lib', 'util.ts'), 'export const b = 2;\n');
      fs.writeFileSync(path.join(copy, 'image.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x1a, 0xff]));
      fs.writeFileSync(path.join(copy, 'latin1.txt'), Buffer.from([0x63, 0x61, 0x66, 0xe9]));
      fs.writeFileSync(path.join(copy, 'big.json'), 'x'.repeat(256 * 1024 + 1));
      // The worker graded the unpacked copy; the result names the original folder (which this machine lacks).
      const original = path.join(tmp, 'candidates', 'ada');
      const r = run('20260101T000000-1-ffffff', original);
      expect(await store.recordRun(r, { filesFrom: copy })).toBe('recorded');
      expect(await store.submissionSource(r.runId!)).toEqual({ 'seat-reservation.ts': 'export const a = "ünïcode";\n', 'lib/util.ts': 'export const b = 2;\n' });
      const [row] = await store.listRuns();
      expect(row.submissionPath).toBe(original);
      expect(row.contentHash).toBe(fingerprint(copy).hash);
      expect(await store.submissionSource('no-such-run')).toBeNull();
    } finally {
      await store.close();
    }
  });

  it('re-scoring updates the result, the score columns and the manual scores', T, async () => {
    const store = await fresh();
    try {
      const r = run('20260101T000000-1-dddddd', submissionDir());
      await store.recordRun(r);
      const scored = rescore(r, { interviewer: 'Ada', scores: { caching: { score: 4, note: 'reasoned' } }, overrides: { locking: { awarded: 4, note: 'why' } } });
      await store.updateResult(scored);
      expect((await store.getResult(r.runId!))!.score.manual).toBe(4);
      expect((await store.listRuns())[0]).toMatchObject({ scoreManual: 4, scoreTotal: scored.score.total });
      expect((await store.counts()).manual_scores).toBe(2);
      await expect(store.updateResult({ ...scored, runId: 'missing' })).rejects.toThrow(/not in the store/);
    } finally {
      await store.close();
    }
  });

  it('keeps the benchmark reference\'s figure, one per key', T, async () => {
    const store = await fresh();
    try {
      expect(await store.referenceFigure('k')).toBeUndefined();
      await store.putReferenceFigure('k', { value: 1200.5, busy: 0.1, measuredAt: '2026-12-05T12:00:00.000Z' });
      await store.putReferenceFigure('k', { value: 1500.25, busy: 0.15, measuredAt: '2026-12-05T13:00:00.000Z' });
      expect(await store.referenceFigure('k')).toEqual({ value: 1500.25, busy: 0.15, measuredAt: '2026-12-05T13:00:00.000Z' });
    } finally {
      await store.close();
    }
  });

  it('a write that throws inside its transaction leaves nothing of itself behind', T, async () => {
    const store = await fresh();
    try {
      const sub = submissionDir();
      await store.recordRun(run('20260101T000000-1-eeeeee', sub));
      const before = await store.counts();
      await expect(store.recordRun(run('20260101T000000-2-ffffff', submissionDir('changed\n')), { jobId: 'job-9' }, { beforeCommit: () => { throw new Error('disk full'); } })).rejects.toThrow('disk full');
      expect(await store.counts()).toEqual(before);
      expect(await store.getResult('20260101T000000-2-ffffff')).toBeNull();
      expect(await store.runForJob('job-9')).toBeNull();
      const updated = rescore((await store.getResult('20260101T000000-1-eeeeee'))!, { scores: { caching: { score: 5 } } });
      await expect(store.updateResult(updated, { beforeCommit: async () => { throw new Error('interrupted'); } })).rejects.toThrow('interrupted');
      expect((await store.getResult('20260101T000000-1-eeeeee'))!.score.manual).toBeNull();
      expect(await store.counts()).toEqual(before);
      // The store still works after a rolled-back write.
      expect(await store.recordRun(run('20260101T000000-2-ffffff', submissionDir('changed\n')), { jobId: 'job-9' })).toBe('recorded');
    } finally {
      await store.close();
    }
  });

  it('a process killed (SIGKILL) in the middle of recording a run leaves the store as it was', T, async () => {
    const spec = await backend.freshSpec();
    const before = await using(spec, async (store) => {
      await store.recordRun(run('20260101T000000-1-gggggg', submissionDir()));
      return store.counts();
    });
    const child = killMidWrite(spec, run('20260101T000000-2-hhhhhh', submissionDir('new code\n')), { jobId: 'job-killed', batch: 'b' });
    expect(child.signal, child.stderr).toBe('SIGKILL');
    expect(child.stdout).not.toContain('not reached');
    await using(spec, async (after) => {
      expect(await after.counts()).toEqual(before);
      expect(await after.getResult('20260101T000000-2-hhhhhh')).toBeNull();
      expect(await after.runForJob('job-killed')).toBeNull();
      expect((await after.getResult('20260101T000000-1-gggggg'))!.runId).toBe('20260101T000000-1-gggggg');
      expect((await after.listRuns()).map((r) => r.id)).toEqual(['20260101T000000-1-gggggg']);
      // The killed worker's job can be recorded by another.
      expect(await after.recordRun(run('20260101T000000-2-hhhhhh', submissionDir('new code\n')), { jobId: 'job-killed' })).toBe('recorded');
    });
  });
});

/** Schema v1 as gauntlet wrote it before PostgreSQL stores (and before batch, job, machine and source). */
const V1_SCHEMA = `
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

describe('SQLite: schema', () => {
  it('migrates a v1 file in place: rows kept, new columns empty, inconclusive allowed, version 2', T, async () => {
    const file = path.join(tmp, 'v1.db');
    const sub = submissionDir();
    const old = run('20250101T000000-1-oldold', sub, { machine: undefined });
    const older = run('20250101T000000-0-older0', sub, { machine: undefined });
    const db = new Database(file);
    db.exec(V1_SCHEMA);
    db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', '1')").run();
    db.prepare("INSERT INTO submissions (path, content_hash, files, first_seen) VALUES (?, 'h1', '[]', '2025-01-01T00:00:00.000Z')").run(sub);
    for (const [i, r] of [older, old].entries()) {
      db.prepare(`INSERT INTO runs (id, submission_id, started_at, recorded_at, duration_ms, seed, profile, instances, challenges, min_score, verdict, score_total, score_automated, score_manual, red_flags, run_dir)
        VALUES (?, 1, NULL, '2025-01-01T00:00:00.000Z', 10, 1, 'quick', 2, '[]', NULL, 'pass', ?, ?, NULL, '[]', NULL)`).run(r.runId, r.score.total, r.score.automated);
      db.prepare("INSERT INTO results (run_id, json, updated_at) VALUES (?, ?, '2025-01-01T00:00:00.000Z')").run(r.runId, JSON.stringify(r));
      db.prepare("INSERT INTO scenarios (run_id, challenge, scenario, status, metrics) VALUES (?, 'seat-reservation', 'last-seat', 'passed', '{}')").run(r.runId);
      db.prepare("INSERT INTO checks (run_id, challenge, scenario, check_id, passed, message) VALUES (?, 'seat-reservation', 'last-seat', 'single-winner', 1, 'ok')").run(r.runId);
      db.prepare("INSERT INTO manual_scores (run_id, item_id, kind, value, scored_at) VALUES (?, 'caching', 'score', ?, '2025-01-01T00:00:00.000Z')").run(r.runId, i + 3);
    }
    expect(() => db.prepare("UPDATE runs SET verdict = 'inconclusive'").run()).toThrow(/CHECK constraint/);
    db.close();

    const store = SqliteRunStore.open(file);
    try {
      expect(await store.counts()).toEqual({ submissions: 1, runs: 2, results: 2, scenarios: 2, checks: 2, manual_scores: 2 });
      expect(await store.getResult(old.runId!)).toEqual(old);
      // Same recorded_at: the order is by id, newest first.
      expect((await store.listRuns()).map((r) => [r.id, r.batch, r.jobId, r.machine, r.instances])).toEqual([
        [old.runId, null, null, null, 2],
        [older.runId, null, null, null, 2],
      ]);
      expect(await store.submissionSource(old.runId!)).toBeNull();
      expect(await store.recordRun(run('20260101T000000-1-newnew', sub, { verdict: 'inconclusive' }), { jobId: 'j', batch: 'b' })).toBe('recorded');
      // The foreign keys still hold: replacing a migrated run removes its old scenarios, checks and manual scores.
      expect(await store.recordRun(old)).toBe('recorded');
      expect(await store.counts()).toMatchObject({ runs: 3, scenarios: 1 + 4 + 4, checks: 1 + 23 + 23, manual_scores: 1 });
    } finally {
      await store.close();
    }
    const after = new Database(file);
    try {
      expect(after.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get()).toEqual({ value: '2' });
      expect(after.prepare("SELECT sql FROM sqlite_master WHERE name = 'runs'").get()).toMatchObject({ sql: expect.stringContaining("'inconclusive'") });
      expect((after.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'runs' ORDER BY name").all() as { name: string }[]).map((x) => x.name)).toEqual(expect.arrayContaining(['runs_by_batch', 'runs_by_submission', 'runs_by_time']));
      expect(after.pragma('foreign_key_check')).toEqual([]);
    } finally {
      after.close();
    }
  });

  it('refuses a file written by a newer gauntlet, and a file that is not a run store, with a hint', T, async () => {
    const file = path.join(tmp, 'newer.db');
    (await openStore(file)).close();
    const db = new Database(file);
    db.prepare("UPDATE meta SET value = '3' WHERE key = 'schema_version'").run();
    db.close();
    await expect(openStore(file)).rejects.toThrow(/written by a newer gauntlet \(store schema 3\)/);
    const bogus = path.join(tmp, 'bogus.db');
    fs.writeFileSync(bogus, 'not sqlite at all, just text that is long enough to be read as a header by SQLite');
    await expect(openStore(bogus)).rejects.toThrow(/is not a gauntlet run store/);
  });

  it('reading commands create no file', T, async () => {
    const missing = path.join(tmp, 'missing', 'gauntlet.db');
    await expect(openStore(missing, { mustExist: true })).rejects.toThrow(NoRunStoreError);
    expect(fs.existsSync(missing)).toBe(false);
  });
});

describe('PostgreSQL: schema and errors', () => {
  it('creates the schema gauntlet once when several workers open a new store at once; reading commands create nothing', T, async () => {
    await withPg(pgUrl, (c) => c.query('DROP SCHEMA IF EXISTS gauntlet CASCADE'));
    const err = await openStore(pgUrl, { mustExist: true }).catch((e) => e);
    expect(err).toBeInstanceOf(NoRunStoreError);
    expect(err.message).toMatch(/no run store in postgres:.*no schema gauntlet/);
    const stores = await Promise.all([1, 2, 3, 4].map(() => openStore(pgUrl)));
    try {
      expect(stores.map((s) => s.location)).toEqual(stores.map(() => storeLocation(pgUrl)));
      const tables = await withPg(pgUrl, async (c) => (await c.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'gauntlet' ORDER BY 1")).rows.map((r) => r.table_name));
      expect(tables).toEqual(['checks', 'manual_scores', 'meta', 'reference_throughput', 'results', 'runs', 'scenarios', 'submissions']);
      const columns = await withPg(pgUrl, async (c) => (await c.query("SELECT column_name FROM information_schema.columns WHERE table_schema = 'gauntlet' AND table_name = 'runs'")).rows.map((r) => r.column_name));
      expect(columns).toEqual(expect.arrayContaining(['batch', 'job_id', 'machine']));
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
    await withPg(pgUrl, (c) => c.query("UPDATE gauntlet.meta SET value = '3' WHERE key = 'schema_version'"));
    await expect(openStore(pgUrl)).rejects.toThrow(/written by a newer gauntlet \(store schema 3\)/);
    await withPg(pgUrl, (c) => c.query('DROP SCHEMA gauntlet CASCADE'));
  });

  it('a server that cannot be reached is an infrastructure error, a database that is not there a usage error, each naming the store (password hidden)', T, async () => {
    const refused = await openStore('postgres://gauntlet:s3cret@127.0.0.1:1/runs').catch((e) => e);
    expect(refused).toBeInstanceOf(InfraError);
    expect(refused.message).toBe('cannot reach the run store postgres://gauntlet:***@127.0.0.1:1/runs: ECONNREFUSED');
    expect(refused.hint).toMatch(/PostgreSQL running/);
    const missing = await openStore(withUrlParts(ADMIN_URL, { path: `${database}_none` })).catch((e) => e);
    expect(missing).toBeInstanceOf(UsageError);
    expect(missing.message).toMatch(/cannot reach the run store .*_none: .*does not exist/);
    expect(storeLocation('postgresql://u:pw@h/db?sslmode=require&password=pw2')).toBe('postgresql://u:***@h/db?sslmode=require&password=***');
    for (const bad of ['postgres://u:pw@[bad/x', 'postgres://u:pw@host:notaport/x']) {
      const err = await openStore(bad).catch((e) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect(err.message).toMatch(/^cannot use the run store URL postgres:\/\/u:\*\*\*@.*: Invalid URL$/);
    }
  });
});
