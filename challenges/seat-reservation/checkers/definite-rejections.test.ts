// Tests of definite-rejections on tiny hand-written histories: errors outside faults, untrue SEAT_TAKEN, wrong
// SEAT_NOT_FOUND, another user's reservation in an ok must fail; excused and justified answers must pass.

import { describe, expect, it } from 'vitest';
import { definiteRejections } from './definite-rejections.ts';
import { failed, history, info, ok, taken } from './test-history.ts';

const check = (h: ReturnType<typeof history>) => definiteRejections.check(h.input());
type V = { reason: string; ops: { op: number; process: string; outcome: string }[] };
const cx = (r: ReturnType<typeof check>) => r.counterexample as V[];

describe('definite-rejections', () => {
  describe('must fail', () => {
    it('a 500 outside any fault window', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.reserve('u2', 'A', info(0, 12, { error: 'status 500: deadlock detected', instance: 1 }));
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.violations).toBe(1);
      expect(r.message).toContain('u2 on instance 1 (op 1');
      expect(r.message).toContain('status 500: deadlock detected');
      expect(cx(r)[0].ops[0]).toMatchObject({ op: 1, process: 'u2', outcome: 'indeterminate (status 500: deadlock detected)' });
    });

    it('an indeterminate answer overlapping only a db-latency window', () => {
      const h = history();
      h.fault('db-latency', 0, 1000);
      h.reserve('u1', 'A', ok(0, 10));
      h.reserve('u2', 'A', info(100, 200));
      expect(check(h).passed).toBe(false);
    });

    it('an indeterminate answer long after a db-reset healed', () => {
      const h = history();
      h.fault('db-reset', 0, 5);
      h.reserve('u2', 'A', info(2000, 2100));
      expect(check(h).passed).toBe(false);
    });

    it('an indeterminate answer on an instance other than the killed one', () => {
      const h = history();
      h.event(1, 'killed', 50);
      h.reserve('u2', 'A', info(0, 100, { instance: 0 }));
      expect(check(h).passed).toBe(false);
    });

    it('a SEAT_TAKEN when nobody else could hold the seat', () => {
      const h = history();
      h.reserve('u1', 'A', taken(0, 10));
      h.reads('A', null);
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('u1 on instance 0 (op 0');
      expect(r.message).toContain('no other user could have held it');
    });

    it('a SEAT_TAKEN justified only by the caller\'s own claim', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.reserve('u1', 'A', taken(20, 30));
      expect(check(h).passed).toBe(false);
    });

    it('a SEAT_TAKEN before the only other claim was even sent', () => {
      const h = history();
      h.reserve('u1', 'A', taken(0, 10));
      h.reserve('u2', 'A', ok(11, 20));
      expect(check(h).passed).toBe(false);
    });

    it('a SEAT_TAKEN justified only by a claim that definitely failed', () => {
      const h = history();
      h.reserve('u1', 'A', taken(0, 10));
      h.reserve('u2', 'A', taken(0, 10));
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.violations).toBe(2);
    });

    it('a user told SEAT_TAKEN who ends up the holder', () => {
      const h = history();
      h.fault('db-reset', 5, 6); // excuses u1's indeterminate answer: only the final read is wrong
      h.reserve('u1', 'A', info(0, 10));
      h.reserve('u2', 'A', taken(0, 10));
      h.reads('A', 'u2', 'u2');
      const r = check(h);
      expect(r.passed).toBe(false);
      // One violation per seat, naming the rejection and the read.
      expect(r.violations).toBe(1);
      expect(r.message).toContain('u2 was told SEAT_TAKEN for A');
      expect(cx(r)[0].ops.map((o) => o.op)).toEqual([1, 2]);
    });

    it('ok with another user\'s reservation', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.reserve('u2', 'A', ok(0, 10, { as: 'u1' }));
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain("got ok with u1's reservation");
      expect(cx(r)[0].ops[0]).toMatchObject({ op: 1, process: 'u2' });
    });

    it('SEAT_NOT_FOUND for an existing seat', () => {
      const h = history(['A']);
      h.reserve('u1', 'A', failed('SEAT_NOT_FOUND', 0, 10));
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('SEAT_NOT_FOUND for A, which exists');
    });

    it('ok for an unknown seat', () => {
      const h = history(['A']);
      h.reserve('probe-0', 'no-such-seat', ok(0, 10));
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('unknown seat no-such-seat got ok');
    });

    it('reports every violation, of every kind', () => {
      const h = history(['A', 'B']);
      h.reserve('u1', 'A', ok(0, 10));
      h.reserve('u2', 'A', info(0, 10)); // an error outside any fault
      h.reserve('u3', 'A', ok(0, 10, { as: 'u1' })); // another user's reservation
      h.reserve('u4', 'B', taken(0, 10)); // nobody else ever claimed B
      h.reserve('u5', 'A', failed('SEAT_NOT_FOUND', 0, 10)); // A exists
      h.reserve('p', 'C', ok(0, 10)); // C does not
      h.reads('B', 'u4'); // and u4, told SEAT_TAKEN, holds B
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.violations).toBe(6);
      expect(r.message).toContain('(and 5 more violations)');
      // The counterexample keeps the first five, in order: the per-op ones, the untrue SEAT_TAKEN, then the final read.
      expect(cx(r).map((v) => v.ops[0].process)).toEqual(['u2', 'u3', 'u5', 'p', 'u4']);
      expect(cx(r)[4].reason).toContain('no other user could have held it');
    });
  });

  describe('must pass', () => {
    it('one winner, every other caller told SEAT_TAKEN, all concurrent', () => {
      const h = history();
      h.reserve('u2', 'A', taken(0, 8, { instance: 1 }));
      h.reserve('u1', 'A', ok(1, 10, { instance: 0 }));
      h.reserve('u3', 'A', taken(2, 9, { instance: 2 }));
      h.reserve('u4', 'A', taken(50, 60, { instance: 0 }));
      h.reads('A', 'u1', 'u1', 'u1');
      expect(check(h)).toMatchObject({ passed: true });
    });

    it('a SEAT_TAKEN justified only by another user\'s indeterminate claim', () => {
      const h = history();
      h.fault('db-reset', 5, 6);
      h.reserve('u1', 'A', info(0, 10, { error: 'status 500: connection reset' }));
      h.reserve('u2', 'A', taken(8, 12));
      h.reserve('u3', 'A', taken(300, 310));
      h.reads('A', 'u1', 'u1');
      expect(check(h).passed).toBe(true);
    });

    it('an indeterminate answer overlapping a db-reset window (or just after it) is excused', () => {
      const h = history();
      h.fault('db-reset', 50, 51);
      h.reserve('u1', 'A', info(0, 100));
      h.reserve('u2', 'A', info(800, 900)); // within the margin after the fault healed
      h.reads('A', 'u1');
      expect(check(h).passed).toBe(true);
    });

    it('indeterminate answers while backends are killed or the database is blackholed', () => {
      const h = history();
      h.fault('kill-backends', 10, 11);
      h.fault('db-blackhole', 2000, 2400);
      h.reserve('u1', 'A', info(0, 20));
      h.reserve('u2', 'B', info(2100, 7100));
      h.reads('A', null);
      h.reads('B', 'u2');
      expect(check(h).passed).toBe(true);
    });

    it('an instance killed during an op', () => {
      const h = history();
      h.event(1, 'killed', 30);
      h.event(1, 'restarted', 400);
      h.reserve('u1', 'A', info(0, 50, { instance: 1, error: 'socket hang up' }));
      h.reserve('u2', 'A', taken(40, 60, { instance: 0 }));
      h.reads('A', 'u1', 'u1');
      expect(check(h).passed).toBe(true);
    });

    it('an indeterminate reserve by u2 followed by u2 holding the seat', () => {
      const h = history();
      h.fault('db-reset', 5, 6);
      h.reserve('u1', 'A', info(0, 10));
      h.reserve('u2', 'A', taken(1, 3)); // justified by u1's claim, which may have happened
      h.reserve('u2', 'A', info(4, 10)); // u2 tries again, and this one may have happened too
      h.reads('A', 'u2', 'u2');
      expect(check(h).passed).toBe(true);
    });

    it('a release racing a new reserve: the SEAT_TAKEN overlapped the release', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.release('u1', 'A', ok(100, 120));
      h.reserve('u2', 'A', taken(105, 110));
      h.reserve('u3', 'A', ok(110, 130));
      h.reads('A', 'u3');
      expect(check(h).passed).toBe(true);
    });

    it('a SEAT_TAKEN from a hold that was still (or may still have been) live', () => {
      const h = history();
      h.hold('u1', 'A', 100, ok(0, 10));
      h.reserve('u2', 'A', taken(50, 60));
      h.reserve('u3', 'A', taken(120, 130)); // past the TTL, within the slack
      expect(check(h).passed).toBe(true);
    });

    it('SEAT_NOT_FOUND for an unknown seat; HOLD_EXPIRED for an expired hold', () => {
      const h = history(['A']);
      h.reserve('probe-0', 'no-such-seat', failed('SEAT_NOT_FOUND', 0, 10));
      h.hold('u1', 'A', 100, ok(0, 10));
      h.confirm('u1', 'A', failed('HOLD_EXPIRED', 500, 510));
      h.reads('A', null);
      expect(check(h).passed).toBe(true);
    });

    it('the same user claiming twice', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.reserve('u1', 'A', ok(5, 15));
      h.reserve('u2', 'A', taken(20, 30));
      h.reads('A', 'u1');
      expect(check(h).passed).toBe(true);
    });

    it('an excused indeterminate probe of an unknown seat', () => {
      const h = history(['A']);
      h.fault('db-reset', 5, 6);
      h.reserve('probe-0', 'no-such-seat', info(0, 10, { error: 'status 500: connection reset' }));
      expect(check(h).passed).toBe(true);
    });

    it('a GAUNTLET_NO_REDIS answer is the environment\'s, not the candidate\'s', () => {
      const h = history();
      h.reserve('u1', 'A', info(0, 10, { code: 'GAUNTLET_NO_REDIS', error: 'no redis' }));
      expect(check(h).passed).toBe(true);
    });
  });
});
