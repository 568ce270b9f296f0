// Tests of single-winner on tiny hand-written histories: two users surely holding one seat at once, or final
// reads naming different holders, must fail; overlapping, indeterminate, released and expired claims must not.

import { describe, expect, it } from 'vitest';
import { singleWinner } from './single-winner.ts';
import { history, info, ok, taken } from './test-history.ts';

const check = (h: ReturnType<typeof history>) => singleWinner.check(h.input());

describe('single-winner', () => {
  describe('must fail', () => {
    it('two overlapping ok reserves by different users', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10, { instance: 0 }));
      h.reserve('u2', 'A', ok(2, 12, { instance: 1 }));
      h.reads('A', 'u1', 'u1');
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.violations).toBe(1);
      expect(r.message).toContain('u1');
      expect(r.message).toContain('u2');
      const ce = r.counterexample as { conflicts: { seat: string; first: { process: string; op: number }; second: { process: string; op: number } }[] };
      expect(ce.conflicts).toHaveLength(1);
      expect(ce.conflicts[0]).toMatchObject({ seat: 'A', first: { process: 'u1', op: 0 }, second: { process: 'u2', op: 1 } });
    });

    it('a second user wins long after the first, with nothing freeing the seat', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.reserve('u2', 'A', ok(500, 510));
      expect(check(h).passed).toBe(false);
    });

    it('a win while the holder\'s release had not even been sent', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.reserve('u2', 'A', ok(50, 60));
      h.release('u1', 'A', ok(100, 110));
      const r = check(h);
      expect(r.passed).toBe(false);
      expect((r.counterexample as { conflicts: { second: { process: string } }[] }).conflicts[0].second.process).toBe('u2');
    });

    it('a reserve inside a live hold of another user', () => {
      const h = history();
      h.hold('u1', 'A', 10_000, ok(0, 10));
      h.reserve('u2', 'A', ok(100, 110));
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('hold');
    });

    it('final reads disagree across instances', () => {
      const h = history();
      h.reserve('u1', 'A', info(0, 10));
      h.reserve('u2', 'A', info(0, 10));
      h.reads('A', 'u1', 'u2', 'u1');
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.violations).toBe(1);
      expect(r.message).toMatch(/disagree on A: u1 on instance 0, 2 vs u2 on instance 1/);
      expect(r.counterexample).toMatchObject({ conflicts: [], finalReadSplits: [{ seat: 'A', holders: { u1: [0, 2], u2: [1] } }] });
    });

    it('reports every conflict and every split, on every seat', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.reserve('u2', 'A', ok(0, 10));
      h.reserve('u3', 'A', ok(0, 10));
      h.reserve('u4', 'B', ok(0, 10));
      h.reserve('u5', 'B', ok(5, 15));
      h.reads('A', 'u1', 'u2');
      h.reads('B', 'u4', 'u4');
      const r = check(h);
      expect(r.passed).toBe(false);
      // A: u2 and u3 each against u1; B: u5 against u4; plus the split on A.
      expect(r.violations).toBe(4);
      expect(r.message).toContain('3 such conflicts on 2 seat(s)');
      const ce = r.counterexample as { conflicts: { seat: string }[]; finalReadSplits: { seat: string }[] };
      expect(ce.conflicts.map((c) => c.seat).sort()).toEqual(['A', 'A', 'B']);
      expect(ce.finalReadSplits.map((s) => s.seat)).toEqual(['A']);
    });
  });

  describe('must pass', () => {
    it('concurrent calls: one ok, the others SEAT_TAKEN, intervals overlapping', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10, { instance: 0 }));
      h.reserve('u2', 'A', taken(0, 10, { instance: 1 }));
      h.reserve('u3', 'A', taken(1, 9, { instance: 2 }));
      h.reads('A', 'u1', 'u1', 'u1');
      expect(check(h)).toMatchObject({ passed: true });
    });

    it('the same user claiming twice', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.reserve('u1', 'A', ok(5, 15, { instance: 1 }));
      h.reserve('u1', 'A', ok(100, 110));
      h.reads('A', 'u1', 'u1');
      expect(check(h).passed).toBe(true);
    });

    it('an indeterminate reserve followed by another user\'s win', () => {
      const h = history();
      h.reserve('u1', 'A', info(0, 10));
      h.reserve('u2', 'A', ok(20, 30));
      h.reads('A', 'u2', 'u2');
      expect(check(h).passed).toBe(true);
    });

    it('a release racing a new reserve: released before the other reserve completed', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.release('u1', 'A', ok(100, 120));
      h.reserve('u2', 'A', ok(90, 115));
      h.reads('A', 'u2', 'u2');
      expect(check(h).passed).toBe(true);
    });

    it('an indeterminate release, then another user\'s win', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.release('u1', 'A', info(100, 200));
      h.reserve('u2', 'A', ok(300, 310));
      expect(check(h).passed).toBe(true);
    });

    it('a hold whose TTL elapsed before the other user\'s claim', () => {
      const h = history();
      h.hold('u1', 'A', 100, ok(0, 10));
      h.reserve('u2', 'A', ok(200, 210));
      h.reads('A', 'u2');
      expect(check(h).passed).toBe(true);
    });

    it('a claim landing within the hold\'s clock slack', () => {
      // 100 ms hold invoked at 0: surely live only until 100 - 25 ms of slack.
      const h = history();
      h.hold('u1', 'A', 100, ok(0, 10));
      h.reserve('u2', 'A', ok(70, 80));
      expect(check(h).passed).toBe(true);
    });

    it('an ok that hands the caller someone else\'s reservation grants the caller nothing (definite-rejections judges it)', () => {
      const h = history();
      h.reserve('u1', 'A', ok(0, 10));
      h.reserve('u2', 'A', ok(20, 30, { as: 'u1' }));
      expect(check(h).passed).toBe(true);
    });

    it('final reads: some nobody, some the same holder (winner-durable judges the nobody)', () => {
      const h = history();
      h.reserve('u1', 'A', info(0, 10));
      h.reads('A', 'u1', null, 'u1');
      expect(check(h).passed).toBe(true);
    });

    it('an instance killed during an op: its indeterminate claim never counts as a win', () => {
      const h = history();
      h.reserve('u1', 'A', info(0, 50, { instance: 1, error: 'socket hang up' }));
      h.event(1, 'killed', 20);
      h.reserve('u2', 'A', ok(5, 15, { instance: 0 }));
      h.reads('A', 'u2', 'u2');
      expect(check(h).passed).toBe(true);
    });
  });
});
