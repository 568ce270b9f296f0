// Tests of idempotent-rereserve on tiny hand-written histories: a holder re-reserving its seat and getting
// SEAT_TAKEN, an error or someone else's reservation must fail; unsure or ended claims are not exercised.

import { describe, expect, it } from 'vitest';
import { idempotentRereserve } from './idempotent-rereserve.ts';
import { failed, history, info, ok, taken } from './test-history.ts';

const check = (h: ReturnType<typeof history>) => idempotentRereserve.check(h.input());
type V = { reason: string; ops: { op: number; process: string }[] };
const cx = (r: ReturnType<typeof check>) => r.counterexample as V[];

describe('idempotent-rereserve', () => {
  describe('must fail', () => {
    it('re-reserve by the holder getting SEAT_TAKEN', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10, { instance: 0 }));
      h.reserve('u2', 'A', taken(0, 10, { instance: 1 }));
      h.reserve('u1', 'A', taken(100, 110, { instance: 1 }));
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.violations).toBe(1);
      expect(r.message).toContain('u1 already held A (u1 on instance 0 (op 0');
      expect(r.message).toContain('(u1 on instance 1 (op 2');
      expect(r.message).toContain('got SEAT_TAKEN');
      expect(cx(r)[0].ops.map((o) => o.op)).toEqual([0, 2]);
    });

    it('re-reserve by the holder getting someone else\'s reservation', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.reserve('u1', 'A', ok(100, 110, { as: 'u2' }));
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain("got u2's reservation");
    });

    it('re-reserve by the holder getting a 500 outside any fault', () => {
      const h = history();
      h.fault('db-latency', 0, 1000);
      h.reserve('u1', 'A', ok(0, 10));
      h.reserve('u1', 'A', info(100, 110, { error: 'status 500: duplicate key' }));
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('status 500: duplicate key');
    });

    it('re-reserve by the holder of a live hold getting SEAT_TAKEN or HOLD_EXPIRED', () => {
      const h = history();
      h.hold('u1', 'A', 30_000, ok(0, 10));
      h.reserve('u1', 'A', taken(100, 110));
      h.reserve('u1', 'A', failed('HOLD_EXPIRED', 200, 210));
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.violations).toBe(2);
    });

    it('reports every failed re-reserve, on every seat', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.reserve('u2', 'B', ok(0, 10));
      h.reserve('u1', 'A', taken(20, 30));
      h.reserve('u1', 'A', ok(40, 50));
      h.reserve('u2', 'B', taken(60, 70));
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.violations).toBe(2);
      expect(r.message).toContain('(and 1 more violation)');
      expect(cx(r).map((v) => v.ops[1].op)).toEqual([2, 4]);
    });
  });

  describe('must pass', () => {
    it('the holder re-reserving gets its own reservation', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.reserve('u1', 'A', ok(100, 110, { instance: 2 }));
      h.reserve('u1', 'A', ok(200, 210, { value: null })); // an empty body: ok, nobody else named
      const r = check(h);
      expect(r.passed).toBe(true);
      expect(r.message).toContain('all 2 repeated reservations');
    });

    it('not exercised: nobody re-reserved', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.reserve('u2', 'A', taken(20, 30));
      const r = check(h);
      expect(r.passed).toBe(true);
      expect(r.message).toContain('not exercised');
    });

    it('the same user claiming twice at once: neither was surely held before the other began', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.reserve('u1', 'A', taken(5, 15)); // definite-rejections' business (nobody else held it), not this check's
      expect(check(h).message).toContain('not exercised');
    });

    it('an indeterminate first claim: the user may not hold the seat', () => {
      const h = history();
      h.fault('db-reset', 5, 6);
      h.reserve('u1', 'A', info(0, 10));
      h.reserve('u1', 'A', taken(100, 110));
      expect(check(h).passed).toBe(true);
    });

    it('after a release (even an indeterminate one), the seat is no longer surely the user\'s', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.release('u1', 'A', info(20, 30));
      h.reserve('u1', 'A', taken(100, 110));
      h.reserve('u2', 'B', ok(0, 10));
      h.release('u2', 'B', ok(20, 30));
      h.reserve('u2', 'B', taken(100, 110));
      expect(check(h).passed).toBe(true);
    });

    it('after the user\'s hold expired', () => {
      const h = history();
      h.hold('u1', 'A', 100, ok(0, 10));
      h.reserve('u1', 'A', failed('HOLD_EXPIRED', 500, 510));
      expect(check(h).passed).toBe(true);
    });

    it('an indeterminate re-reserve excused by a db-reset, or by the instance being killed', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.fault('db-reset', 105, 106);
      h.reserve('u1', 'A', info(100, 110));
      h.reserve('u2', 'B', ok(0, 10, { instance: 1 }));
      h.event(1, 'killed', 5000);
      h.reserve('u2', 'B', info(4990, 5010, { instance: 1, error: 'socket hang up' }));
      expect(check(h).passed).toBe(true);
    });
  });
});
