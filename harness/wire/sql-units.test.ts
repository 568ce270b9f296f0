// Units of work from the wire of real node-postgres clients through the fault proxy to a real PostgreSQL:
// autocommit statements, committed and rolled-back blocks, a failed block (25P02), PostgreSQL's own warnings for
// the pool mix-up (COMMIT with no transaction: 25P01; BEGIN inside one: 25001), named prepared statements, and
// the bound on what is kept.

import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { startFaultProxy } from '../nemesis/fault-proxy.ts';
import type { SqlRecord } from './pg-wire.ts';
import { createSqlUnits, unitsOf, type WireUnit } from './sql-units.ts';

const PG_HOST = process.env.GAUNTLET_TEST_PG_HOST ?? '127.0.0.1';
const PG_PORT = Number(process.env.GAUNTLET_TEST_PG_PORT ?? 5432);

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

async function recorded(): Promise<{ records: SqlRecord[]; connect(): Promise<pg.Client> }> {
  const records: SqlRecord[] = [];
  let clock = 0;
  const proxy = await startFaultProxy({ upstreamHost: PG_HOST, upstreamPort: PG_PORT, record: (r) => records.push(r), nowUs: () => ++clock });
  open.push(proxy);
  return {
    records,
    async connect() {
      const client = new pg.Client({ host: proxy.host, port: proxy.port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 5000 });
      client.on('error', () => {});
      await client.connect();
      open.push({ close: () => client.end().catch(() => {}) });
      return client;
    },
  };
}

const texts = (u: WireUnit) => u.statements.map((s) => s.sql);

describe('units of work from a real server', () => {
  it('cuts autocommit statements and transaction blocks, with parameters, results and errors', { timeout: 20_000 }, async () => {
    const { records, connect } = await recorded();
    const c = await connect();
    await c.query('CREATE TEMP TABLE t (id int PRIMARY KEY, v text)');
    await c.query('INSERT INTO t VALUES ($1, $2)', [1, 'a']);
    await c.query('BEGIN');
    await c.query({ name: 'upd', text: 'UPDATE t SET v = $1 WHERE id = $2', values: ['b', 1] });
    await c.query({ name: 'upd', text: 'UPDATE t SET v = $1 WHERE id = $2', values: ['c', 2] });
    await c.query('COMMIT');
    await c.query('BEGIN');
    await expect(c.query('INSERT INTO t VALUES (1, $1)', ['dup'])).rejects.toThrow(/duplicate key/);
    await expect(c.query('SELECT 1')).rejects.toThrow(/current transaction is aborted/);
    await c.query('COMMIT'); // answered ROLLBACK: the block had failed
    const units = unitsOf(records);
    expect(units.map((u) => u.end)).toEqual(['implicit', 'implicit', 'commit', 'rollback']);
    expect(units[1].statements[0]).toMatchObject({ sql: 'INSERT INTO t VALUES ($1, $2)', params: ['1', 'a'], result: 'INSERT 0 1' });
    expect(texts(units[2])).toEqual(['BEGIN', 'UPDATE t SET v = $1 WHERE id = $2', 'UPDATE t SET v = $1 WHERE id = $2', 'COMMIT']);
    expect(units[2].statements.map((s) => s.params ?? null)).toEqual([null, ['b', '1'], ['c', '2'], null]);
    expect(units[2].statements.map((s) => s.result)).toEqual(['BEGIN', 'UPDATE 1', 'UPDATE 0', 'COMMIT']);
    expect(units[2]).toMatchObject({ block: true, failed: false });
    expect(units[3]).toMatchObject({ block: true, failed: true });
    expect(units[3].statements[1].error?.code).toBe('23505');
    expect(units[3].statements[2].error?.code).toBe('25P02');
    expect(units[3].statements[3].result).toBe('ROLLBACK');
    for (const u of units) expect(u.endT).toBeGreaterThan(u.startT);
  });

  it('keeps PostgreSQL\'s warnings for transaction control on the wrong connection (the pool mix-up)', { timeout: 20_000 }, async () => {
    const { records, connect } = await recorded();
    const a = await connect();
    const b = await connect();
    await a.query('BEGIN'); // as pool.query('BEGIN') would: on one pooled connection...
    await b.query('COMMIT'); // ...and the COMMIT on another, which has no transaction
    await a.query('BEGIN'); // the first connection is still inside its transaction
    await a.query('ROLLBACK');
    await a.query('CREATE TEMP TABLE IF NOT EXISTS n (x int)');
    await a.query('CREATE TEMP TABLE IF NOT EXISTS n (x int)'); // a NOTICE ("already exists, skipping"): not kept
    expect(records.filter((r) => r.kind === 'notice').map((r) => r.code)).toEqual(['25P01', '25001']);
    const units = unitsOf(records);
    const commit = units.flatMap((u) => u.statements).find((s) => s.sql === 'COMMIT');
    expect(commit?.warning?.code).toBe('25P01');
    const begins = units.flatMap((u) => u.statements).filter((s) => s.sql === 'BEGIN');
    expect(begins.map((s) => s.warning?.code ?? null)).toEqual([null, '25001']);
    // The transaction on the first connection is one unit holding both BEGINs.
    const onA = units.find((u) => texts(u).join(',').startsWith('BEGIN,BEGIN,ROLLBACK'));
    expect(onA?.end).toBe('rollback');
  });

  it('leaves a transaction open at the end as an open unit, and ends a closed connection\'s', { timeout: 20_000 }, async () => {
    const { records, connect } = await recorded();
    const c = await connect();
    await c.query('BEGIN');
    await c.query('SELECT 1');
    expect(unitsOf(records).map((u) => u.end)).toEqual(['open']);
    await c.end();
    await new Promise((r) => setTimeout(r, 100));
    expect(unitsOf(records).map((u) => u.end)).toEqual(['closed']);
  });
});

describe('bounds', () => {
  it('counts units past the bound instead of keeping them, and interns repeated text', () => {
    const u = createSqlUnits({ maxUnits: 2 });
    let t = 0;
    for (let i = 0; i < 5; i++) {
      u.record({ t: ++t, conn: 1, tag: '0', kind: 'query', sql: 'SELECT 1' });
      u.record({ t: ++t, conn: 1, tag: '0', kind: 'complete', commandTag: 'SELECT 1' });
      u.record({ t: ++t, conn: 1, tag: '0', kind: 'ready', status: 'I' });
    }
    expect(u.units().length).toBe(2);
    expect(u.dropped()).toBe(3);
  });

  it('does not confuse a pipelined client: each Execute is answered in order, an error ends the batch', () => {
    const rec: SqlRecord[] = [
      { t: 1, conn: 1, tag: '0', kind: 'parse', sql: 'INSERT INTO a VALUES ($1)' },
      { t: 2, conn: 1, tag: '0', kind: 'bind', params: ['x'] },
      { t: 3, conn: 1, tag: '0', kind: 'execute' },
      { t: 4, conn: 1, tag: '0', kind: 'parse', sql: 'INSERT INTO b VALUES ($1)' },
      { t: 5, conn: 1, tag: '0', kind: 'bind', params: ['y'] },
      { t: 6, conn: 1, tag: '0', kind: 'execute' },
      { t: 7, conn: 1, tag: '0', kind: 'complete', commandTag: 'INSERT 0 1' },
      { t: 8, conn: 1, tag: '0', kind: 'error', code: '23505', message: 'duplicate key' },
      { t: 9, conn: 1, tag: '0', kind: 'ready', status: 'I' },
    ];
    const [unit] = unitsOf(rec);
    expect(unit.statements.map((s) => [s.sql, s.params, s.result ?? null, s.error?.code ?? null])).toEqual([
      ['INSERT INTO a VALUES ($1)', ['x'], 'INSERT 0 1', null],
      ['INSERT INTO b VALUES ($1)', ['y'], null, '23505'],
    ]);
  });
});
