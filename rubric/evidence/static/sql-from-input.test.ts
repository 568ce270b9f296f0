// SQL built from input: parameters, JSON.parse results, req.body and what is derived from them through locals,
// destructuring and string calls; not constants, numbers made safe, placeholders being built or escaped names.

import { describe, expect, it } from 'vitest';
import { findInterpolatedSql } from './sql-from-input.ts';
import { detect } from './testing.ts';

const found = (src: string) => detect(findInterpolatedSql, src).map((r) => `${r.line}:${r.source}`);

describe('SQL built from input', () => {
  it('names a parameter interpolated or concatenated into SQL', () => {
    const src = `export async function reserve(pool, seatId: string, userId: string) {
  await pool.query(\`SELECT user_id FROM seats WHERE seat_id = '\${seatId}'\`);
  await pool.query('INSERT INTO audit (user_id) VALUES (' + userId + ')');
  await pool.query(\`UPDATE seats SET user_id = '\${userId.trim().toLowerCase()}' WHERE seat_id = $1\`, [seatId]);
  await pool.query(\`DELETE FROM seats WHERE seat_id = '\${String(seatId)}'\`);
}`;
    expect(found(src)).toEqual(['2:parameter seatId', '3:parameter userId', '4:parameter userId', '5:parameter seatId']);
  });

  it('follows webhook fields from JSON.parse(rawBody) through destructuring and locals', () => {
    const src = `export default async function create(ctx) {
  return {
    async handlePaymentWebhook({ rawBody }) {
      const { userId, paymentId } = JSON.parse(rawBody);
      const event = JSON.parse(rawBody);
      const u = event.data.userId;
      const sql = \`INSERT INTO subscriptions (user_id, payment_id) VALUES ('\${userId}', '\${paymentId}')\`;
      await ctx.pg.query(sql);
      await ctx.pg.query(\`UPDATE users SET active = true WHERE id = '\${u}'\`);
    },
  };
}`;
    expect(found(src)).toEqual(['7:JSON.parse(rawBody).userId', '9:JSON.parse(rawBody).data.userId']);
  });

  it('follows req.body, array elements and += on SQL text', () => {
    const src = `export function handler(req) {
  const ids: string[] = req.body.ids;
  const list = ids.map((id) => \`'\${id}'\`).join(',');
  let sql = 'SELECT * FROM seats WHERE seat_id IN (';
  sql += list;
  return \`SELECT * FROM seats WHERE seat_id IN (\${list})\`;
}`;
    expect(found(src)).toEqual(['5:req.body.ids', '6:req.body.ids']);
  });

  it('does not flag constants, safe numbers, placeholders or escaped identifiers', () => {
    const src = `import format from 'pg-format';
const TABLE = 'seats';
const COLUMNS = 'seat_id, user_id';
const SQL = { read: \`SELECT \${COLUMNS} FROM \${TABLE} WHERE seat_id = $1\` };
export async function f(pool, ctx, seatIds: string[], limit: string, col: string) {
  const values = seatIds.map((_, i) => \`($\${i + 1})\`).join(', ');
  const marks = seatIds.map((_, i) => '$' + (i + 1)).join(',');
  await pool.query(\`INSERT INTO \${TABLE} (seat_id) VALUES \${values}\`, seatIds);
  await pool.query(\`SELECT * FROM seats WHERE seat_id IN (\${marks}) LIMIT \${Number(limit)} OFFSET \${parseInt(limit, 10)}\`, seatIds);
  await pool.query(\`SELECT \${pool.escapeIdentifier(col)} FROM seats WHERE n = \${seatIds.length}\`);
  await pool.query(format('SELECT %I FROM seats', col));
  await pool.query(\`SELECT * FROM seats LIMIT \${Math.min(10, seatIds.length)}\`);
  await ctx.pg.query(\`INSERT INTO seats (seat_id) SELECT unnest($1::text[]) -- \${ctx.scenario.name}\`, [seatIds]);
  await pool.query(SQL.read, [seatIds[0]]);
}`;
    expect(found(src)).toEqual([]);
  });

  it('does not take a log message or an error text with a field for SQL', () => {
    const src = `export function f(ctx, seatId: string) {
  ctx.log(\`reserved seat \${seatId}\`);
  throw new Error(\`Seat \${seatId} not found\`);
}`;
    expect(found(src)).toEqual([]);
  });

  it('does not flag values read back from the database or from tagged sql templates', () => {
    const src = `export async function f(pool, sql, id: string) {
  const { rows } = await pool.query('SELECT id FROM a WHERE k = $1', [id]);
  for (const row of rows) await pool.query(\`UPDATE a SET n = n + 1 WHERE id = '\${row.id}'\`);
  await sql\`UPDATE a SET n = 0 WHERE id = \${id}\`;
}`;
    expect(found(src)).toEqual([]);
  });
});
