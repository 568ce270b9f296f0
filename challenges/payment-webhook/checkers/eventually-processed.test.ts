// Tests of eventually-processed on tiny histories: a successful payment without an active subscription, with the
// wrong amount (or a string amount) or a mangled user, an active one for a failed payment, a foreign subscription, or
// an unreadable payment must fail; exact fields, failed/pending payments without an active one, and payments not
// read in this scenario must not. Without a ledger the check cannot decide.

import { describe, expect, it } from 'vitest';
import { eventuallyProcessed } from './eventually-processed.ts';
import { history, ok, refused, sub } from './test-history.ts';
import { INJECTION_USER_IDS } from '../provider/payloads.ts';

const check = (h: ReturnType<typeof history>) => eventuallyProcessed.check(h.input());

describe('eventually-processed', () => {
  describe('must fail', () => {
    it('a successful payment whose every delivery was refused has no subscription', () => {
      const h = history();
      h.payment('p1', 'success', { amount: 1900, userId: 'u1' });
      const e = h.event('p1', 'success');
      h.deliver(e, refused(401, 0, 5));
      h.deliver(e, refused(401, 10, 15, { instance: 1 }), { kind: 'duplicate' });
      h.final('p1', []);
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('payment "p1" (success, amount 1900, user "u1") has no subscription on instance 0 after the run; its deliveries: d1 success to instance 0 at 0 ms → 401; d2 success to instance 1 at 10 ms → 401');
    });

    it('still pending after the run', () => {
      const h = history();
      h.payment('p1');
      h.final('p1', [sub('p1', 'pending')]);
      expect(check(h).message).toContain('has only a pending subscription');
    });

    it('an injection string mangled (flagged as an injection probe), or the amount as a string', () => {
      const h = history();
      const probe = `${INJECTION_USER_IDS[0]} #001`;
      h.payment('p1', 'success', { userId: probe });
      h.payment('p2', 'success', { amount: 1900 });
      h.final('p1', [sub('p1', 'active', { userId: probe.replace(/'/g, "''") })]);
      h.final('p2', [sub('p2', 'active', { amount: '1900' })]);
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.violations).toBe(2);
      expect(r.message).toContain(`userId ${JSON.stringify(probe.replace(/'/g, "''"))} instead of ${JSON.stringify(probe)}`);
      const [first, second] = r.counterexample as { message: string; injectionProbe?: boolean }[];
      expect(first.injectionProbe).toBe(true);
      expect(second.injectionProbe).toBeUndefined();
      expect(second.message).toContain('amount "1900" (a string, not a number) instead of 1900');
    });

    it('an active subscription for a failed payment', () => {
      const h = history();
      h.payment('p1', 'failed');
      h.final('p1', [sub('p1', 'active')]);
      expect(check(h).message).toContain('did not succeed, yet instance 0 reads an active subscription');
    });

    it('a subscription of another payment in the answer', () => {
      const h = history();
      h.payment('p1');
      h.final('p1', [sub('p1', 'active'), sub('p2', 'active')]);
      expect(check(h).message).toContain('getSubscriptionsByPaymentId("p1") on instance 0 returned a subscription of payment "p2"');
    });

    it('an unreadable payment after the run', () => {
      const h = history();
      h.payment('p1');
      h.final('p1', null);
      expect(check(h).message).toContain('instance 0 could not read the subscriptions of payment "p1"');
    });
  });

  describe('must pass', () => {
    it('exact fields, injection strings intact; failed and pending payments without an active subscription', () => {
      const h = history();
      const user = `'; DROP TABLE subscriptions; -- 😀`;
      h.payment('p1', 'success', { userId: user, amount: 4999 });
      h.payment('p2', 'failed');
      h.payment('p3', 'pending');
      h.payment('p4', 'failed');
      h.final('p1', [sub('p1', 'active', { userId: user, amount: 4999 })]);
      h.final('p2', [sub('p2', 'failed')]);
      h.final('p3', [sub('p3', 'pending')]);
      h.final('p4', []);
      const r = check(h);
      expect(r.passed).toBe(true);
      expect(r.message).toBe('all 1 successful payments ended with their active subscription (amount and user exact), and none of the other 3 did');
    });

    it('a failed payment whose subscription is still pending is not judged (the contract only forbids active)', () => {
      const h = history();
      h.payment('p1', 'failed');
      h.final('p1', [sub('p1', 'pending')]);
      expect(check(h).passed).toBe(true);
    });

    it('payments not read back in this scenario are skipped', () => {
      const h = history();
      h.payment('p1');
      h.read('p1', [], ok(0, 5));
      expect(check(h).passed).toBe(true);
    });

    it('undecided without the provider ledger', () => {
      const h = history();
      expect(eventuallyProcessed.check(h.input({ ledger: false })).passed).toBeNull();
    });
  });
});
