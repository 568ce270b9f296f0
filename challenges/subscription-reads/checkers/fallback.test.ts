// Tests of replica-fallback and cache-fallback: every read (and, for Redis, every write) that overlapped a window in
// which the replica (Redis) was down is answered — whatever it answered is for the other checks. A call lost with an
// instance the harness killed (or that died: no-crash counts that) is not held against the service; calls outside
// the windows, the final reads, and faults of another kind are not these checks' business.

import { describe, expect, it } from 'vitest';
import { cacheFallback, replicaFallback } from './fallback.ts';
import { history, info, ok, unavailable, type ReadsHistory } from './test-history.ts';

/** u1 (pro), u2 (free); the replica down over [1000, 4000] ms, or Redis. */
function down(fault: 'replica-down' | 'redis-down'): ReadsHistory {
  const h = history();
  h.user('u1', 'pro');
  h.user('u2', 'free');
  h.fault(fault, 1000, 4000);
  return h;
}

describe('replica-fallback', () => {
  const check = (h: ReadsHistory) => replicaFallback.check(h.input());

  describe('must fail', () => {
    it('a read during the outage answered with an error', () => {
      const h = down('replica-down');
      h.read('u1', 'initial', info(1500, 1510, { instance: 2, error: 'status 500: connect ECONNREFUSED' }));
      const r = check(h);
      expect(r).toMatchObject({ passed: false, violations: 1 });
      expect(r.message).toBe('a read of u1 on instance 2 at 1.50 s, while the replica was down, was not answered (status 500: connect ECONNREFUSED)');
      expect((r.counterexample as object[])[0]).toMatchObject({ call: { f: 'read', instance: 2, outcome: 'indeterminate (status 500: connect ECONNREFUSED)' } });
    });

    it('reads by anyone that hung across the start, or started as it healed, and timed out', () => {
      const h = down('replica-down');
      h.read('u1', 'initial', info(500, 1000, { by: 'anonymous', error: 'timeout' })); // ended just as it went down
      h.read('u2', 'initial', info(4000, 4100, { instance: 3, error: 'reset' }));       // began just as it healed
      const r = check(h);
      expect(r).toMatchObject({ passed: false, violations: 2 });
      expect(r.message).toContain('a read of u1 on instance 0 at 0.50 s, while the replica was down, was not answered (timeout) (and 1 more violation)');
    });

    it('a read still unanswered when the load ended', () => {
      const h = down('replica-down');
      const op = h.read('u1', 'initial', info(3000, 0, { error: 'no answer before the load ended (timeout or reset)' }));
      op.endUs = -1;
      expect(check(h).passed).toBe(false);
    });

    it('a call lost with an instance killed elsewhere still counts; so does one a kill long before', () => {
      const h = down('replica-down');
      h.instanceEvent(1, 'killed', 2000);
      h.read('u1', 'initial', info(1990, 2010, { instance: 2, error: 'reset' }));
      h.instanceEvent(3, 'killed', 1100);
      h.read('u2', 'initial', unavailable(2500, 2501, { instance: 3 }));
      const r = check(h);
      expect(r).toMatchObject({ passed: false, violations: 2 });
      expect(JSON.stringify(r.counterexample)).toContain('a read of u2 on instance 3 at 2.50 s, while the replica was down, was not answered (instance unreachable (refused))');
    });

    it('every window of the fault counts', () => {
      const h = down('replica-down');
      h.fault('replica-down', 6000, 7000);
      h.read('u1', 'initial', ok(1500, 1510));
      h.read('u1', 'initial', info(6500, 6510));
      expect(check(h)).toMatchObject({ passed: false, violations: 1 });
    });
  });

  describe('must pass', () => {
    it('every read during the outage answered (fresh or not is for the other checks)', () => {
      const h = down('replica-down');
      h.changePlan('u1', 'team', 'r1', ok(900, 920));
      h.read('u1', 'r1', ok(1000, 1010, { instance: 1 }));
      h.read('u2', 'initial', ok(2000, 2600, { by: 'anonymous', instance: 2 }));
      h.read('u1', 'initial', ok(3990, 4010, { instance: 3 }));
      expect(check(h)).toEqual({ id: 'replica-fallback', passed: true, message: '3 call(s) ran while the replica was down; all were answered' });
    });

    it('a read lost with its instance, killed by the harness during it (or within a second of it)', () => {
      const h = down('replica-down');
      h.instanceEvent(2, 'killed', 2000);
      h.read('u1', 'initial', info(1990, 2001, { instance: 2, error: 'reset' }));
      h.read('u2', 'initial', unavailable(2900, 2901, { instance: 2 }));
      h.instanceEvent(3, 'exited', 3500);
      h.read('u2', 'initial', info(3400, 3500, { instance: 3, error: 'reset' }));
      expect(check(h).passed).toBe(true);
    });

    it('failures outside the window, just before or just after, are not counted', () => {
      const h = down('replica-down');
      h.read('u1', 'initial', info(900, 999, { error: 'status 500' }));
      h.read('u1', 'initial', info(4001, 4100, { error: 'status 500' }));
      expect(check(h)).toMatchObject({ passed: true, message: expect.stringContaining('0 call(s)') });
    });

    it('writes failing while the replica is down are not this check\'s (they never go to the replica)', () => {
      const h = down('replica-down');
      h.changePlan('u1', 'team', 'r1', info(1500, 1600));
      h.cancel('u2', 'c1', info(1700, 1800));
      expect(check(h).passed).toBe(true);
    });

    it('final reads are not counted', () => {
      const h = down('replica-down');
      h.finalRead('u1', 'initial', { at: 2000, type: 'info' });
      expect(check(h).passed).toBe(true);
    });

    it('the replica never down (Redis was): nothing to judge', () => {
      const h = down('redis-down');
      h.read('u1', 'initial', info(1500, 1510));
      expect(check(h)).toEqual({ id: 'replica-fallback', passed: true, message: 'the replica was never down in this scenario' });
    });
  });
});

describe('cache-fallback', () => {
  const check = (h: ReadsHistory) => cacheFallback.check(h.input());

  describe('must fail', () => {
    it('a plan change failed while Redis was down', () => {
      const h = down('redis-down');
      h.changePlan('u1', 'team', 'r1', info(2000, 2050, { instance: 1, error: 'status 500: Connection is closed.' }));
      const r = check(h);
      expect(r).toMatchObject({ passed: false, violations: 1 });
      expect(r.message).toBe('a change-plan of u1 on instance 1 at 2.00 s, while Redis was down, was not answered (status 500: Connection is closed.)');
    });

    it('a cancel and a read failing while Redis was down, by the session or an admin or anyone', () => {
      const h = down('redis-down');
      h.cancel('u1', 'c1', info(1500, 1600, { by: 'admin', instance: 2 }));
      h.read('u2', 'initial', info(1700, 1800, { by: 'anonymous', instance: 3 }));
      h.read('u2', 'initial', info(1900, 2000, { instance: 0 }));
      const r = check(h);
      expect(r).toMatchObject({ passed: false, violations: 3 });
      expect(r.message).toContain('a cancel of u1 on instance 2 at 1.50 s, while Redis was down, was not answered');
      expect(JSON.stringify(r.counterexample)).toContain('a read of u2 on instance 3 at 1.70 s, while Redis was down');
    });
  });

  describe('must pass', () => {
    it('reads and writes all answered while Redis was down', () => {
      const h = down('redis-down');
      h.changePlan('u1', 'team', 'r1', ok(1500, 1600));
      h.read('u1', 'r1', ok(1610, 1620, { instance: 1 }));
      h.cancel('u1', 'c2', ok(1700, 1750, { by: 'admin' }));
      h.read('u1', 'c2', ok(1800, 1810, { by: 'anonymous' }));
      expect(check(h)).toEqual({ id: 'cache-fallback', passed: true, message: '4 call(s) ran while Redis was down; all were answered' });
    });

    it('a write lost with its instance, killed by the harness during it', () => {
      const h = down('redis-down');
      h.instanceEvent(1, 'killed', 2020);
      h.changePlan('u1', 'team', 'r1', info(2000, 2020, { instance: 1, error: 'reset' }));
      expect(check(h).passed).toBe(true);
    });

    it('Redis never down (the replica was): nothing to judge', () => {
      const h = down('replica-down');
      h.changePlan('u1', 'team', 'r1', info(1500, 1600));
      expect(check(h)).toEqual({ id: 'cache-fallback', passed: true, message: 'Redis was never down in this scenario' });
    });
  });
});
