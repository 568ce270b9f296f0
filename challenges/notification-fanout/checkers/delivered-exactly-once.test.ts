// Tests of delivered-exactly-once: every delivery an acknowledged event owes goes out once, to the user's address
// on that channel, or is given up for a reason the contract allows and listed; never twice (a ghost success retried
// with a new key), never to someone else, never silently dropped. An event never acknowledged owes nothing.

import { describe, expect, it } from 'vitest';
import { deliveredExactlyOnce } from './delivered-exactly-once.ts';
import { happy, history, info, ok, type FanoutHistory } from './test-history.ts';

const check = (h: FanoutHistory) => deliveredExactlyOnce.check(h.input());

describe('delivered-exactly-once', () => {
  describe('must fail', () => {
    it('a duplicate send after a ghost success, retried with a new key', () => {
      const h = history();
      h.user('u1', { prefs: ['email'] });
      h.event('e1', 'u1');
      h.publish('e1', ok(0, 20));
      // The first send went out, the connection dropped before the answer (a ghost success) ...
      h.attempt('e1', 'email', { start: 100, key: 'k-first', outcome: 'dropped' });
      h.message('e1', 'email', { at: 100, key: 'k-first', instance: 0 });
      // ... and the retry used a fresh key, so the provider sent it again.
      h.deliver('e1', 'email', { at: 400, key: 'k-second', instance: 1 });
      h.deadLetters([]);
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.violations).toBe(1);
      expect(r.message).toContain('e1 went out 2 times by email');
      expect(r.message).toContain('key k-first');
      expect(r.message).toContain('key k-second');
      expect(r.message).toContain('retry with the same Idempotency-Key');
      expect((r.counterexample as { eventId: string; channel: string }[])[0]).toMatchObject({ eventId: 'e1', channel: 'email' });
    });

    it('a duplicate on another instance even when it went to the right address each time', () => {
      const h = history();
      happy(h, 'e1', 'u1');
      h.deliver('e1', 'push', { at: 900, instance: 2, key: null });
      h.deadLetters([]);
      const r = check(h);
      expect(r).toMatchObject({ passed: false, violations: 1 });
      expect(r.message).toContain('e1 went out 2 times by push');
      expect(r.message).toContain('from instance 2, no key');
    });

    it('a wrong recipient: the SMS went to another user\'s phone', () => {
      const h = history();
      h.user('u1', { prefs: ['sms'] });
      h.user('u2', { prefs: ['sms'] });
      h.event('e1', 'u1');
      h.publish('e1', ok(0, 20));
      h.deliver('e1', 'sms', { to: h.address('u2', 'sms') });
      h.deadLetters([]);
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toBe("e1's sms went to +1555-u2, not to the user's sms address +1555-u1");
      expect((r.counterexample as object[])[0]).toMatchObject({ eventId: 'e1', channel: 'sms', userId: 'u1' });
    });

    it('a required delivery never sent and not dead-lettered', () => {
      const h = history();
      h.user('u1', { prefs: ['email', 'sms'] });
      h.event('e1', 'u1', { kind: 'renewed' });
      h.publish('e1', ok(0, 20, { instance: 1 }));
      h.deliver('e1', 'email');
      h.deadLetters([]);
      const r = check(h);
      expect(r).toMatchObject({ passed: false, violations: 1 });
      expect(r.message).toContain('e1 (renewed for u1, acknowledged at 20 ms) was never sent by sms');
      expect(r.message).toContain('(never even tried)');
      expect((r.counterexample as object[])[0]).toMatchObject({ eventId: 'e1', channel: 'sms', kind: 'renewed' });
    });

    it('a required delivery tried once, failed, then forgotten (no dead letter)', () => {
      const h = history();
      h.user('u1', { prefs: ['push'] });
      h.event('e1', 'u1');
      h.publish('e1', ok(0, 20));
      h.failures('e1', 'push', [100], { status: 503, code: 'service_unavailable' });
      h.deadLetters([]);
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('was never sent by push (1 attempt(s), none accepted)');
    });

    it('an invalid recipient neither sent nor listed among the dead letters', () => {
      const h = history();
      h.user('u1', { prefs: ['email'], invalid: 'email' });
      h.event('e1', 'u1');
      h.publish('e1', ok(0, 20));
      h.attempt('e1', 'email', { start: 100, status: 422, code: 'invalid_recipient' });
      h.deadLetters([]);
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('was never sent by email and, though it could be given up (invalid recipient), it is not among the dead letters');
    });

    it('given up (a dead letter) with no cause the contract allows: two 503s within a second', () => {
      const h = history();
      h.user('u1', { prefs: ['email'] });
      h.event('e1', 'u1');
      h.publish('e1', ok(0, 20));
      h.failures('e1', 'email', [100, 300], { status: 503, code: 'service_unavailable' });
      h.deadLetters([{ eventId: 'e1', channel: 'email', reason: 'provider down' }]);
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain("e1's email delivery was given up (a dead letter) though nothing the contract allows explains it: 2 attempt(s)");
    });

    it('a channel added by a setPreferences acknowledged before the publish (on another instance) is owed', () => {
      const h = history();
      h.user('u1', { prefs: ['email'] });
      h.setPreferences('u1', ['email', 'push'], ok(0, 30, { instance: 1 }));
      h.event('e1', 'u1');
      h.publish('e1', ok(50, 70, { instance: 2 }));
      h.deliver('e1', 'email');
      h.deadLetters([]);
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('e1 (created for u1, acknowledged at 70 ms) was never sent by push');
    });

    // With a setPreferences in flight, the deliveries must add up to ONE of the versions that may be in force (the
    // old or the new), also when the two share no channel: dropping the event entirely is a loss.
    it('an event racing a setPreferences with disjoint channels, dropped entirely', () => {
      const h = history();
      h.user('u1', { prefs: ['email'] });
      h.event('e1', 'u1');
      h.setPreferences('u1', ['push'], ok(100, 300, { instance: 1 }));
      h.publish('e1', ok(150, 200, { instance: 2 }));
      h.deadLetters([]);
      expect(check(h).passed).toBe(false);
    });

    it('an event racing a setPreferences with disjoint channels, sent by the old or by the new version (either passes), not by both halves', () => {
      for (const sentOn of [['email'], ['push']] as const) {
        const h = history();
        h.user('u1', { prefs: ['email'] });
        h.event('e1', 'u1');
        h.setPreferences('u1', ['push'], ok(100, 300, { instance: 1 }));
        h.publish('e1', ok(150, 200, { instance: 2 }));
        for (const c of sentOn) h.message('e1', c);
        h.deadLetters([]);
        expect(check(h).passed).toBe(true);
      }
    });

    it('a message naming no event, and one naming an event that is not in the run', () => {
      const h = history();
      happy(h, 'e1', 'u1');
      h.message('e1', 'email', { data: {}, key: 'x' });
      h.message('e-unknown', 'push', { to: 'pt-u1' });
      h.deadLetters([]);
      const r = check(h);
      expect(r).toMatchObject({ passed: false, violations: 2 });
      expect(r.message).toContain('carries no data.eventId');
      expect(JSON.stringify(r.counterexample)).toContain('e-unknown, which no event of this run has');
    });
  });

  describe('must pass', () => {
    it('every wanted channel delivered once, to the right addresses, across instances', () => {
      const h = history();
      happy(h, 'e1', 'u1', { instance: 0 });
      h.user('u2', { prefs: ['email', 'push'] });
      happy(h, 'e2', 'u2', { instance: 3, start: 50 });
      h.deadLetters([]);
      const r = check(h);
      expect(r).toMatchObject({ passed: true });
      expect(r.message).toBe('the 2 accepted event(s) owed their deliveries: 5 sent exactly once, 0 given up for a reason the contract allows');
    });

    it('a ghost success retried with the same key: the provider replays, one message', () => {
      const h = history();
      h.user('u1', { prefs: ['email'] });
      h.event('e1', 'u1');
      h.publish('e1', ok(0, 20));
      h.attempt('e1', 'email', { start: 100, outcome: 'dropped' });
      h.message('e1', 'email', { at: 100 });
      h.attempt('e1', 'email', { start: 400, instance: 1 }); // replayed from the idempotency store: no new message
      h.deadLetters([]);
      expect(check(h).passed).toBe(true);
    });

    it('a publish retried on another instance after a timeout: still one delivery per channel', () => {
      const h = history();
      h.user('u1', { prefs: ['sms'] });
      h.event('e1', 'u1');
      h.publish('e1', info(0, 10_000, { error: 'timeout' }));
      h.publish('e1', ok(10_010, 10_030, { instance: 2 }));
      h.deliver('e1', 'sms', { at: 10_100 });
      h.deadLetters([]);
      expect(check(h).passed).toBe(true);
    });

    it('a setPreferences in flight while publishing may apply or not: the old channels pass, so do the new', () => {
      for (const outcome of ['old', 'new'] as const) {
        const h = history();
        h.user('u1', { prefs: ['email', 'sms'] });
        h.event('e1', 'u1');
        h.setPreferences('u1', ['sms', 'push'], ok(100, 300, { instance: 1 }));
        h.publish('e1', ok(150, 200, { instance: 2 }));
        if (outcome === 'old') { h.deliver('e1', 'email'); h.deliver('e1', 'sms'); }
        else { h.deliver('e1', 'sms'); h.deliver('e1', 'push'); }
        h.deadLetters([]);
        expect(check(h).passed, outcome).toBe(true);
      }
    });

    it('a channel dropped by a setPreferences acknowledged before the publish is not owed', () => {
      const h = history();
      h.user('u1', { prefs: ['email', 'sms'] });
      h.setPreferences('u1', ['email'], ok(0, 30, { instance: 1 }));
      h.event('e1', 'u1');
      h.publish('e1', ok(50, 70));
      h.deliver('e1', 'email');
      h.deadLetters([]);
      expect(check(h).passed).toBe(true);
    });

    it('an event published but never acknowledged owes nothing (delivered or not)', () => {
      const h = history();
      h.user('u1', { prefs: ['email', 'push'] });
      h.event('e1', 'u1');
      h.publish('e1', info(0, 10_000, { error: 'timeout' }));
      h.event('e2', 'u1');
      h.publish('e2', info(0, 10_000, { error: 'status 503' }));
      h.deliver('e2', 'email');
      h.event('e3', 'u1'); // planned, never published
      h.deadLetters([]);
      const r = check(h);
      expect(r.passed).toBe(true);
      expect(r.message).toContain('the 0 accepted event(s)');
    });

    it('given up for every reason the contract allows, each listed', () => {
      const h = history();
      // An invalid recipient (422, final).
      h.user('u1', { prefs: ['email'], invalid: 'email' });
      h.event('e1', 'u1');
      h.publish('e1', ok(0, 20));
      h.attempt('e1', 'email', { start: 100, status: 422, code: 'invalid_recipient' });
      // The per-user SMS limit: three SMS sent, the fourth given up.
      h.user('u2', { prefs: ['sms'] });
      for (const id of ['s1', 's2', 's3']) happy(h, id, 'u2');
      h.event('s4', 'u2');
      h.publish('s4', ok(50, 70));
      // Ten failed attempts.
      h.user('u3', { prefs: ['push'] });
      h.event('e3', 'u3');
      h.publish('e3', ok(0, 20));
      h.failures('e3', 'push', [100, 150, 250, 400, 700, 1100, 1600, 2300, 3200, 4300]);
      // Transient failures retried for more than 5 s.
      h.user('u4', { prefs: ['email'] });
      h.event('e4', 'u4');
      h.publish('e4', ok(0, 20));
      h.failures('e4', 'email', [100, 1100, 3100, 5200], { status: 0, code: undefined });
      h.deadLetters([
        { eventId: 'e1', channel: 'email', reason: 'invalid recipient' },
        { eventId: 's4', channel: 'sms', reason: 'sms limit' },
        { eventId: 'e3', channel: 'push', reason: '10 attempts' },
        { eventId: 'e4', channel: 'email', reason: 'kept failing' },
      ]);
      const r = check(h);
      expect(r.passed).toBe(true);
      expect(r.message).toContain('3 sent exactly once, 4 given up for a reason the contract allows');
    });

    it('a poison recipient given up while the dead letters cannot be read is not held against it', () => {
      const h = history();
      h.user('u1', { prefs: ['push'], poison: 'push' });
      h.event('e1', 'u1');
      h.publish('e1', ok(0, 20));
      h.failures('e1', 'push', [100, 200, 400]);
      h.deadLetters('unreadable');
      expect(check(h).passed).toBe(true);
    });

    it('no ledger: unknown, not a pass', () => {
      const h = history();
      happy(h, 'e1', 'u1');
      expect(deliveredExactlyOnce.check({ ...h.input(), ledger: undefined }).passed).toBeNull();
    });
  });
});
