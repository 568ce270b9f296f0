// Tests of notification-delivered: exactly one confirmation per active purchase, to its user by email, and none
// for anything else.

import { describe, expect, it } from 'vitest';
import { notificationDelivered } from './notification-delivered.ts';
import { failed, happy, history, ok } from './test-history.ts';

const check = (h: ReturnType<typeof history>) => notificationDelivered.check(h.input());

describe('notification-delivered', () => {
  describe('must fail', () => {
    it('a confirmation sent twice (keyless retry after a ghost success)', () => {
      const h = history();
      happy(h, 'r1');
      h.message('r1', { key: null, at: 300, instance: 1 });
      h.final('r1', 'active');
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('r1 was confirmed 2 times');
      expect(r.message).toContain('no key');
    });

    it('a confirmation lost during the outage (sent once, failed, never retried)', () => {
      const h = history();
      h.purchase('r1');
      h.create('r1', ok(0, 40));
      h.final('r1', 'active');
      expect(check(h).message).toContain('its \'subscription-created\' confirmation never arrived');
    });

    it('a failed purchase confirmed; the wrong recipient; a confirmation for an unknown purchase', () => {
      const h = history();
      h.purchase('r1', { expect: 'purchase-failed' });
      h.create('r1', failed('PURCHASE_FAILED', 0, 40));
      h.message('r1');
      h.final('r1', null);
      happy(h, 'r2');
      h.ledger.messages.pop();
      h.message('r2', { to: 'someone-else' });
      h.final('r2', 'active');
      h.message('r9');
      h.message('r2', { data: {}, key: 'x' });
      expect(check(h).violations).toBe(4);
    });
  });

  describe('must pass', () => {
    it('one confirmation per active purchase; other templates ignored', () => {
      const h = history();
      happy(h, 'r1');
      happy(h, 'r2');
      h.message('r1', { template: 'welcome-tips' });
      h.final('r1', 'active');
      h.final('r2', 'active');
      expect(check(h)).toMatchObject({ passed: true });
    });

    it('an unreadable purchase is not judged here', () => {
      const h = history();
      h.purchase('r1');
      h.create('r1', ok(0, 40));
      h.final('r1', 'unreadable');
      expect(check(h).passed).toBe(true);
    });
  });
});
