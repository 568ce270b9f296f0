// Tests of signature-enforced on tiny histories: a forged or stale delivery answered 2xx or 5xx, a decoy payment
// that ends with a subscription, or a tampered field that shows up must fail; 4xx answers with nothing changed, an
// instance that was down, and a 5xx while the harness killed the instance must not.

import { describe, expect, it } from 'vitest';
import { signatureEnforced } from './signature-enforced.ts';
import { down, error, history, noAnswer, ok, refused, sub } from './test-history.ts';

const check = (h: ReturnType<typeof history>) => signatureEnforced.check(h.input());

describe('signature-enforced', () => {
  describe('must fail', () => {
    it('an unsigned delivery accepted, and the decoy payment got a subscription', () => {
      const h = history();
      h.deliver(h.event('decoy-1', 'success', { userId: 'mallory' }), ok(10, 20, { instance: 1 }), { kind: 'forged', variant: 'unsigned' });
      h.final('decoy-1', [sub('decoy-1', 'active', { userId: 'mallory' })]);
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.violations).toBe(2);
      expect(r.message).toContain('an unsigned delivery (no gauntlet-signature header) of a success event for payment "decoy-1" was answered 200 by instance 1 at 10 ms');
      expect(r.message).toContain('[1 accepted, 1 changed-data]');
      expect((r.counterexample as { problem: string }[]).map((v) => v.problem)).toEqual(['accepted', 'changed-data']);
    });

    it('a stale delivery answered 500 (not refused)', () => {
      const h = history();
      h.deliver(h.event('decoy-1', 'success'), error(500, 10, 20), { kind: 'stale', variant: 'stale' });
      h.final('decoy-1', []);
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('older than 300 s');
      expect(r.message).toContain('a 5xx makes a provider retry it');
    });

    it('a tampered replay that turned a failed payment active (even when answered 401)', () => {
      const h = history();
      h.payment('p1', 'failed');
      h.deliver(h.event('p1', 'success'), refused(401, 10, 20), { kind: 'forged', variant: 'tampered-status', tampered: { field: 'status', value: 'success' } });
      h.final('p1', [sub('p1', 'active')]);
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('the tampered replay of payment "p1" took effect');
      expect(r.message).toContain('an active subscription for a payment that failed');
    });

    it('a tampered amount that shows up after the run', () => {
      const h = history();
      h.payment('p1', 'success', { amount: 1900 });
      h.deliver(h.event('p1', 'success', { amount: 1 }), ok(10, 20), { kind: 'forged', variant: 'tampered-amount', tampered: { field: 'amount', value: 1 } });
      h.final('p1', [sub('p1', 'active', { amount: 1 })]);
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.violations).toBe(2);
      expect((r.counterexample as { message: string }[])[1].message).toContain('amount 1 instead of 1900');
    });

    it('a timeout on a forgery outside any fault', () => {
      const h = history();
      h.deliver(h.event('decoy-1', 'success'), noAnswer(10, 8010), { kind: 'forged', variant: 'wrong-signature' });
      expect(check(h).passed).toBe(false);
    });
  });

  describe('must pass', () => {
    it('every forgery refused with a 4xx, decoys empty, tampered fields absent', () => {
      const h = history();
      h.payment('p1', 'failed');
      h.deliver(h.event('decoy-1', 'success'), refused(401, 0, 5), { kind: 'forged', variant: 'unsigned' });
      h.deliver(h.event('decoy-2', 'success'), refused(403, 0, 5), { kind: 'stale', variant: 'stale' });
      h.deliver(h.event('p1', 'success'), refused(400, 0, 5), { kind: 'forged', variant: 'tampered-status', tampered: { field: 'status', value: 'success' } });
      h.final('decoy-1', []);
      h.final('decoy-2', []);
      h.final('p1', [sub('p1', 'failed')]);
      const r = check(h);
      expect(r.passed).toBe(true);
      expect(r.message).toContain('all 3 forged, stale or tampered deliveries were refused with a 4xx and changed nothing');
    });

    it('a tampered userId equal to the truth is no evidence', () => {
      const h = history();
      h.payment('p1', 'success', { userId: 'u1' });
      h.deliver(h.event('p1', 'success'), refused(401, 0, 5), { kind: 'forged', variant: 'tampered-userId', tampered: { field: 'userId', value: 'mallory' } });
      h.final('p1', [sub('p1', 'active', { userId: 'u1' })]);
      expect(check(h).passed).toBe(true);
    });

    it('an instance that was down, or killed by the harness, is not a failure to refuse', () => {
      const h = history();
      h.instanceEvent(2, 'killed', 10);
      h.deliver(h.event('decoy-1', 'success'), down(0, 1, { instance: 1 }), { kind: 'forged', variant: 'unsigned' });
      h.deliver(h.event('decoy-2', 'success'), noAnswer(5, 10, { instance: 2, error: 'reset' }), { kind: 'forged', variant: 'unsigned' });
      expect(check(h).passed).toBe(true);
    });

    it('no forgery at all', () => {
      const h = history();
      h.deliver(h.event('p1', 'success'), ok(0, 5));
      expect(check(h).message).toBe('no forged delivery in this scenario');
    });
  });
});
