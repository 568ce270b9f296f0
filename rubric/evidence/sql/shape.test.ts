// SQL classification with the real PostgreSQL parser (no database): statement kinds, tables read and written,
// predicates, row locks, ON CONFLICT, conditional writes, isolation levels, advisory locks, literals and shape keys.

import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeSql, isWrite, loadSqlParser, shapeKey, stringLiterals, type StatementShape } from './shape.ts';

function one(sql: string): StatementShape {
  const a = analyzeSql(sql);
  expect(a.error).toBeUndefined();
  expect(a.statements).toHaveLength(1);
  return a.statements[0];
}

describe('analyzeSql', () => {
  beforeAll(async () => {
    await Promise.all([loadSqlParser(), loadSqlParser()]);
    await loadSqlParser();
  });

  it('an UPDATE conditional on current state', () => {
    const s = one('UPDATE seats SET holder = $2 WHERE id = $1 AND holder IS NULL RETURNING id');
    expect(s).toMatchObject({ kind: 'update', writes: ['seats'], reads: [], predicate: true, conditionalWrite: true, onConflict: null });
    expect(isWrite(s)).toBe(true);
  });

  it('an UPDATE by key alone is not conditional', () => {
    const s = one('UPDATE seats SET holder = $2 WHERE id = $1');
    expect(s).toMatchObject({ kind: 'update', writes: ['seats'], predicate: true, conditionalWrite: false });
    expect(one('DELETE FROM holds WHERE id = ANY($1)').conditionalWrite).toBe(false);
    expect(one('UPDATE seats SET n = n - 1 WHERE n > 0').conditionalWrite).toBe(true);
    expect(one('UPDATE seats SET n = 1 WHERE id = (SELECT seat FROM holds WHERE id = $1)')).toMatchObject({
      conditionalWrite: true,
      reads: ['holds'],
    });
    expect(one('DELETE FROM holds WHERE EXISTS (SELECT 1 FROM seats WHERE seats.id = holds.seat)').conditionalWrite).toBe(true);
    expect(one('UPDATE seats SET n = 1').predicate).toBe(false);
  });

  it('INSERT … ON CONFLICT DO NOTHING', () => {
    const s = one('INSERT INTO keys (k, v) VALUES ($1, $2) ON CONFLICT (k) DO NOTHING');
    expect(s).toMatchObject({ kind: 'insert', writes: ['keys'], reads: [], onConflict: 'nothing', predicate: false, conditionalWrite: false });
    expect(isWrite(s)).toBe(true);
  });

  it('INSERT … ON CONFLICT DO UPDATE … WHERE is not a predicate of the insert', () => {
    const s = one(
      `INSERT INTO subscriptions (id, status) VALUES ($1, $2)
       ON CONFLICT (id) DO UPDATE SET status = excluded.status WHERE subscriptions.status = 'pending'`,
    );
    expect(s).toMatchObject({ kind: 'insert', writes: ['subscriptions'], onConflict: 'update', predicate: false });
  });

  it('INSERT … SELECT … WHERE reads and has a predicate', () => {
    const s = one('INSERT INTO archive SELECT * FROM orders WHERE created_at < $1');
    expect(s).toMatchObject({ kind: 'insert', writes: ['archive'], reads: ['orders'], predicate: true });
  });

  it('a data-modifying CTE writes', () => {
    const s = one('WITH x AS (UPDATE jobs SET state = $1 WHERE id = $2 RETURNING *) SELECT * FROM x');
    expect(s.kind).toBe('select');
    expect(s.writes).toEqual(['jobs']);
    expect(s.reads).toEqual([]);
    expect(s.predicate).toBe(true);
    expect(isWrite(s)).toBe(true);
    const plain = one('WITH recent AS (SELECT * FROM orders) SELECT * FROM recent');
    expect(plain.reads).toEqual(['orders']);
    expect(isWrite(plain)).toBe(false);
  });

  it('SELECT … FOR UPDATE SKIP LOCKED and other locking clauses', () => {
    const s = one(`SELECT id FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`);
    expect(s).toMatchObject({ kind: 'select', reads: ['jobs'], predicate: true, locking: ['for-update'], skipLocked: true, nowait: false });
    expect(isWrite(s)).toBe(false);
    const t = one('SELECT * FROM a JOIN b ON b.a_id = a.id FOR NO KEY UPDATE OF a NOWAIT FOR SHARE OF b');
    expect(t).toMatchObject({ reads: ['a', 'b'], predicate: true, locking: ['for-no-key-update', 'for-share'], nowait: true, skipLocked: false });
    expect(one('SELECT * FROM a FOR KEY SHARE').locking).toEqual(['for-key-share']);
  });

  it('reads: joins, subqueries, USING, quoted names, schemas; the write target only when also read', () => {
    expect(one('SELECT * FROM public."Orders" o JOIN items USING (order_id) WHERE o.id IN (SELECT order_id FROM refunds)').reads).toEqual([
      'orders',
      'items',
      'refunds',
    ]);
    expect(one('DELETE FROM holds USING seats WHERE holds.seat = seats.id')).toMatchObject({ writes: ['holds'], reads: ['seats'] });
    expect(one('UPDATE t SET n = (SELECT max(n) FROM t) + 1 WHERE id = 1')).toMatchObject({ writes: ['t'], reads: ['t'] });
    expect(one('SELECT count(*) FROM seats')).toMatchObject({ reads: ['seats'], predicate: false });
    expect(one('SELECT 1 WHERE $1::int > 0')).toMatchObject({ reads: [], predicate: false });
    expect(one('SELECT * FROM a, b')).toMatchObject({ reads: ['a', 'b'], predicate: false });
    expect(one('SELECT * FROM a CROSS JOIN b')).toMatchObject({ predicate: false });
  });

  it('MERGE', () => {
    const s = one('MERGE INTO stock t USING incoming s ON t.sku = s.sku WHEN MATCHED AND t.qty > 0 THEN UPDATE SET qty = s.qty WHEN NOT MATCHED THEN INSERT VALUES (s.sku, s.qty)');
    expect(s).toMatchObject({ kind: 'merge', writes: ['stock'], reads: ['incoming'], predicate: true, conditionalWrite: true });
  });

  it('advisory locks', () => {
    const s = one('SELECT pg_advisory_xact_lock(hashtext($1))');
    expect(s).toMatchObject({ kind: 'select', advisoryLocks: ['pg_advisory_xact_lock'], predicate: false, reads: [] });
    expect(one('SELECT pg_catalog.pg_try_advisory_lock_shared(1), pg_advisory_unlock(1), pg_advisory_unlock_all()').advisoryLocks).toEqual([
      'pg_try_advisory_lock_shared',
      'pg_advisory_unlock',
      'pg_advisory_unlock_all',
    ]);
    expect(one('SELECT * FROM seats WHERE id = $1 AND pg_try_advisory_xact_lock(id)').advisoryLocks).toEqual(['pg_try_advisory_xact_lock']);
  });

  it('transaction control and isolation levels', () => {
    expect(one('BEGIN ISOLATION LEVEL SERIALIZABLE')).toMatchObject({ kind: 'begin', isolation: 'serializable' });
    expect(one('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ')).toMatchObject({ kind: 'set', isolation: 'repeatable read' });
    expect(one('START TRANSACTION')).toMatchObject({ kind: 'begin', isolation: null });
    expect(one('start transaction read write, isolation level read committed')).toMatchObject({ kind: 'begin', isolation: 'read committed' });
    expect(one('SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ UNCOMMITTED').isolation).toBe('read uncommitted');
    expect(one(`SET default_transaction_isolation = 'serializable'`)).toMatchObject({ kind: 'set', isolation: 'serializable' });
    expect(one('SET statement_timeout = 1000')).toMatchObject({ kind: 'set', isolation: null });
    expect(one('COMMIT').kind).toBe('commit');
    expect(one('END').kind).toBe('commit');
    expect(one('ROLLBACK').kind).toBe('rollback');
    expect(one('SAVEPOINT a').kind).toBe('savepoint');
    expect(one('RELEASE SAVEPOINT a').kind).toBe('release');
    expect(one('ROLLBACK TO SAVEPOINT a').kind).toBe('rollback-to');
    expect(one('LOCK TABLE seats IN EXCLUSIVE MODE')).toMatchObject({ kind: 'lock', reads: [], writes: [] });
    expect(one('CALL book($1, $2)').kind).toBe('call');
    expect(one('VACUUM seats').kind).toBe('other');
  });

  it('DDL', () => {
    expect(one('CREATE TABLE seats (id int PRIMARY KEY, holder text REFERENCES users (id))')).toMatchObject({ kind: 'ddl', reads: [], writes: [] });
    expect(one('CREATE INDEX ON seats (holder)').kind).toBe('ddl');
    expect(one('ALTER TABLE seats ADD COLUMN v int').kind).toBe('ddl');
    expect(one('DROP TABLE IF EXISTS seats').kind).toBe('ddl');
    expect(one('TRUNCATE seats').kind).toBe('ddl');
    expect(isWrite(one('CREATE TABLE x (a int)'))).toBe(false);
  });

  it('multi-statement text', () => {
    const a = analyzeSql('BEGIN; UPDATE seats SET holder = $1 WHERE id = $2; COMMIT');
    expect(a.error).toBeUndefined();
    expect(a.statements.map((s) => s.kind)).toEqual(['begin', 'update', 'commit']);
    expect(a.statements[1].writes).toEqual(['seats']);
    expect(analyzeSql('').statements).toEqual([]);
  });

  it('a text that does not parse', () => {
    const bad = `INSERT INTO x VALUES (''; DROP TABLE s; --')`;
    const a = analyzeSql(bad);
    expect(a.statements).toEqual([]);
    expect(a.error).toMatch(/syntax error/);
    expect(stringLiterals(bad)).toBeNull();
    expect(shapeKey(bad)).toBeNull();
  });

  it('memoises by text and returns frozen results', () => {
    const sql = 'SELECT * FROM memo WHERE id = $1';
    const a = analyzeSql(sql);
    expect(analyzeSql(sql)).toBe(a);
    expect(Object.isFrozen(a.statements[0].reads)).toBe(true);
    for (let i = 0; i < 5100; i++) analyzeSql(`SELECT ${i}`);
    expect(analyzeSql(sql)).not.toBe(a);
    expect(analyzeSql(sql)).toEqual(a);
  });
});

describe('stringLiterals and shapeKey', () => {
  beforeAll(loadSqlParser);

  it('decodes every string constant', () => {
    expect(stringLiterals(`INSERT INTO t VALUES ('o''brien', E'a\\'b', $$dollar$$)`)).toEqual(["o'brien", "a'b", 'dollar']);
    expect(
      stringLiterals(
        `WITH c AS (SELECT 'in-cte' AS v) INSERT INTO t SELECT lower('fn-arg'), '{"k":"json"}'::jsonb, 42, NULL FROM c WHERE v <> $tag$x$tag$`,
      ),
    ).toEqual(['in-cte', 'fn-arg', '{"k":"json"}', 'x']);
    expect(stringLiterals('SELECT 1; SELECT $1')).toEqual([]);
  });

  it('keys a statement by shape, ignoring constants and parameters', () => {
    const k = shapeKey('SELECT * FROM t WHERE id = $1');
    expect(k).toMatch(/^[0-9a-f]{16}$/);
    expect(shapeKey('select *   from t where id = 42')).toBe(k);
    expect(shapeKey('SELECT * FROM t WHERE id = $1 AND x = $2')).not.toBe(k);
    expect(shapeKey('SELECT * FROM u WHERE id = $1')).not.toBe(k);
  });
});

describe('setColumns', () => {
  it('names the columns a top-level UPDATE sets, and nothing for other statements', async () => {
    await loadSqlParser();
    expect(analyzeSql('UPDATE purchases SET lease_owner = NULL, "Lease_Until" = now() WHERE request_id = $1').statements[0].setColumns).toEqual(['lease_owner', 'lease_until']);
    expect(analyzeSql('INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET a = 2').statements[0].setColumns).toEqual([]);
    expect(analyzeSql('SELECT 1').statements[0].setColumns).toEqual([]);
  });
});
