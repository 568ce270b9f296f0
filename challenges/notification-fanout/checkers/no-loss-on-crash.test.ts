// Tests of no-loss-on-crash: an event acknowledged by an instance that was killed afterwards is still delivered on
// every channel it owes (by any instance, after a restart), or given up for a reason the contract allows. An event
// whose publish never got an answer owes nothing; events acknowledged by instances that survived are not judged here.

import { describe, expect, it } from 'vitest';
import { noLossOnCrash } from './no-loss-on-crash.ts';
import { happy, history, info, ok, type FanoutHistory } from './test-history.ts';

const check = (h: FanoutHistory) => noLossOnCrash.check(h.input());

describe('no-loss-on-crash', () => {
  describe('must fail', () => {
    it('an event acknowledged by an instance killed afterwards, never delivered', () => {
      const h = history();
      h.user('u1', { prefs: ['email', 'push'] });
      h.event('e1', 'u1');
      h.publish('e1', ok(100, 120, { instance: 1 }));
      h.instanceEvent(1, 'killed', 400);
      h.instanceEvent(1, 'restarted', 900);
      h.deliver('e1', 'email', { at: 150, instance: 1 }); // went out before the kill; push was still queued in memory
      const r = check(h);
      expect(r).toMatchObject({ passed: false, violations: 1 });
      expect(r.message).toContain('e1 was acknowledged by instance 1 280 ms before it was killed, and its push delivery was never sent');
      expect(r.message).toContain('stored durably');
      expect((r.counterexample as object[])[0]).toMatchObject({ eventId: 'e1', channel: 'push', killedAtMs: 400 });
    });

    it('an instance that exited (crashed) counts as killed', () => {
      const h = history();
      h.user('u1', { prefs: ['sms'] });
      h.event('e1', 'u1');
      h.publish('e1', ok(0, 20, { instance: 2 }));
      h.instanceEvent(2, 'exited', 30);
      h.failures('e1', 'sms', [25], { status: 503, code: 'service_unavailable', instance: 2 });
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('e1 was acknowledged by instance 2 10 ms before it was killed, and its sms delivery was never sent');
    });
  });

  describe('must pass', () => {
    it('acknowledged, killed, then delivered by another instance or after the restart', () => {
      const h = history();
      h.user('u1', { prefs: ['email', 'sms', 'push'] });
      h.event('e1', 'u1');
      h.publish('e1', ok(100, 120, { instance: 1 }));
      h.instanceEvent(1, 'killed', 130);
      h.instanceEvent(1, 'restarted', 700);
      h.deliver('e1', 'email', { at: 2000, instance: 0 });
      h.deliver('e1', 'sms', { at: 2100, instance: 3 });
      h.deliver('e1', 'push', { at: 800, instance: 1 });
      const r = check(h);
      expect(r.passed).toBe(true);
      expect(r.message).toBe('all 1 event(s) acknowledged by instances that were then killed were delivered');
    });

    it('an event published but never acknowledged (the instance died mid-call) owes nothing', () => {
      const h = history();
      h.user('u1');
      h.event('e1', 'u1');
      h.publish('e1', info(100, 150, { error: 'reset', instance: 1 }));
      h.instanceEvent(1, 'killed', 140);
      const r = check(h);
      expect(r.passed).toBe(true);
      expect(r.message).toContain('all 0 event(s)');
    });

    it('acknowledged by an instance that was killed only BEFORE it acknowledged (after its restart), or by a survivor', () => {
      const h = history();
      h.user('u1', { prefs: ['email'] });
      h.instanceEvent(1, 'killed', 50);
      h.instanceEvent(1, 'restarted', 80);
      h.event('e1', 'u1');
      h.publish('e1', ok(100, 120, { instance: 1 }));
      h.event('e2', 'u1');
      h.publish('e2', ok(10, 30, { instance: 0 })); // instance 0 never died: delivered-exactly-once judges e2
      expect(check(h).passed).toBe(true);
    });

    it('a delivery of a killed instance\'s event given up for an allowed reason (an invalid address)', () => {
      const h = history();
      h.user('u1', { prefs: ['email', 'push'], invalid: 'push' });
      happy(h, 'e1', 'u1', { instance: 2 });
      h.ledger.messages.pop();
      h.instanceEvent(2, 'killed', 500);
      h.attempt('e1', 'push', { start: 1000, status: 422, code: 'invalid_recipient', instance: 0 });
      expect(check(h).passed).toBe(true);
    });

    it('no instance was killed; no ledger is unknown', () => {
      const h = history();
      h.user('u1');
      h.event('e1', 'u1');
      h.publish('e1', ok(0, 20));
      expect(check(h)).toMatchObject({ passed: true, message: 'no instance was killed in this scenario' });
      expect(noLossOnCrash.check({ ...h.input(), ledger: undefined }).passed).toBeNull();
    });
  });
});
