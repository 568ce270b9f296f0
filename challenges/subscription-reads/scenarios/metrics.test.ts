// judgeMetrics: an instance's own metrics() against the harness's estimate — agreeing within the tolerance, off by
// more, malformed, unanswered, and the lag only judged when the replica had replayed everything.

import { beforeAll, describe, expect, it } from 'vitest';
import type { Op } from '../../../harness/types.ts';
import { dataSelects, judgeMetrics } from './common.ts';
import { loadSqlParser } from '../../../harness/wire/sql-parser.ts';

beforeAll(() => loadSqlParser(), 30_000);

const op = (over: Partial<Op>): Op => ({ index: 0, process: 'p', instance: 0, f: 'read', args: {}, phase: 'mixed', startUs: 0, endUs: 10, type: 'ok', ...over });
/** 100 answered reads on instance 0 before t = 1000, and `selects` SELECT completions tagged '0'. */
function world(selects: number) {
  const ops = Array.from({ length: 100 }, (_, i) => op({ index: i, startUs: i, endUs: i + 1 }));
  const completions = Array.from({ length: selects }, (_, i) => ({ tag: '0', commandTag: 'SELECT 1', t: i }));
  return { ops, completions: [...completions, { tag: '1', commandTag: 'SELECT 1', t: 5 }, { tag: '0', commandTag: 'UPDATE 1', t: 5 }] };
}
const asked = (value: unknown, type: Op['type'] = 'ok') => op({ f: 'metrics', startUs: 1000, endUs: 1010, type, value });

describe('judgeMetrics', () => {
  it('agrees within 0.2 of 1 - SELECTs / reads, counting only this instance\'s SELECTs', () => {
    const { ops, completions } = world(10); // measured 0.90
    expect(judgeMetrics(0, asked({ cacheHitRatio: 0.75, replicaLagMs: 120 }), ops, completions, 0).agrees).toBe(true);
    const far = judgeMetrics(0, asked({ cacheHitRatio: 0.5, replicaLagMs: 120 }), ops, completions, 0);
    expect(far.agrees).toBe(false);
    expect(far.text).toBe('instance 0: hit ratio 0.50 reported, ~0.90 measured (10 SELECTs for 100 reads), lag 120 ms reported with the replica caught up');
  });

  it('with the replica caught up, a lag of a second or more (or none given) disagrees; behind, the lag is not judged', () => {
    const { ops, completions } = world(100); // measured 0
    expect(judgeMetrics(0, asked({ cacheHitRatio: 0, replicaLagMs: 1500 }), ops, completions, 0).agrees).toBe(false);
    expect(judgeMetrics(0, asked({ cacheHitRatio: 0, replicaLagMs: null }), ops, completions, 0).agrees).toBe(false);
    expect(judgeMetrics(0, asked({ cacheHitRatio: 0, replicaLagMs: null }), ops, completions, 4096).agrees).toBe(true);
    expect(judgeMetrics(0, asked({ cacheHitRatio: 0, replicaLagMs: 5000 }), ops, completions, null).agrees).toBe(true);
  });

  it('a malformed ratio, no answer, or no reads to compare with never agrees', () => {
    const { ops, completions } = world(0);
    expect(judgeMetrics(0, asked({ cacheHitRatio: 1.5, replicaLagMs: 0 }), ops, completions, 0).text).toMatch(/not a number from 0 to 1/);
    expect(judgeMetrics(0, asked({ cacheHitRatio: '0.9' }), ops, completions, 0).agrees).toBe(false);
    expect(judgeMetrics(0, asked(undefined, 'info'), ops, completions, 0).text).toMatch(/did not answer/);
    expect(judgeMetrics(3, asked({ cacheHitRatio: 1, replicaLagMs: 0 }), ops, completions, 0).text).toBe('instance 3: no reads to compare with');
  });

  it('leaves out lag and health checks, which read no table of the service (a plain solution lost the point for them)', () => {
    // The helper's instance 1: 19 data reads (6 primary, 13 replica) and 18 + 18 lag checks for 163 reads; it reported 0.88.
    const ops = Array.from({ length: 163 }, (_, i) => op({ index: i, instance: 1, startUs: i, endUs: i + 1 }));
    const data = Array.from({ length: 19 }, (_, i) => ({ tag: '1', t: 200 + i, text: 'SELECT plan, status, version FROM subscriptions WHERE user_id = $1' }));
    const lag = Array.from({ length: 36 }, (_, i) => ({ tag: '1', t: 300 + i, text: i % 2 ? 'SELECT pg_last_wal_replay_lsn() AS lsn' : 'SELECT pg_current_wal_lsn()' }));
    const statements = [...data, ...lag, { tag: '1', t: 400, text: 'SELECT 1' }];
    const completions = statements.map((x) => ({ tag: x.tag, t: x.t, commandTag: 'SELECT 1' }));
    const reported = op({ f: 'metrics', instance: 1, startUs: 1000, endUs: 1010, type: 'ok', value: { cacheHitRatio: 0.88, replicaLagMs: 0 } });
    const judged = judgeMetrics(1, reported, ops, completions, 0, statements);
    expect(judged.agrees).toBe(true);
    expect(judged.text).toBe('instance 1: hit ratio 0.88 reported, ~0.88 measured (19 SELECTs for 163 reads; 37 lag or health checks that read no table of yours not counted), lag 0 ms reported with the replica caught up');
    // Without the statements (the old count) it was 1 - 56/163 = 0.66: disagreeing.
    expect(judgeMetrics(1, reported, ops, completions, 0).agrees).toBe(false);
  });

  it('dataSelects counts a SELECT of the service\'s tables (joined with a catalog or not, or through a function it could have defined), only in the window', () => {
    const statements = [
      { tag: '0', t: 1, text: 'SELECT * FROM subscriptions s JOIN pg_class c ON true' },
      { tag: '0', t: 1, text: 'SELECT get_plan($1)' },
      { tag: '0', t: 1, text: 'SELECT * FROM read_subscription($1)' },
      { tag: '0', t: 2, text: 'SELECT replay_lag FROM pg_stat_replication' },
      { tag: '0', t: 3, text: 'SELECT now() - pg_last_xact_replay_timestamp()' },
      { tag: '0', t: 9, text: 'SELECT 1' },
    ];
    const completions = [...statements.map((x) => ({ tag: x.tag, t: x.t, commandTag: 'SELECT 1' })), { tag: '0', t: 4, commandTag: 'UPDATE 1' }];
    expect(dataSelects(completions, statements, (x) => x.t <= 5)).toEqual({ selects: 3, monitoring: 2 });
  });
});
