// The fleet end to end on one machine (issue 17's bar): six submissions (references, fixtures, one that crashes)
// enqueued with `gauntlet queue add`, two `gauntlet worker` processes sharing a PostgreSQL results store, one of them
// SIGKILLed in the middle of a grade. Every submission ends graded exactly once in the store, with the verdicts
// `grade()` gives on the same seed; the queue ends empty, and nothing of the killed worker is left on the machine
// (its scenario database, Redis namespace, temp folders and instances are swept by the surviving worker's next grade).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grade } from '../harness/app/grade.ts';
import { acquireInfra, type Infra } from '../harness/infra/index.ts';
import { openStore } from '../harness/app/store/index.ts';
import { openQueue, queueStatus } from '../harness/app/fleet/queue.ts';
import { lockKey } from '../harness/infra/redis-namespace.ts';
import { withRedis } from '../harness/infra/redis-client.ts';
import { instanceProcesses, leftoverDatabases } from './helpers.ts';

const ADMIN = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const QUEUE_URL = 'redis://127.0.0.1:6379';
const root = path.resolve(import.meta.dirname, '..');
const tag = `${process.pid}_${crypto.randomBytes(3).toString('hex')}`;
const storeDb = `gauntlet_fleettest_${tag}`;
const storeUrl = ADMIN.replace(/\/[^/]*$/, `/${storeDb}`);
const queue = { url: QUEUE_URL, name: `gauntlet-test-${tag}` };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-fleet-test-'));
const SEED = 7;
const GRADE_FLAGS = ['--challenge', 'seat-reservation', '--scenario', 'last-seat', '--profile', 'quick', '--seed', String(SEED)];

/** A submission folder that grades one of the project's references (gauntlet.json names it outside the folder). */
function referenceFolder(name: string): string {
  const dir = path.join(tmp, 'submissions', `ref-${name}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'gauntlet.json'), JSON.stringify({ paths: { 'seat-reservation': path.join(root, 'reference', 'seat-reservation', `${name}.ts`) } }));
  return dir;
}

const submissions = [
  referenceFolder('conditional-update'),
  referenceFolder('plain-for-update'),
  path.join(root, 'fixtures', 'submissions', 'seat-read-then-write'),
  path.join(root, 'fixtures', 'submissions', 'seat-process-mutex'),
  path.join(root, 'fixtures', 'submissions', 'seat-insert-ignore'),
  path.join(root, 'fixtures', 'broken', 'crash-instance'),
];

const cli = (args: string[]) => spawnSync(process.execPath, ['bin/gauntlet.mjs', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' }, timeout: 120_000 });

interface RunningWorker {
  child: ChildProcess;
  log: string[];
  exit: Promise<number | null>;
}

function startWorkerProcess(): RunningWorker {
  const child = spawn(process.execPath, ['bin/gauntlet.mjs', 'worker', '--queue', queue.url, '--name', queue.name, '--store', storeUrl, '--out', path.join(tmp, 'runs'), '--drain', '--lock-ms', '5000'], { cwd: root, env: { ...process.env, FORCE_COLOR: '0' }, stdio: ['ignore', 'ignore', 'pipe'] });
  const log: string[] = [];
  let partial = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop()!;
    log.push(...lines);
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, log, exit };
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}

async function admin<T>(f: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN, connectionTimeoutMillis: 5000 });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return await f(c);
  } finally {
    await c.end();
  }
}

describe('a fleet of two workers on one machine', () => {
  let infra: Infra;
  const direct = new Map<string, string>();

  beforeAll(async () => {
    await admin((c) => c.query(`CREATE DATABASE ${storeDb}`));
    infra = await acquireInfra();
  }, 60_000);

  afterAll(async () => {
    await infra?.close();
    const q = openQueue(queue);
    await q.obliterate({ force: true }).catch(() => undefined);
    await q.close();
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${storeDb} WITH (FORCE)`));
    fs.rmSync(tmp, { recursive: true, force: true });
  }, 60_000);

  it('grades every submission exactly once, with grade()\'s verdicts, though one worker is SIGKILLed mid-grade', async () => {
    // What `gauntlet grade` says on the same seed, one submission at a time.
    for (const s of submissions) {
      const r = await grade({ submission: s, infra, challenges: ['seat-reservation'], scenarios: ['last-seat'], profile: 'quick', seed: SEED, outDir: path.join(tmp, 'direct') });
      direct.set(s, r.verdict);
    }
    expect(direct.get(submissions[0])).toBe('pass');
    for (const i of [2, 3, 4, 5]) expect(['fail', 'reject'], submissions[i]).toContain(direct.get(submissions[i]));

    const added = cli(['queue', 'add', ...submissions, '--queue', queue.url, '--name', queue.name, '--batch', `fleet-${tag}`, ...GRADE_FLAGS, '--json']);
    expect(added.stderr).toBe('');
    expect(added.status).toBe(0);
    const doc = JSON.parse(added.stdout);
    expect(doc.batch).toBe(`fleet-${tag}`);
    expect(doc.jobs.map((j: { submission: string }) => j.submission)).toEqual(submissions);
    const jobIds = doc.jobs.map((j: { jobId: string }) => j.jobId);

    const a = startWorkerProcess();
    const b = startWorkerProcess();
    // A is killed a moment into its first grade: instances up, nothing stored yet.
    expect(await until(() => a.log.some((l) => / grading /.test(l)), 60_000)).toBe(true);
    await new Promise((r) => setTimeout(r, 1500));
    const killedJob = /job (\S+): grading/.exec(a.log.find((l) => / grading /.test(l))!)![1];
    expect(a.log.some((l) => l.includes(`job ${killedJob}: pass`) || l.includes(`job ${killedJob}: fail`))).toBe(false);
    a.child.kill('SIGKILL');
    expect(await a.exit).toBeNull();
    const deadPid = a.child.pid!;

    // B grades everything left, the killed job included once its lock expires, then exits (--drain).
    const code = await Promise.race([b.exit, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 240_000))]);
    if (code === 'timeout') b.child.kill('SIGTERM');
    expect(code, b.log.join('\n')).toBe(0);
    expect(b.log.join('\n')).toMatch(new RegExp(`job ${killedJob}: its worker stopped answering; back in the queue`));
    expect(b.log.join('\n')).toMatch(new RegExp(`job ${killedJob}: (pass|fail) `));

    // Exactly once each, with grade()'s verdicts.
    const store = await openStore(storeUrl, { mustExist: true });
    try {
      const runs = await store.listRuns({ batch: `fleet-${tag}`, limit: 100 });
      expect(runs.map((r) => r.jobId).sort()).toEqual([...jobIds].sort());
      for (const s of submissions) {
        const mine = runs.filter((r) => r.submissionPath === s);
        expect(mine, s).toHaveLength(1);
        expect(mine[0].verdict, s).toBe(direct.get(s));
        expect(mine[0].seed).toBe(SEED);
        expect(mine[0].machine?.host).toBe(os.hostname());
        const source = await store.submissionSource(mine[0].id);
        expect(Object.keys(source ?? {}).length, s).toBeGreaterThan(0);
      }
    } finally {
      await store.close();
    }

    // The batch read back in one place: ranked (the references first), and a submission that is a reference's copy
    // listed beside that reference for a human to look at.
    const ranked = cli(['compare', '--batch', `fleet-${tag}`, '--store', storeUrl, '--json']);
    expect(ranked.status, ranked.stderr).toBe(0);
    const report = JSON.parse(ranked.stdout);
    expect(report.ranking).toHaveLength(6);
    expect(report.ranking.slice(0, 2).map((r: { label: string; verdict: string }) => [r.label, r.verdict]).sort()).toEqual([[submissions[0], 'pass'], [submissions[1], 'pass']]);
    expect(report.ranking.slice(2).every((r: { verdict: string; failedChecks: string[] }) => r.verdict !== 'pass')).toBe(true);
    const copy = report.similar.find((p: { aLabel: string; bLabel: string }) => [p.aLabel, p.bLabel].includes(submissions[0]) && [p.aLabel, p.bLabel].some((l) => /conditional-update/.test(l) && l !== submissions[0]));
    expect(copy, JSON.stringify(report.similar.map((p: { aLabel: string; bLabel: string; similarity: number }) => [p.aLabel, p.bLabel, p.similarity]))).toBeTruthy();
    expect(copy.similarity).toBeGreaterThanOrEqual(90);
    const text = cli(['compare', '--batch', `fleet-${tag}`, '--store', storeUrl]);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain('seat-read-then-write');

    // The queue is empty: nothing waiting, retrying, active or failed.
    const status = await queueStatus(queue);
    expect(status.counts).toMatchObject({ waiting: 0, active: 0, delayed: 0, failed: 0, completed: 6 });

    // Nothing of the killed worker is left: its scenario databases, Redis namespace, temp folders, instances.
    expect(await leftoverDatabases(deadPid, ADMIN)).toEqual([]);
    expect(fs.readdirSync(os.tmpdir()).filter((d) => d.startsWith('gauntlet-') && d.includes(`-${deadPid}-`))).toEqual([]);
    expect(instanceProcesses(`gauntlet-instance-${deadPid}-`, true)).toEqual([]);
    const held = await withRedis(QUEUE_URL, async (c) => {
      const out: number[] = [];
      for (let db = 1; db < 16; db++) if ((await c.get(lockKey(db)))?.includes(`/${deadPid}/`)) out.push(db);
      return out;
    }, { db: 0 });
    expect(held).toEqual([]);
  }, 420_000);

  it('a worker stopped by SIGTERM mid-grade cleans up, exits 143 and puts the job back in the queue at once', async () => {
    const stop = { ...queue, name: `${queue.name}-stop` };
    const added = cli(['queue', 'add', submissions[2], '--queue', stop.url, '--name', stop.name, '--batch', `stop-${tag}`, ...GRADE_FLAGS, '--json']);
    expect(added.status, added.stderr).toBe(0);
    const child = spawn(process.execPath, ['bin/gauntlet.mjs', 'worker', '--queue', stop.url, '--name', stop.name, '--store', storeUrl, '--out', path.join(tmp, 'runs')], { cwd: root, env: { ...process.env, FORCE_COLOR: '0' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      expect(await until(() => / grading /.test(err), 60_000)).toBe(true);
      await new Promise((r) => setTimeout(r, 1000));
      child.kill('SIGTERM');
      expect(await exit).toBe(143);
      expect(err).toMatch(/stopped by SIGTERM; back in the queue/);
      const status = await queueStatus(stop);
      expect(status.counts).toMatchObject({ waiting: 1, active: 0, failed: 0, completed: 0 });
      const store = await openStore(storeUrl, { mustExist: true });
      expect(await store.listRuns({ batch: `stop-${tag}` })).toEqual([]);
      await store.close();
      expect(instanceProcesses(`gauntlet-instance-${child.pid}-`, true)).toEqual([]);
      expect(await leftoverDatabases(child.pid!, ADMIN)).toEqual([]);
    } finally {
      child.kill('SIGKILL');
      const q = openQueue(stop);
      await q.obliterate({ force: true }).catch(() => undefined);
      await q.close();
    }
  }, 120_000);

  it('queue add packs every folder first: one that cannot be packed enqueues nothing and exits 2', async () => {
    const bad = path.join(tmp, 'submissions', 'leaky');
    fs.mkdirSync(bad, { recursive: true });
    fs.writeFileSync(path.join(bad, 'seat-reservation.ts'), 'export {};\n');
    fs.symlinkSync('/etc/hostname', path.join(bad, 'host.txt'));
    const before = (await queueStatus(queue)).counts.waiting;
    const r = cli(['queue', 'add', submissions[0], bad, '--queue', queue.url, '--name', queue.name]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/1 of 2 submission\(s\) cannot be packed; nothing was enqueued/);
    expect(r.stderr).toMatch(/host\.txt is a symlink out of the submission folder/);
    expect((await queueStatus(queue)).counts.waiting).toBe(before);
    // An unreachable queue is an infrastructure error (exit 3), said at once.
    const down = cli(['queue', 'status', '--queue', 'redis://127.0.0.1:1']);
    expect(down.status).toBe(3);
    expect(down.stderr).toMatch(/cannot reach the queue's Redis at redis:\/\/127\.0\.0\.1:1/);
    // A queue in a database gauntlet flushes is refused.
    const db3 = cli(['queue', 'status', '--queue', 'redis://127.0.0.1:6379/3']);
    expect(db3.status).toBe(2);
    expect(db3.stderr).toMatch(/keep the queue in database 0/);
  }, 60_000);
});
