// The wire detectors on recorded units built from small hand-written record streams (the PostgreSQL parser is the
// real one): attribution of units to calls, split autocommit writes, the pool mix-up, writes into a failed
// transaction, a transaction outliving its call, swallowed errors, injection probes, techniques and retries,
// Redis locks — each with the correct code that must NOT be flagged beside the code that must.

import { beforeAll, describe, expect, it } from 'vitest';
import type { AttemptRecord } from '../../../harness/services/types.ts';
import type { Op } from '../../../harness/types.ts';
import { attributeUnits } from '../../../harness/wire/attribute.ts';
import type { SqlRecord } from '../../../harness/wire/pg-wire.ts';
import { unitsOf } from '../../../harness/wire/sql-units.ts';
import { loadSqlParser } from '../sql/shape.ts';
import { findInjection, probeFragment } from './injection.ts';
import { observeRetries, observeTechniques } from './observed.ts';
import { createRedisLockTap } from './redis-locks.ts';
import { findSwallowedErrors } from './swallowed.ts';
import { findTransactionProblems } from './transactions.ts';

beforeAll(() => loadSqlParser());

/** A tiny recorder: statements on connections, answered in order. */
function wire() {
  const records: SqlRecord[] = [];
  let t = 0;
  const api = {
    records,
    at(us: number) {
      t = us;
      return api;
    },
    /** A statement through the extended protocol, answered `result` or an error `code`. */
    stmt(conn: number, tag: string, sql: string, params: string[] = [], answer: { result?: string; code?: string; warn?: string; status?: 'I' | 'T' | 'E' } = {}) {
      records.push({ t: ++t, conn, tag, kind: 'parse', sql });
      records.push({ t: ++t, conn, tag, kind: 'bind', params });
      records.push({ t: ++t, conn, tag, kind: 'execute' });
      if (answer.code) records.push({ t: ++t, conn, tag, kind: 'error', code: answer.code, message: `error ${answer.code}` });
      else records.push({ t: ++t, conn, tag, kind: 'complete', commandTag: answer.result ?? sql.split(' ')[0].toUpperCase() });
      if (answer.warn) records.push({ t: ++t, conn, tag, kind: 'notice', code: answer.warn, message: `warning ${answer.warn}` });
      records.push({ t: ++t, conn, tag, kind: 'ready', status: answer.status ?? 'I' });
      return api;
    },
  };
  return api;
}

function op(index: number, instance: number, args: Record<string, unknown>, startUs: number, endUs: number, type: Op['type'] = 'ok', f = 'reserve'): Op {
  return { index, process: `p${index}`, instance, f, args, phase: 'burst', startUs, endUs, type };
}

describe('attribution', () => {
  it('gives a unit to the call whose telling values it carries, and no unit when two calls match equally', () => {
    const w = wire().at(100).stmt(1, '0', 'UPDATE seats SET holder = $1 WHERE id = $2 AND holder IS NULL', ['user-17', 'seat-A'], { result: 'UPDATE 1' });
    w.at(200).stmt(2, '0', 'SELECT holder FROM seats WHERE id = $1', ['seat-A']);
    const ops = [op(0, 0, { seatId: 'seat-A', userId: 'user-17' }, 50, 500), op(1, 0, { seatId: 'seat-A', userId: 'user-18' }, 60, 500)];
    const a = attributeUnits(ops, unitsOf(w.records));
    expect(a.byOp.get(0)?.length).toBe(1);
    expect(a.byOp.get(1)).toBeUndefined();
    expect(a.ambiguous).toBe(1);
  });

  it('ignores calls on other instances or outside the unit\'s start', () => {
    const w = wire().at(100).stmt(1, '1', 'UPDATE seats SET holder = $1 WHERE id = $2', ['user-17', 'seat-A']);
    const ops = [op(0, 0, { userId: 'user-17' }, 50, 500), op(1, 1, { userId: 'user-17' }, 300, 500)];
    expect(attributeUnits(ops, unitsOf(w.records)).byOp.size).toBe(0);
  });
});

describe('transactions', () => {
  const ops = [op(0, 0, { paymentId: 'pay_123', userId: 'user_9' }, 0, 10_000)];

  it('flags one call\'s writes to two tables as separate autocommit statements', () => {
    const w = wire().at(100).stmt(1, '0', 'INSERT INTO processed_events (id) VALUES ($1)', ['pay_123'], { result: 'INSERT 0 1' });
    w.at(300).stmt(2, '0', 'INSERT INTO subscriptions (payment_id, user_id) VALUES ($1, $2)', ['pay_123', 'user_9'], { result: 'INSERT 0 1' });
    const units = unitsOf(w.records);
    const r = findTransactionProblems(units, attributeUnits(ops, units), ops, []);
    expect(r.splitWrites.count).toBe(1);
    expect(r.splitWrites.examples[0].what).toMatch(/processed_events and subscriptions/);
    expect(r.splitWrites.examples[0].op).toMatch(/^op 0 reserve/);
    expect(r.splitWrites.examples[0].statements.join('\n')).toMatch(/instance 0 · conn 1 .*INSERT INTO processed_events .*\$1='pay_123'.*→ INSERT 0 1/);
  });

  it('does not flag the same writes inside one transaction, to one table, or around a call to an outside service', () => {
    const tx = wire().at(100).stmt(1, '0', 'BEGIN', [], { status: 'T' }).stmt(1, '0', 'INSERT INTO processed_events (id) VALUES ($1)', ['pay_123'], { result: 'INSERT 0 1', status: 'T' }).stmt(1, '0', 'INSERT INTO subscriptions (payment_id, user_id) VALUES ($1, $2)', ['pay_123', 'user_9'], { result: 'INSERT 0 1', status: 'T' }).stmt(1, '0', 'COMMIT', [], { result: 'COMMIT' });
    let units = unitsOf(tx.records);
    expect(findTransactionProblems(units, attributeUnits(ops, units), ops, []).splitWrites.count).toBe(0);
    // A sweep of expired holds, then the claim: two autocommit writes to one table are each atomic.
    const sweep = wire().at(100).stmt(1, '0', 'UPDATE seats SET holder = NULL WHERE holder = $1 AND expires_at < now()', ['user_9'], { result: 'UPDATE 0' }).at(200).stmt(1, '0', 'UPDATE seats SET holder = $1 WHERE id = $2 AND holder IS NULL', ['user_9', 'pay_123'], { result: 'UPDATE 1' });
    units = unitsOf(sweep.records);
    expect(findTransactionProblems(units, attributeUnits(ops, units), ops, []).splitWrites.count).toBe(0);
    // Record the charge, call the gateway, record the result: one transaction across a network call would be worse.
    const around = wire().at(100).stmt(1, '0', 'INSERT INTO attempts (id) VALUES ($1)', ['pay_123'], { result: 'INSERT 0 1' }).at(400).stmt(1, '0', 'INSERT INTO subscriptions (payment_id, user_id) VALUES ($1, $2)', ['pay_123', 'user_9'], { result: 'INSERT 0 1' });
    units = unitsOf(around.records);
    const charge = { instance: 0, startUs: 250, endUs: 300 } as AttemptRecord;
    expect(findTransactionProblems(units, attributeUnits(ops, units), ops, [charge]).splitWrites.count).toBe(0);
  });

  it('flags COMMIT with no transaction in progress and BEGIN inside one (PostgreSQL\'s own warnings), not a ROLLBACK after a failed COMMIT', () => {
    const w = wire().at(100).stmt(1, '0', 'BEGIN', [], { status: 'T' });
    w.stmt(2, '0', 'COMMIT', [], { result: 'COMMIT', warn: '25P01' });
    w.stmt(1, '0', 'BEGIN', [], { warn: '25001', status: 'T' });
    w.stmt(3, '0', 'ROLLBACK', [], { result: 'ROLLBACK', warn: '25P01' });
    const units = unitsOf(w.records);
    const r = findTransactionProblems(units, attributeUnits(ops, units), ops, []);
    expect(r.poolMixups.count).toBe(2);
    expect(r.poolMixups.examples.map((e) => e.what.slice(0, 30)).sort()).toEqual(['BEGIN sent on connection 1 whi', 'COMMIT sent on connection 2, w']);
  });

  it('flags statements sent into a failed transaction, quoting the error that failed it', () => {
    const w = wire().at(100).stmt(1, '0', 'BEGIN', [], { status: 'T' }).stmt(1, '0', 'INSERT INTO subscriptions (payment_id) VALUES ($1)', ['pay_123'], { code: '23505', status: 'E' }).stmt(1, '0', 'UPDATE subscriptions SET status = $1 WHERE payment_id = $2', ['active', 'pay_123'], { code: '25P02', status: 'E' }).stmt(1, '0', 'ROLLBACK', [], { result: 'ROLLBACK' });
    const units = unitsOf(w.records);
    const r = findTransactionProblems(units, attributeUnits(ops, units), ops, []);
    expect(r.failedTransactionWrites.count).toBe(1);
    expect(r.failedTransactionWrites.examples[0].statements).toHaveLength(2);
    expect(r.failedTransactionWrites.examples[0].what).toMatch(/after 23505/);
  });

  it('flags a transaction left open and idle after its call answered; not one that finished in time', () => {
    const late = [op(0, 0, { paymentId: 'pay_123' }, 0, 1_000)];
    const w = wire().at(100).stmt(1, '0', 'BEGIN', [], { status: 'T' }).stmt(1, '0', 'UPDATE subscriptions SET status = $1 WHERE payment_id = $2', ['active', 'pay_123'], { result: 'UPDATE 1', status: 'T' });
    w.at(3_000_000).stmt(1, '0', 'COMMIT', [], { result: 'COMMIT' });
    let units = unitsOf(w.records);
    expect(findTransactionProblems(units, attributeUnits(late, units), late, []).outlivedCall.count).toBe(1);
    const quick = wire().at(100).stmt(1, '0', 'BEGIN', [], { status: 'T' }).stmt(1, '0', 'UPDATE subscriptions SET status = $1 WHERE payment_id = $2', ['active', 'pay_123'], { result: 'UPDATE 1', status: 'T' }).stmt(1, '0', 'COMMIT', [], { result: 'COMMIT' });
    units = unitsOf(quick.records);
    expect(findTransactionProblems(units, attributeUnits(late, units), late, []).outlivedCall.count).toBe(0);
  });
});

describe('swallowed errors', () => {
  it('flags a call answered ok whose write failed and was never sent again', () => {
    const ops = [op(0, 0, { seatId: 's-1', userId: 'user-7' }, 0, 10_000)];
    const w = wire().at(100).stmt(1, '0', 'UPDATE seats SET holder = $1 WHERE id = $2 AND holder IS NULL', ['user-7', 's-1'], { code: '57P01' });
    const units = unitsOf(w.records);
    const r = findSwallowedErrors(units, attributeUnits(ops, units), ops);
    expect(r.count).toBe(1);
    expect(r.examples[0].what).toMatch(/answered ok, but its write failed with 57P01/);
  });

  it('does not flag a retried write, an expected duplicate, a failed call, or a failed read', () => {
    const ops = [op(0, 0, { seatId: 's-1', userId: 'user-7' }, 0, 10_000), op(1, 0, { paymentId: 'pay_55' }, 0, 10_000), op(2, 0, { seatId: 's-2', userId: 'user-8' }, 0, 10_000, 'fail'), op(3, 0, { seatId: 's-3', userId: 'user-9' }, 0, 10_000)];
    const w = wire().at(100).stmt(1, '0', 'UPDATE seats SET holder = $1 WHERE id = $2 AND holder IS NULL', ['user-7', 's-1'], { code: '40001' });
    w.at(200).stmt(1, '0', 'UPDATE seats SET holder = $1 WHERE id = $2 AND holder IS NULL', ['user-7', 's-1'], { result: 'UPDATE 1' });
    w.at(300).stmt(2, '0', 'INSERT INTO processed_events (id) VALUES ($1)', ['pay_55'], { code: '23505' });
    w.at(400).stmt(3, '0', 'UPDATE seats SET holder = $1 WHERE id = $2 AND holder IS NULL', ['user-8', 's-2'], { code: '57P01' });
    w.at(500).stmt(4, '0', 'SELECT holder FROM seats WHERE id = $1 AND $2 <> \'\'', ['s-3', 'user-9'], { code: '57P01' });
    const units = unitsOf(w.records);
    expect(findSwallowedErrors(units, attributeUnits(ops, units), ops).count).toBe(0);
  });

  it('does not flag a write the same call sent again with other constants (a fresh id, a driver that inlines its parameters), in the call or after it', () => {
    // psycopg2 sends parameters inside the text: the retry on a fresh connection carries a new subscription id.
    const ops = [op(0, 0, { paymentId: 'pay_f2002_f25068', userId: 'user-31' }, 0, 10_000), op(1, 1, { paymentId: 'pay_f2003_aa0001', userId: 'user-32' }, 0, 10_000)];
    const w = wire().at(100).stmt(12, '0', `INSERT INTO subscriptions (id, payment_id, user_id) VALUES ('sub-1a2b', 'pay_f2002_f25068', 'user-31')`, [], { code: '57P01' });
    w.at(300).stmt(21, '0', `INSERT INTO subscriptions (id, payment_id, user_id) VALUES ('sub-9f8e', 'pay_f2002_f25068', 'user-31')`, [], { result: 'INSERT 0 1' });
    // Another instance's call whose write failed was sent again after its call had answered (a background retry), with a fresh id too.
    w.at(400).stmt(30, '1', `INSERT INTO subscriptions (id, payment_id, user_id) VALUES ('sub-0001', 'pay_f2003_aa0001', 'user-32')`, [], { code: '57P01' });
    w.at(20_000).stmt(31, '1', `INSERT INTO subscriptions (id, payment_id, user_id) VALUES ('sub-0002', 'pay_f2003_aa0001', 'user-32')`, [], { result: 'INSERT 0 1' });
    const units = unitsOf(w.records);
    expect(findSwallowedErrors(units, attributeUnits(ops, units), ops).count).toBe(0);
  });

  it('does not flag a call that retried the whole transaction, whose retry rightly wrote nothing (a concurrent duplicate had done it)', () => {
    const ops = [op(0, 1, { paymentId: 'pay_f2004_6c9c06', idempotencyKey: 'evt_d184e8584725' }, 0, 10_000)];
    const w = wire().at(100).stmt(15, '1', 'BEGIN', [], { status: 'T' });
    w.stmt(15, '1', `INSERT INTO processed_events (idempotency_key, payment_id) VALUES ('evt_d184e8584725', 'pay_f2004_6c9c06') ON CONFLICT DO NOTHING`, [], { result: 'INSERT 0 1', status: 'T' });
    w.stmt(15, '1', `INSERT INTO subscriptions (id, payment_id) VALUES ('sub_0b2b', 'pay_f2004_6c9c06')`, [], { code: '57P01' });
    // The retry on a fresh connection meets the event already recorded by another delivery: nothing more to write.
    w.at(5_000).stmt(27, '1', 'BEGIN', [], { status: 'T' });
    w.stmt(27, '1', `INSERT INTO processed_events (idempotency_key, payment_id) VALUES ('evt_d184e8584725', 'pay_f2004_6c9c06') ON CONFLICT DO NOTHING`, [], { result: 'INSERT 0 0', status: 'T' });
    w.stmt(27, '1', 'COMMIT', [], { result: 'COMMIT' });
    const units = unitsOf(w.records);
    expect(findSwallowedErrors(units, attributeUnits(ops, units), ops).count).toBe(0);
  });

  it('still flags a write never sent again when other calls send statements of the same shape', () => {
    const ops = [op(0, 0, { paymentId: 'pay_lost_0001', userId: 'user-41' }, 0, 10_000), op(1, 0, { paymentId: 'pay_next_0002', userId: 'user-42' }, 0, 10_000)];
    const w = wire().at(100).stmt(12, '0', `INSERT INTO subscriptions (id, payment_id, user_id) VALUES ('sub-1', 'pay_lost_0001', 'user-41')`, [], { code: '57P01' });
    w.at(300).stmt(13, '0', `INSERT INTO subscriptions (id, payment_id, user_id) VALUES ('sub-2', 'pay_next_0002', 'user-42')`, [], { result: 'INSERT 0 1' });
    const units = unitsOf(w.records);
    const r = findSwallowedErrors(units, attributeUnits(ops, units), ops);
    expect(r.count).toBe(1);
    expect(r.examples[0].statements[0]).toMatch(/pay_lost_0001/);
  });
});

describe('injection probes', () => {
  const probes = [`'; DROP TABLE subscriptions; --`, `o'brien"; -- quoted`, `pay_o'reilly`, `no quotes here`];

  it('takes the longest quote-free piece of a probe', () => {
    expect(probeFragment(`'; DROP TABLE subscriptions; --`)).toBe('; DROP TABLE subscriptions; --');
    expect(probeFragment(`pay_o'reilly`)).toBe('reilly');
  });

  it('flags a probe pasted into SQL text, parsing or not', () => {
    const w = wire().at(10).stmt(1, '0', `INSERT INTO subscriptions (user_id) VALUES (''; DROP TABLE subscriptions; -- #3')`, [], { code: '42601' });
    w.stmt(1, '0', `SELECT * FROM subscriptions WHERE payment_id = 'pay_o'reilly_f1'`, [], { code: '42601' });
    w.stmt(1, '0', `SELECT * FROM subscriptions WHERE user_id = ''; DROP TABLE subscriptions; -- #3'`, [], { result: 'SELECT 0; DROP TABLE' });
    const r = findInjection(unitsOf(w.records), probes);
    expect(r.count).toBe(3);
    // The statement the probe changed and that still ran is quoted first; the ones it broke after.
    expect(r.examples[0].what).toMatch(/outside any string literal/);
    expect(r.examples[1].what).toMatch(/no longer parses/);
  });

  it('does not flag bound parameters, properly escaped literals (doubled quotes, E-strings, JSON text) or setup', () => {
    const w = wire().at(10).stmt(1, '0', 'INSERT INTO subscriptions (user_id) VALUES ($1)', [`'; DROP TABLE subscriptions; -- #3`]);
    w.stmt(1, '0', `INSERT INTO subscriptions (user_id) VALUES ('''; DROP TABLE subscriptions; -- #3')`);
    w.stmt(1, '0', `INSERT INTO subscriptions (user_id) VALUES (E'o\\'brien"; -- quoted #2')`);
    w.stmt(1, '0', `INSERT INTO events (body) VALUES ('{"userId":"o''brien\\"; -- quoted #2"}')`);
    w.stmt(2, 'setup', `INSERT INTO t VALUES (''; DROP TABLE subscriptions; --')`, [], { code: '42601' });
    expect(findInjection(unitsOf(w.records), probes).count).toBe(0);
  });
});

describe('techniques, retries and Redis locks', () => {
  it('names the concurrency control the statements use', () => {
    const w = wire().at(10).stmt(1, '0', 'SELECT * FROM seats WHERE id = $1 FOR UPDATE', ['s'], { result: 'SELECT 1' });
    w.stmt(1, '0', 'UPDATE seats SET holder = $1 WHERE id = $2 AND holder IS NULL', ['u', 's'], { result: 'UPDATE 1' });
    w.stmt(1, '0', 'INSERT INTO t (k) VALUES ($1) ON CONFLICT (k) DO NOTHING', ['k'], { result: 'INSERT 0 1' });
    w.stmt(1, '0', 'SELECT pg_advisory_xact_lock(hashtext($1))', ['k'], { result: 'SELECT 1' });
    w.stmt(1, '0', 'BEGIN ISOLATION LEVEL SERIALIZABLE', [], { result: 'BEGIN', status: 'T' });
    const names = observeTechniques(unitsOf(w.records)).map((t) => t.technique);
    expect(names.some((n) => /row lock/.test(n))).toBe(true);
    expect(names).toContain('conditional write (the WHERE clause decides)');
    expect(names).toContain('upsert (ON CONFLICT DO NOTHING)');
    expect(names).toContain('advisory lock');
    expect(names).toContain('SERIALIZABLE isolation');
  });

  it('counts serialization failures and whether the same call tried again', () => {
    const w = wire().at(10).stmt(1, '0', 'BEGIN ISOLATION LEVEL SERIALIZABLE', [], { status: 'T' }).stmt(1, '0', 'SELECT holder FROM seats WHERE id = $1', ['s-1'], { result: 'SELECT 1', status: 'T' }).stmt(1, '0', 'COMMIT', [], { code: '40001' });
    let r = observeRetries(unitsOf(w.records));
    expect(r).toMatchObject({ count: 1, retried: 0, serialization: 1, serializationRetried: 0 });
    w.stmt(1, '0', 'BEGIN ISOLATION LEVEL SERIALIZABLE', [], { status: 'T' }).stmt(1, '0', 'SELECT holder FROM seats WHERE id = $1', ['s-1'], { result: 'SELECT 1', status: 'T' }).stmt(1, '0', 'COMMIT', []);
    r = observeRetries(unitsOf(w.records));
    expect(r).toMatchObject({ count: 1, retried: 1, serialization: 1, serializationRetried: 1 });
  });

  it('tells a plain DEL release from an owner-checking script, and a lock without expiry', () => {
    const tap = createRedisLockTap();
    const cmd = (...args: string[]) => tap.record({ t: 1, conn: 1, tag: '0', kind: 'command', args });
    cmd('SET', 'lock:seat:1', 'tok-1', 'NX', 'PX', '5000');
    cmd('DEL', 'lock:seat:1');
    cmd('SET', 'lock:seat:2', 'tok-2', 'PX', '5000', 'NX');
    cmd('EVAL', 'if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) end', '1', 'lock:seat:2', 'tok-2');
    cmd('SET', 'lock:seat:3', 'tok-3', 'NX');
    cmd('SET', 'cache:seat:1', 'x', 'EX', '5');
    expect(tap.result()).toMatchObject({ acquired: 3, withoutExpiry: 1, releasedByDel: 1, releasedByScript: 1 });
    expect(createRedisLockTap().result()).toBeNull();
  });
});

describe('lease bookkeeping', () => {
  it('a lease given back then the outbox marked sent is not a split write (the state-machine reference)', () => {
    const ops = [op(0, 1, { requestId: 'req-0003-46d2', userId: 'user-0003-46d2' }, 0, 10_000, 'ok', 'create')];
    const w = wire().at(100).stmt(17, '1', 'UPDATE purchases SET lease_owner = NULL, lease_until = NULL WHERE request_id = $1 AND lease_owner = $2', ['req-0003-46d2', 'i1-bbb87f36'], { result: 'UPDATE 1' });
    w.at(200).stmt(21, '1', 'UPDATE outbox SET sent_at = clock_timestamp(), attempts = attempts + 1, lease_until = NULL WHERE request_id = $1', ['req-0003-46d2'], { result: 'UPDATE 1' });
    const units = unitsOf(w.records);
    expect(findTransactionProblems(units, attributeUnits(ops, units), ops, []).splitWrites.count).toBe(0);
    // The same two writes when the first is real work are a split.
    const real = wire().at(100).stmt(17, '1', 'UPDATE purchases SET status = $2 WHERE request_id = $1', ['req-0003-46d2', 'active'], { result: 'UPDATE 1' });
    real.at(200).stmt(21, '1', 'UPDATE outbox SET sent_at = clock_timestamp() WHERE request_id = $1', ['req-0003-46d2'], { result: 'UPDATE 1' });
    const u2 = unitsOf(real.records);
    expect(findTransactionProblems(u2, attributeUnits(ops, u2), ops, []).splitWrites.count).toBe(1);
  });
});

describe('rows changed', () => {
  it('reads the command tag, and a write that changed nothing does not count as a split write', async () => {
    const { rowsChanged } = await import('./transactions.ts');
    expect([rowsChanged('UPDATE 0'), rowsChanged('INSERT 0 3'), rowsChanged('DELETE 12'), rowsChanged('SELECT 1'), rowsChanged('BEGIN')]).toEqual([0, 3, 12, null, null]);
    const ops = [op(0, 0, { requestId: 'req-0001' }, 0, 10_000, 'ok', 'create')];
    const w = wire().at(100).stmt(1, '0', 'UPDATE purchases SET lease_until = now() WHERE request_id = $1', ['req-0001'], { result: 'UPDATE 0' });
    w.at(200).stmt(2, '0', 'UPDATE outbox SET sent_at = now() WHERE request_id = $1', ['req-0001'], { result: 'UPDATE 1' });
    const units = unitsOf(w.records);
    expect(findTransactionProblems(units, attributeUnits(ops, units), ops, []).splitWrites.count).toBe(0);
  });
});

describe('retries of a call', () => {
  it('a serialization failure counts as handled when its call was still answered definitely, not when the error reached the caller', () => {
    const answered = (type: Op['type'], code?: string) => [op(0, 0, { seatId: 'seat-1', userId: 'user-0002' }, 0, 100_000, type)].map((o) => (code ? { ...o, code } : o));
    const w = wire().at(10);
    w.stmt(1, '0', 'BEGIN ISOLATION LEVEL SERIALIZABLE', [], { status: 'T' }).stmt(1, '0', 'UPDATE seats SET user_id = $2 WHERE seat_id = $1 AND user_id IS NULL', ['seat-1', 'user-0002'], { code: '40001', status: 'E' }).stmt(1, '0', 'ROLLBACK', [], { result: 'ROLLBACK' });
    // Other callers read the hot seat meanwhile: that is not this call retrying.
    w.at(50_000).stmt(2, '0', 'SELECT user_id FROM seats WHERE seat_id = $1', ['seat-1'], { result: 'SELECT 1' });
    const units = unitsOf(w.records);
    for (const [ops, retried] of [[answered('ok'), 1], [answered('fail', 'SEAT_TAKEN'), 1], [answered('info'), 0], [answered('fail'), 0]] as const) {
      expect(observeRetries(units, attributeUnits(ops, units))).toMatchObject({ serialization: 1, serializationRetried: retried });
    }
  });

  it('with no call to tie it to, the same statement sent again soon after is the retry', () => {
    const w = wire().at(10).stmt(1, '0', 'UPDATE seats SET user_id = $2 WHERE seat_id = $1', ['seat-1', 'user-9'], { code: '40P01' });
    expect(observeRetries(unitsOf(w.records))).toMatchObject({ serialization: 1, serializationRetried: 0 });
    w.at(2_000).stmt(1, '0', 'UPDATE seats SET user_id = $2 WHERE seat_id = $1', ['seat-1', 'user-9'], { result: 'UPDATE 1' });
    expect(observeRetries(unitsOf(w.records))).toMatchObject({ serialization: 1, serializationRetried: 1 });
  });
});

describe('check-then-act', () => {
  const ops = [op(0, 0, { seatId: 'seat-1', userId: 'user-0001' }, 0, 100_000), op(1, 0, { seatId: 'seat-1', userId: 'user-0002' }, 0, 100_000)];
  const readThenWrite = (update: string) => {
    const w = wire().at(10).stmt(1, '0', 'SELECT user_id FROM seats WHERE seat_id = $1', ['seat-1'], { result: 'SELECT 1' });
    w.at(500).stmt(2, '0', update, ['seat-1', 'user-0001'], { result: 'UPDATE 1' });
    return unitsOf(w.records);
  };

  it('flags a plain read, then a write by key alone of the same row, each in autocommit', () => {
    const units = readThenWrite('UPDATE seats SET user_id = $2 WHERE seat_id = $1');
    const r = findTransactionProblems(units, attributeUnits(ops, units), ops, []);
    expect(r.checkThenAct.count).toBe(1);
    expect(r.checkThenAct.examples[0].what).toMatch(/read seats and then wrote it by key alone/);
    expect(r.checkThenAct.examples[0].op).toMatch(/^op 0 /);
  });

  it('does not take a read that a concurrent read-only call with the same key may have sent on another connection', () => {
    const mixed = [op(0, 0, { userId: 'user-0001', requestId: 'r-1' }, 0, 100_000, 'ok', 'cancel'), op(1, 0, { userId: 'user-0001' }, 0, 100_000, 'ok', 'read')];
    const w = wire().at(10).stmt(1, '0', 'SELECT * FROM subs WHERE user_id = $1', ['user-0001'], { result: 'SELECT 1' });
    w.at(500).stmt(2, '0', 'UPDATE subs SET status = $2 WHERE user_id = $1', ['user-0001', 'cancelled'], { result: 'UPDATE 1' });
    let units = unitsOf(w.records);
    expect(findTransactionProblems(units, attributeUnits(mixed, units), mixed, []).checkThenAct.count).toBe(0);
    // Nor on the same connection, released by the reader and taken by the writer.
    const same = wire().at(10).stmt(1, '0', 'SELECT * FROM subs WHERE user_id = $1', ['user-0001'], { result: 'SELECT 1' });
    same.at(500).stmt(1, '0', 'UPDATE subs SET status = $2 WHERE user_id = $1', ['user-0001', 'cancelled'], { result: 'UPDATE 1' });
    const sameUnits = unitsOf(same.records);
    expect(findTransactionProblems(sameUnits, attributeUnits(mixed, sameUnits), mixed, []).checkThenAct.count).toBe(0);
    // The same read and write with no such reader beside it: flagged.
    units = unitsOf(w.records);
    expect(findTransactionProblems(units, attributeUnits([mixed[0]], units), [mixed[0]], []).checkThenAct.count).toBe(1);
  });

  it('does not flag a conditional write, a write guarded by a Redis or advisory lock, or one after an outside call', () => {
    let units = readThenWrite('UPDATE seats SET user_id = $2 WHERE seat_id = $1 AND user_id IS NULL');
    expect(findTransactionProblems(units, attributeUnits(ops, units), ops, []).checkThenAct.count).toBe(0);
    units = readThenWrite('UPDATE seats SET user_id = $2 WHERE seat_id = $1');
    expect(findTransactionProblems(units, attributeUnits(ops, units), ops, [], { lockedElsewhere: true }).checkThenAct.count).toBe(0);
    const call = { instance: 0, startUs: 200, endUs: 300 } as AttemptRecord;
    expect(findTransactionProblems(units, attributeUnits(ops, units), ops, [call]).checkThenAct.count).toBe(0);
  });
});
