// Which recorded statements an op sent: by instance, time window and its argument values, whole transactions at a
// time; and by time alone (said so) when none carries them.

import { describe, expect, it } from 'vitest';
import type { Op } from '../types.ts';
import type { SqlRecord } from './pg-wire.ts';
import { renderOpStatements, statementsOf } from './correlate.ts';

const op = (over: Partial<Op>): Op => ({ index: 7, process: 'u', instance: 1, f: 'reserve', args: { seatId: 's-1', userId: 'user-7' }, phase: 'burst', startUs: 1000, endUs: 9000, type: 'ok', ...over });
let t = 1000;
const rec = (conn: number, kind: SqlRecord['kind'], more: Partial<SqlRecord> = {}, tag = '1'): SqlRecord => ({ t: (t += 100), conn, tag, kind, ...more });

describe('statementsOf', () => {
  t = 1000;
  const records: SqlRecord[] = [
    rec(1, 'query', { sql: 'BEGIN' }),
    rec(2, 'parse', { sql: 'UPDATE seats SET user_id = $2 WHERE seat_id = $1' }),
    rec(2, 'bind', { params: ['s-1', 'user-8'] }), // another caller of the same seat, on the same instance
    rec(1, 'ready', { status: 'T' }),
    rec(1, 'parse', { sql: 'SELECT * FROM seats WHERE seat_id = $1 FOR UPDATE' }),
    rec(1, 'bind', { params: ['s-1'] }),
    rec(1, 'ready', { status: 'T' }),
    rec(1, 'parse', { sql: 'UPDATE seats SET user_id = $2 WHERE seat_id = $1' }),
    rec(1, 'bind', { params: ['s-1', 'user-7'] }),
    rec(2, 'complete', { commandTag: 'UPDATE 0' }),
    rec(2, 'ready', { status: 'I' }),
    rec(1, 'complete', { commandTag: 'UPDATE 1' }),
    rec(1, 'query', { sql: 'COMMIT' }),
    rec(1, 'ready', { status: 'I' }),
    rec(3, 'query', { sql: "SELECT 'user-7', 's-1'" }, '2'), // another instance
  ];

  it('keeps the whole transaction that carries every argument of the op, and nothing of the other caller', () => {
    const found = statementsOf(op({}), records);
    expect(found.matchedBy).toBe('args');
    expect(found.records.map((r) => r.conn)).toEqual(Array(10).fill(1));
    expect(found.records[0].sql).toBe('BEGIN');
    expect(found.records.at(-1)).toMatchObject({ kind: 'ready', status: 'I' });
  });

  it('falls back to the time window, and says so, when nothing carries the arguments', () => {
    const found = statementsOf(op({ args: { seatId: 'nowhere-9', userId: 'nobody-9' } }), records);
    expect(found.matchedBy).toBe('time');
    expect(found.records.length).toBe(14);
    expect(renderOpStatements(op({ args: { seatId: 'nowhere-9' } }), found).join('\n')).toMatch(/no statement carries its arguments/);
  });

  it('nothing outside the window or of another instance', () => {
    expect(statementsOf(op({ startUs: 0, endUs: 500 }), records).records).toEqual([]);
    expect(statementsOf(op({ instance: 3 }), records).records).toEqual([]);
  });

  it('renders statements, results and transaction state', () => {
    const text = renderOpStatements(op({}), statementsOf(op({}), records)).join('\n');
    expect(text).toMatch(/^op 7 reserve .* on instance 1, 1\.00–9\.00 ms: ok/);
    expect(text).toMatch(/BEGIN/);
    expect(text).toMatch(/bind \["s-1","user-7"\]/);
    expect(text).toMatch(/→ UPDATE 1/);
    expect(text).toMatch(/\(in transaction\)/);
    expect(text).not.toMatch(/user-8/);
  });
});
