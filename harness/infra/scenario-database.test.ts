// Tests of per-scenario databases on the real local PostgreSQL: the role's own URL works, the role is
// unprivileged, other scenarios' roles cannot connect, drop() is idempotent under live sessions, close() cleans up.

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireInfra } from './acquire-infra.ts';
import { createScenarioDatabase } from './scenario-database.ts';
import { connectPg, endPg, withPg } from './pg-admin.ts';
import { leftovers } from './test-helpers.ts';
import type { Infra } from './types.ts';

let infra: Infra;

async function exists(name: string): Promise<{ db: boolean; role: boolean }> {
  return withPg(infra.postgres.adminUrl, async (c) => {
    const db = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    const role = await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
    return { db: db.rowCount === 1, role: role.rowCount === 1 };
  });
}

describe('scenario databases (local PostgreSQL)', () => {
  beforeAll(async () => {
    infra = await acquireInfra({ env: {} });
    expect(infra.postgres.source).toBe('local');
  });
  afterAll(async () => {
    await infra.close();
    expect(await leftovers()).toEqual([]);
  });

  it("gives a fresh, empty database reachable with the role's own URL, and an unprivileged role", async () => {
    const db = await createScenarioDatabase(infra, 'seat-reservation/last-seat');
    expect(db.role).toMatch(new RegExp(`^gauntlet_${process.pid}_\\d+_[0-9a-f]{8}$`));
    expect(db.database).toBe(db.role);
    expect(db).toMatchObject({ host: '127.0.0.1', port: 5432 });
    expect(db.url).toBe(`postgres://${db.role}:${db.password}@127.0.0.1:5432/${db.database}`);
    await withPg(db.url, async (c) => {
      const { rows } = await c.query('SELECT current_user AS u, current_database() AS d');
      expect(rows[0]).toEqual({ u: db.role, d: db.database });
      const tables = await c.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`);
      expect(tables.rows[0].n).toBe(0);
      await c.query('CREATE TABLE seats (id text PRIMARY KEY, user_id text)'); // the owner may create tables
      await c.query(`INSERT INTO seats VALUES ('A1', 'u1')`);
    });
    const role = await withPg(infra.postgres.adminUrl, (c) =>
      c.query('SELECT rolsuper, rolcreatedb, rolcreaterole, rolcanlogin FROM pg_roles WHERE rolname = $1', [db.role]),
    );
    expect(role.rows[0]).toEqual({ rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolcanlogin: true });
    // The admin URL points at the scenario database too (nemesis faults, inspection).
    await withPg(db.adminUrl, async (c) => {
      expect((await c.query('SELECT count(*)::int AS n FROM seats')).rows[0].n).toBe(1);
    });
    await db.drop();
  });

  it("keeps scenarios apart: one scenario's role cannot connect to another's database", async () => {
    const [a, b] = await Promise.all([createScenarioDatabase(infra, 'a'), createScenarioDatabase(infra, 'b')]);
    expect(a.database).not.toBe(b.database);
    // Trust auth on 127.0.0.1 skips the password, but REVOKE CONNECT ... FROM PUBLIC still applies.
    const crossUrl = a.url.replace(`/${a.database}`, `/${b.database}`);
    const err = await connectPg(crossUrl, { connectTimeoutMs: 3000 }).catch((e) => e);
    expect(err.code).toBe('42501');
    expect(err.message).toMatch(/permission denied for database/);
    await Promise.all([a.drop(), b.drop()]);
  });

  it('drop() ends live sessions, removes database and role, and is idempotent (also concurrently)', async () => {
    const db = await createScenarioDatabase(infra, 'drop');
    const pool = new pg.Pool({ connectionString: db.url, max: 3 });
    pool.on('error', () => undefined);
    const held = await pool.connect();
    held.on('error', () => undefined);
    await held.query('SELECT 1');
    await Promise.all([db.drop(), db.drop()]);
    await db.drop();
    expect(await exists(db.database)).toEqual({ db: false, role: false });
    await expect(held.query('SELECT 1')).rejects.toThrow();
    held.release(true);
    await pool.end();
  });

  it('Infra.close() drops what the caller forgot to drop', async () => {
    const own = await acquireInfra({ env: {} });
    const db = await createScenarioDatabase(own, 'forgotten');
    expect((await exists(db.database)).db).toBe(true);
    await own.close();
    expect(await exists(db.database)).toEqual({ db: false, role: false });
    await db.drop(); // still harmless afterwards
  });

  it('a client of the role survives its backend being killed (error listener on our clients)', async () => {
    const db = await createScenarioDatabase(infra, 'killed-backend');
    const client = await connectPg(db.url);
    const { rows } = await client.query('SELECT pg_backend_pid() AS pid');
    await withPg(infra.postgres.adminUrl, (c) => c.query('SELECT pg_terminate_backend($1)', [rows[0].pid]));
    await expect(client.query('SELECT 1')).rejects.toThrow();
    await endPg(client);
    await db.drop();
  });
});
