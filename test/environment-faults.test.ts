// Faults of the harness's own environment, not of the submission: PostgreSQL stopping in the middle of a grade
// (exit 3, a message that says so, never a verdict on the candidate), no Redis for a submission that uses it (an
// environment error naming the fix), and Ctrl-C / SIGTERM during a grade (everything cleaned up — instances,
// scenario databases, the embedded server, temp folders — exit 130 / 143, the run folder marked as interrupted).
// PostgreSQL is only ever stopped when it is an embedded server this test started, never the machine's shared one.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { grade } from '../harness/app/grade.ts';
import { acquireInfra } from '../harness/infra/index.ts';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../harness/infra/embedded-postgres.ts';
import { freePort, pidAlive } from '../harness/infra/process-util.ts';
import { expectContractShape, instanceProcesses, leftoverDatabases } from './helpers.ts';

let tmpRoot: string;
const savedTmp = process.env.TMPDIR;

beforeAll(() => {
  // A private, traversable TMPDIR for everything the graders under test create (instance folders, the embedded
  // server's folder), so leftovers and processes are told apart from other grades on this machine.
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-envfaults-'));
  fs.chmodSync(tmpRoot, 0o755);
  process.env.TMPDIR = tmpRoot;
});

afterAll(() => {
  if (savedTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmp;
  fs.rmSync(tmpRoot, { recursive: true, force: true });
});

interface Cli {
  child: ChildProcess;
  tmp: string;
  out: string;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `gauntlet grade …` as a user runs it, with its own TMPDIR (under tmpRoot) and run folder. */
function gauntletGrade(args: string[], env: Record<string, string> = {}): Cli {
  const tmp = fs.mkdtempSync(path.join(tmpRoot, 'cli-'));
  fs.chmodSync(tmp, 0o755);
  const out = fs.mkdtempSync(path.join(tmpRoot, 'runs-'));
  const child = spawn(process.execPath, ['bin/gauntlet.mjs', 'grade', ...args, '--out', out, '--no-store'], {
    env: { ...process.env, TMPDIR: tmp, FORCE_COLOR: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, tmp, out, stdout: () => stdout, stderr: () => stderr, exited };
}

async function waitFor(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Instance processes started by a CLI run (found by the TMPDIR their folders live in). */
const instancesOf = (cli: Cli) => instanceProcesses(`${cli.tmp}/gauntlet-instance-`);

/** What a CLI run left in its TMPDIR (instance folders, the embedded server's folder …). */
const leftoversIn = (dir: string) => fs.readdirSync(dir).filter((d) => d.startsWith('gauntlet-'));

describe('faults of the grading environment are not the candidate\'s', () => {
  it('PostgreSQL stopping mid-grade ends the run with exit 3 and a message that says so', async () => {
    const server: EmbeddedPostgres = await startEmbeddedPostgres();
    let cli: Cli | null = null;
    try {
      cli = gauntletGrade(['examples/reference-submission', '--scenario', 'last-seat', '--profile', 'quick', '--seed', '1', '--json', '--call-timeout-ms', '2000'], { DATABASE_URL: server.adminUrl });
      const run = cli;
      // Once the instances run, the workload is about to start: stop the server the way a crash would.
      await waitFor('the instances to start', () => instancesOf(run).length >= 4, 60_000);
      await new Promise((r) => setTimeout(r, 300));
      process.kill(server.pid, 'SIGQUIT');
      const { code } = await Promise.race([run.exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no exit; stderr: ${run.stderr()}`)), 90_000))]);
      expect(code, run.stderr()).toBe(3);
      expect(run.stderr()).toMatch(/PostgreSQL stopped during the run: the PostgreSQL from DATABASE_URL at 127\.0\.0\.1:\d+ no longer answers/);
      expect(run.stderr()).toMatch(/this is not the submission's failure/);
      // No verdict was printed — there is none — only the --json error document (README, Troubleshooting).
      const doc = JSON.parse(run.stdout());
      expect(doc).toMatchObject({ tool: 'gauntlet', error: { code: 'INFRA_UNAVAILABLE' }, exitCode: 3 });
      expect(doc.verdict).toBeUndefined();
      expect(instancesOf(run)).toEqual([]);
      expect(leftoversIn(run.tmp)).toEqual([]);
    } finally {
      if (cli && cli.child.exitCode === null) cli.child.kill('SIGKILL');
      await server.stop();
    }
  }, 120_000);

  it('an open network never grades against a PostgreSQL that trusts local connections, unless told to', async () => {
    // This machine's PostgreSQL trusts 127.0.0.1 (docs/security.md); --no-contain stands for a machine without namespaces.
    const open = gauntletGrade(['examples/reference-submission', '--challenge', 'seat-reservation', '--scenario', 'last-seat', '--profile', 'quick', '--seed', '1', '--json', '--no-contain'], { DATABASE_URL: '' });
    const done = await open.exited;
    expect(done.code, open.stderr()).toBe(0);
    const r = JSON.parse(open.stdout());
    expect(r.sandbox).toMatchObject({ network: 'open', reason: expect.stringMatching(/--no-contain/) });
    expect(r.infrastructure.postgres).toMatch(/^embedded/);
    expect(open.stderr()).toMatch(/trusts local connections and the network is open: using the embedded PostgreSQL/);
    expect(open.stderr()).toMatch(/network: open/);
    expect(leftoversIn(open.tmp)).toEqual([]);

    const insisted = gauntletGrade(['examples/reference-submission', '--challenge', 'seat-reservation', '--scenario', 'last-seat', '--profile', 'quick', '--seed', '1', '--json', '--no-contain', '--allow-open-network', '--quiet'], { DATABASE_URL: '' });
    expect((await insisted.exited).code, insisted.stderr()).toBe(0);
    expect(JSON.parse(insisted.stdout()).infrastructure.postgres).toMatch(/^local/);
    expect(insisted.stderr()).toMatch(/network: open/); // said even with --quiet

    const contained = gauntletGrade(['examples/reference-submission', '--challenge', 'seat-reservation', '--scenario', 'last-seat', '--profile', 'quick', '--seed', '1', '--json'], { DATABASE_URL: '' });
    expect((await contained.exited).code, contained.stderr()).toBe(0);
    const c = JSON.parse(contained.stdout());
    if (c.sandbox.network === 'contained') expect(c.infrastructure.postgres).toMatch(/^local/); // contained: the trusting server is out of the instances' reach
  }, 120_000);

  it('no Redis for a submission that uses ctx.redis: the scenario is an environment error naming the fix', async () => {
    const closed = await freePort(); // nothing listens there
    const infra = await acquireInfra({ env: { ...process.env, REDIS_URL: `redis://127.0.0.1:${closed}` } });
    try {
      expect(infra.redis).toBeNull();
      const r = await grade({ submission: path.resolve('fixtures/hostile/_environment/uses-redis'), scenarios: ['last-seat'], profile: 'quick', seed: 1, instances: 2, infra, outDir: path.join(tmpRoot, 'runs-redis') });
      expectContractShape(JSON.parse(JSON.stringify(r)));
      const scenario = r.challenges[0].scenarios[0];
      expect(scenario.status).toBe('error');
      expect(scenario.environmentError).toBe(true);
      expect(scenario.error).toMatch(new RegExp(`REDIS_URL \\(redis://127\\.0\\.0\\.1:${closed}\\) did not answer PING`));
      expect(scenario.error).toMatch(/Install redis-server .* or set REDIS_URL/);
      expect(scenario.error).toMatch(/not held against the submission/);
      expect(scenario.checks.filter((c) => c.passed === false)).toEqual([]); // no check blames the candidate
      expect(r.redFlags).toEqual([]);
      expect(instanceProcesses(`${tmpRoot}/gauntlet-instance-`)).toEqual([]);
      expect(await leftoverDatabases(process.pid, infra.postgres.adminUrl)).toEqual([]);
    } finally {
      await infra.close();
    }
  }, 90_000);

  it('Ctrl-C during a grade: instances, the embedded server and its databases, temp folders cleaned up; exit 130; run marked interrupted', async () => {
    const cli = gauntletGrade(['examples/reference-submission', '--profile', 'quick', '--seed', '1', '--embedded-postgres', '--challenge', 'seat-reservation']);
    try {
      await waitFor('the instances to start', () => instancesOf(cli).length >= 4, 90_000);
      const serverDirs = leftoversIn(cli.tmp).filter((d) => d.startsWith('gauntlet-pg-'));
      expect(serverDirs).toHaveLength(1); // the CLI's own embedded PostgreSQL
      const postmaster = Number(fs.readFileSync(path.join(cli.tmp, serverDirs[0], 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
      expect(pidAlive(postmaster)).toBe(true);
      await new Promise((r) => setTimeout(r, 500));
      cli.child.kill('SIGINT');
      const { code } = await Promise.race([cli.exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no exit; stderr: ${cli.stderr()}`)), 60_000))]);
      expect(code, cli.stderr()).toBe(130);
      expect(cli.stderr()).toMatch(/SIGINT received, cleaning up \(instances, databases, temp folders\)/);
      expect(cli.stdout()).toBe('');
      expect(instancesOf(cli)).toEqual([]);
      expect(pidAlive(postmaster)).toBe(false);
      expect(leftoversIn(cli.tmp)).toEqual([]);
      const [runId] = fs.readdirSync(cli.out);
      const marker = JSON.parse(fs.readFileSync(path.join(cli.out, runId, 'interrupted.json'), 'utf8'));
      expect(marker).toMatchObject({ interrupted: true, signal: 'SIGINT', cleanedUp: true });
      expect(Array.isArray(marker.completedScenarios)).toBe(true);
      const resultFile = path.join(cli.out, runId, 'result.json');
      if (fs.existsSync(resultFile)) expect(JSON.parse(fs.readFileSync(resultFile, 'utf8')).interrupted).toBe(true);
    } finally {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    }
  }, 150_000);

  it('SIGTERM during a grade on an external server: its scenario database is dropped, exit 143, run marked interrupted', async () => {
    const cli = gauntletGrade(['examples/reference-submission', '--profile', 'quick', '--seed', '1', '--scenario', 'last-seat,many-seats', '--call-timeout-ms', '3000']);
    try {
      await waitFor('the instances to start', () => instancesOf(cli).length >= 4, 90_000);
      expect((await leftoverDatabases(cli.child.pid!)).length).toBe(1); // the scenario's database, on the local server
      cli.child.kill('SIGTERM');
      const { code } = await Promise.race([cli.exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no exit; stderr: ${cli.stderr()}`)), 60_000))]);
      expect(code, cli.stderr()).toBe(143);
      expect(instancesOf(cli)).toEqual([]);
      expect(await leftoverDatabases(cli.child.pid!)).toEqual([]);
      expect(leftoversIn(cli.tmp)).toEqual([]);
      const [runId] = fs.readdirSync(cli.out);
      expect(JSON.parse(fs.readFileSync(path.join(cli.out, runId, 'interrupted.json'), 'utf8'))).toMatchObject({ interrupted: true, signal: 'SIGTERM' });
    } finally {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    }
  }, 150_000);
});
