// Tests of publish-decoupled: a publish that overlapped a provider's outage or fault window is acknowledged within
// max(publishBoundMs, 3 × the median calm publish); a slower one fails when its instance called a provider for that
// event meanwhile (it waited for delivery) or when it took more than twice the bound. A slow machine alone (slower
// than the bound, no provider calls, under twice the bound) passes, as does an error from an instance being killed.

import { describe, expect, it } from 'vitest';
import { DEFAULT_PUBLISH_BOUND_MS, publishDecoupled } from './publish-decoupled.ts';
import { history, info, ok, type FanoutHistory } from './test-history.ts';

const check = (h: FanoutHistory) => publishDecoupled.check(h.input());

/** Calm publishes of `calmMs` each before t = 1000, then the email provider down over [1000, 5000]. */
function outage(calmMs = 20, publishBoundMs = 1000): FanoutHistory {
  const h = history();
  h.params = { publishBoundMs };
  h.user('u1', { prefs: ['email', 'push'] });
  for (let i = 0; i < 5; i++) {
    h.event(`c${i}`, 'u1', { group: 'calm' });
    h.publish(`c${i}`, ok(i * 150, i * 150 + calmMs));
  }
  h.fault('service-outage', 1000, 5000, { service: 'email', mode: '503' });
  return h;
}

describe('publish-decoupled', () => {
  describe('must fail', () => {
    it('a publish that took 3 s during the outage while its instance called the provider for it', () => {
      const h = outage();
      h.event('o1', 'u1', { group: 'outage' });
      h.publish('o1', ok(1200, 4200, { instance: 2 }));
      h.failures('o1', 'email', [1210, 1800, 2900], { status: 503, code: 'service_unavailable', instance: 2 });
      const r = check(h);
      expect(r).toMatchObject({ passed: false, violations: 1 });
      expect(r.message).toContain('publishing o1 on instance 2 took 3000 ms while a provider was failing, more than the 1000 ms bound');
      expect(r.message).toContain('meanwhile instance 2 called the providers 3 time(s) for it');
      expect((r.counterexample as object[])[0]).toMatchObject({ eventId: 'o1', tookMs: 3000, boundMs: 1000 });
    });

    it('a publish just over the bound that waited for a provider call', () => {
      const h = outage();
      h.event('o1', 'u1', { group: 'outage' });
      h.publish('o1', ok(1200, 2300));
      h.attempt('o1', 'push', { start: 1210, end: 2290 });
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('took 1100 ms');
    });

    it('a publish over twice the bound with no provider calls at all', () => {
      const h = outage();
      h.event('o1', 'u1', { group: 'outage' });
      h.publish('o1', ok(1200, 3300));
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('publishing o1 on instance 0 took 2100 ms');
      expect(r.message).not.toContain('meanwhile');
    });

    it('a publish answered with an error, or timing out, while a provider was down', () => {
      const h = outage();
      h.event('o1', 'u1', { group: 'outage' });
      h.publish('o1', info(1200, 1300, { error: 'status 500: email provider unavailable' }));
      h.event('o2', 'u1', { group: 'outage' });
      h.publish('o2', info(1300, 11_300, { error: 'timeout', instance: 1 }));
      const r = check(h);
      expect(r).toMatchObject({ passed: false, violations: 2 });
      expect(r.message).toContain('publishing o1 on instance 0 was answered with an error (status 500: email provider unavailable) while a provider was failing');
      expect(JSON.stringify(r.counterexample)).toContain('publishing o2 on instance 1 was answered with an error (timeout)');
    });

    it('per-request faults on a channel provider count as a failing provider too', () => {
      const h = history();
      h.params = { publishBoundMs: 1000 };
      h.user('u1');
      h.fault('service-faults', 0, 10_000, { service: 'sms' });
      h.event('e1', 'u1');
      h.publish('e1', ok(100, 2600));
      expect(check(h).passed).toBe(false);
    });
  });

  describe('must pass', () => {
    it('publishes answered at once during the outage, deliveries later', () => {
      const h = outage();
      for (let i = 0; i < 5; i++) {
        h.event(`o${i}`, 'u1', { group: 'outage' });
        h.publish(`o${i}`, ok(1000 + i * 500, 1000 + i * 500 + 30, { instance: i % 3 }));
        h.failures(`o${i}`, 'email', [1100 + i * 500], { status: 503, code: 'service_unavailable', instance: i % 3 });
      }
      const r = check(h);
      expect(r.passed).toBe(true);
      expect(r.message).toBe(`5 publish(es) ran while a provider failed; all were acknowledged within ${DEFAULT_PUBLISH_BOUND_MS} ms without waiting for delivery`);
    });

    it('a publish slower than the bound on a slow machine, without provider calls, under twice the bound', () => {
      const h = outage();
      h.event('o1', 'u1', { group: 'outage' });
      h.publish('o1', ok(1200, 3100));
      // Another instance was calling the provider for it meanwhile: not this publish waiting.
      h.failures('o1', 'email', [1300], { status: 503, code: 'service_unavailable', instance: 1 });
      expect(check(h).passed).toBe(true);
    });

    it('the bound grows to 3× the median calm publish on a slow machine', () => {
      const h = outage(500); // calm median 500 ms: bound 1500 ms
      h.event('o1', 'u1', { group: 'outage' });
      h.publish('o1', ok(1200, 2600));
      h.attempt('o1', 'email', { start: 1300, status: 503, code: 'service_unavailable' });
      const r = check(h);
      expect(r.passed).toBe(true);
      expect(r.message).toContain('acknowledged within 1500 ms');
    });

    it('an error from an instance killed while publishing is not held against the publish', () => {
      const h = outage();
      h.event('o1', 'u1', { group: 'outage' });
      h.publish('o1', info(1200, 1250, { error: 'reset', instance: 3 }));
      h.instanceEvent(3, 'killed', 1240);
      expect(check(h).passed).toBe(true);
    });

    it('slow publishes outside any provider fault window are not judged here', () => {
      const h = outage();
      h.event('a1', 'u1', { group: 'after' });
      h.publish('a1', ok(6000, 9000));
      h.event('d1', 'u1');
      h.publish('d1', ok(5200, 5400)); // started after the outage healed
      const r = check(h);
      expect(r.passed).toBe(true);
      expect(r.message).toContain('0 publish(es) ran while a provider failed');
    });

    it('no provider failed, or only a non-provider service did', () => {
      const h = history();
      h.user('u1');
      h.event('e1', 'u1');
      h.publish('e1', ok(0, 5000));
      expect(check(h)).toMatchObject({ passed: true, message: 'no provider failed in this scenario' });
      h.fault('service-outage', 0, 9000, { service: 'payments' });
      expect(check(h)).toMatchObject({ passed: true, message: 'no provider failed in this scenario' });
    });
  });
});
