// The query log the subscription-reads checks count from: statements (simple queries, and binds with their prepared
// statement's text and parameters) and completions per server, setup's left out, windows and `mentions`.

import { describe, expect, it } from 'vitest';
import { mentions, QueryLog } from './query-log.ts';
import type { SqlRecord } from './pg-wire.ts';

const rec = (r: Partial<SqlRecord> & Pick<SqlRecord, 't' | 'kind'>): SqlRecord => ({ conn: 1, ...r });

describe('QueryLog', () => {
  it('keeps statements and completions per server, a bind with its parsed text, and leaves setup out', () => {
    const log = new QueryLog();
    const primary = log.recorder('primary');
    const replica = log.recorder('replica');
    primary(rec({ t: 1, kind: 'query', sql: 'CREATE TABLE x()', tag: 'setup' }));
    primary(rec({ t: 2, kind: 'parse', sql: 'SELECT * FROM subs WHERE user_id = $1', tag: '0' }));
    primary(rec({ t: 3, kind: 'bind', params: ['user-0001-abcd'], tag: '0' }));
    primary(rec({ t: 4, kind: 'complete', commandTag: 'SELECT 1', tag: '0' }));
    replica(rec({ t: 5, kind: 'parse', name: 's1', sql: 'SELECT plan FROM subs WHERE user_id = $1', tag: '1', conn: 7 }));
    replica(rec({ t: 6, kind: 'bind', name: 's1', params: ['user-0002-beef'], tag: '1', conn: 7 }));
    replica(rec({ t: 7, kind: 'bind', name: 's1', params: ['user-0003-cafe'], tag: '1', conn: 7 }));
    replica(rec({ t: 8, kind: 'complete', commandTag: 'SELECT 1', tag: '1', conn: 7 }));
    primary(rec({ t: 9, kind: 'query', sql: "UPDATE subs SET plan = 'pro' WHERE user_id = 'user-0001-abcd'", tag: '2' }));
    primary(rec({ t: 10, kind: 'complete', commandTag: 'UPDATE 1', tag: '2' }));

    expect(log.statements().map((s) => [s.server, s.t, s.text.slice(0, 11), s.params])).toEqual([
      ['primary', 3, 'SELECT * FR', ['user-0001-abcd']],
      ['replica', 6, 'SELECT plan', ['user-0002-beef']],
      ['replica', 7, 'SELECT plan', ['user-0003-cafe']],
      ['primary', 9, 'UPDATE subs', []],
    ]);
    expect(log.statements({ server: 'primary', fromUs: 4 }).map((s) => s.t)).toEqual([9]);
    expect(log.completions({ server: 'primary' }).map((c) => c.commandTag)).toEqual(['SELECT 1', 'UPDATE 1']);
    expect(log.completions({ fromUs: 5, toUs: 8 }).map((c) => [c.server, c.tag])).toEqual([['replica', '1']]);
    const named = log.statements().filter((s) => mentions(s, 'user-0001-abcd'));
    expect(named.map((s) => s.t)).toEqual([3, 9]); // a parameter, and a literal in the text
  });

  it('forgets a connection\'s prepared statements when it closes (a new connection reusing the id starts clean)', () => {
    const log = new QueryLog();
    const primary = log.recorder('primary');
    primary(rec({ t: 1, kind: 'parse', sql: 'SELECT 1', tag: '0' }));
    primary(rec({ t: 2, kind: 'close', tag: '0' }));
    primary(rec({ t: 3, kind: 'bind', params: [], tag: '0' }));
    expect(log.statements()[0].text).toBe('');
  });
});
