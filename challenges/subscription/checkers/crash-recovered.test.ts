// Tests of crash-recovered: purchases interrupted by a kill must end finished or compensated, whether retried or
// not; a retry must be answered with that outcome.

import { describe, expect, it } from 'vitest';
import { crashRecovered } from './crash-recovered.ts';
import { failed, happy, history, info, ok } from './test-history.ts';

const check = (h: ReturnType<typeof history>) => crashRecovered.check(h.input());

function crashed(h: ReturnType<typeof history>, rid: string, group: 'crash-retried' | 'crash-abandoned') {
  h.purchase(rid, { group });
  h.create(rid, info(0, 120, { error: 'reset', instance: 2, phase: 'crash' }));
}

describe('crash-recovered', () => {
  describe('must fail', () => {
    it('an abandoned purchase left charged without a subscription (no recovery after restart)', () => {
      const h = history();
      h.event(2, 'killed', 100);
      crashed(h, 'r1', 'crash-abandoned');
      h.charge('r1', { instance: 2, at: 90 });
      h.reservation('r1', 'reserved', { instance: 2 });
      h.final('r1', null);
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('r1 was interrupted by the crash and never ended whole (nobody called again');
      expect(r.message).toContain('ch-r1 (1900) is still kept');
      expect((r.counterexample as { kills: unknown[] }[])[0].kills).toEqual([{ instance: 2, atMs: 100 }]);
    });

    it('a retried purchase charged again on the other instance', () => {
      const h = history();
      h.event(2, 'killed', 100);
      crashed(h, 'r1', 'crash-retried');
      h.create('r1', ok(150, 400, { instance: 0, phase: 'crash-retry', value: { chargeId: 'ch-r1-2' } }));
      h.charge('r1', { instance: 2, at: 90 });
      h.charge('r1', { instance: 0, at: 200, id: 'ch-r1-2', key: null });
      h.final('r1', 'active', { chargeId: 'ch-r1-2' });
      expect(check(h).message).toContain('it is active but keeps 2 charge(s)');
    });

    it('the retry answered with an error although the purchase was finished', () => {
      const h = history();
      h.event(2, 'killed', 100);
      crashed(h, 'r1', 'crash-retried');
      h.create('r1', info(150, 400, { instance: 0, phase: 'crash-retry' }));
      h.charge('r1', { instance: 2, at: 90 });
      h.final('r1', 'active');
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('the retry of r1 on instance 0 after the crash (op 1) was answered an error');
    });
  });

  describe('must pass', () => {
    it('finished by a retry and by the recovery sweep', () => {
      const h = history();
      h.event(2, 'killed', 100);
      h.event(2, 'restarted', 600);
      happy(h, 'w1');
      crashed(h, 'r1', 'crash-retried');
      h.create('r1', ok(150, 1900, { instance: 0, phase: 'crash-retry' }));
      h.charge('r1', { instance: 2, at: 90 });
      crashed(h, 'r2', 'crash-abandoned');
      h.charge('r2', { instance: 2, at: 95 });
      h.final('w1', 'active');
      h.final('r1', 'active');
      h.final('r2', 'active');
      expect(check(h)).toMatchObject({ passed: true, message: 'all 2 purchase(s) interrupted by the crash ended whole (2 finished, 0 compensated)' });
    });

    it('compensated: refunded, and the retry told PURCHASE_FAILED', () => {
      const h = history();
      h.event(2, 'killed', 100);
      crashed(h, 'r1', 'crash-retried');
      h.create('r1', failed('PURCHASE_FAILED', 150, 900, { instance: 0, phase: 'crash-retry' }));
      h.charge('r1', { instance: 2, at: 90, refundedAt: 800 });
      h.final('r1', null);
      expect(check(h).passed).toBe(true);
    });

    it('nothing to judge without crash purchases; undecidable without a kill', () => {
      const h = history();
      happy(h, 'w1');
      h.final('w1', 'active');
      expect(check(h).passed).toBe(true);
      const k = history();
      crashed(k, 'r1', 'crash-abandoned');
      k.final('r1', null);
      expect(check(k).passed).toBeNull();
    });
  });
});
