// Tests of eventually-created on tiny hand-written histories: a purchase that can succeed must end active and every
// call for it must answer with that one subscription; crash purchases, declines and out-of-stock are judged elsewhere.

import { describe, expect, it } from 'vitest';
import { eventuallyCreated } from './eventually-created.ts';
import { failed, happy, history, info, ok } from './test-history.ts';

const check = (h: ReturnType<typeof history>) => eventuallyCreated.check(h.input());

describe('eventually-created', () => {
  describe('must fail', () => {
    it('a purchase that never became a subscription (no retry: gave up after a 503)', () => {
      const h = history();
      h.purchase('r1');
      h.create('r1', info(0, 30, { error: 'status 500: payments answered 503' }));
      h.final('r1', null);
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('r1 (user u-r1, basic) never became a subscription');
      expect((r.counterexample as { requestId: string }[])[0].requestId).toBe('r1');
    });

    it('an active purchase whose call was answered with an error', () => {
      const h = history();
      happy(h, 'r1');
      h.purchase('r2');
      h.create('r2', info(0, 30));
      h.final('r1', 'active');
      h.final('r2', 'active');
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.violations).toBe(1);
      expect(r.message).toContain('must ride out transient service faults');
    });

    it('a transient fault misread as a decline', () => {
      const h = history();
      h.purchase('r1');
      h.create('r1', failed('PAYMENT_DECLINED', 0, 30));
      h.final('r1', null);
      expect(check(h).passed).toBe(false);
    });

    it('a duplicate call answered with another subscription', () => {
      const h = history();
      h.purchase('r1');
      h.create('r1', ok(0, 30));
      h.create('r1', ok(10, 40, { instance: 1, value: { id: 'sub-other', chargeId: 'ch-other' } }));
      h.final('r1', 'active');
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('answered subscription sub-other');
    });

    it('a final read that fails, or answers someone else\'s purchase', () => {
      const h = history();
      h.purchase('r1');
      h.create('r1', ok(0, 30));
      h.final('r1', 'unreadable');
      h.purchase('r2');
      h.create('r2', ok(0, 30));
      h.final('r2', 'active', { requestId: 'r9' });
      const r = check(h);
      expect(r.violations).toBe(2);
      expect(r.message).toContain('r1 could not be read after the run');
    });

    it('a call timing out on a live instance', () => {
      const h = history();
      h.purchase('r1');
      h.create('r1', info(0, 20_000, { error: 'timeout' }));
      h.final('r1', 'active');
      expect(check(h).passed).toBe(false);
    });
  });

  describe('must pass', () => {
    it('every purchase active, every call answered with it, duplicates included', () => {
      const h = history();
      happy(h, 'r1');
      happy(h, 'r2', { instance: 1 });
      h.create('r2', ok(15, 60, { instance: 2 }));
      h.final('r1', 'active');
      h.final('r2', 'active');
      expect(check(h)).toMatchObject({ passed: true });
    });

    it('a call lost with its killed instance is excused when the purchase ends active', () => {
      const h = history();
      h.purchase('r1');
      h.create('r1', info(0, 300, { error: 'reset', instance: 2 }));
      h.event(2, 'killed', 200);
      h.create('r1', ok(400, 900, { instance: 1 }));
      h.final('r1', 'active');
      expect(check(h).passed).toBe(true);
    });

    it('out of stock where stock may run out', () => {
      const h = history();
      h.purchase('r1', { product: 'scarce', expect: 'active-or-out-of-stock' });
      h.create('r1', failed('OUT_OF_STOCK', 0, 30));
      h.final('r1', null);
      expect(check(h).passed).toBe(true);
    });

    it('declines, doomed commits and crash purchases are not judged here', () => {
      const h = history();
      h.purchase('r1', { expect: 'declined' });
      h.create('r1', failed('PAYMENT_DECLINED', 0, 30));
      h.final('r1', null);
      h.purchase('r2', { expect: 'purchase-failed', product: 'doomed' });
      h.create('r2', info(0, 30));
      h.final('r2', null);
      h.purchase('r3', { group: 'crash-abandoned' });
      h.create('r3', info(0, 30, { error: 'reset' }));
      h.final('r3', null);
      expect(check(h).passed).toBe(true);
    });
  });
});
