// Transaction control through the pool: flagged through ctx.pg, locals, destructuring, this.pool, bound query
// functions and forwarding helpers; never on a checked-out client, a callback's client, or knex.

import { describe, expect, it } from 'vitest';
import { findPoolTransactions } from './pool-transactions.ts';
import { detect } from './testing.ts';

const lines = (src: string | Record<string, string>) => detect(findPoolTransactions, src).map((r) => r.line);

describe('pool transactions', () => {
  it('flags BEGIN and COMMIT sent through a pool from new Pool()', () => {
    const src = `import { Pool } from 'pg';
const pool = new Pool();
export async function pay(id: string) {
  await pool.query('BEGIN');
  await pool.query('UPDATE a SET x = 1 WHERE id = $1', [id]);
  await pool.query('COMMIT');
}`;
    expect(lines(src)).toEqual([4, 6]);
  });

  it('follows ctx.pg through destructuring, locals, this.pool and bound query functions', () => {
    const src = `export default async function create(ctx) {
  const { pg } = ctx;
  const db = ctx.pg;
  const q = ctx.pg.query.bind(ctx.pg);
  class Repo { pool = ctx.pg; async tx() { await this.pool.query('START TRANSACTION'); } }
  await pg.query('BEGIN');
  await db.query(\`ROLLBACK\`);
  await q('BEGIN ISOLATION LEVEL SERIALIZABLE');
  await ctx.pg.query('COMMIT');
  return new Repo();
}`;
    expect(lines(src)).toEqual([5, 6, 7, 8, 9]);
  });

  it('follows the pool into a helper that forwards its statement, and constants', () => {
    const src = `const BEGIN = 'BEGIN';
function run(db, sql) { return db.query(sql); }
export async function setup(ctx) { await run(ctx.pg, BEGIN); await run(ctx.pg, 'COMMIT'); }`;
    expect(lines(src)).toEqual([3, 3]);
  });

  it('follows a helper parameter that callers give the pool', () => {
    const src = `async function begin(db) { await db.query('BEGIN'); }
export default async function create(ctx) { await begin(ctx.pg); }`;
    expect(lines(src)).toEqual([1]);
  });

  it('does not flag a checked-out client, a callback client, or a whole transaction in one string', () => {
    const src = `export default async function create(ctx) {
  const client = await ctx.pg.connect();
  await client.query('BEGIN');
  await client.query('COMMIT');
  client.release();
  ctx.pg.connect().then(async (c) => { await c.query('BEGIN'); await c.query('COMMIT'); c.release(); });
  await ctx.pg.query('BEGIN; UPDATE a SET x = 1; COMMIT');
  await ctx.pg.query('SELECT 1');
}`;
    expect(lines(src)).toEqual([]);
  });

  it('does not flag a transaction helper defined in another file, nor its callback', () => {
    const files = {
      'db.ts': `import type { Pool, PoolClient } from 'pg';
export async function transaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try { await client.query('BEGIN'); const r = await fn(client); await client.query('COMMIT'); return r; }
  catch (err) { await client.query('ROLLBACK').catch(() => {}); throw err; }
  finally { client.release(); }
}`,
      'service.ts': `import { transaction } from './db.ts';
export default async function create(ctx) {
  const pool = ctx.pg;
  return { go: (id: string) => transaction(pool, async (client) => {
    await client.query('UPDATE seats SET x = 1 WHERE id = $1', [id]);
    await client.query('INSERT INTO log (id) VALUES ($1)', [id]);
  }) };
}`,
    };
    expect(lines(files)).toEqual([]);
  });

  it('does not flag knex transactions or a typed client parameter', () => {
    const src = `import type { PoolClient } from 'pg';
async function inTx(client: PoolClient) { await client.query('BEGIN'); await client.query('COMMIT'); }
export default async function create(ctx, knex) {
  await knex.transaction(async (trx) => { await trx.raw('UPDATE a SET x = 1'); });
  await inTx(await ctx.pg.connect());
}`;
    expect(lines(src)).toEqual([]);
  });
});
