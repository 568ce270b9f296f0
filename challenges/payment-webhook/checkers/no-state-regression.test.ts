// Tests of no-state-regression on tiny histories: an active subscription read back as pending, failed or gone by a
// later read must fail; reads that overlap, pending before active, failed reads and final-only evidence must not.

import { describe, expect, it } from 'vitest';
import { noStateRegression } from './no-state-regression.ts';
import { history, ok, sub } from './test-history.ts';

const check = (h: ReturnType<typeof history>) => noStateRegression.check(h.input());

describe('no-state-regression', () => {
  describe('must fail', () => {
    it('a late pending downgrades an active subscription', () => {
      const h = history();
      h.payment('p1');
      const pending = h.event('p1', 'pending');
      h.deliver(h.event('p1', 'success'), ok(0, 10));
      h.read('p1', [sub('p1', 'active')], ok(20, 25, { instance: 1 }));
      h.deliver(pending, ok(30, 40, { instance: 2 }), { variant: 'late' });
      h.read('p1', [sub('p1', 'pending')], ok(50, 55, { instance: 3 }));
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('payment "p1" went back from active to a pending subscription: instance 1 read it active at 20 ms, then instance 3 read a pending subscription at 50 ms');
      expect(r.message).toContain('its pending event evt_1 arrived late (d2 to instance 2 at 30 ms, answered 200)');
    });

    it('an active subscription that disappears', () => {
      const h = history();
      h.read('p1', [sub('p1', 'active')], ok(0, 5));
      h.final('p1', []);
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('went back from active to no subscription at all');
    });

    it('active, then failed in the final read', () => {
      const h = history();
      h.read('p1', [sub('p1', 'active')], ok(0, 5));
      h.final('p1', [sub('p1', 'failed')]);
      expect(check(h).passed).toBe(false);
    });

    it('one violation per payment, all payments counted', () => {
      const h = history();
      for (const id of ['p1', 'p2']) {
        h.read(id, [sub(id, 'active')], ok(0, 5));
        h.read(id, [sub(id, 'pending')], ok(10, 15));
        h.read(id, [sub(id, 'pending')], ok(20, 25));
      }
      expect(check(h).violations).toBe(2);
    });
  });

  describe('must pass', () => {
    it('pending, then active, then active', () => {
      const h = history();
      h.read('p1', [sub('p1', 'pending')], ok(0, 5));
      h.read('p1', [sub('p1', 'active')], ok(10, 15));
      h.final('p1', [sub('p1', 'active')]);
      const r = check(h);
      expect(r.passed).toBe(true);
      expect(r.message).toContain('1 payments were read active');
    });

    it('a read that overlaps the read that saw active proves nothing (its order is unknown)', () => {
      const h = history();
      h.read('p1', [sub('p1', 'active')], ok(0, 20));
      h.read('p1', [sub('p1', 'pending')], ok(10, 30));
      h.final('p1', [sub('p1', 'active')]);
      expect(check(h).passed).toBe(true);
    });

    it('a failed read after active is not a regression', () => {
      const h = history();
      h.read('p1', [sub('p1', 'active')], ok(0, 5));
      h.read('p1', null, ok(10, 15));
      h.final('p1', [sub('p1', 'active')]);
      expect(check(h).passed).toBe(true);
    });

    it('never active: pending and failed come and go as they like', () => {
      const h = history();
      h.read('p1', [sub('p1', 'pending')], ok(0, 5));
      h.final('p1', [sub('p1', 'failed')]);
      expect(check(h).passed).toBe(true);
    });
  });
});
