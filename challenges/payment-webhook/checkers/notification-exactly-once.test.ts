// Tests of notification-exactly-once on tiny histories: an active subscription never confirmed, confirmed twice
// (keyless retries, or two keys), confirmed to the wrong user or channel, or a confirmation for a payment that is
// not active must fail; one message per key (the mock's own dedupe), other templates, and payments whose final read
// failed must not.

import { describe, expect, it } from 'vitest';
import { notificationExactlyOnce } from './notification-exactly-once.ts';
import { history, ok, sub } from './test-history.ts';

const check = (h: ReturnType<typeof history>) => notificationExactlyOnce.check(h.input());

describe('notification-exactly-once', () => {
  describe('must fail', () => {
    it('an active subscription that was never confirmed', () => {
      const h = history();
      h.payment('p1');
      h.deliver(h.event('p1', 'success'), ok(10, 20, { instance: 3 }));
      h.final('p1', [sub('p1', 'active')]);
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('payment "p1" has an active subscription (its success event was acknowledged by instance 3 at 20 ms, d1) but no subscription-confirmed message was ever accepted');
    });

    it('keyless retries: every keyless message counts', () => {
      const h = history();
      h.payment('p1');
      h.final('p1', [sub('p1', 'active')]);
      h.message('p1', { key: null, instance: 0, atMs: 10 });
      h.message('p1', { key: null, instance: 2, atMs: 30 });
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('payment "p1" was confirmed 2 times: msg_1 from instance 0 at 10 ms (no Idempotency-Key); msg_2 from instance 2 at 30 ms (no Idempotency-Key)');
    });

    it('two different keys for one payment', () => {
      const h = history();
      h.final('p1', [sub('p1', 'active')]);
      h.message('p1', { key: 'k1' });
      h.message('p1', { key: 'k2' });
      expect(check(h).passed).toBe(false);
    });

    it('sent to the wrong user (a mangled injection string) or by sms', () => {
      const h = history();
      h.final('p1', [sub('p1', 'active', { userId: `o'brien` })]);
      h.final('p2', [sub('p2', 'active')]);
      h.message('p1', { to: `o''brien` });
      h.message('p2', { channel: 'sms' });
      const r = check(h);
      expect(r.violations).toBe(2);
      expect(r.message).toContain(`went to email "o''brien", not to email "o'brien"`);
    });

    it('a confirmation for a payment that is not active (or never existed)', () => {
      const h = history();
      h.payment('p1', 'failed');
      h.final('p1', [sub('p1', 'failed')]);
      h.message('p1');
      h.message('ghost-payment');
      const r = check(h);
      expect(r.violations).toBe(2);
      expect(r.message).toContain('payment "p1" has no active subscription after the run, yet 1 confirmation was sent');
    });
  });

  describe('must pass', () => {
    it('one message per key, other templates ignored', () => {
      const h = history();
      h.final('p1', [sub('p1', 'active')]);
      h.final('p2', [sub('p2', 'pending')]);
      h.message('p1', { key: 'k1' });
      h.message('p1', { key: 'k1', instance: 3 }); // the same key again: the mock never executes it twice
      h.message('p1', { template: 'welcome' });
      h.message('p2', { template: 'payment-pending' });
      const r = check(h);
      expect(r.passed).toBe(true);
      expect(r.message).toContain('each of the 1 active subscriptions was confirmed exactly once');
    });

    it('a payment whose final read failed is not judged', () => {
      const h = history();
      h.final('p1', null);
      h.message('p1');
      expect(check(h).passed).toBe(true);
    });

    it('undecided without the ledger', () => {
      expect(notificationExactlyOnce.check(history().input({ ledger: false })).passed).toBeNull();
    });
  });
});
