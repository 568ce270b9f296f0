// Tests of the stale sweep: databases/roles and server folders of dead runs on this host are removed (with a
// still-running server of theirs), while those of live pids or other hosts are never touched.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ident, literal, serverInfo, withPg } from './pg-admin.ts';
import { dropDatabaseAndRole } from './pg-drop.ts';
import { LOCAL_POSTGRES_URL } from './postgres-source.ts';
import { findOnPath, freePort, pidAlive } from './process-util.ts';
import { probeRedis } from './redis-client.ts';
import { isStale, sweepStaleDatabases, sweepStaleTempDirs } from './stale-sweep.ts';
import { deadPid, waitUntil } from './test-helpers.ts';

const created: string[] = [];

async function fakeScenario(name: string, comment: string): Promise<void> {
  created.push(name);
  await withPg(LOCAL_POSTGRES_URL, async (c) => {
    await c.query(`CREATE ROLE ${ident(name)} LOGIN`);
    await c.query(`COMMENT ON ROLE ${ident(name)} IS ${literal(comment)}`);
    await c.query(`CREATE DATABASE ${ident(name)} OWNER ${ident(name)}`);
    await c.query(`COMMENT ON DATABASE ${ident(name)} IS ${literal(comment)}`);
  });
}

async function present(name: string): Promise<boolean> {
  return withPg(LOCAL_POSTGRES_URL, async (c) => {
    const r = await c.query('SELECT 1 FROM pg_database WHERE datname = $1 UNION ALL SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
    return (r.rowCount ?? 0) > 0;
  });
}

describe('stale sweep', () => {
  afterAll(async () => {
    await withPg(LOCAL_POSTGRES_URL, async (c) => {
      const { versionNum } = await serverInfo(c);
      for (const name of created) await dropDatabaseAndRole(c, name, versionNum);
    });
  });

  it('drops databases and roles of dead pids on this host only', async () => {
    const dead = deadPid();
    const alive = process.ppid;
    const host = hostname();
    const staleName = `gauntlet_${dead}_1_deadbeef`;
    const liveName = `gauntlet_${alive}_99_cafe0001`;
    const otherHostName = `gauntlet_${dead}_2_cafe0002`;
    await fakeScenario(staleName, `gauntlet host=${host} pid=${dead} label=x`);
    await fakeScenario(liveName, `gauntlet host=${host} pid=${alive} label=x`);
    await fakeScenario(otherHostName, `gauntlet host=elsewhere-${host} pid=${dead} label=x`);
    expect(isStale(staleName, `gauntlet host=${host} pid=${dead}`)).toBe(true);
    expect(isStale(staleName, null)).toBe(false);

    const dropped = await sweepStaleDatabases(LOCAL_POSTGRES_URL);
    expect(dropped).toContain(staleName);
    expect(dropped).not.toContain(liveName);
    expect(dropped).not.toContain(otherHostName);
    expect(await present(staleName)).toBe(false);
    expect(await present(liveName)).toBe(true);
    expect(await present(otherHostName)).toBe(true);
  });

  it('stops a crashed run\'s redis-server and removes its folder; leaves live runs\' folders alone', async () => {
    const base = mkdtempSync(path.join(tmpdir(), 'infra-sweep-test-'));
    try {
      const dead = deadPid();
      const staleDir = path.join(base, `gauntlet-redis-${dead}-abc`);
      const liveDir = path.join(base, `gauntlet-pg-${process.ppid}-def`);
      const emptyStaleDir = path.join(base, `gauntlet-pg-${dead}-ghi`);
      // Staged node_modules of a grade killed outright, and of a live one.
      const staleDeps = path.join(base, `gauntlet-deps-${dead}-jkl`);
      const liveDeps = path.join(base, `gauntlet-deps-${process.ppid}-mno`);
      // An instance's HOME/TMPDIR left by a grade killed outright (SIGKILL runs no cleanup), and a live grade's.
      const staleInstance = path.join(base, `gauntlet-instance-${dead}-0-pqr`);
      const liveInstance = path.join(base, `gauntlet-instance-${process.ppid}-1-stu`);
      for (const d of [staleDir, liveDir, emptyStaleDir, staleDeps, liveDeps, staleInstance, liveInstance]) mkdirSync(d);
      writeFileSync(path.join(staleInstance, 'instance.bundle.mjs'), '// left behind\n');
      mkdirSync(path.join(staleDeps, 'node_modules', 'knex'), { recursive: true });
      // A redis-server as a crashed run would have left it: running in its folder, with a pid file.
      const port = await freePort();
      const orphan = spawn(findOnPath('redis-server')!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--pidfile', path.join(staleDir, 'redis.pid')], {
        cwd: staleDir, stdio: 'ignore', detached: true,
      });
      orphan.unref();
      expect(await waitUntil(async () => (await probeRedis(`redis://127.0.0.1:${port}`, 300)).ok && existsSync(path.join(staleDir, 'redis.pid')), 5000)).toBe(true);

      const removed = await sweepStaleTempDirs(undefined, base);
      expect(removed.sort()).toEqual([emptyStaleDir, staleDeps, staleDir, staleInstance].sort());
      expect(existsSync(liveDeps)).toBe(true);
      expect(existsSync(liveInstance)).toBe(true);
      expect(await waitUntil(() => !pidAlive(orphan.pid!), 3000)).toBe(true);
      expect(existsSync(staleDir)).toBe(false);
      expect(existsSync(liveDir)).toBe(true);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
