// The replica pair for real: a primary and a hot standby streaming through the fault proxy. Writes reach the
// standby, it refuses writes, a blackholed WAL proxy makes real lag that heals, the standby goes down and comes
// back, and neither close() nor an interrupted process leaves a server or a folder behind.

import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardedCount } from './exit-guard.ts';
import { connectPg, withPg } from './pg-admin.ts';
import { pidAlive, sleep, withTimeout } from './process-util.ts';
import { startReplicaPair, type ReplicaPair } from './replica-pair.ts';
import { parentPid, waitUntil } from './test-helpers.ts';

const CHILD = fileURLToPath(new URL('./replica-pair-child.ts', import.meta.url));
const ourDirs = (pid = process.pid): string[] => readdirSync(tmpdir()).filter((d) => d.startsWith(`gauntlet-pg-${pid}-`));
const postmaster = (url: string): Promise<number> =>
  withPg(url, async (c) => parentPid((await c.query<{ p: number }>('SELECT pg_backend_pid() AS p')).rows[0].p));
const query = <T extends Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> =>
  withPg(url, async (c) => (await c.query<T>(sql, params)).rows, { connectTimeoutMs: 3000, queryTimeoutMs: 5000 });
const ids = async (url: string): Promise<number[]> => (await query<{ id: number }>(url, 'SELECT id FROM t ORDER BY id')).map((r) => r.id);
const refused = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(true));
  });

describe('replica pair (primary + streaming hot standby)', () => {
  let pair: ReplicaPair;
  let startMs = 0;
  const guardsBefore = guardedCount();

  beforeAll(async () => {
    const t0 = performance.now();
    pair = await withTimeout(startReplicaPair(), 20_000, 'the pair did not start within 20 s');
    startMs = performance.now() - t0;
    process.stderr.write(`replica pair ready in ${Math.round(startMs)} ms\n`);
  }, 25_000);

  afterAll(async () => {
    await pair?.close();
  });

  it('starts: the standby is in recovery and streams through the WAL proxy', async () => {
    expect(pair.primary.port).not.toBe(pair.standby.port);
    expect([pair.primary.port, pair.standby.port]).not.toContain(5432);
    expect(ourDirs()).toHaveLength(2);
    const [s] = await query<{ r: boolean; status: string; port: number }>(
      pair.standby.url(),
      'SELECT pg_is_in_recovery() AS r, status, sender_port AS port FROM pg_stat_wal_receiver',
    );
    expect(s).toEqual({ r: true, status: 'streaming', port: pair.walProxy.port });
    const [p] = await query<{ r: boolean }>(pair.primary.url(), 'SELECT pg_is_in_recovery() AS r');
    expect(p.r).toBe(false);
    expect(pair.walProxy.connections()).toBe(1);
  });

  it('a row written on the primary is readable on the standby within 1 s, and so is a new database', async () => {
    await query(pair.primary.url(), 'CREATE TABLE t (id int PRIMARY KEY)');
    await query(pair.primary.url(), 'INSERT INTO t VALUES (1)');
    const t0 = performance.now();
    expect(await waitUntil(async () => (await ids(pair.standby.url()).catch((): number[] => [])).includes(1), 1000, 20)).toBe(true);
    process.stderr.write(`row visible on the standby after ${Math.round(performance.now() - t0)} ms\n`);

    await query(pair.primary.url(), 'CREATE DATABASE appdb');
    await query(pair.primary.url('appdb'), 'CREATE TABLE u (v text); INSERT INTO u VALUES ($$replicated$$)');
    await pair.waitCaughtUp(2000);
    expect(await query(pair.standby.url('appdb'), 'SELECT v FROM u')).toEqual([{ v: 'replicated' }]);
    expect(await pair.lagBytes()).toBe(0);
  });

  it('refuses writes on the standby (read-only, SQLSTATE 25006)', async () => {
    const err = await query(pair.standby.url(), 'INSERT INTO t VALUES (99)').catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('25006');
    const ddl = await query(pair.standby.url(), 'CREATE TABLE nope (x int)').catch((e: unknown) => e);
    expect((ddl as { code?: string }).code).toBe('25006');
  });

  it('a blackholed WAL proxy makes lag grow and hides new rows; healing catches up within a few seconds', async () => {
    pair.walProxy.blackhole(true);
    try {
      await query(pair.primary.url(), 'INSERT INTO t VALUES (2)');
      const lag1 = await pair.lagBytes();
      expect(lag1).toBeGreaterThan(0);
      await query(pair.primary.url(), 'INSERT INTO t SELECT g FROM generate_series(3, 1000) g');
      const lag2 = await pair.lagBytes();
      expect(lag2).toBeGreaterThan(lag1);
      await sleep(500);
      expect(await ids(pair.standby.url())).toEqual([1]);
      await expect(pair.waitCaughtUp(300)).rejects.toThrow(/did not catch up within 300 ms/);
    } finally {
      pair.walProxy.blackhole(false);
    }
    const t0 = performance.now();
    await pair.waitCaughtUp(5000);
    process.stderr.write(`caught up ${Math.round(performance.now() - t0)} ms after the heal\n`);
    expect((await ids(pair.standby.url())).length).toBe(1000);
    expect(await pair.lagBytes()).toBe(0);
  });

  it('latency on the WAL proxy delays what the standby sees', async () => {
    pair.walProxy.setLatency(400);
    try {
      await query(pair.primary.url(), 'INSERT INTO t VALUES (1001)');
      const t0 = performance.now();
      expect(await waitUntil(async () => (await ids(pair.standby.url())).includes(1001), 3000, 20)).toBe(true);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(300);
    } finally {
      pair.walProxy.clearLatency();
    }
  });

  it('stopStandby / startStandby: the replica goes down, comes back on the same port and catches up', async () => {
    const before = await postmaster(pair.standby.url());
    await pair.stopStandby();
    expect(pidAlive(before)).toBe(false);
    expect(await refused(pair.standby.port)).toBe(true);
    await expect(pair.lagBytes()).rejects.toThrow();
    await query(pair.primary.url(), 'INSERT INTO t VALUES (1002)'); // the primary carries on alone
    await pair.startStandby({ timeoutMs: 15_000 });
    expect(await postmaster(pair.standby.url())).not.toBe(before);
    await pair.waitCaughtUp(5000);
    expect((await ids(pair.standby.url())).slice(-1)).toEqual([1002]);
  }, 30_000);

  it('close() stops both servers and the proxy and deletes both folders', async () => {
    const pids = [await postmaster(pair.primary.url()), await postmaster(pair.standby.url())];
    const proxyPort = pair.walProxy.port;
    await pair.close();
    await pair.close(); // idempotent
    for (const pid of pids) expect(pidAlive(pid), `postmaster ${pid}`).toBe(false);
    expect(await refused(proxyPort)).toBe(true);
    expect(ourDirs()).toEqual([]);
    expect(guardedCount()).toBe(guardsBefore);
    const err = await connectPg(pair.primary.url(), { connectTimeoutMs: 1000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
  });

  it('an interrupted process leaves nothing behind (Ctrl-C: cleanup registry; process.exit: exit guard)', async () => {
    // Both at once: each child pays tsx start-up and a pair start.
    await Promise.all(([['sigint', 130], ['exit', 3]] as const).map(async ([mode, code]) => {
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const done = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      try {
        expect(await waitUntil(() => stdout.includes('\n') || child.exitCode !== null, 25_000), `${mode}: ${stderr}`).toBe(true);
        const pids = JSON.parse(stdout.split('\n')[0]) as { primary: number; standby: number };
        if (mode === 'sigint') {
          expect(ourDirs(child.pid)).toHaveLength(2);
          child.kill('SIGINT');
        }
        expect(await withTimeout(done, 15_000, `${mode}: the child did not exit`), `${mode}: ${stderr}`).toBe(code);
        for (const pid of [pids.primary, pids.standby]) expect(await waitUntil(() => !pidAlive(pid), 5000), `${mode}: postmaster ${pid}`).toBe(true);
        expect(await waitUntil(() => ourDirs(child.pid).length === 0, 3000), `${mode}: folders left`).toBe(true);
      } finally {
        if (child.exitCode === null) child.kill('SIGINT');
      }
    }));
  }, 45_000);
});
