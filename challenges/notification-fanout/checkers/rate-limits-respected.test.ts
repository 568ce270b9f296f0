// Tests of rate-limits-respected: at most smsPerUserPerMinute SMS per user in any 60 s (counted over every instance,
// one per event), and after a provider's 429 with Retry-After-Ms the instance that got it calls that provider nothing
// until the time has passed — judged per instance and provider, with a GRACE_MS (500 ms) grace for a call already on its way.

import { describe, expect, it } from 'vitest';
import { GRACE_MS, rateLimitsRespected } from './rate-limits-respected.ts';
import { happy, history, ok, type FanoutHistory } from './test-history.ts';

const check = (h: FanoutHistory) => rateLimitsRespected.check(h.input());

/** Three users wanting every channel, each with an event; `e1`'s SMS rate-limited at 1000 ms (answer at 1001). */
function rateLimited(h: FanoutHistory, retryAfterMs = 1000): void {
  for (const [e, u] of [['e1', 'u1'], ['e2', 'u2'], ['e3', 'u3']]) {
    h.event(e, u);
    h.publish(e, ok(0, 20));
  }
  h.attempt('e1', 'sms', { start: 1000, end: 1001, status: 429, code: 'rate_limited', retryAfterMs, instance: 1 });
}

describe('rate-limits-respected', () => {
  describe('must fail', () => {
    it('4 SMS to one user within 60 s with the limit 3 (sent by different instances)', () => {
      const h = history();
      h.user('u1', { prefs: ['sms'] });
      ['e1', 'e2', 'e3', 'e4'].forEach((id, i) => happy(h, id, 'u1', { start: i * 1000, instance: i % 4 }));
      const r = check(h);
      expect(r).toMatchObject({ passed: false, violations: 1 });
      expect(r.message).toContain('u1 was sent 4 SMS within 3 s (events e1, e2, e3, e4): at most 3 per user in any 60 s');
      expect((r.counterexample as object[])[0]).toMatchObject({ userId: 'u1' });
    });

    it('a call to a provider by the same instance 600 ms after a 429 with Retry-After-Ms 1000', () => {
      const h = history();
      rateLimited(h);
      h.deliver('e2', 'sms', { at: 1601, instance: 1 }); // another delivery, same provider, same instance
      const r = check(h);
      expect(r).toMatchObject({ passed: false, violations: 1 });
      expect(r.message).toContain('instance 1 was told by sms to wait 1000 ms (429 at 1001 ms), yet sent it 1 more call(s) within that time, the first 600 ms after');
      expect((r.counterexample as object[])[0]).toMatchObject({ service: 'sms', instance: 1 });
    });

    it('a retry of the same delivery before Retry-After has passed', () => {
      const h = history();
      rateLimited(h, 1500);
      h.attempt('e1', 'sms', { start: 1600, instance: 1, status: 429, code: 'rate_limited', retryAfterMs: 1500 });
      h.deliver('e1', 'sms', { at: 3300, instance: 1 });
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('the first 599 ms after');
    });

    it('the same delivery sent again by the instance told 429, 60 ms after (well within the grace for other calls)', () => {
      const h = history();
      rateLimited(h);
      h.attempt('e1', 'sms', { start: 1061, instance: 1, status: 500, code: 'provider_error' });
      h.deliver('e1', 'sms', { at: 2100, instance: 1 });
      const r = check(h);
      expect(r).toMatchObject({ passed: false, violations: 1 });
      expect(r.message).toContain('yet sent it 1 more call(s) within that time (1 of them the same delivery again), the first 60 ms after');
    });
  });

  describe('must pass', () => {
    it('3 SMS to one user, the fourth given up (dead-lettered), other channels unlimited', () => {
      const h = history();
      h.user('u1', { prefs: ['sms', 'email'] });
      ['e1', 'e2', 'e3'].forEach((id, i) => happy(h, id, 'u1', { start: i * 100 }));
      h.event('e4', 'u1');
      h.publish('e4', ok(300, 320));
      h.deliver('e4', 'email', { at: 400 });
      h.deadLetters([{ eventId: 'e4', channel: 'sms', reason: 'sms limit reached' }]);
      const r = check(h);
      expect(r.passed).toBe(true);
      expect(r.message).toContain('no user got more than 3 SMS in a minute');
    });

    it('the same SMS counted once however many times it went out; 4 SMS spread over more than 60 s', () => {
      const h = history();
      h.user('u1', { prefs: ['sms'] });
      happy(h, 'e1', 'u1');
      h.message('e1', 'sms', { at: 200, key: 'other' }); // a duplicate: delivered-exactly-once's business
      happy(h, 'e2', 'u1', { start: 1000 });
      happy(h, 'e3', 'u1', { start: 2000 });
      h.user('u2', { prefs: ['sms'] });
      ['f1', 'f2', 'f3', 'f4'].forEach((id, i) => happy(h, id, 'u2', { start: i * 20_500 }));
      expect(check(h).passed).toBe(true);
    });

    it('a call by ANOTHER instance during someone else\'s Retry-After', () => {
      const h = history();
      rateLimited(h);
      h.deliver('e2', 'sms', { at: 1301, instance: 2 });
      h.deliver('e1', 'sms', { at: 2010, instance: 1 });
      expect(check(h).passed).toBe(true);
    });

    it('the same delivery retried at once by ANOTHER instance, and a copy of it already on its way when the 429 came', () => {
      const h = history();
      rateLimited(h);
      h.attempt('e1', 'sms', { start: 1000, end: 1400, instance: 1, status: 409, code: 'request_in_progress' });
      h.deliver('e1', 'sms', { at: 1060, instance: 2 });
      expect(check(h).passed).toBe(true);
    });

    it('the same instance calling the OTHER providers meanwhile', () => {
      const h = history();
      rateLimited(h);
      h.deliver('e1', 'email', { at: 1200, instance: 1 });
      h.deliver('e2', 'push', { at: 1300, instance: 1 });
      h.deliver('e1', 'sms', { at: 2001, instance: 1 });
      expect(check(h).passed).toBe(true);
    });

    it(`a call started within ${GRACE_MS} ms of the 429's arrival was already on its way`, () => {
      const h = history();
      rateLimited(h);
      h.deliver('e2', 'sms', { at: 1001 + GRACE_MS - 10, instance: 1 });
      h.deliver('e3', 'sms', { at: 1001 + GRACE_MS, instance: 1 });
      h.deliver('e1', 'sms', { at: 2005, instance: 1 });
      expect(check(h).passed).toBe(true);
    });

    it('a call started before the 429 arrived, and one at the end of Retry-After within the clock slack', () => {
      const h = history();
      rateLimited(h);
      h.deliver('e2', 'sms', { at: 1000, instance: 1 }); // concurrent with the rate-limited call
      h.deliver('e1', 'sms', { at: 1985, instance: 1 }); // 984 ms after: within the 20 ms slack
      const r = check(h);
      expect(r.passed).toBe(true);
      expect(r.message).toContain('every one of the 1 429 answer(s) was waited out');
    });

    it('no ledger: unknown, not a pass', () => {
      const h = history();
      expect(rateLimitsRespected.check({ ...h.input(), ledger: undefined }).passed).toBeNull();
    });
  });
});
