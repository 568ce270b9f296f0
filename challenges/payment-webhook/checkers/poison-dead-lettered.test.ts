// Tests of poison-dead-lettered on tiny histories: poison answered 5xx, missing from any instance's dead-letter list,
// processed into a subscription, no getDeadLetters() at all, or a valid event left in the list must fail; poison
// answered 2xx or 4xx and listed (by raw body or key), and forged deliveries in the list, must not.

import { describe, expect, it } from 'vitest';
import { poisonDeadLettered } from './poison-dead-lettered.ts';
import { error, history, ok, refused, sub, type Ev } from './test-history.ts';

const check = (h: ReturnType<typeof history>) => poisonDeadLettered.check(h.input());
const poison = (h: ReturnType<typeof history>, id: string, rawBody?: string): Ev => h.event(id, 'success', { ...(rawBody ? { rawBody } : {}) });
const entry = (e: Ev, o: { key?: boolean } = {}) => ({ ...(o.key ? { idempotencyKey: e.idempotencyKey } : {}), reason: 'invalid', rawBody: e.rawBody });

describe('poison-dead-lettered', () => {
  describe('must fail', () => {
    it('poison answered 500 and never listed', () => {
      const h = history();
      const e = poison(h, 'pp1', '{"paymentId": "pp1", "status": ');
      h.deliver(e, [error(500, 0, 5), error(500, 50, 55)], { kind: 'poison', variant: 'not-json' });
      h.deadLetters([], 0);
      h.deadLetters([], 1);
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.violations).toBe(2);
      expect(r.message).toContain('the poison event d1 (not-json: "{\\"paymentId\\": \\"pp1\\", \\"status\\": ") got 500 from instance 0 at 0 ms');
      expect((r.counterexample as { problem: string }[])[1]).toMatchObject({ problem: 'not-listed' });
      expect((r.counterexample as { message: string }[])[1].message).toContain('is not in the dead-letter list of any instance');
    });

    it('listed by one instance only (kept in process memory)', () => {
      const h = history();
      const e = poison(h, 'pp1');
      h.deliver(e, refused(400, 0, 5), { kind: 'poison', variant: 'missing-userId' });
      h.deadLetters([entry(e)], 0);
      h.deadLetters([], 1);
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('in the dead-letter list of instance 1 (other instances list it: kept in process memory?)');
    });

    it('poison processed into a subscription', () => {
      const h = history();
      const e = poison(h, 'pp1');
      h.deliver(e, ok(0, 5), { kind: 'poison', variant: 'negative-amount' });
      h.deadLetters([entry(e)]);
      h.final('pp1', [sub('pp1', 'active', { amount: -1900 })]);
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('the poison event d1 (negative-amount, delivered to instance 0 at 0 ms) was processed: payment "pp1" reads an active subscription');
    });

    it('no getDeadLetters()', () => {
      const h = history();
      h.deliver(poison(h, 'pp1'), refused(400, 0, 5), { kind: 'poison', variant: 'unknown-status' });
      h.deadLetters('not-implemented');
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('the service has no getDeadLetters()');
    });

    it('an unreadable dead-letter list', () => {
      const h = history();
      h.deadLetters(null, 2);
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('instance 2 could not list the dead letters after the run (500');
    });

    it('a valid event left in the dead-letter list (matched by raw body or by key)', () => {
      const h = history();
      const a = h.event('p1', 'success');
      const b = h.event('p2', 'pending');
      h.deliver(a, ok(0, 5));
      h.deliver(b, ok(0, 5));
      h.deadLetters([{ reason: 'database down', rawBody: a.rawBody }, { idempotencyKey: b.idempotencyKey, reason: 'timeout', rawBody: '' }]);
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.violations).toBe(2);
      expect(r.message).toContain('the valid success event evt_1 (payment "p1") is still in the dead-letter list of instance 0 after the run (reason: "database down")');
    });
  });

  describe('must pass', () => {
    it('poison answered 400 or 202 and listed everywhere, by raw body (trimmed) or by key', () => {
      const h = history();
      const a = poison(h, 'pp1');
      const b = poison(h, 'pp2');
      h.deliver(a, refused(400, 0, 5), { kind: 'poison', variant: 'missing-amount' });
      h.deliver(b, ok(0, 5, { status: 202 }), { kind: 'poison', variant: 'amount-as-string' });
      for (const i of [0, 1]) h.deadLetters([{ reason: 'x', rawBody: `${a.rawBody}\n` }, { idempotencyKey: b.idempotencyKey, reason: 'y', rawBody: 'stored elsewhere' }], i);
      h.final('pp1', []);
      const r = check(h);
      expect(r.passed).toBe(true);
      expect(r.message).toContain('all 2 poison events');
    });

    it('a 5xx on poison during a database fault is excused (the provider redelivers it)', () => {
      const h = history();
      h.fault('db-reset', 0, 1);
      const e = poison(h, 'pp1');
      h.deliver(e, [error(500, 0, 5), refused(400, 100, 105)], { kind: 'poison', variant: 'missing-status' });
      h.deadLetters([entry(e)]);
      expect(check(h).passed).toBe(true);
    });

    it('forged deliveries may be listed too, even one sharing a valid event\'s key (a tampered replay)', () => {
      const h = history();
      const valid = h.event('p1', 'failed');
      h.deliver(valid, ok(0, 5));
      const tampered = h.event('p1', 'success', { idempotencyKey: valid.idempotencyKey, rawBody: '{"tampered": true}' });
      h.deliver(tampered, refused(401, 10, 15), { kind: 'forged', variant: 'tampered-status', tampered: { field: 'status', value: 'success' } });
      h.deadLetters([{ idempotencyKey: valid.idempotencyKey, reason: 'bad signature', rawBody: '{"tampered": true}' }]);
      expect(check(h).passed).toBe(true);
    });

    it('no poison and an empty list', () => {
      const h = history();
      h.deliver(h.event('p1', 'success'), ok(0, 5));
      h.deadLetters([]);
      expect(check(h).message).toContain('no poison in this scenario');
    });
  });
});
