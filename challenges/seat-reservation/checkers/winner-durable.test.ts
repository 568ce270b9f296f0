// Tests of winner-durable on tiny hand-written histories: a sure winner read back as someone else or nobody, an
// unreadable seat, or a holder nobody granted must fail; indeterminate, released and held claims may end either way.

import { describe, expect, it } from 'vitest';
import { winnerDurable } from './winner-durable.ts';
import { history, info, ok, taken } from './test-history.ts';

const check = (h: ReturnType<typeof history>) => winnerDurable.check(h.input());
type V = { seat: string; expected: string | null; read: { instance: number; op: number }; reason: string };

describe('winner-durable', () => {
  describe('must fail', () => {
    it('a won seat read back as nobody', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.reserve('u2', 'A', taken(0, 10));
      h.reads('A', 'u1', null, 'u1');
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.violations).toBe(1);
      expect(r.message).toContain('u1 was told they hold A');
      expect(r.message).toContain('instance 1 reads no reservation');
      expect((r.counterexample as V[])[0]).toMatchObject({ seat: 'A', expected: 'u1', read: { instance: 1 } });
    });

    it('a won seat read back as someone else on every instance: one violation per read', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.reserve('u2', 'A', info(0, 10));
      h.reads('A', 'u2', 'u2', 'u2');
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.violations).toBe(3);
      expect((r.counterexample as V[]).map((v) => v.read.instance)).toEqual([0, 1, 2]);
    });

    it('two users told they hold the seat, none released: whichever the reads show, the other lost it', () => {
      for (const last of ['u1', 'u2']) {
        const h = history();
        h.reserve('u1', 'A', ok(0, 10));
        h.reserve('u2', 'A', ok(0, 12));
        h.reads('A', last, last);
        const r = check(h);
        expect(r.passed, last).toBe(false);
        const lost = last === 'u1' ? 'u2' : 'u1';
        expect(r.violations).toBe(2);
        expect(r.message).toContain(`${lost} was told they hold A and nothing released it, but instance 0 reads ${last}`);
      }
    });

    it('a final read that fails', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.read('A', null, { instance: 0 });
      const t = 2000;
      h.read('A', null, { instance: 1, at: info(t, t + 5000, { error: 'timeout' }) });
      const r = check(h);
      expect(r.passed).toBe(false);
      // instance 0 reads nobody, instance 1 cannot read at all.
      expect(r.violations).toBe(2);
      expect((r.counterexample as V[])[1].reason).toContain('instance 1 could not read A after the run (timeout)');
    });

    it('a holder who never asked for the seat', () => {
      const h = history();
      h.reserve('u1', 'A', info(0, 10));
      h.reads('A', 'u9');
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('u9 never made a request');
    });

    it('a holder who was only ever told SEAT_TAKEN', () => {
      const h = history();
      h.reserve('u1', 'A', info(0, 10));
      h.reserve('u2', 'A', taken(0, 10));
      h.reads('A', 'u2');
      expect(check(h).passed).toBe(false);
    });

    it('a released reservation still read back as its holder', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.release('u1', 'A', ok(20, 30));
      h.reads('A', 'u1');
      expect(check(h).passed).toBe(false);
    });

    it('the winner replaced by a later caller who was handed the winner\'s reservation', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.reserve('u2', 'A', ok(20, 30, { as: 'u1' }));
      h.reads('A', 'u2', 'u2');
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.violations).toBe(2);
    });

    it('reports every seat', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.reserve('u2', 'B', ok(0, 10));
      h.reads('A', null);
      h.reads('B', null);
      const r = check(h);
      expect(r.violations).toBe(2);
      expect((r.counterexample as V[]).map((v) => v.seat)).toEqual(['A', 'B']);
    });
  });

  describe('must pass', () => {
    it('the winner on every instance and the fresh one', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.reserve('u2', 'A', taken(0, 10));
      h.reads('A', 'u1', 'u1', 'u1');
      expect(check(h)).toMatchObject({ passed: true });
    });

    it('an indeterminate reserve by u2 followed by u2 holding the seat', () => {
      const h = history();
      h.reserve('u1', 'A', taken(0, 10));
      h.reserve('u2', 'A', info(0, 5000, { error: 'status 500' }));
      h.reads('A', 'u2', 'u2');
      expect(check(h).passed).toBe(true);
    });

    it('an indeterminate reserve that did not happen', () => {
      const h = history();
      h.reserve('u2', 'A', info(0, 5000));
      h.reads('A', null, null);
      expect(check(h).passed).toBe(true);
    });

    it('a released seat read as nobody, or as the next winner', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.release('u1', 'A', ok(20, 30));
      h.reserve('u1', 'B', ok(0, 10));
      h.release('u1', 'B', ok(20, 30));
      h.reserve('u2', 'B', ok(25, 40));
      h.reads('A', null, null);
      h.reads('B', 'u2', 'u2');
      expect(check(h).passed).toBe(true);
    });

    it('an indeterminate release: either outcome', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.release('u1', 'A', info(20, 30));
      h.reserve('u1', 'B', ok(0, 10));
      h.release('u1', 'B', info(20, 30));
      h.reads('A', 'u1');
      h.reads('B', null);
      expect(check(h).passed).toBe(true);
    });

    it('a hold that may or may not have expired by the final reads', () => {
      const h = history();
      h.hold('u1', 'A', 30_000, ok(0, 10));
      h.hold('u2', 'B', 30_000, ok(0, 10));
      h.reads('A', 'u1');
      h.reads('B', null);
      expect(check(h).passed).toBe(true);
    });

    it('a confirmed hold is the winner', () => {
      const h = history();
      h.hold('u1', 'A', 400, ok(0, 10));
      h.confirm('u1', 'A', ok(100, 110));
      h.reads('A', 'u1', 'u1');
      expect(check(h).passed).toBe(true);
    });

    it('an expired hold taken over by another user', () => {
      const h = history();
      h.hold('u1', 'A', 100, ok(0, 10));
      h.reserve('u2', 'A', ok(500, 510));
      h.reserve('u3', 'A', taken(500, 512));
      h.reads('A', 'u2', 'u2');
      expect(check(h).passed).toBe(true);
    });
  });
});
