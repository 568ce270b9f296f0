// Tests of no-stampede: when the cache was emptied under load, no instance sent the primary more than two statements
// naming one hot user in any 250 ms (the scenario counts them on the wire, per instance and hot user); exactly two
// passes, three fails and names the instance (its connection tag) and the user. A scenario that emptied no cache has
// nothing to judge.

import { describe, expect, it } from 'vitest';
import { MAX_PRIMARY_QUERIES_PER_WINDOW, noStampede, STAMPEDE_WINDOW_MS } from './no-stampede.ts';
import { maxInWindow } from './model.ts';
import { history } from './test-history.ts';

type Worst = { userId: string; instance: string; count: number; atUs: number };

function stampede(worst: Worst[], flushes = 2) {
  const h = history();
  h.user('hot-a', 'pro');
  h.user('hot-b', 'team');
  h.hot = ['hot-a', 'hot-b'];
  h.final = { stampede: { windowMs: STAMPEDE_WINDOW_MS, flushes, worst } };
  return noStampede.check(h.input());
}

describe('no-stampede', () => {
  it('publishes at most 2 primary queries per hot user per instance in any 250 ms', () => {
    expect(MAX_PRIMARY_QUERIES_PER_WINDOW).toBe(2);
    expect(STAMPEDE_WINDOW_MS).toBe(250);
  });

  describe('must fail', () => {
    it('three queries naming a hot user from one instance in 250 ms', () => {
      const r = stampede([
        { userId: 'hot-a', instance: '0', count: 2, atUs: 1_000_000 },
        { userId: 'hot-a', instance: '1', count: 3, atUs: 1_250_000 },
        { userId: 'hot-b', instance: '1', count: 1, atUs: 1_300_000 },
      ]);
      expect(r).toMatchObject({ id: 'no-stampede', passed: false, violations: 1 });
      expect(r.message).toBe('instance 1 sent the primary 3 statements naming hot user hot-a within 250 ms (from 1.25 s), more than 2: concurrent cache misses each went to the database; let them share one refill');
      expect(r.counterexample).toEqual({ worst: [{ userId: 'hot-a', instance: '1', count: 3, atUs: 1_250_000 }], flushes: 2 });
    });

    it('a full stampede: every instance, both hot users; the worst is named, each one counted', () => {
      const r = stampede([
        { userId: 'hot-a', instance: '0', count: 5, atUs: 1_000_000 },
        { userId: 'hot-b', instance: '2', count: 24, atUs: 2_600_000 },
        { userId: 'hot-a', instance: '3', count: 9, atUs: 1_010_000 },
      ]);
      expect(r).toMatchObject({ passed: false, violations: 3 });
      expect(r.message).toContain('instance 2 sent the primary 24 statements naming hot user hot-b within 250 ms (from 2.60 s)');
      expect((r.counterexample as { worst: Worst[] }).worst).toHaveLength(3);
    });
  });

  describe('must pass', () => {
    it('exactly two queries per hot user per instance in any 250 ms (a refill and a retry)', () => {
      const r = stampede([
        { userId: 'hot-a', instance: '0', count: 2, atUs: 1_000_000 },
        { userId: 'hot-b', instance: '0', count: 1, atUs: 1_000_000 },
        { userId: 'hot-a', instance: '1', count: 2, atUs: 2_600_000 },
      ]);
      expect(r).toEqual({ id: 'no-stampede', passed: true, message: 'the cache was emptied 2 time(s) under load; at most 2 primary statement(s) named a hot user from one instance in any 250 ms' });
    });

    it('the primary never asked for a hot user (every refill from the replica)', () => {
      expect(stampede([])).toMatchObject({ passed: true, message: expect.stringContaining('at most 0 primary statement(s)') });
    });

    it('no hot key was emptied under load in this scenario', () => {
      expect(noStampede.check(history().input())).toEqual({ id: 'no-stampede', passed: true, message: 'no hot key was emptied under load in this scenario' });
    });
  });

  describe('as the scenario counts the wire (maxInWindow over one instance\'s statement times)', () => {
    const worst = (timesMs: number[]): Worst => ({ userId: 'hot-a', instance: '2', ...maxInWindow(timesMs.map((t) => t * 1000), STAMPEDE_WINDOW_MS * 1000) });

    it('three statements within 250 ms fail', () => {
      expect(stampede([worst([1000, 1100, 1249.9])])).toMatchObject({ passed: false, message: expect.stringContaining('instance 2 sent the primary 3 statements naming hot user hot-a within 250 ms (from 1.00 s)') });
    });

    it('a third statement 250 ms after the first starts another window', () => {
      expect(stampede([worst([1000, 1100, 1250, 1350, 1500])]).passed).toBe(true);
    });
  });
});
