// Tests of no-double-charge: per requestId, at most one charge may be kept; extra charges refunded are fine, and
// charges are attributed by metadata, idempotency key or customer.

import { describe, expect, it } from 'vitest';
import { noDoubleCharge } from './no-double-charge.ts';
import { history, ok } from './test-history.ts';

const check = (h: ReturnType<typeof history>) => noDoubleCharge.check(h.input());

describe('no-double-charge', () => {
  describe('must fail', () => {
    it('a keyless charge retried after a ghost success: two charges kept', () => {
      const h = history();
      h.purchase('r1');
      h.create('r1', ok(0, 300));
      h.charge('r1', { key: null, at: 20, instance: 1 });
      h.charge('r1', { key: null, at: 150, instance: 1 });
      h.final('r1', 'active');
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('r1 (user u-r1) was charged 2 times');
      expect(r.message).toContain('no Idempotency-Key');
      const cx = (r.counterexample as { requestId: string; netCharged: number; charges: unknown[] }[])[0];
      expect(cx).toMatchObject({ requestId: 'r1', netCharged: 3800 });
      expect(cx.charges).toHaveLength(2);
    });

    it('a second charge on another instance with a fresh key (memory idempotency)', () => {
      const h = history();
      h.purchase('r1');
      h.charge('r1', { key: 'a1b2', at: 20, instance: 0 });
      h.charge('r1', { key: 'c3d4', at: 40, instance: 3 });
      expect(check(h).passed).toBe(false);
    });

    it('one charge of twice the price', () => {
      const h = history();
      h.purchase('r1');
      h.charge('r1', { amount: 3800 });
      expect(check(h).passed).toBe(false);
    });

    it('attributes by metadata.requestId and by key when the customer is not the user', () => {
      const h = history();
      h.purchase('req-0001-aaaa');
      h.charge('req-0001-aaaa', { customer: 'acct-1', key: null, metadata: { requestId: 'req-0001-aaaa' } });
      h.charge('req-0001-aaaa', { customer: 'acct-1', key: 'pay-req-0001-aaaa-2' });
      expect(check(h).violations).toBe(1);
    });
  });

  describe('must pass', () => {
    it('one charge per purchase, replays included (one ledger entry)', () => {
      const h = history();
      h.purchase('r1');
      h.purchase('r2');
      h.charge('r1');
      h.charge('r2');
      expect(check(h)).toMatchObject({ passed: true });
    });

    it('a second charge that was refunded', () => {
      const h = history();
      h.purchase('r1');
      h.charge('r1', { key: null });
      h.charge('r1', { key: null, refundedAt: 500 });
      expect(check(h).passed).toBe(true);
    });

    it('declined attempts do not count', () => {
      const h = history();
      h.purchase('r1', { expect: 'declined' });
      h.charge('r1', { status: 'declined', key: null });
      h.charge('r1', { status: 'declined', key: null });
      expect(check(h).passed).toBe(true);
    });

    it('no ledger: undecidable, never a pass', () => {
      const h = history();
      h.purchase('r1');
      expect(noDoubleCharge.check({ ...h.input(), ledger: undefined }).passed).toBeNull();
    });
  });
});
