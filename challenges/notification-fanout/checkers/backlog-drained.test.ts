// Tests of backlog-drained: counted from the answer to the burst's last publish, every email and push delivery of
// the burst goes out within drainMs, every SMS within ⌈SMS sent / R⌉ s + drainMs (R: the SMS provider's rate); a
// delivery given up for a reason the contract allows is not waited for; one never sent is late forever.

import { describe, expect, it } from 'vitest';
import { backlogDrained } from './backlog-drained.ts';
import { history, info, ok, type FanoutHistory } from './test-history.ts';

const check = (h: FanoutHistory) => backlogDrained.check(h.input());

/**
 * A burst of `n` events over users u1..u4 (round-robin, wanting email and SMS), published within [0, 1000] ms: the
 * last publish answers at 1000 ms. drainMs 5000, SMS provider at `smsPerSecond`.
 */
function burst(n: number, smsPerSecond = 2): FanoutHistory {
  const h = history();
  h.params = { drainMs: 5000, smsPerSecond };
  for (let u = 1; u <= 4; u++) h.user(`u${u}`, { prefs: ['email', 'sms'] });
  for (let i = 1; i <= n; i++) {
    h.event(`b${i}`, `u${((i - 1) % 4) + 1}`, { group: 'burst' });
    const start = Math.round(((i - 1) * 980) / Math.max(1, n - 1));
    h.publish(`b${i}`, ok(start, start + 20));
  }
  return h;
}

describe('backlog-drained', () => {
  describe('must fail', () => {
    it('an email delivered 9 s after the burst with drainMs 5000', () => {
      const h = burst(2);
      h.deliver('b1', 'email', { at: 10_000 });
      h.deliver('b2', 'email', { at: 1500 });
      h.deliver('b1', 'sms', { at: 1200 });
      h.deliver('b2', 'sms', { at: 1700 });
      const r = check(h);
      expect(r).toMatchObject({ passed: false, violations: 1 });
      expect(r.message).toContain("b1's email was delivered 9000 ms after the burst, past its 5000 ms bound; 1 delivery(ies) late in all (email: 1)");
      expect(r.message).toContain('email done at +9000 ms (bound 5000 ms)');
      expect(r.message).toContain('give each channel its own workers');
      expect((r.counterexample as object[])[0]).toMatchObject({ eventId: 'b1', channel: 'email' });
    });

    it('email held back behind the rate-limited SMS (one queue for every channel)', () => {
      const h = burst(8, 1); // 8 SMS at 1/s: the SMS bound is 8 s + 5 s, the email bound stays 5 s
      for (let i = 1; i <= 8; i++) {
        h.deliver(`b${i}`, 'sms', { at: 1000 + i * 1000 });
        h.deliver(`b${i}`, 'email', { at: 1000 + i * 1000 + 1 }); // each email waits for its SMS
      }
      const r = check(h);
      expect(r).toMatchObject({ passed: false, violations: 4 }); // b5..b8's emails, at +5001 .. +8001 ms
      expect(r.message).toContain("b8's email was delivered 8001 ms after the burst, past its 5000 ms bound; 4 delivery(ies) late in all (email: 4)");
      expect(r.message).toContain('sms done at +8000 ms (bound 13000 ms)');
    });

    it('a required SMS never sent and not given up is late forever', () => {
      const h = burst(2);
      h.deliver('b1', 'email', { at: 1100 });
      h.deliver('b2', 'email', { at: 1100 });
      h.deliver('b1', 'sms', { at: 1100 });
      const r = check(h);
      expect(r).toMatchObject({ passed: false, violations: 1 });
      expect(r.message).toContain("b2's sms delivery was never sent (bound: 6000 ms after the burst)");
    });

    it('an SMS past ⌈n/R⌉ s + drainMs', () => {
      const h = burst(4, 2); // 4 SMS at 2/s: bound 2 s + 5 s = 7000 ms
      for (let i = 1; i <= 4; i++) h.deliver(`b${i}`, 'email', { at: 1100 });
      for (let i = 1; i <= 3; i++) h.deliver(`b${i}`, 'sms', { at: 1100 + i * 500 });
      h.deliver('b4', 'sms', { at: 9000 });
      const r = check(h);
      expect(r).toMatchObject({ passed: false, violations: 1 });
      expect(r.message).toContain("b4's sms was delivered 8000 ms after the burst, past its 7000 ms bound");
    });
  });

  describe('must pass', () => {
    it('SMS delivered late but within ⌈n/R⌉ s + drainMs; email and push within drainMs', () => {
      const h = burst(10, 2); // 10 SMS at 2/s: bound 5 s + 5 s = 10 000 ms after the burst
      for (let i = 1; i <= 10; i++) {
        h.deliver(`b${i}`, 'email', { at: 1000 + i * 400 }); // the last at +4000 ms
        h.deliver(`b${i}`, 'sms', { at: 1000 + i * 900 }); // the last at +9000 ms: an email this late would fail
      }
      const r = check(h);
      expect(r.passed).toBe(true);
      expect(r.message).toBe('the burst of 10 event(s) drained in time: email done at +4000 ms (bound 5000 ms), push done at +0 ms (bound 5000 ms), sms done at +9000 ms (bound 10000 ms)');
    });

    it('deliveries given up for an allowed reason are not waited for (the per-user SMS limit, an invalid address)', () => {
      const h = history();
      h.params = { drainMs: 5000, smsPerSecond: 10 };
      h.user('u1', { prefs: ['sms', 'push'], invalid: 'push' });
      for (let i = 1; i <= 5; i++) {
        h.event(`b${i}`, 'u1', { group: 'burst' });
        h.publish(`b${i}`, ok(i * 10, i * 10 + 20));
        if (i <= 3) h.deliver(`b${i}`, 'sms', { at: 200 + i * 100 });
        h.attempt(`b${i}`, 'push', { start: 100, status: 422, code: 'invalid_recipient' });
      }
      h.deadLetters([4, 5].map((i) => ({ eventId: `b${i}`, channel: 'sms' })).concat([1, 2, 3, 4, 5].map((i) => ({ eventId: `b${i}`, channel: 'push' }))));
      expect(check(h).passed).toBe(true);
    });

    it('a burst event never acknowledged owes nothing; events outside the burst are not timed here', () => {
      const h = burst(1);
      h.deliver('b1', 'email', { at: 1100 });
      h.deliver('b1', 'sms', { at: 1100 });
      h.event('b2', 'u2', { group: 'burst' });
      h.publish('b2', info(500, 10_500, { error: 'timeout' })); // never acknowledged
      h.event('x1', 'u3', { group: 'calm' });
      h.publish('x1', ok(0, 20, { phase: 'calm' })); // never delivered: delivered-exactly-once's business
      expect(check(h).passed).toBe(true);
    });

    it('no burst in this scenario; no ledger is unknown', () => {
      const h = history();
      h.params = { drainMs: 5000, smsPerSecond: 2 };
      h.user('u1');
      h.event('e1', 'u1');
      h.publish('e1', ok(0, 20));
      expect(check(h)).toMatchObject({ passed: true, message: 'this scenario sent no burst' });
      expect(backlogDrained.check({ ...h.input(), ledger: undefined }).passed).toBeNull();
    });
  });
});
