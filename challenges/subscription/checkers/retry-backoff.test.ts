// Tests of retry-backoff on hand-written attempt ledgers, including the budget's boundary: the textbook policy
// (capped exponential backoff with full jitter) passes on every seed; retrying at once or at a fixed short interval
// fails, by attempts per key, by pooled growth, or by the traffic a service that is down receives.

import { describe, expect, it } from 'vitest';
import { createRng, type Rng } from '../../../harness/seed.ts';
import { retryBackoff } from './retry-backoff.ts';
import { BUDGET, streakAllowance } from './attempts.ts';
import { history, ok, type SubHistory } from './test-history.ts';

const check = (h: SubHistory) => retryBackoff.check(h.input());
type V = { rule: string };

/** Start times (ms) of one key retried under a policy while the service is down from 0 to `downMs`; the first try after it succeeds. */
function policySeries(delay: (attempt: number) => number, downMs: number, start = 0, latencyMs = 1): number[] {
  const starts: number[] = [];
  let t = start;
  for (let k = 0; ; k++) {
    starts.push(Math.round(t * 1000) / 1000);
    if (t >= downMs) return starts;
    t += latencyMs + delay(k);
    if (starts.length > 10_000) return starts;
  }
}

const fullJitter = (rng: Rng, base: number, cap: number) => (k: number) => rng.next() * Math.min(cap, base * 2 ** k);

/** `keys` purchases in flight during an outage of `downMs`, each retrying its charge with the policy. */
function outage(h: SubHistory, keys: number, downMs: number, policy: (key: number) => (k: number) => number, o: { freshKeys?: boolean } = {}): void {
  h.fault('service-outage', 0, downMs, { service: 'payments', mode: '503' });
  for (let i = 0; i < keys; i++) {
    const rid = `r${i}`;
    h.purchase(rid);
    h.create(rid, ok(0, downMs + 50, { instance: i % 4 }));
    const starts = policySeries(policy(i), downMs, (i * 7) % 50);
    if (o.freshKeys) starts.forEach((s, n) => h.series([s], { key: `${rid}:${n}`, instance: i % 4, lastFails: s < downMs }));
    else h.series(starts, { key: `${rid}:charge`, instance: i % 4 });
  }
}

describe('retry-backoff', () => {
  describe('must fail', () => {
    it('a fixed 10 ms interval while payments are down', () => {
      const h = history();
      outage(h, 5, 2000, () => () => 10);
      const r = check(h);
      expect(r.passed).toBe(false);
      const rules = new Set((r.counterexample as V[]).map((v) => v.rule));
      expect(rules.has('attempts-per-key')).toBe(true);
      expect(r.message).toMatch(/payments POST \/charges from instance 0 \(key r0:charge\) was tried \d+ times in \d+(\.\d)? ms while it kept failing \(the budget allows \d+/);
    });

    it('retrying at once', () => {
      const h = history();
      h.series(Array.from({ length: 40 }, (_, i) => i * 1.2), { key: 'k1' });
      const r = check(h);
      expect(r.passed).toBe(false);
      expect((r.counterexample as V[])[0].rule).toBe('attempts-per-key');
    });

    it('a fixed 200 ms interval: within the count, but the waits never grow (pooled over the keys)', () => {
      const h = history();
      outage(h, 6, 2500, () => () => 200);
      const r = check(h);
      expect(r.passed).toBe(false);
      expect((r.counterexample as V[]).map((v) => v.rule)).toEqual(['no-growth']);
      expect(r.message).toContain('retries of payments POST /charges do not back off');
    });

    it('a new key for every try (each "streak" is one attempt): the outage traffic budget catches it', () => {
      const h = history();
      outage(h, 5, 2000, () => () => 10, { freshKeys: true });
      const r = check(h);
      expect(r.passed).toBe(false);
      expect((r.counterexample as V[]).map((v) => v.rule)).toEqual(['outage-traffic']);
      expect(r.message).toMatch(/while payments was down for 2000 ms it received \d+ calls for 5 purchase\(s\) in flight/);
    });

    it('keyless retries are grouped by their body', () => {
      const h = history();
      h.series(Array.from({ length: 30 }, (_, i) => i * 5), { key: null, body: { customerId: 'u1', amount: 1900, currency: 'usd' } });
      expect(check(h).passed).toBe(false);
    });
  });

  describe('must pass', () => {
    it('the textbook policy (full jitter, base 20–50 ms, cap 1 s) on 200 seeds of a 2.5 s outage with 20 purchases', () => {
      for (let seed = 1; seed <= 200; seed++) {
        for (const base of [20, 50]) {
          const h = history();
          const rng = createRng(seed).fork(`base-${base}`);
          outage(h, 20, 2500, () => fullJitter(rng, base, 1000));
          const r = check(h);
          expect({ seed, base, passed: r.passed, message: r.message }).toMatchObject({ passed: true });
        }
      }
    });

    it('full jitter with a 500 ms cap, equal jitter and plain exponential backoff', () => {
      const rng = createRng(7);
      const policies = {
        cap500: () => fullJitter(rng, 20, 500),
        equal: () => (k: number) => { const d = Math.min(1000, 20 * 2 ** k); return d / 2 + rng.next() * (d / 2); },
        plain: () => (k: number) => Math.min(1000, 25 * 2 ** k),
      };
      for (const [name, policy] of Object.entries(policies)) {
        const h = history();
        outage(h, 20, 3000, policy);
        expect({ name, passed: check(h).passed }).toEqual({ name, passed: true });
      }
    });

    it('a fixed interval of 250 ms or more is not "short"', () => {
      const h = history();
      outage(h, 8, 2500, () => () => 300);
      expect(check(h).passed).toBe(true);
    });

    it('short streaks of a flaky service are never judged for growth', () => {
      const h = history();
      for (let i = 0; i < 50; i++) h.series([0, 5, 10], { key: `k${i}` }); // three quick tries, then success
      expect(check(h).passed).toBe(true);
    });

    it('waits set by Retry-After are left out of the growth judgement', () => {
      const h = history();
      for (let i = 0; i < 6; i++) {
        // 429s every time with Retry-After 300: fixed-looking 300 ms waits, all dictated by the service.
        h.series([0, 301, 602, 903, 1204, 1505, 1806, 2107, 2408], { key: `k${i}`, status: 429, retryAfterMs: 300 });
      }
      expect(check(h).passed).toBe(true);
    });
  });

  it('the allowance grows 8 attempts per second of a streak from 12', () => {
    expect(streakAllowance(0)).toBe(BUDGET.streakBase);
    expect(streakAllowance(2_500_000)).toBe(32);
  });
});
