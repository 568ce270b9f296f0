// Tests of hold-expires and release-frees-seat on tiny hand-written histories: an expired or released claim
// still blocking others, or an expired hold confirmed, must fail; live, racing and unsure claims must not.

import { describe, expect, it } from 'vitest';
import { holdExpires, releaseFreesSeat } from './hold-release.ts';
import { failed, history, info, ok, taken } from './test-history.ts';

type H = ReturnType<typeof history>;
type V = { reason: string; ops: { op: number; process: string }[] };
const cx = (r: { counterexample?: unknown }) => r.counterexample as V[];

describe('hold-expires', () => {
  const check = (h: H) => holdExpires.check(h.input());

  describe('must fail', () => {
    it('an abandoned hold past its TTL still blocking others', () => {
      const h = history();
      h.hold('u1', 'A', 100, ok(0, 10));
      h.reserve('u2', 'A', taken(500, 510, { instance: 1 }));
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.violations).toBe(1);
      expect(r.message).toContain("u1's 100 ms hold on A");
      expect(r.message).toContain('had expired by 135 ms');
      expect(r.message).toContain('u2 on instance 1 (op 1');
      expect(cx(r)[0].ops.map((o) => o.process)).toEqual(['u1', 'u2']);
    });

    it('every rejected member of the crowd is a violation', () => {
      const h = history();
      h.hold('u1', 'A', 100, ok(0, 10));
      for (let i = 2; i <= 6; i++) h.reserve(`u${i}`, 'A', taken(500, 510));
      h.hold('v1', 'B', 100, ok(0, 10));
      h.reserve('v2', 'B', taken(500, 510));
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.violations).toBe(6);
      expect(r.message).toContain('(and 5 more violations)');
    });

    it('a confirm of a surely expired hold succeeding', () => {
      const h = history();
      h.hold('u1', 'A', 100, ok(0, 10));
      h.confirm('u1', 'A', ok(500, 510));
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('u1 confirmed a 100 ms hold on A 490 ms after getting it');
      expect(cx(r)[0].ops.map((o) => o.op)).toEqual([0, 1]);
    });

    it('a confirm after an earlier re-hold that had itself surely expired', () => {
      const h = history();
      h.hold('u1', 'A', 100, ok(0, 10));
      h.hold('u1', 'A', 100, ok(200, 210));
      h.confirm('u1', 'A', ok(500, 510));
      expect(check(h).passed).toBe(false);
    });

    it('a hold that surely expired, whatever an indeterminate release did', () => {
      // The release may not have happened, but the hold expired at 135 ms either way: this is the TTL's failure.
      const h = history();
      h.hold('u1', 'A', 100, ok(0, 10));
      h.release('u1', 'A', info(50, 60));
      h.reserve('u2', 'A', taken(500, 510));
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain("u1's 100 ms hold on A");
    });
  });

  describe('must pass', () => {
    it('interlopers told SEAT_TAKEN while the hold is live', () => {
      const h = history();
      h.hold('u1', 'A', 400, ok(0, 10));
      h.reserve('u2', 'A', taken(20, 30));
      h.reserve('u3', 'A', taken(300, 310));
      expect(check(h)).toMatchObject({ passed: true });
    });

    it('a SEAT_TAKEN just past the TTL, within the clock slack', () => {
      const h = history();
      h.hold('u1', 'A', 100, ok(0, 10));
      h.reserve('u2', 'A', taken(130, 140));
      expect(check(h).passed).toBe(true);
    });

    it('a hold whose TTL elapsed before the crowd: one wins, the others are told SEAT_TAKEN', () => {
      const h = history();
      h.hold('u1', 'A', 100, ok(0, 10));
      h.reserve('u2', 'A', ok(500, 520));
      h.reserve('u3', 'A', taken(500, 510));
      h.reserve('u4', 'A', taken(505, 525));
      h.confirm('u1', 'A', taken(600, 610));
      expect(check(h).passed).toBe(true);
    });

    it('a confirm in time; an expired one told HOLD_EXPIRED', () => {
      const h = history();
      h.hold('u1', 'A', 100, ok(0, 10));
      h.confirm('u1', 'A', ok(50, 60));
      h.hold('u2', 'B', 100, ok(0, 10));
      h.confirm('u2', 'B', failed('HOLD_EXPIRED', 500, 510));
      h.reserve('u3', 'A', taken(500, 510)); // A was confirmed: a reservation never expires
      expect(check(h).passed).toBe(true);
    });

    it('a confirm after the hold was renewed by a second hold', () => {
      const h = history();
      h.hold('u1', 'A', 100, ok(0, 10));
      h.hold('u1', 'A', 100, ok(400, 410));
      h.confirm('u1', 'A', ok(480, 490));
      expect(check(h).passed).toBe(true);
    });

    it('a confirm after the hold was renewed by an indeterminate second hold', () => {
      // The second hold timed out but may have taken effect at ~405 ms: live until ~505 ms at least.
      const h = history();
      h.hold('u1', 'A', 100, ok(0, 10));
      h.hold('u1', 'A', 100, info(400, 410));
      h.confirm('u1', 'A', ok(480, 490));
      expect(check(h).passed).toBe(true);
    });

    it('a confirm concurrent with a renewing hold', () => {
      const h = history();
      h.hold('u1', 'A', 100, ok(0, 10));
      h.hold('u1', 'A', 100, ok(400, 500));
      h.confirm('u1', 'A', ok(450, 460));
      expect(check(h).passed).toBe(true);
    });

    it('a confirm repeated after an in-time confirm (the seat is already a reservation)', () => {
      const h = history();
      h.hold('u1', 'A', 100, ok(0, 10));
      h.confirm('u1', 'A', ok(50, 60));
      h.confirm('u1', 'A', ok(500, 510));
      expect(check(h).passed).toBe(true);
    });

    it('a confirm after the holder reserved the seat outright', () => {
      const h = history();
      h.hold('u1', 'A', 100, ok(0, 10));
      h.reserve('u1', 'A', ok(50, 60));
      h.confirm('u1', 'A', ok(500, 510));
      expect(check(h).passed).toBe(true);
    });

    it('a SEAT_TAKEN justified by another user\'s indeterminate hold', () => {
      const h = history();
      h.hold('u1', 'A', 100, info(0, 10));
      h.reserve('u2', 'A', taken(50, 60));
      expect(check(h).passed).toBe(true);
    });

    it('a seat released and still blocking is release-frees-seat\'s failure, not this one\'s', () => {
      const h = history();
      h.hold('u1', 'A', 30_000, ok(0, 10));
      h.release('u1', 'A', ok(100, 110));
      h.reserve('u2', 'A', taken(200, 210));
      expect(check(h).passed).toBe(true);
    });
  });
});

describe('release-frees-seat', () => {
  const check = (h: H) => releaseFreesSeat.check(h.input());

  describe('must fail', () => {
    it('a released reservation still blocking others', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.release('u1', 'A', ok(100, 110));
      h.reserve('u2', 'A', taken(200, 210, { instance: 2 }));
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.violations).toBe(1);
      expect(r.message).toContain('u1 released A (ended by 110 ms)');
      expect(r.message).toContain('u2 on instance 2 (op 2');
      expect(cx(r)[0].ops.map((o) => o.process)).toEqual(['u1', 'u2']);
    });

    it('a released hold still blocking others, every rejection reported', () => {
      const h = history();
      h.hold('u1', 'A', 30_000, ok(0, 10));
      h.release('u1', 'A', ok(100, 110));
      h.reserve('u2', 'A', taken(200, 210));
      h.reserve('u3', 'A', taken(200, 215));
      h.hold('u4', 'A', 1000, taken(220, 230));
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.violations).toBe(3);
      expect(cx(r).map((v) => v.ops[1].process)).toEqual(['u2', 'u3', 'u4']);
    });
  });

  describe('must pass', () => {
    it('a release racing a new reserve: the SEAT_TAKEN came before the release completed', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.release('u1', 'A', ok(100, 120));
      h.reserve('u2', 'A', taken(105, 110));
      h.reserve('u3', 'A', ok(110, 130));
      h.reserve('u4', 'A', taken(200, 210)); // u3 holds it now
      expect(check(h)).toMatchObject({ passed: true });
    });

    it('an indeterminate or failed release may not have freed anything', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.release('u1', 'A', info(100, 110));
      h.reserve('u2', 'A', taken(200, 210));
      h.reserve('v1', 'B', ok(0, 10));
      h.release('v1', 'B', failed('SEAT_NOT_FOUND', 100, 110));
      h.reserve('v2', 'B', taken(200, 210));
      expect(check(h).passed).toBe(true);
    });

    it('a release sent while the user\'s own hold was still in flight may have found nothing to release', () => {
      // The release (10–15 ms) may have run before the hold (0–20 ms) took effect: u1 may hold A for 30 s.
      const h = history();
      h.hold('u1', 'A', 30_000, ok(0, 20));
      h.release('u1', 'A', ok(10, 15));
      h.reserve('u2', 'A', taken(100, 110));
      expect(check(h).passed).toBe(true);
    });

    it('the holder reserved again after releasing', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.release('u1', 'A', ok(100, 110));
      h.reserve('u1', 'A', ok(150, 160));
      h.reserve('u2', 'A', taken(200, 210));
      expect(check(h).passed).toBe(true);
    });

    it('a hold that surely expired is not blamed on a release that may not have happened', () => {
      const h = history();
      h.hold('u1', 'A', 100, ok(0, 10));
      h.release('u1', 'A', info(50, 60));
      h.reserve('u2', 'A', taken(500, 510));
      expect(check(h).passed).toBe(true);
    });

    it('an expired hold still blocking is hold-expires\' failure, not this one\'s', () => {
      const h = history();
      h.hold('u1', 'A', 100, ok(0, 10));
      h.reserve('u2', 'A', taken(500, 510));
      expect(check(h).passed).toBe(true);
    });
  });
});
