// Tests of bounded-staleness: every answered read — with or without a token, by anyone, the final reads too — is a
// state some write produced, names no write sent after the read ended, and is no older than the newest write of that
// user (by anyone) acknowledged more than stalenessMs (2 s) before the read began. Up to the bound it may be stale;
// a read concurrent with a write may return either side; an unanswered write may be seen or not.

import { describe, expect, it } from 'vitest';
import { boundedStaleness } from './bounded-staleness.ts';
import { history, info, ok, type ReadsHistory } from './test-history.ts';

const check = (h: ReadsHistory) => boundedStaleness.check(h.input());

/** u1 starts on pro; an admin moves them to team, acknowledged at 1020 ms. */
function oneWrite(): ReadsHistory {
  const h = history();
  h.user('u1', 'pro');
  h.user('u2', 'free');
  h.changePlan('u1', 'team', 'r1', ok(1000, 1020, { by: 'admin', instance: 1 }));
  return h;
}

describe('bounded-staleness', () => {
  describe('must fail', () => {
    it('a read that began just over stalenessMs after the ack returned the old state', () => {
      const h = oneWrite();
      h.read('u1', 'initial', ok(3021, 3030, { by: 'anonymous', instance: 2 }));
      const r = check(h);
      expect(r).toMatchObject({ passed: false, violations: 1 });
      expect(r.message).toBe('a read of u1 on instance 2 at 3.02 s returned the initial state (plan pro), but r1 (plan team) had been acknowledged at 1.02 s, 2001 ms before the read began (bound 2000 ms)');
      expect((r.counterexample as object[])[0]).toMatchObject({ behindMs: 2001, owed: { f: 'change-plan', args: { requestId: 'r1' } } });
    });

    it('a read seconds behind while the replica lags (a session read with its token too)', () => {
      const h = oneWrite();
      h.read('u1', 'initial', ok(6000, 6010, { by: 'anonymous', instance: 0 }));
      h.read('u1', 'initial', ok(6100, 6110, { instance: 3 }));
      const r = check(h);
      expect(r).toMatchObject({ passed: false, violations: 2 });
      expect(r.message).toContain('a read of u1 on instance 0 at 6.00 s returned the initial state (plan pro), but r1 (plan team) had been acknowledged at 1.02 s, 4980 ms before the read began');
      expect(r.message).toContain('(and 1 more violation)');
    });

    it('a read that skipped back over the newest owed write to an older one', () => {
      const h = oneWrite();
      h.changePlan('u1', 'starter', 'r2', ok(2000, 2010));
      h.cancel('u1', 'c3', ok(3000, 3010));
      h.read('u1', 'r2', ok(5500, 5510, { by: 'anonymous' })); // c3 was acknowledged 2490 ms before
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('returned r2 (plan starter), but the cancel c3 had been acknowledged at 3.01 s, 2490 ms before');
    });

    it('a final read (after the run) still stale', () => {
      const h = oneWrite();
      h.finalRead('u1', 'initial', { instance: 4 });
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('a read of u1 on instance 4');
    });

    it('an answer naming an unknown requestId', () => {
      const h = oneWrite();
      h.read('u1', { requestId: 'r-made-up', plan: 'team', status: 'active' }, ok(1500, 1510, { by: 'anonymous', instance: 1 }));
      const r = check(h);
      expect(r).toMatchObject({ passed: false, violations: 1 });
      expect(r.message).toBe('a read of u1 on instance 1 at 1.50 s returned a state no write produced: requestId "r-made-up" names no write of u1');
    });

    it('an answer whose plan or status mismatches the write it names (a mix of two states)', () => {
      const h = oneWrite();
      h.read('u1', { requestId: 'r1', plan: 'pro' }, ok(1500, 1510, { by: 'anonymous' }));
      h.read('u1', { requestId: 'r1', status: 'cancelled' }, ok(1600, 1610, { by: 'anonymous' }));
      h.read('u1', { requestId: 'initial', plan: 'team' }, ok(1700, 1710, { by: 'anonymous' }));
      const r = check(h);
      expect(r).toMatchObject({ passed: false, violations: 3 });
      expect(r.message).toContain('returned a state no write produced: it names r1, which set plan team, but says plan pro');
      const reasons = (r.counterexample as { reason: string }[]).map((v) => v.reason);
      expect(reasons[1]).toContain('it names r1, which left the subscription active, but says status cancelled');
      expect(reasons[2]).toContain('it names initial, which set plan pro, but says plan team');
    });

    it('an answer naming a cancel but saying active', () => {
      const h = oneWrite();
      h.cancel('u1', 'c2', ok(2000, 2010));
      h.read('u1', { requestId: 'c2', status: 'active' }, ok(2100, 2110, { by: 'anonymous' }));
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('it names the cancel c2 but says status active');
    });

    it('another user\'s subscription', () => {
      const h = oneWrite();
      h.read('u2', h.value('u1', 'r1'), ok(1500, 1510, { by: 'anonymous' }));
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain("a read of u2 on instance 0 at 1.50 s returned a state no write produced: it is user u1's subscription, not u2's");
    });

    it('a read that returned a write sent only after the read had ended', () => {
      const h = oneWrite();
      h.changePlan('u1', 'free', 'r2', ok(5000, 5010));
      h.read('u1', 'r2', ok(4000, 4999, { by: 'anonymous', instance: 2 }));
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toBe('a read of u1 on instance 2 at 4.00 s returned r2 (plan free), a write sent only after the read had ended');
    });

    // A cancel keeps the plan: an answer naming the cancel c1 with a plan u1 did not have then (pro when c1 cancelled
    // it, 'free' in the answer) is a state no write produced.
    it('a cancel answered with a plan it did not keep is a state no write produced', () => {
      const h = history();
      h.user('u1', 'pro');
      h.cancel('u1', 'c1', ok(1000, 1020));
      h.read('u1', { requestId: 'c1', plan: 'free' }, ok(1500, 1510, { by: 'anonymous', instance: 1 }));
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('a read of u1 on instance 1 at 1.50 s returned a state no write produced');
    });
  });

  describe('must pass', () => {
    it('a read that began just under stalenessMs after the ack returning the old state', () => {
      const h = oneWrite();
      h.read('u1', 'initial', ok(3019, 3030, { by: 'anonymous', instance: 2 }));
      const r = check(h);
      expect(r).toEqual({ id: 'bounded-staleness', passed: true, message: '1 answered read(s), each a state some write produced and at most 2000 ms behind the acknowledged writes' });
    });

    it('a read that began exactly stalenessMs after the ack returning the old state', () => {
      const h = oneWrite();
      h.read('u1', 'initial', ok(3020, 3030, { by: 'anonymous' }));
      expect(check(h).passed).toBe(true);
    });

    it('anonymous reads stale within the bound, on every instance, then fresh', () => {
      const h = oneWrite();
      for (let i = 0; i < 4; i++) h.read('u1', 'initial', ok(1100 + i * 400, 1110 + i * 400, { by: 'anonymous', instance: i }));
      h.read('u1', 'r1', ok(3100, 3110, { by: 'anonymous' }));
      expect(check(h).passed).toBe(true);
    });

    it('right after a session\'s write, an anonymous read on another instance may still return the old state', () => {
      const h = history();
      h.user('u1', 'pro');
      h.changePlan('u1', 'team', 'r1', ok(100, 120, { instance: 0 }));
      h.read('u1', 'initial', ok(125, 130, { by: 'anonymous', instance: 1 }));
      h.read('u1', 'initial', ok(2100, 2110, { by: 'anonymous', instance: 2 }));
      expect(check(h).passed).toBe(true);
    });

    it('a read concurrent with a write returning either the old or the new state', () => {
      const h = oneWrite();
      h.read('u1', 'initial', ok(990, 1030, { by: 'anonymous' }));
      h.read('u1', 'r1', ok(990, 1030, { by: 'anonymous', instance: 1 }));
      h.read('u1', 'r1', ok(900, 1000, { by: 'anonymous', instance: 2 })); // ended as the write was sent
      expect(check(h).passed).toBe(true);
    });

    it('a write that was never acknowledged: seen or not seen, now and much later', () => {
      const h = oneWrite();
      h.changePlan('u1', 'starter', 'r2', info(2000, 2100, { error: 'status 500' }));
      h.read('u1', 'r1', ok(2200, 2210, { by: 'anonymous' }));
      h.read('u1', 'r2', ok(2300, 2310, { by: 'anonymous' }));
      h.read('u1', 'r1', ok(9000, 9010, { by: 'anonymous' }));
      h.read('u1', 'r2', ok(9100, 9110, { by: 'anonymous' }));
      expect(check(h).passed).toBe(true);
    });

    it('final reads returning an unanswered later write', () => {
      const h = oneWrite();
      h.cancel('u1', 'c2', info(2000, 12_000, { error: 'timeout' }));
      h.finalRead('u1', 'c2', { instance: 0 });
      h.finalRead('u1', 'r1', { instance: 1 });
      expect(check(h).passed).toBe(true);
    });

    it('a cancel keeps the plan it found; a plan change after it is active again', () => {
      const h = oneWrite();
      h.cancel('u1', 'c2', ok(2000, 2010));
      h.changePlan('u1', 'free', 'r3', ok(3000, 3010));
      h.read('u1', { requestId: 'c2', plan: 'team', status: 'cancelled' }, ok(2500, 2510, { by: 'anonymous' }));
      h.read('u1', { requestId: 'r3', plan: 'free', status: 'active' }, ok(3500, 3510, { by: 'anonymous' }));
      expect(check(h).passed).toBe(true);
    });

    it('failed and unanswered reads are not judged; users without writes read their initial state', () => {
      const h = oneWrite();
      h.read('u1', 'initial', info(9000, 9100, { by: 'anonymous' }));
      h.read('u2', 'initial', ok(9000, 9010, { by: 'anonymous' }));
      const r = check(h);
      expect(r.passed).toBe(true);
      expect(r.message).toContain('1 answered read(s)');
    });

    it('the bound is the scenario\'s stalenessMs', () => {
      const h = oneWrite();
      h.stalenessMs = 5000;
      h.read('u1', 'initial', ok(6000, 6010, { by: 'anonymous' }));
      expect(check(h).passed).toBe(true);
    });
  });
});
