// Tests of no-lost-seats on tiny hand-written histories: a won seat, or one a caller was turned away from, read
// back as nobody's must fail; released seats, expirable holds and all-indeterminate seats may end empty.

import { describe, expect, it } from 'vitest';
import { noLostSeats } from './no-lost-seats.ts';
import { failed, history, info, ok, taken } from './test-history.ts';

const check = (h: ReturnType<typeof history>) => noLostSeats.check(h.input());
type V = { seat: string; reason: string; evidence: { op: number; process: string }[] };
const cx = (r: ReturnType<typeof check>) => r.counterexample as V[];

describe('no-lost-seats', () => {
  describe('must fail', () => {
    it('a won seat read back as nobody\'s', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.reserve('u2', 'A', taken(0, 10));
      h.reads('A', null, null);
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.violations).toBe(1);
      expect(r.message).toContain('u1 reserved A (op 0) and never released it');
      expect(cx(r)[0].evidence.map((e) => e.op)).toEqual([0, 2]);
    });

    it('a confirmed hold read back as nobody\'s', () => {
      const h = history();
      h.hold('u1', 'A', 100, ok(0, 10));
      h.confirm('u1', 'A', ok(50, 60));
      h.reads('A', null);
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('u1 reserved A (op 1)');
    });

    it('everyone told SEAT_TAKEN and nobody holds it', () => {
      const h = history();
      h.reserve('u1', 'A', taken(0, 10, { instance: 0 }));
      h.reserve('u2', 'A', taken(0, 10, { instance: 1 }));
      h.reserve('u3', 'A', taken(0, 10, { instance: 2 }));
      h.reads('A', null, null, null);
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.violations).toBe(1);
      expect(r.message).toContain('u1 on instance 0 (op 0');
      expect(r.message).toContain('was told SEAT_TAKEN for A, yet after the run nobody holds it');
    });

    it('a SEAT_TAKEN explained only by an indeterminate reserve that was never released, and the seat ends empty', () => {
      // If u1's reserve happened, u1 should still hold A; if it did not, u2's SEAT_TAKEN was untrue.
      const h = history();
      h.reserve('u1', 'A', info(0, 10));
      h.reserve('u2', 'A', taken(5, 15));
      h.reads('A', null, null);
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(cx(r)[0].evidence[0]).toMatchObject({ op: 1, process: 'u2' });
    });

    it('a SEAT_TAKEN long after the only other claim was released, and the seat ends empty', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.release('u1', 'A', ok(20, 30));
      h.reserve('u2', 'A', taken(200, 210));
      h.reads('A', null);
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(cx(r)[0].evidence[0]).toMatchObject({ op: 2, process: 'u2' });
    });

    it('reports every lost seat', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.reserve('u2', 'B', taken(0, 10));
      h.reserve('u3', 'C', ok(0, 10));
      h.reads('A', null);
      h.reads('B', null);
      h.reads('C', null);
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.violations).toBe(3);
      expect(cx(r).map((v) => v.seat)).toEqual(['A', 'B', 'C']);
    });
  });

  describe('must pass', () => {
    it('a won seat read back as the winner\'s', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.reserve('u2', 'A', taken(0, 10));
      h.reads('A', 'u1', 'u1');
      expect(check(h)).toMatchObject({ passed: true });
    });

    it('a seat whose every attempt was indeterminate may end empty', () => {
      const h = history();
      h.fault('db-blackhole', 0, 500);
      h.reserve('u1', 'A', info(0, 5000));
      h.reserve('u2', 'A', info(0, 5000));
      h.reads('A', null, null);
      expect(check(h).passed).toBe(true);
    });

    it('a seat nobody asked for ends empty', () => {
      const h = history();
      h.reads('A', null, null);
      expect(check(h).passed).toBe(true);
    });

    it('a won seat that was then released (ok or indeterminate)', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.release('u1', 'A', ok(20, 30));
      h.reserve('u2', 'B', ok(0, 10));
      h.release('u2', 'B', info(20, 30));
      h.reads('A', null);
      h.reads('B', null);
      expect(check(h).passed).toBe(true);
    });

    it('a SEAT_TAKEN while another user held the seat, which they released later', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.reserve('u2', 'A', taken(5, 8));
      h.release('u1', 'A', ok(20, 30));
      h.reads('A', null);
      expect(check(h).passed).toBe(true);
    });

    it('a release racing a new reserve: the SEAT_TAKEN overlapped the release', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.release('u1', 'A', ok(100, 120));
      h.reserve('u2', 'A', taken(105, 110));
      h.reads('A', null);
      expect(check(h).passed).toBe(true);
    });

    it('interlopers told SEAT_TAKEN while a hold was live, and the hold expired unconfirmed', () => {
      const h = history();
      h.hold('u1', 'A', 100, ok(0, 10));
      h.reserve('u2', 'A', taken(20, 30));
      h.confirm('u1', 'A', failed('HOLD_EXPIRED', 500, 510));
      h.reads('A', null, null);
      expect(check(h).passed).toBe(true);
    });

    it('a SEAT_TAKEN explained by another user\'s indeterminate hold (which may have expired)', () => {
      const h = history();
      h.fault('db-reset', 0, 1);
      h.hold('u1', 'A', 100, info(0, 10));
      h.reserve('u2', 'A', taken(5, 15));
      h.reads('A', null);
      expect(check(h).passed).toBe(true);
    });

    it('a seat some final read could not read is left to winner-durable', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.read('A', null, { at: info(2000, 2100) });
      expect(check(h).passed).toBe(true);
    });

    it('a seat read as held by someone on any instance is not lost (single-winner / winner-durable judge the rest)', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.reads('A', null, 'u1');
      expect(check(h).passed).toBe(true);
    });
  });
});
