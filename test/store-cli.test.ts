// The reading commands over either run store through the real CLI (node bin/gauntlet.mjs), with runs recorded
// directly (no grading): history --batch with its batch and machine columns, show, compare with the note that
// timing figures do not compare across machines, score; a PostgreSQL URL works wherever a file does, an empty
// database or an unreachable server is said plainly (exit 2, password hidden). The PostgreSQL store lives in a
// database of this file's own (gauntlet_storetest_<pid>_<random>), dropped at the end.

import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../harness/app/store/index.ts';
import { ident, withPg } from '../harness/infra/pg-admin.ts';
import { withUrlParts } from '../harness/infra/url-util.ts';
import { scoreChallenges } from '../rubric/score.ts';
import { allSeatPassing, expectedChecks, gradeResult } from '../rubric/test-results.ts';
import type { GradeResult, MachineId } from '../rubric/result.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-store-cli-'));
const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const database = `gauntlet_storetest_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
const pgUrl = withUrlParts(ADMIN_URL, { path: database });

function gauntlet(args: string[]) {
  const r = spawnSync(process.execPath, ['bin/gauntlet.mjs', ...args], { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const machine = (host: string): MachineId => ({ id: crypto.createHash('sha256').update(host).digest('hex').slice(0, 12), host, cpu: 'cpu', cores: 2, memoryGb: 4, node: 'v20', os: 'Linux' });

function run(id: string, host: string): GradeResult {
  const submission = path.join(tmp, 'sub');
  const challenges = [{ ...allSeatPassing(), file: path.join(submission, 'seat-reservation.ts') }];
  return gradeResult(challenges, { ...scoreChallenges(challenges, { expectedChecks }), submission, runId: id, machine: machine(host) });
}

beforeAll(async () => {
  fs.mkdirSync(path.join(tmp, 'sub'));
  fs.writeFileSync(path.join(tmp, 'sub', 'seat-reservation.ts'), 'export default async function create() { return {}; }\n');
  await withPg(ADMIN_URL, (c) => c.query(`CREATE DATABASE ${ident(database)}`));
});
afterAll(async () => {
  fs.rmSync(tmp, { recursive: true, force: true });
  await withPg(ADMIN_URL, (c) => c.query(`DROP DATABASE IF EXISTS ${ident(database)} WITH (FORCE)`));
});

describe.each([
  { name: 'SQLite', spec: () => path.join(tmp, 'gauntlet.db') },
  { name: 'PostgreSQL', spec: () => pgUrl },
])('history, show, compare and score on a $name store', ({ spec }) => {
  it('reads back runs of a batch graded on two machines', { timeout: 60_000 }, async () => {
    const store = await openStore(spec());
    try {
      await store.recordRun(run('20260101T000000-1-aaaaaa', 'worker-1'), { batch: 'spring-2027', jobId: 'j1' });
      await store.recordRun(run('20260101T000001-2-bbbbbb', 'worker-2'), { batch: 'spring-2027', jobId: 'j2' });
      await store.recordRun(run('20260101T000002-3-cccccc', 'worker-1'));
    } finally {
      await store.close();
    }
    const h = gauntlet(['history', '--store', spec(), '--batch', 'spring-2027']);
    expect(h.code, h.stderr).toBe(0);
    expect(h.stdout).toMatch(/batch\s+machine\s+submission/);
    expect(h.stdout).toMatch(/20260101T000001-2-bbbbbb .* spring-2027 worker-2/);
    expect(h.stdout).not.toContain('20260101T000002-3-cccccc');
    expect(h.stdout).not.toContain('secret');
    const json = JSON.parse(gauntlet(['history', '--store', spec(), '--json']).stdout);
    expect(json.map((r: { id: string; batch: string | null; jobId: string | null }) => [r.id, r.batch, r.jobId])).toEqual([
      ['20260101T000002-3-cccccc', null, null],
      ['20260101T000001-2-bbbbbb', 'spring-2027', 'j2'],
      ['20260101T000000-1-aaaaaa', 'spring-2027', 'j1'],
    ]);
    expect(JSON.parse(gauntlet(['show', 'last~1', '--report', 'json', '--store', spec()]).stdout).machine.host).toBe('worker-2');
    const c = gauntlet(['compare', '20260101T000000', '20260101T000001', '--store', spec()]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/machine\s+worker-1 \(\w+\)\s+worker-2/);
    expect(c.stdout).toMatch(/note: these runs were graded on 2 different machines: timing figures \(throughput, latency\) are not comparable/);
    const cj = JSON.parse(gauntlet(['compare', 'last', 'last~2', '--store', spec(), '--json']).stdout);
    expect(cj.runs).toEqual(['20260101T000002-3-cccccc', '20260101T000000-1-aaaaaa']);
    expect(cj.notes).toEqual([]);
    const scores = path.join(tmp, 'scores.json');
    fs.writeFileSync(scores, JSON.stringify({ scores: { caching: 4 } }));
    const s = gauntlet(['score', '20260101T000000', '--manual', scores, '--store', spec(), '--json']);
    expect(s.code, s.stderr).toBe(0);
    expect(JSON.parse(s.stdout).score.manual).toBeGreaterThan(0);
  });
});

describe('a PostgreSQL store that is not there', () => {
  it('history says no runs are recorded in an empty database and creates nothing; an unreachable server is exit 3 with the password hidden', { timeout: 60_000 }, async () => {
    const empty = withUrlParts(ADMIN_URL, { path: database });
    await withPg(empty, (c) => c.query('DROP SCHEMA IF EXISTS gauntlet CASCADE'));
    expect(gauntlet(['history', '--store', empty]).stdout).toMatch(/^no runs recorded in postgres.* yet/);
    expect(gauntlet(['show', 'last', '--store', empty]).stderr).toMatch(/no run store in postgres.*no schema gauntlet/);
    expect(await withPg(empty, async (c) => (await c.query("SELECT 1 FROM pg_namespace WHERE nspname = 'gauntlet'")).rowCount)).toBe(0);
    const r = gauntlet(['history', '--store', 'postgres://someone:secret@127.0.0.1:1/runs']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/cannot reach the run store postgres:\/\/someone:\*\*\*@127\.0\.0\.1:1\/runs: ECONNREFUSED/);
    expect(r.stderr).not.toContain('secret');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
