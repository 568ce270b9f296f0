// What happens when the process using the infra ends abnormally, tested in real child processes: an uncaught
// error, a natural exit with code 3 (kept, not reset to 0), and Ctrl-C (SIGINT) through harness/cleanup.ts.

import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { pidAlive } from './process-util.ts';
import { probeRedis } from './redis-client.ts';
import { waitUntil } from './test-helpers.ts';
import { withPg } from './pg-admin.ts';
import { LOCAL_POSTGRES_URL } from './postgres-source.ts';

const CHILD = fileURLToPath(new URL('./fixtures/infra-child.ts', import.meta.url));

interface ChildRun {
  pid: number;
  first: Promise<Record<string, unknown>>;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  kill(signal: NodeJS.Signals): void;
}

const children = new Set<ChildRun>();

function runChild(mode: string): ChildRun {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, mode], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const first = new Promise<Record<string, unknown>>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      stdout += d;
      const line = stdout.split('\n')[0];
      if (stdout.includes('\n')) resolve(JSON.parse(line));
    });
    child.once('exit', () => reject(new Error(`child exited before reporting: ${stderr}`)));
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  const run: ChildRun = { pid: child.pid!, first, done, kill: (s) => child.kill(s) };
  children.add(run);
  void done.then(() => children.delete(run));
  return run;
}

const ourDirs = (pid: number): string[] => readdirSync(tmpdir()).filter((d) => new RegExp(`^gauntlet-(pg|redis)-${pid}-`).test(d));

describe('servers never outlive the process', () => {
  afterEach(async () => {
    // A failed assertion must not leave a child waiting for its signal: interrupt it so it cleans up.
    for (const run of children) {
      run.kill('SIGINT');
      await run.done;
    }
  });

  it('an uncaught error still kills the spawned redis-server and removes its folder (exit guard)', async () => {
    const run = runChild('uncaught-redis');
    const info = (await run.first) as { pid: number; dir: string };
    expect(pidAlive(info.pid)).toBe(true);
    const result = await run.done;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('boom');
    expect(await waitUntil(() => !pidAlive(info.pid), 3000)).toBe(true);
    expect(existsSync(info.dir)).toBe(false);
  });

  it('a natural exit keeps exit code 3 and stops embedded PostgreSQL (postmaster pid gone)', async () => {
    const run = runChild('exit3-embedded');
    const info = (await run.first) as { postmaster: number; port: number };
    expect(pidAlive(info.postmaster)).toBe(true);
    const result = await run.done;
    expect(result.code).toBe(3);
    expect(await waitUntil(() => !pidAlive(info.postmaster), 5000)).toBe(true);
    expect(await waitUntil(() => ourDirs(run.pid).length === 0, 3000)).toBe(true);
  });

  it('Ctrl-C (SIGINT) drops the scenario database and stops the private redis-server via the cleanup registry', async () => {
    const run = runChild('sigint-local');
    const info = (await run.first) as { database: string; redisUrl: string; db: number };
    expect(info.db).toBeGreaterThanOrEqual(1);
    run.kill('SIGINT');
    const result = await run.done;
    expect(result.code).toBe(130);
    expect(result.stderr).toContain('SIGINT received');
    const left = await withPg(LOCAL_POSTGRES_URL, (c) =>
      c.query('SELECT 1 FROM pg_database WHERE datname = $1 UNION ALL SELECT 1 FROM pg_roles WHERE rolname = $1', [info.database]),
    );
    expect(left.rowCount).toBe(0);
    expect((await probeRedis(info.redisUrl, 300)).ok).toBe(false);
    expect(ourDirs(run.pid)).toEqual([]);
  });
});
