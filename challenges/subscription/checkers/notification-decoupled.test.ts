// Tests of notification-decoupled: purchases running while notifications fail must answer with their subscription,
// not waiting for the notification service: max(bound, 3 × the healthy baseline's median).

import { describe, expect, it } from 'vitest';
import { notificationDecoupled } from './notification-decoupled.ts';
import { failed, history, info, ok, type SubHistory } from './test-history.ts';

const check = (h: SubHistory) => notificationDecoupled.check(h.input());

function baseline(h: SubHistory, n: number, ms: number) {
  for (let i = 0; i < n; i++) {
    h.purchase(`b${i}`);
    h.create(`b${i}`, ok(0, ms, { phase: 'baseline' }));
  }
}

describe('notification-decoupled', () => {
  describe('must fail', () => {
    it('a purchase that waited for the notification service to come back (inline retries)', () => {
      const h = history();
      h.params = { decoupledBoundMs: 1000 };
      baseline(h, 8, 40);
      h.fault('service-outage', 1000, 3500, { service: 'notifications', mode: '503' });
      h.purchase('r1');
      h.create('r1', ok(1100, 3600, { phase: 'outage', instance: 2 }));
      for (const t of [1150, 1300, 1700, 2500, 3550]) h.attempt({ service: 'notifications', route: 'POST /messages', instance: 2, start: t, status: t < 3500 ? 503 : 202, key: null, body: { channel: 'email', to: 'u-r1', template: 'subscription-created', data: { requestId: 'r1' } } });
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('the purchase r1 on instance 2 took 2500 ms while notifications were failing, more than the 1000 ms bound');
      expect(r.message).toContain('called the notification service 5 time(s) for it');
    });

    it('a purchase held far beyond the bound, whatever it waited for', () => {
      const h = history();
      h.fault('service-outage', 1000, 5000, { service: 'notifications' });
      h.purchase('r1');
      h.create('r1', ok(1100, 4200));
      expect(check(h).message).toContain('took 3100 ms');
    });

    it('a purchase that failed because the confirmation could not be sent', () => {
      const h = history();
      h.fault('service-outage', 0, 2000, { service: 'notifications', mode: 'reset' });
      h.purchase('r1');
      h.create('r1', failed('PURCHASE_FAILED', 100, 150));
      h.purchase('r2');
      h.create('r2', info(100, 150));
      expect(check(h).violations).toBe(2);
    });
  });

  describe('must pass', () => {
    it('purchases during the outage as fast as before it', () => {
      const h = history();
      baseline(h, 8, 40);
      h.fault('service-outage', 1000, 3500, { service: 'notifications', mode: '503' });
      h.fault('service-faults', 1000, 4000, { service: 'notifications' });
      for (let i = 0; i < 5; i++) {
        h.purchase(`r${i}`);
        h.create(`r${i}`, ok(1100 + i * 10, 1160 + i * 10, { phase: 'outage' }));
      }
      expect(check(h)).toMatchObject({ passed: true });
    });

    it('a slow machine: the bound follows the baseline (3 × its median)', () => {
      const h = history();
      baseline(h, 10, 600);
      h.fault('service-outage', 1000, 3500, { service: 'notifications' });
      h.purchase('r1');
      h.create('r1', ok(1100, 2600, { phase: 'outage' }));
      expect(check(h).passed).toBe(true);
    });

    it('slow, but without waiting for the notification service (a loaded machine), within twice the bound', () => {
      const h = history();
      baseline(h, 8, 40);
      h.fault('service-outage', 1000, 3500, { service: 'notifications' });
      h.purchase('r1');
      h.create('r1', ok(1100, 2800, { instance: 1 }));
      // its confirmation went out from the outbox once it was active: one call, not a wait
      h.attempt({ service: 'notifications', route: 'POST /messages', instance: 1, start: 2790, status: 503, key: 'r1:notify', body: { data: { requestId: 'r1' } } });
      expect(check(h).passed).toBe(true);
    });

    it('faults of other services are not its business', () => {
      const h = history();
      h.fault('service-outage', 0, 3000, { service: 'payments' });
      h.purchase('r1');
      h.create('r1', ok(0, 3100));
      expect(check(h).message).toBe('the notification service never failed in this scenario');
    });
  });
});
