// Tests of one-subscription-per-payment on tiny histories: two subscriptions for one payment, after the run or only
// during it, must fail; one subscription however many deliveries, repeated rows of one subscription, and unreadable
// payments must not.

import { describe, expect, it } from 'vitest';
import { oneSubscriptionPerPayment } from './one-subscription-per-payment.ts';
import { history, ok, sub, error } from './test-history.ts';

const check = (h: ReturnType<typeof history>) => oneSubscriptionPerPayment.check(h.input());

describe('one-subscription-per-payment', () => {
  describe('must fail', () => {
    it('concurrent copies of an event each created a subscription', () => {
      const h = history();
      h.payment('p1');
      const e = h.event('p1', 'success');
      for (let i = 0; i < 3; i++) h.deliver(e, ok(10, 20, { instance: i }), { kind: i ? 'duplicate' : 'valid', variant: 'concurrent' });
      h.final('p1', [sub('p1', 'active', { id: 'a' }), sub('p1', 'active', { id: 'b' })], 2);
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.violations).toBe(1);
      expect(r.message).toContain('payment "p1" has 2 subscriptions (a active, b active), read from instance 2');
      expect(r.message).toContain('after the run');
      expect(r.message).toContain('(same instant) to instance 1 at 10 ms → 200');
      expect((r.counterexample as { paymentId: string; deliveries: unknown[] }[])[0]).toMatchObject({ paymentId: 'p1', count: 2 });
    });

    it('a duplicate visible only during the run (later merged) still counts', () => {
      const h = history();
      h.payment('p1');
      h.deliver(h.event('p1', 'success'), ok(0, 10));
      h.read('p1', [sub('p1', 'pending', { id: 'a' }), sub('p1', 'active', { id: 'b' })], ok(20, 25));
      h.final('p1', [sub('p1', 'active', { id: 'b' })]);
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('during the run');
    });

    it('every affected payment is counted once', () => {
      const h = history();
      for (const id of ['p1', 'p2']) {
        h.payment(id);
        h.read(id, [sub(id, 'active', { id: 'x' }), sub(id, 'active', { id: 'y' })], ok(5, 6));
        h.final(id, [sub(id, 'active', { id: 'x' }), sub(id, 'active', { id: 'y' })]);
      }
      expect(check(h).violations).toBe(2);
    });

    it('two subscriptions without ids', () => {
      const h = history();
      h.final('p1', [{ ...sub('p1', 'active'), id: undefined as unknown as string }, { ...sub('p1', 'failed'), id: undefined as unknown as string }]);
      expect(check(h).passed).toBe(false);
    });
  });

  describe('must pass', () => {
    it('many deliveries, one subscription', () => {
      const h = history();
      h.payment('p1');
      const e = h.event('p1', 'success');
      h.deliver(e, ok(0, 10));
      h.deliver(e, ok(20, 30, { instance: 1 }), { kind: 'duplicate', variant: 'sequential' });
      h.final('p1', [sub('p1', 'active')]);
      const r = check(h);
      expect(r.passed).toBe(true);
      expect(r.message).toContain('every one of the 1 payments read back has at most one subscription');
    });

    it('the same subscription repeated in one answer (a join) is one subscription', () => {
      const h = history();
      h.final('p1', [sub('p1', 'active', { id: 'a' }), sub('p1', 'active', { id: 'a' })]);
      expect(check(h).passed).toBe(true);
    });

    it('no subscription, or an unreadable payment, is not a duplicate', () => {
      const h = history();
      h.final('p1', []);
      h.read('p2', null, error(500, 0, 5));
      expect(check(h).passed).toBe(true);
    });
  });
});
