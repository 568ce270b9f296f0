// Tests of preferences-respected: nothing goes out on a channel the user did not want for the event's kind when the
// event was published — the last setPreferences acknowledged before publish was called decides; one in flight while
// publishing may apply or not (both outcomes pass); a change acknowledged after the publish does not apply; nothing
// goes out for an event that was never published.

import { describe, expect, it } from 'vitest';
import { preferencesRespected } from './preferences-respected.ts';
import { happy, history, info, ok, prefs, type FanoutHistory } from './test-history.ts';

const check = (h: FanoutHistory) => preferencesRespected.check(h.input());

describe('preferences-respected', () => {
  describe('must fail', () => {
    it('a channel sent that the user had turned off by a setPreferences acknowledged before the publish', () => {
      const h = history();
      h.user('u1', { prefs: ['email', 'sms'] });
      h.setPreferences('u1', ['email'], ok(0, 40, { instance: 1 }));
      h.event('e1', 'u1', { kind: 'payment-failed' });
      h.publish('e1', ok(100, 120, { instance: 2 }));
      h.deliver('e1', 'email');
      h.deliver('e1', 'sms', { at: 150 });
      const r = check(h);
      expect(r).toMatchObject({ passed: false, violations: 1 });
      expect(r.message).toContain("e1 (payment-failed) was sent to u1 by sms, a channel they did not want for 'payment-failed' when it was published");
      expect(r.message).toContain('wanted: [email] by set-preferences op 0');
      expect(r.message).toContain('not from a copy taken earlier');
      expect((r.counterexample as object[])[0]).toMatchObject({ eventId: 'e1', channel: 'sms', userId: 'u1', kind: 'payment-failed' });
    });

    it('the starting preferences exclude the channel for that kind (only that kind)', () => {
      const h = history();
      h.user('u1', { prefs: prefs(['email', 'push'], { cancelled: ['email'] }) });
      happy(h, 'e1', 'u1', { kind: 'renewed' });
      h.event('e2', 'u1', { kind: 'cancelled' });
      h.publish('e2', ok(0, 20));
      h.deliver('e2', 'email');
      h.deliver('e2', 'push');
      const r = check(h);
      expect(r).toMatchObject({ passed: false, violations: 1 });
      expect(r.message).toContain("e2 (cancelled) was sent to u1 by push, a channel they did not want for 'cancelled'");
      expect(r.message).toContain('[email] by starting preferences');
    });

    it('the later of two acknowledged changes decides: a channel the second one dropped', () => {
      const h = history();
      h.user('u1', { prefs: ['email'] });
      h.setPreferences('u1', ['email', 'push'], ok(0, 30));
      h.setPreferences('u1', ['email'], ok(50, 80, { instance: 3 }));
      h.event('e1', 'u1');
      h.publish('e1', ok(100, 120));
      h.deliver('e1', 'email');
      h.deliver('e1', 'push');
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('e1 (created) was sent to u1 by push');
      expect(r.message).toContain('[email] by set-preferences op 1');
    });

    it('a message for an event that was never published', () => {
      const h = history();
      h.user('u1');
      h.event('e1', 'u1');
      h.deliver('e1', 'email');
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toBe('e1 was sent by email but never published');
    });
  });

  describe('must pass', () => {
    it('only wanted channels, per kind', () => {
      const h = history();
      h.user('u1', { prefs: prefs(['email'], { renewed: ['sms', 'push'] }) });
      happy(h, 'e1', 'u1', { kind: 'created' });
      happy(h, 'e2', 'u1', { kind: 'renewed', start: 50 });
      const r = check(h);
      expect(r).toMatchObject({ passed: true });
      expect(r.message).toContain('every one of the 3 delivery(ies) sent');
    });

    it('a setPreferences in flight while publishing may apply or not: both outcomes pass', () => {
      for (const outcome of ['old', 'new'] as const) {
        const h = history();
        h.user('u1', { prefs: ['email', 'sms'] });
        h.event('e1', 'u1');
        // The change and the publish at the same instant, on different instances; the change answers later.
        h.setPreferences('u1', ['push'], ok(100, 300, { instance: 1 }));
        h.publish('e1', ok(100, 140, { instance: 2 }));
        if (outcome === 'old') { h.deliver('e1', 'email'); h.deliver('e1', 'sms'); }
        else h.deliver('e1', 'push');
        expect(check(h).passed, outcome).toBe(true);
      }
    });

    it('a setPreferences invoked while the publish runs (after it was called) may apply or not', () => {
      for (const outcome of ['old', 'new'] as const) {
        const h = history();
        h.user('u1', { prefs: ['email'] });
        h.event('e1', 'u1');
        h.publish('e1', ok(100, 400, { instance: 2 }));
        h.setPreferences('u1', ['sms'], ok(200, 250, { instance: 0 }));
        h.deliver('e1', outcome === 'old' ? 'email' : 'sms');
        expect(check(h).passed, outcome).toBe(true);
      }
    });

    it('two acknowledged changes that overlapped each other before the publish: either may be the last', () => {
      for (const outcome of ['email', 'push'] as const) {
        const h = history();
        h.user('u1', { prefs: ['sms'] });
        h.setPreferences('u1', ['email'], ok(0, 100, { instance: 1 }));
        h.setPreferences('u1', ['push'], ok(10, 50, { instance: 2 }));
        h.event('e1', 'u1');
        h.publish('e1', ok(200, 220));
        h.deliver('e1', outcome);
        expect(check(h).passed, outcome).toBe(true);
      }
    });

    it('a change never acknowledged (timed out) may have applied', () => {
      const h = history();
      h.user('u1', { prefs: ['email'] });
      h.setPreferences('u1', ['push'], info(0, 10_000, { error: 'timeout' }));
      h.event('e1', 'u1');
      h.publish('e1', ok(500, 520));
      h.deliver('e1', 'push');
      expect(check(h).passed).toBe(true);
    });

    it('a change acknowledged after the publish answered does not apply: the old channels were right', () => {
      const h = history();
      h.user('u1', { prefs: ['email'] });
      happy(h, 'e1', 'u1');
      h.setPreferences('u1', ['push'], ok(50, 80));
      expect(check(h).passed).toBe(true);
    });

    it('an event published but never acknowledged may still be delivered on its wanted channels', () => {
      const h = history();
      h.user('u1', { prefs: ['sms'] });
      h.event('e1', 'u1');
      h.publish('e1', info(0, 10_000, { error: 'timeout' }));
      h.deliver('e1', 'sms');
      expect(check(h).passed).toBe(true);
    });

    it('messages for events not in the run are left to delivered-exactly-once', () => {
      const h = history();
      h.user('u1');
      h.message('e-unknown', 'email', { to: 'u1@mail.test' });
      const r = check(h);
      expect(r.passed).toBe(true);
      expect(r.message).toContain('every one of the 0 delivery(ies)');
    });
  });
});
