// The run store on real SQLite files: recording and reading runs, naming them (id, prefix, last~N), listing,
// re-scoring, submissions by content hash, and atomicity: a write that throws half-way, and a process killed
// (SIGKILL) in the middle of its transaction, both leave the store exactly as it was.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { RunStore } from './store.ts';
import { fingerprint } from './fingerprint.ts';
import { UsageError } from '../../errors.ts';
import { rescore, scoreChallenges } from '../../../rubric/score.ts';
import { allSeatPassing, expectedChecks, gradeResult } from '../../../rubric/test-results.ts';
import type { GradeResult } from '../../../rubric/result.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-store-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const T = { timeout: 30_000 };

let n = 0;
function submissionDir(text = 'export default async function create() { return {}; }\n'): string {
  const dir = path.join(tmp, `sub-${++n}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'seat-reservation.ts'), text);
  return dir;
}

function run(id: string, submission: string, extra: Partial<GradeResult> = {}): GradeResult {
  const challenges = [{ ...allSeatPassing(), file: path.join(submission, 'seat-reservation.ts') }];
  const scored = scoreChallenges(challenges, { expectedChecks });
  return gradeResult(challenges, { ...scored, submission, runId: id, runDir: path.join(tmp, 'runs', id), startedAt: new Date().toISOString(), ...extra });
}

const fresh = () => RunStore.open(path.join(tmp, `store-${++n}.db`));

describe('recording and reading runs', () => {
  it('stores a run with its submission, scenarios, checks and history locations; reads it back whole', T, () => {
    const store = fresh();
    try {
      const sub = submissionDir();
      const r = run('20260101T000000-1-aaaaaa', sub);
      store.recordRun(r);
      expect(store.getResult(r.runId!)).toEqual(r);
      expect(store.counts()).toEqual({ submissions: 1, runs: 1, results: 1, scenarios: 4, checks: 4 + 5 + 5 + 1 + 8, manual_scores: 0 });
      const [row] = store.listRuns();
      expect(row).toMatchObject({ id: r.runId, submissionPath: sub, seed: 1, profile: 'quick', verdict: 'pass', scoreTotal: r.score.total, scoreManual: null, redFlags: [] });
      expect(row.contentHash).toBe(fingerprint(sub, [path.join(sub, 'seat-reservation.ts')]).hash);
      // The same run recorded again replaces it (no duplicate rows).
      store.recordRun(r);
      expect(store.counts().runs).toBe(1);
      expect(store.counts().checks).toBe(23);
    } finally {
      store.close();
    }
  });

  it('names runs by id, unique prefix, last and last~N; says what is wrong otherwise', T, () => {
    const store = fresh();
    try {
      const sub = submissionDir();
      for (const id of ['20260101T000000-1-aaaaaa', '20260101T000001-2-bbbbbb', '20260102T000000-3-cccccc']) store.recordRun(run(id, sub));
      expect(store.resolveRun('last')).toBe('20260102T000000-3-cccccc');
      expect(store.resolveRun('last~2')).toBe('20260101T000000-1-aaaaaa');
      expect(store.resolveRun('20260102')).toBe('20260102T000000-3-cccccc');
      expect(store.resolveRun('20260101T000001-2-bbbbbb')).toBe('20260101T000001-2-bbbbbb');
      expect(() => store.resolveRun('20260101')).toThrow(/matches several runs/);
      expect(() => store.resolveRun('nope')).toThrow(UsageError);
      expect(() => store.resolveRun('last~9')).toThrow(/no run last~9/);
      expect(store.listRuns({ limit: 2 }).map((r) => r.id)).toEqual(['20260102T000000-3-cccccc', '20260101T000001-2-bbbbbb']);
      expect(store.listRuns({ submission: '/elsewhere' })).toEqual([]);
    } finally {
      store.close();
    }
  });

  it('keys submissions by content: same files in another folder share the hash, a change makes a new one', T, () => {
    const a = submissionDir('one\n');
    const b = submissionDir('one\n');
    const c = submissionDir('two\n');
    const h = (d: string) => fingerprint(d).hash;
    expect(h(a)).toBe(h(b));
    expect(h(a)).not.toBe(h(c));
    // A module pointed at from gauntlet.json counts, with the shared files it imports (reference/<id>/_shared/).
    const files = fingerprint(path.join(root, 'examples', 'reference-submission'), [path.join(root, 'reference', 'seat-reservation', 'conditional-update.ts')]).files.map((f) => f.path);
    expect(files.map((f) => path.basename(f))).toEqual(expect.arrayContaining(['conditional-update.ts', 'gauntlet.json']));
    expect(files.filter((f) => !/(conditional-update\.ts|gauntlet\.json)$/.test(f)).every((f) => f.includes('_shared'))).toBe(true);
    expect(files.some((f) => f.includes('_shared'))).toBe(true);
  });

  it('re-scoring updates the result, the score columns and the manual scores', T, () => {
    const store = fresh();
    try {
      const r = run('20260101T000000-1-dddddd', submissionDir());
      store.recordRun(r);
      const scored = rescore(r, { interviewer: 'Ada', scores: { caching: { score: 4, note: 'reasoned' } }, overrides: { locking: { awarded: 4, note: 'why' } } });
      store.updateResult(scored);
      expect(store.getResult(r.runId!)!.score.manual).toBe(4);
      expect(store.listRuns()[0]).toMatchObject({ scoreManual: 4, scoreTotal: scored.score.total });
      expect(store.counts().manual_scores).toBe(2);
      expect(() => store.updateResult({ ...scored, runId: 'missing' })).toThrow(/not in the store/);
    } finally {
      store.close();
    }
  });

  it('refuses a file that is not a run store, with a hint', T, () => {
    const bogus = path.join(tmp, 'bogus.db');
    fs.writeFileSync(bogus, 'not sqlite at all, just text that is long enough to be read as a header by SQLite');
    expect(() => RunStore.open(bogus)).toThrow(/is not a gauntlet run store/);
  });
});

describe('atomic writes', () => {
  it('a write that throws inside its transaction leaves nothing of itself behind', T, () => {
    const store = fresh();
    try {
      const sub = submissionDir();
      store.recordRun(run('20260101T000000-1-eeeeee', sub));
      const before = store.counts();
      expect(() => store.recordRun(run('20260101T000000-2-ffffff', submissionDir('changed\n')), { beforeCommit: () => { throw new Error('disk full'); } })).toThrow('disk full');
      expect(store.counts()).toEqual(before);
      expect(store.getResult('20260101T000000-2-ffffff')).toBeNull();
      const updated = rescore(store.getResult('20260101T000000-1-eeeeee')!, { scores: { caching: { score: 5 } } });
      expect(() => store.updateResult(updated, { beforeCommit: () => { throw new Error('interrupted'); } })).toThrow('interrupted');
      expect(store.getResult('20260101T000000-1-eeeeee')!.score.manual).toBeNull();
      expect(store.counts()).toEqual(before);
    } finally {
      store.close();
    }
  });

  it('a process killed (SIGKILL) in the middle of recording a run leaves the store as it was', T, () => {
    const file = path.join(tmp, 'killed.db');
    const sub = submissionDir();
    const store = RunStore.open(file);
    store.recordRun(run('20260101T000000-1-gggggg', sub));
    const before = store.counts();
    store.close();
    const doc = path.join(tmp, 'to-record.json');
    fs.writeFileSync(doc, JSON.stringify(run('20260101T000000-2-hhhhhh', submissionDir('new code\n'))));
    const script = path.join(tmp, 'kill-mid-write.mts');
    fs.writeFileSync(script, `import fs from 'node:fs';
import { RunStore } from ${JSON.stringify(path.join(root, 'harness', 'app', 'store', 'store.ts'))};
const store = RunStore.open(${JSON.stringify(file)});
store.recordRun(JSON.parse(fs.readFileSync(${JSON.stringify(doc)}, 'utf8')), { beforeCommit: () => { process.kill(process.pid, 'SIGKILL'); } });
console.log('not reached');
`);
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: root, encoding: 'utf8', timeout: 20_000 });
    expect(child.signal).toBe('SIGKILL');
    expect(child.stdout).not.toContain('not reached');
    const after = RunStore.open(file);
    try {
      expect(after.counts()).toEqual(before);
      expect(after.getResult('20260101T000000-2-hhhhhh')).toBeNull();
      expect(after.getResult('20260101T000000-1-gggggg')!.runId).toBe('20260101T000000-1-gggggg');
      expect(after.listRuns().map((r) => r.id)).toEqual(['20260101T000000-1-gggggg']);
    } finally {
      after.close();
    }
  });
});
