// Tests of dead-lettered: what was given up is listed once, with a reason, for a cause the contract allows (an
// invalid recipient, the per-user SMS limit, 10 failed attempts or failures over 5 s); nothing delivered and nothing
// never owed is listed; every delivery that can only be given up (invalid, poison) is listed — a poison one after at
// most 10 failed attempts (+ POISON_ATTEMPT_SLACK).

import { describe, expect, it } from 'vitest';
import { deadLettered, POISON_ATTEMPT_SLACK } from './dead-lettered.ts';
import { happy, history, info, ok, type FanoutHistory } from './test-history.ts';

const check = (h: FanoutHistory) => deadLettered.check(h.input());
const tenAttempts = [100, 150, 250, 400, 700, 1100, 1600, 2300, 3200, 4300];

describe('dead-lettered', () => {
  describe('must fail', () => {
    it('a dead letter for a delivery that was delivered', () => {
      const h = history();
      h.user('u1', { prefs: ['email', 'push'] });
      happy(h, 'e1', 'u1');
      h.deadLetters([{ eventId: 'e1', channel: 'push', reason: 'timeout' }]);
      const r = check(h);
      expect(r).toMatchObject({ passed: false, violations: 1 });
      expect(r.message).toMatch(/^e1 by push is listed as given up, yet it was delivered \(msg-\d+\)$/);
    });

    it('a dead letter with no allowed cause: one 503 and given up', () => {
      const h = history();
      h.user('u1', { prefs: ['email'] });
      h.event('e1', 'u1');
      h.publish('e1', ok(0, 20));
      h.failures('e1', 'email', [100], { status: 503, code: 'service_unavailable' });
      h.deadLetters([{ eventId: 'e1', channel: 'email', reason: 'provider error' }]);
      const r = check(h);
      expect(r).toMatchObject({ passed: false, violations: 1 });
      expect(r.message).toContain('e1 by email was given up ("provider error") with no cause the contract allows: 1 failed attempt(s)');
    });

    it('a 429 is not a failed attempt: given up after ten rate-limited answers', () => {
      const h = history();
      h.user('u1', { prefs: ['sms'] });
      h.event('e1', 'u1');
      h.publish('e1', ok(0, 20));
      for (const start of tenAttempts) h.attempt('e1', 'sms', { start, status: 429, code: 'rate_limited', retryAfterMs: 40 });
      h.deadLetters([{ eventId: 'e1', channel: 'sms', reason: 'rate limited' }]);
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('e1 by sms was given up ("rate limited") with no cause the contract allows: 0 failed attempt(s)');
    });

    it('a poison delivery not dead-lettered', () => {
      const h = history();
      h.user('u1', { prefs: ['email', 'push'], poison: 'push' });
      happy(h, 'e1', 'u1');
      h.ledger.messages.pop(); // push never went out
      h.failures('e1', 'push', tenAttempts);
      h.deadLetters([]);
      const r = check(h);
      expect(r).toMatchObject({ passed: false, violations: 1 });
      expect(r.message).toBe('e1 by push can only be given up (its recipient fails every time), yet it is not among the dead letters');
      expect((r.counterexample as object[])[0]).toMatchObject({ eventId: 'e1', channel: 'push' });
    });

    it('an invalid recipient not dead-lettered', () => {
      const h = history();
      h.user('u1', { prefs: ['email'], invalid: 'email' });
      h.event('e1', 'u1');
      h.publish('e1', ok(0, 20));
      h.attempt('e1', 'email', { start: 100, status: 422, code: 'invalid_recipient' });
      h.deadLetters([]);
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('e1 by email can only be given up (its recipient is invalid (422))');
    });

    it('a poison retried 20 times (even though it was listed in the end)', () => {
      const h = history();
      h.user('u1', { prefs: ['sms'], poison: 'sms' });
      h.event('e1', 'u1');
      h.publish('e1', ok(0, 20));
      h.failures('e1', 'sms', Array.from({ length: 20 }, (_, i) => 100 + i * 300), { instance: 2 });
      h.deadLetters([{ eventId: 'e1', channel: 'sms', reason: 'gave up after 20 attempts' }]);
      const r = check(h);
      expect(r).toMatchObject({ passed: false, violations: 1 });
      expect(r.message).toContain('e1 by sms failed 20 times before anything gave up: give a delivery up after 10 failed attempts');
    });

    it('listed twice; listed without a reason; listed for a channel never owed; naming no delivery of the run', () => {
      const h = history();
      h.user('u1', { prefs: ['email'], invalid: 'email' });
      h.event('e1', 'u1');
      h.publish('e1', ok(0, 20));
      h.attempt('e1', 'email', { start: 100, status: 422, code: 'invalid_recipient' });
      h.deadLetters([
        { eventId: 'e1', channel: 'email', reason: 'invalid' },
        { eventId: 'e1', channel: 'email', reason: 'invalid' }, // twice
        { eventId: 'e1', channel: 'sms', reason: 'no sms' }, // u1 never wanted sms
        { eventId: 'e-nope', channel: 'email', reason: 'x' }, // no such event
        { eventId: 'e1', channel: 'fax', reason: 'x' }, // no such channel
      ]);
      const r = check(h);
      expect(r).toMatchObject({ passed: false, violations: 4 });
      const reasons = (r.counterexample as { reason: string }[]).map((v) => v.reason);
      expect(reasons).toContain("e1 by sms is listed as given up, but the event never owed a sms delivery (its user did not want sms for 'created')");
      expect(reasons.some((x) => x.includes('"eventId":"e-nope"') && x.includes('names no delivery of this run'))).toBe(true);
      expect(reasons.some((x) => x.includes('"channel":"fax"'))).toBe(true);
      expect(reasons).toContain('e1 by email is listed 2 times among the dead letters: once is the contract');

      const h2 = history();
      h2.user('u1', { prefs: ['email'], invalid: 'email' });
      h2.event('e1', 'u1');
      h2.publish('e1', ok(0, 20));
      h2.deadLetters([{ eventId: 'e1', channel: 'email', reason: '  ' }]);
      expect(check(h2).message).toBe('the dead letter for e1 by email has no reason');
    });
  });

  describe('must pass', () => {
    it('a delivery whose 10th attempt was a ghost success (sent, never answered), then given up', () => {
      const h = history();
      h.user('u1', { prefs: ['email'] });
      h.event('e1', 'u1');
      h.publish('e1', ok(0, 20));
      h.failures('e1', 'email', tenAttempts.slice(0, 9), { status: 503, code: 'service_unavailable' });
      h.attempt('e1', 'email', { start: 4300, end: 4310, status: 0, outcome: 'dropped', fault: 'ghost' });
      h.message('e1', 'email', { at: 4305 });
      h.deadLetters([{ eventId: 'e1', channel: 'email', reason: '10 failed attempts' }]);
      expect(check(h).passed).toBe(true);
    });

    it('a dead-lettered SMS when the user already had 3 SMS', () => {
      const h = history();
      h.user('u1', { prefs: ['sms'] });
      ['e1', 'e2', 'e3'].forEach((id, i) => happy(h, id, 'u1', { start: i * 100 }));
      h.event('e4', 'u1');
      h.publish('e4', ok(300, 320));
      h.deadLetters([{ eventId: 'e4', channel: 'sms', reason: 'per-user SMS limit' }]);
      const r = check(h);
      expect(r.passed).toBe(true);
      expect(r.message).toContain('1 dead letter(s), each given up for a reason the contract allows and listed once');
    });

    it('an invalid recipient given up (listed after its 422)', () => {
      const h = history();
      h.user('u1', { prefs: ['email', 'push'], invalid: 'push' });
      happy(h, 'e1', 'u1');
      h.ledger.messages.pop();
      h.attempt('e1', 'push', { start: 100, status: 422, code: 'invalid_recipient' });
      h.deadLetters([{ eventId: 'e1', channel: 'push', reason: 'invalid_recipient' }]);
      expect(check(h).passed).toBe(true);
    });

    it('a 422 invalid_recipient answer is cause enough even for an address the scenario did not spoil', () => {
      const h = history();
      h.user('u1', { prefs: ['email'] });
      h.event('e1', 'u1');
      h.publish('e1', ok(0, 20));
      h.attempt('e1', 'email', { start: 100, status: 422, code: 'invalid_recipient' });
      h.deadLetters([{ eventId: 'e1', channel: 'email', reason: 'bounced' }]);
      expect(check(h).passed).toBe(true);
    });

    it(`a poison delivery given up after 10 failed attempts (up to ${10 + POISON_ATTEMPT_SLACK} with a lost lease)`, () => {
      const h = history();
      h.user('u1', { prefs: ['push'], poison: 'push' });
      h.user('u2', { prefs: ['email'], poison: 'email' });
      h.event('e1', 'u1');
      h.publish('e1', ok(0, 20));
      h.failures('e1', 'push', tenAttempts);
      h.event('e2', 'u2');
      h.publish('e2', ok(0, 20));
      h.failures('e2', 'email', Array.from({ length: 10 + POISON_ATTEMPT_SLACK }, (_, i) => 100 + i * 400));
      h.deadLetters([{ eventId: 'e1', channel: 'push', reason: '10 failed attempts' }, { eventId: 'e2', channel: 'email', reason: '10 failed attempts' }]);
      expect(check(h).passed).toBe(true);
    });

    it('transient failures retried for 5 s, then given up', () => {
      const h = history();
      h.user('u1', { prefs: ['email'] });
      h.event('e1', 'u1');
      h.publish('e1', ok(0, 20));
      h.failures('e1', 'email', [100, 600, 1600, 3600, 5100], { status: 503, code: 'service_unavailable' });
      h.deadLetters([{ eventId: 'e1', channel: 'email', reason: 'provider unavailable' }]);
      expect(check(h).passed).toBe(true);
    });

    it('a poison delivery for an event never acknowledged owes no dead letter; no dead letters at all is fine', () => {
      const h = history();
      h.user('u1', { prefs: ['push'], poison: 'push' });
      h.event('e1', 'u1');
      h.publish('e1', info(0, 10_000, { error: 'timeout' }));
      h.failures('e1', 'push', [100, 200]);
      h.deadLetters([]);
      const r = check(h);
      expect(r.passed).toBe(true);
      expect(r.message).toContain('0 dead letter(s)');
    });

    it('the dead letters unreadable, or no ledger: unknown, not a pass', () => {
      const h = history();
      h.user('u1');
      happy(h, 'e1', 'u1');
      h.deadLetters('unreadable');
      expect(check(h).passed).toBeNull();
      expect(check(h).message).toContain('getDeadLetters could not be read');
      expect(deadLettered.check({ ...h.input(), ledger: undefined }).passed).toBeNull();
    });
  });
});
