// Tests of no-orphan-charge: money kept needs its active subscription; a failed purchase keeps no money and no stock;
// what the caller was told matches; stray charges and unbalanced inventory fail.

import { describe, expect, it } from 'vitest';
import { noOrphanCharge } from './no-orphan-charge.ts';
import { failed, happy, history, info, ok } from './test-history.ts';

const check = (h: ReturnType<typeof history>) => noOrphanCharge.check(h.input());
type V = { kind: string; requestId?: string };

describe('no-orphan-charge', () => {
  describe('must fail', () => {
    it('a commit that failed after the charge, answered PURCHASE_FAILED, never refunded', () => {
      const h = history();
      h.purchase('r1', { product: 'doomed', expect: 'purchase-failed' });
      h.create('r1', failed('PURCHASE_FAILED', 0, 80));
      h.charge('r1', { at: 20 });
      h.reservation('r1', 'expired', { cause: 'commit-refused' });
      h.final('r1', null);
      const r = check(h);
      expect(r.passed).toBe(false);
      const kinds = (r.counterexample as V[]).map((v) => v.kind);
      expect(kinds).toContain('orphan-charge');
      expect(kinds).toContain('told-failed');
      expect(r.message).toContain('r1 (user u-r1) kept ch-r1 (3900, instance 0, 20 ms) without an active subscription');
    });

    it('charged, then the instance died and nobody finished it', () => {
      const h = history();
      h.purchase('r1', { group: 'crash-abandoned' });
      h.create('r1', info(0, 100, { error: 'reset' }));
      h.charge('r1');
      h.reservation('r1', 'reserved');
      h.final('r1', null);
      const kinds = (check(h).counterexample as V[]).map((v) => v.kind);
      expect(kinds).toEqual(expect.arrayContaining(['orphan-charge', 'reservation-left']));
    });

    it('answered with a subscription that does not exist afterwards', () => {
      const h = history();
      h.purchase('r1');
      h.create('r1', ok(0, 40));
      h.final('r1', null);
      expect((check(h).counterexample as V[]).map((v) => v.kind)).toContain('told-active');
    });

    it('an active subscription with its charge refunded, or naming another charge', () => {
      const h = history();
      h.purchase('r1');
      h.charge('r1', { refundedAt: 100 });
      h.reservation('r1', 'committed');
      h.final('r1', 'active');
      h.purchase('r2');
      h.charge('r2');
      h.reservation('r2', 'committed');
      h.final('r2', 'active', { chargeId: 'ch-nope' });
      expect((check(h).counterexample as V[]).map((v) => v.kind)).toEqual(['active-unpaid', 'wrong-charge']);
    });

    it('a charge that belongs to no purchase', () => {
      const h = history();
      happy(h, 'r1');
      h.final('r1', 'active');
      h.charge('zz', { customer: 'stranger', key: null });
      expect((check(h).counterexample as V[]).map((v) => v.kind)).toEqual(['unattributed-charge']);
    });

    it('stock committed for a declined purchase; a reservation that only expired by its TTL', () => {
      const h = history();
      happy(h, 'r1');
      h.final('r1', 'active');
      h.purchase('r2', { expect: 'declined' });
      h.create('r2', failed('PAYMENT_DECLINED', 0, 30));
      h.charge('r2', { status: 'declined' });
      h.reservation('r2', 'committed');
      h.final('r2', null);
      h.purchase('r3', { expect: 'declined' });
      h.create('r3', failed('PAYMENT_DECLINED', 0, 30));
      h.reservation('r3', 'expired', { cause: 'ttl' });
      h.final('r3', null);
      const r = check(h);
      const kinds = (r.counterexample as V[]).map((v) => v.kind);
      expect(kinds).toEqual(['stock-mismatch', 'reservation-expired']);
      expect(r.message).toContain('basic: 2 reservation(s) committed for 1 active subscription(s)');
      expect(r.message).toContain('rsv-');
    });

    it('activated without committing the stock', () => {
      const h = history();
      h.purchase('r1');
      h.create('r1', ok(0, 40));
      h.charge('r1');
      h.reservation('r1', 'released');
      h.final('r1', 'active');
      expect((check(h).counterexample as V[]).map((v) => v.kind)).toEqual(['stock-mismatch']);
    });
  });

  describe('must pass', () => {
    it('active purchases with one kept charge and committed stock', () => {
      const h = history();
      happy(h, 'r1');
      happy(h, 'r2');
      h.final('r1', 'active');
      h.final('r2', 'active');
      expect(check(h)).toMatchObject({ passed: true });
    });

    it('a compensated purchase: refunded, reservation refused at commit (release is then a no-op)', () => {
      const h = history();
      h.purchase('r1', { product: 'doomed', expect: 'purchase-failed' });
      h.create('r1', failed('PURCHASE_FAILED', 0, 80));
      h.charge('r1', { refundedAt: 70 });
      h.reservation('r1', 'expired', { cause: 'commit-refused' });
      h.final('r1', null);
      expect(check(h).passed).toBe(true);
    });

    it('a decline released; out of stock with nothing reserved; an indeterminate call that did nothing', () => {
      const h = history();
      h.purchase('r1', { expect: 'declined' });
      h.create('r1', failed('PAYMENT_DECLINED', 0, 30));
      h.charge('r1', { status: 'declined' });
      h.reservation('r1', 'released');
      h.final('r1', null);
      h.purchase('r2', { expect: 'active-or-out-of-stock', product: 'scarce' });
      h.create('r2', failed('OUT_OF_STOCK', 0, 30));
      h.final('r2', null);
      h.purchase('r3');
      h.create('r3', info(0, 30));
      h.final('r3', null);
      expect(check(h).passed).toBe(true);
    });

    it('a keyless reservation counts toward its product\'s balance', () => {
      const h = history();
      h.purchase('r1');
      h.create('r1', ok(0, 40));
      h.charge('r1');
      h.reservation(null, 'committed', { product: 'basic' });
      h.final('r1', 'active');
      expect(check(h).passed).toBe(true);
    });
  });
});
