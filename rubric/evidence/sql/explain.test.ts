// Unindexed-scan evidence on the real local PostgreSQL: EXPLAIN with bound parameters and sequential scans off in a
// throwaway database, findings and non-findings, skipped statements, the time budget, and the candidate's role.

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_POSTGRES_URL } from '../../../harness/infra/postgres-source.ts';
import { ident, withPg } from '../../../harness/infra/pg-admin.ts';
import { findUnindexedScans as find, type ExplainInput } from './explain.ts';

const suffix = randomBytes(4).toString('hex');
const DB = `gauntlet_explain_test_${suffix}`;
const ROLE = `gauntlet_explain_role_${suffix}`;
let url = '';

const q = (sql: string, params: (string | null)[] = [], count = 1): ExplainInput => ({ sql, params, count });
const onDb = <T>(fn: Parameters<typeof withPg<T>>[1]) => withPg(url, fn);
/** A generous budget unless a test is about the budget: the machine may be busy with other suites. */
const findUnindexedScans: typeof find = (o) => find({ budgetMs: 15_000, ...o });

describe('findUnindexedScans (local PostgreSQL)', () => {
  beforeAll(async () => {
    await withPg(LOCAL_POSTGRES_URL, (c) => c.query(`CREATE DATABASE ${ident(DB)}`));
    const u = new URL(LOCAL_POSTGRES_URL);
    u.pathname = `/${DB}`;
    url = u.toString();
    await onDb((c) =>
      c.query(`
        CREATE TABLE t (id int PRIMARY KEY, status text NOT NULL, x int NOT NULL DEFAULT 0);
        INSERT INTO t (id, status) SELECT g, CASE WHEN g % 2 = 0 THEN 'pending' ELSE 'done' END FROM generate_series(1, 20) g;
        CREATE TABLE jobs (id int PRIMARY KEY, state text NOT NULL);
        INSERT INTO jobs SELECT g, 'queued' FROM generate_series(1, 50) g;
        CREATE TABLE subscriptions (id text PRIMARY KEY, status text NOT NULL);
        CREATE SCHEMA app;
        CREATE TABLE app.orders (id int PRIMARY KEY, customer text);
        INSERT INTO app.orders SELECT g, 'c' || g FROM generate_series(1, 7) g;
        CREATE TABLE secret (id int PRIMARY KEY, v text);`),
    );
  });

  afterAll(async () => {
    await withPg(LOCAL_POSTGRES_URL, async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${ident(DB)} WITH (FORCE)`);
      await c.query(`DROP ROLE IF EXISTS ${ident(ROLE)}`);
      const { rows } = await c.query(`SELECT 1 FROM pg_database WHERE datname = $1 UNION ALL SELECT 1 FROM pg_roles WHERE rolname = $2`, [DB, ROLE]);
      expect(rows).toEqual([]);
    });
  });

  it('a key lookup is indexed; a filter on an unindexed column is a sequential scan; EXPLAIN executes nothing', async () => {
    const before = await onDb(async (c) => (await c.query('SELECT id, status, x FROM t ORDER BY id')).rows);
    const ev = await findUnindexedScans({
      adminUrl: url,
      statements: [
        q('SELECT * FROM t WHERE id = $1', ['3'], 10),
        q('UPDATE t SET x = 1 WHERE status = $1', ['pending'], 4),
        q('DELETE FROM t WHERE id = $1', ['5'], 2),
        q('SELECT count(*) FROM t', [], 50),
        q('SELECT * FROM t WHERE id = $1 AND status = $2', ['1'], 3),
        q('BEGIN; UPDATE t SET x = 2 WHERE status = $1; COMMIT', ['done'], 9),
        q(`INSERT INTO subscriptions (id, status) VALUES ($1, 'active') ON CONFLICT (id) DO UPDATE SET status = excluded.status WHERE subscriptions.status = 'pending'`, ['s1'], 7),
        q('INSERT INTO t (id, status) VALUES ($1, $2)', ['100', 'new'], 8),
        q('SELECT * FROM t WHERE status = ', [], 1),
      ],
    });
    expect(ev.checked).toBe(3);
    expect(ev.indexed).toBe(2);
    expect(ev.scans).toEqual([{ table: 't', rows: 20, sql: 'UPDATE t SET x = 1 WHERE status = $1', count: 4, filter: "(status = 'pending'::text)" }]);
    expect(ev.skipped).toEqual([
      { sql: 'SELECT * FROM t WHERE id = $1 AND status = $2', reason: expect.stringMatching(/bind message supplies 1 parameters.*requires 2/) },
    ]);
    const after = await onDb(async (c) => (await c.query('SELECT id, status, x FROM t ORDER BY id')).rows);
    expect(after).toEqual(before);
  });

  it('dedupes by shape, keeping the most frequent example and summing the counts', async () => {
    const ev = await findUnindexedScans({
      adminUrl: url,
      statements: [q('UPDATE t SET x = 1 WHERE status = $1', ['done'], 2), q(`update t set x = 1 where status = 'pending'`, [], 5)],
    });
    expect(ev.checked).toBe(1);
    expect(ev.scans).toEqual([{ table: 't', rows: 20, sql: `update t set x = 1 where status = 'pending'`, count: 7, filter: "(status = 'pending'::text)" }]);
  });

  it('sums, per shape, how many ran before the final reads (0: only the final reads sent it)', async () => {
    const ev = await findUnindexedScans({
      adminUrl: url,
      statements: [
        { ...q('SELECT * FROM t WHERE status = $1', ['dead'], 3), workloadCount: 0 },
        { ...q(`select * from t where status = 'dead'`, [], 1), workloadCount: 0 },
        { ...q('UPDATE t SET x = 2 WHERE status = $1', ['pending'], 9), workloadCount: 7 },
      ],
    });
    expect(ev.scans.map((s) => [s.count, s.workloadCount])).toEqual([[9, 7], [4, 0]]);
  });

  it('a full index scan kept for its order still reveals the missing index', async () => {
    const queue = q(`SELECT id FROM jobs WHERE state = $1 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`, ['queued'], 30);
    const ev = await findUnindexedScans({ adminUrl: url, statements: [queue] });
    expect(ev).toMatchObject({ checked: 1, indexed: 0, skipped: [] });
    expect(ev.scans).toEqual([{ table: 'jobs', rows: 50, sql: queue.sql, count: 30, filter: "(state = 'queued'::text)" }]);
    await onDb((c) => c.query('CREATE INDEX ON jobs (state)'));
    expect(await findUnindexedScans({ adminUrl: url, statements: [queue] })).toEqual({ checked: 1, indexed: 1, scans: [], skipped: [] });
  });

  it('other schemas, joins, catalogs, missing tables and binary parameters', async () => {
    const ev = await findUnindexedScans({
      adminUrl: url,
      statements: [
        q('SELECT * FROM app.orders WHERE customer = $1', ['c3'], 6),
        q('SELECT o.* FROM app.orders o JOIN t ON t.id = o.id WHERE t.id = $1', ['2'], 5),
        q('SELECT relname FROM pg_class WHERE relkind = $1', ['r'], 4),
        q('SELECT * FROM nowhere WHERE id = $1', ['1'], 3),
        q('SELECT * FROM t WHERE status = $1 AND x = $2', ['\\x0102', '1'], 2),
      ],
    });
    expect(ev.checked).toBe(3);
    expect(ev.indexed).toBe(2);
    expect(ev.scans).toEqual([{ table: 'app.orders', rows: 7, sql: 'SELECT * FROM app.orders WHERE customer = $1', count: 6, filter: "(customer = 'c3'::text)" }]);
    expect(ev.skipped).toEqual([
      { sql: 'SELECT * FROM t WHERE status = $1 AND x = $2', reason: expect.stringMatching(/binary/) },
      { sql: 'SELECT * FROM nowhere WHERE id = $1', reason: expect.stringMatching(/relation "nowhere" does not exist.*42P01/) },
    ]);
  });

  it('an index on the filtered column makes the statement indexed', async () => {
    await onDb((c) => c.query('CREATE INDEX ON t (status)'));
    const ev = await findUnindexedScans({ adminUrl: url, statements: [q('UPDATE t SET x = 1 WHERE status = $1', ['pending'], 4)] });
    expect(ev).toEqual({ checked: 1, indexed: 1, scans: [], skipped: [] });
  });

  it('runs as the candidate role: its privileges apply', async () => {
    await onDb((c) =>
      c.query(`CREATE ROLE ${ident(ROLE)} NOLOGIN; GRANT USAGE ON SCHEMA public, app TO ${ident(ROLE)};
               GRANT SELECT, UPDATE ON t TO ${ident(ROLE)}; GRANT SELECT ON app.orders TO ${ident(ROLE)};`),
    );
    const ev = await findUnindexedScans({
      adminUrl: url,
      role: ROLE,
      statements: [
        q('UPDATE t SET x = 3 WHERE x = $1', ['0'], 5),
        q('SELECT * FROM secret WHERE v = $1', ['a'], 4),
        q('SELECT * FROM app.orders WHERE id = $1', ['1'], 3),
      ],
    });
    expect(ev.checked).toBe(2);
    expect(ev.indexed).toBe(1);
    expect(ev.scans).toEqual([{ table: 't', rows: 20, sql: 'UPDATE t SET x = 3 WHERE x = $1', count: 5, filter: '(x = 0)' }]);
    expect(ev.skipped).toEqual([{ sql: 'SELECT * FROM secret WHERE v = $1', reason: expect.stringMatching(/permission denied.*42501/) }]);
    expect(await onDb(async (c) => (await c.query('SELECT count(*)::int AS n FROM t WHERE x = 3')).rows[0].n)).toBe(0);

    const missing = await findUnindexedScans({ adminUrl: url, role: `${ROLE}_missing`, statements: [q('SELECT * FROM t WHERE id = $1', ['1'])] });
    expect(missing).toMatchObject({ checked: 0, scans: [], skipped: [{ reason: expect.stringMatching(/cannot SET ROLE/) }] });
  });

  it('stays within a tiny budget and a statement cap, and never throws', async () => {
    const statements = Array.from({ length: 30 }, (_, i) => q(`SELECT * FROM t WHERE x = $1 AND id > ${i} AND id < ${i} + $2`, ['0', '5'], 100 - i));
    const started = Date.now();
    const ev = await findUnindexedScans({ adminUrl: url, statements, budgetMs: 1 });
    expect(Date.now() - started).toBeLessThan(500);
    expect(ev.checked).toBe(0);
    expect(ev.skipped.length).toBeGreaterThan(0);
    expect(ev.skipped.every((s) => /budget of 1 ms/.test(s.reason))).toBe(true);

    const distinct = ['x', 'status', 'id'].map((col, i) => q(`SELECT * FROM t WHERE ${col} = $1`, [col === 'status' ? 'done' : '1'], 10 - i));
    const capped = await findUnindexedScans({ adminUrl: url, statements: distinct, maxStatements: 2 });
    expect(capped.checked).toBe(2);
    expect(capped.skipped).toEqual([{ sql: 'SELECT * FROM t WHERE id = $1', reason: expect.stringMatching(/beyond the 2 most frequent/) }]);

    const unreachable = await findUnindexedScans({ adminUrl: 'postgres://postgres@127.0.0.1:1/none', statements: [q('SELECT * FROM t WHERE id = $1', ['1'])] });
    expect(unreachable).toMatchObject({ checked: 0, indexed: 0, scans: [], skipped: [{ reason: expect.stringMatching(/cannot connect/) }] });
  });
});
