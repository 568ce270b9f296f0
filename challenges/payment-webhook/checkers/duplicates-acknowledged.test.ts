// Tests of duplicates-acknowledged on tiny histories: a duplicate refused with a 4xx, a 5xx nothing excuses (a
// notification outage included), or a delivery never acknowledged must fail; 5xx under database faults or an
// instance kill, a dead instance that never saw the request, and redeliveries that end in 2xx must not.

import { describe, expect, it } from 'vitest';
import { duplicatesAcknowledged } from './duplicates-acknowledged.ts';
import { down, error, history, noAnswer, ok, refused } from './test-history.ts';

const check = (h: ReturnType<typeof history>) => duplicatesAcknowledged.check(h.input());

describe('duplicates-acknowledged', () => {
  describe('must fail', () => {
    it('a sequential duplicate answered 409', () => {
      const h = history();
      const e = h.event('p1', 'success');
      h.deliver(e, ok(0, 10));
      h.deliver(e, refused(409, 20, 25, { instance: 2 }), { kind: 'duplicate', variant: 'sequential' });
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.violations).toBe(1);
      expect(r.message).toContain('the duplicate delivery d2 (sequential) of the success event evt_1 (payment "p1") was refused: delivery d2 to instance 2 at 20 ms, answered 409');
      expect((r.counterexample as { problem: string }[])[0].problem).toBe('refused');
    });

    it('a duplicate answered 500 with no fault, even though the redelivery got a 200', () => {
      const h = history();
      const e = h.event('p1', 'success');
      h.deliver(e, ok(0, 10));
      h.deliver(e, [error(500, 20, 25, { instance: 1 }), ok(100, 110, { instance: 2 })], { kind: 'duplicate', variant: 'concurrent' });
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('got 500');
      expect(r.message).toContain('answers in order: 500, 200');
    });

    it('a 500 while only the notification service was failing is not excused, and says so', () => {
      const h = history();
      h.fault('service-outage', 0, 1000, { service: 'notifications' });
      h.deliver(h.event('p1', 'success'), [error(500, 20, 25), ok(100, 110)]);
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('the notifications service was failing then');
    });

    it('added latency excuses nothing', () => {
      const h = history();
      h.fault('db-latency', 0, 1000);
      h.deliver(h.event('p1', 'pending'), [noAnswer(20, 8020), ok(8100, 8110)]);
      expect(check(h).passed).toBe(false);
    });

    it('a delivery that gave up without any answer outside faults', () => {
      const h = history();
      h.deliver(h.event('p1', 'success'), [error(503, 0, 5), error(503, 50, 55), error(503, 150, 155)]);
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.violations).toBe(1);
    });

    it('a late pending refused with 4xx counts too, and every problem is counted', () => {
      const h = history();
      h.deliver(h.event('p1', 'pending'), refused(422, 0, 5), { variant: 'late' });
      h.deliver(h.event('p2', 'success'), error(500, 0, 5));
      const r = check(h);
      expect(r.violations).toBe(2);
      expect(r.message).toContain('the late delivery d1');
      expect(r.message).toContain('[1 refused, 1 unexcused-error]');
    });
  });

  describe('must pass', () => {
    it('first deliveries and duplicates all 2xx (201, 202, 204 too)', () => {
      const h = history();
      const e = h.event('p1', 'success');
      h.deliver(e, ok(0, 10, { status: 201 }));
      h.deliver(e, ok(20, 30, { status: 202 }), { kind: 'duplicate' });
      h.deliver(e, ok(40, 50, { status: 204 }), { kind: 'duplicate' });
      const r = check(h);
      expect(r.passed).toBe(true);
      expect(r.message).toContain('all 3 deliveries of valid events ended in a 2xx');
    });

    it('a 500 during killed backends (or within a second after) is excused once a redelivery gets a 2xx', () => {
      const h = history();
      h.fault('kill-backends', 100, 101);
      h.deliver(h.event('p1', 'success'), [error(500, 90, 120), noAnswer(900, 1050), ok(1300, 1310)]);
      expect(check(h).passed).toBe(true);
    });

    it('a reset while the instance was killed by the harness is excused', () => {
      const h = history();
      h.instanceEvent(1, 'killed', 50);
      h.deliver(h.event('p1', 'success'), [noAnswer(40, 50, { instance: 1, error: 'reset: ECONNRESET' }), ok(100, 110, { instance: 2 })]);
      expect(check(h).passed).toBe(true);
    });

    it('an instance that was down never saw the request: not held against the candidate', () => {
      const h = history();
      h.deliver(h.event('p1', 'success'), [down(5000, 5001, { instance: 3 }), ok(5050, 5060)]);
      expect(check(h).passed).toBe(true);
    });

    it('forged, stale and poison deliveries are not this check\'s business', () => {
      const h = history();
      h.deliver(h.event('x', 'success'), refused(401, 0, 5), { kind: 'forged', variant: 'unsigned' });
      h.deliver(h.event('y', 'success'), refused(400, 0, 5), { kind: 'poison', variant: 'not-json' });
      h.deliver(h.event('z', 'success'), error(500, 0, 5), { kind: 'stale', variant: 'stale' });
      expect(check(h).passed).toBe(true);
    });

    it('a delivery cut short entirely inside a database fault is left out, not failed (indeterminate)', () => {
      const h = history();
      h.fault('db-blackhole', 0, 3000);
      h.deliver(h.event('p1', 'success'), [noAnswer(10, 1010), noAnswer(1100, 2100)]);
      const r = check(h);
      expect(r.passed).toBe(true);
      expect(r.message).toContain('1 cut short by injected database faults are not counted');
    });
  });
});
