// Idempotency keys on real sockets, Stripe's semantics (CONTRACT §4): replay, 422 on another request under a key,
// 409 while the first is in flight, keyless calls executed each time, validation errors storing nothing.

import { describe, expect, it } from 'vitest';
import { call, charge, startServices } from './test-helpers.ts';

describe('idempotency keys', () => {
  it('replays the first result for the same key and body, without a second charge', async () => {
    const s = await startServices();
    const first = await charge(s, 'k1');
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ status: 'succeeded', amount: 1000, currency: 'usd' });
    // same parameters, other key order and spacing: still the same request
    const again = await call(s, 'payments', 'POST', '/charges', { key: 'k1', body: { currency: 'usd', amount: 1000, customerId: 'u1' }, instance: 1 });
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(s.ledger.charges).toHaveLength(1);
    const attempts = s.ledger.attempts.filter((a) => a.route === 'POST /charges');
    expect(attempts.map((a) => [a.executed, a.replayed])).toEqual([[true, false], [false, true]]);
  });

  it('answers 422 idempotency_mismatch for another body or another path under the same key', async () => {
    const s = await startServices();
    await charge(s, 'k1');
    const other = await charge(s, 'k1', { customerId: 'u1', amount: 2000, currency: 'usd' });
    expect(other.status).toBe(422);
    expect(other.body).toMatchObject({ code: 'idempotency_mismatch' });
    const otherPath = await call(s, 'payments', 'POST', '/refunds', { key: 'k1', body: { chargeId: s.ledger.charges[0].id } });
    expect(otherPath.status).toBe(422);
    expect(s.ledger.charges).toHaveLength(1);
    expect(s.ledger.refunds).toHaveLength(0);
  });

  it('answers 409 request_in_progress while the first call with the key is still executing', async () => {
    const s = await startServices({ faults: { payments: { latency: 1, latencyMs: [400, 400] } } });
    const first = charge(s, 'slow');
    await new Promise((r) => setTimeout(r, 100));
    const second = await charge(s, 'slow', undefined, { instance: 1 });
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ code: 'request_in_progress' });
    expect((await first).status).toBe(201);
    const third = await charge(s, 'slow');
    expect(third.headers['idempotent-replayed']).toBe('true');
    expect(s.ledger.charges).toHaveLength(1);
  });

  it('executes a mutating call without a key as a new call every time (not rejected)', async () => {
    const s = await startServices();
    const a = await charge(s, undefined);
    const b = await charge(s, undefined);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect((a.body as { id: string }).id).not.toBe((b.body as { id: string }).id);
    expect(s.ledger.charges).toHaveLength(2);
    expect(s.ledger.charges.every((c) => c.key === null)).toBe(true);
  });

  it('stores nothing for a validation error: the key stays free for a valid request', async () => {
    const s = await startServices();
    const bad = await charge(s, 'k', { customerId: 'u1', amount: -5, currency: 'usd' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'invalid_request' });
    const good = await charge(s, 'k');
    expect(good.status).toBe(201);
    expect(good.headers['idempotent-replayed']).toBeUndefined();
    const notJson = await call(s, 'notifications', 'POST', '/messages', { key: 'n' });
    expect(notJson.status).toBe(400);
  });

  it('stores a business refusal (402) and replays it', async () => {
    const s = await startServices({ declines: { customers: ['broke'] } });
    const body = { customerId: 'broke', amount: 500, currency: 'usd' };
    const first = await charge(s, 'd', body);
    expect(first.status).toBe(402);
    expect(first.body).toMatchObject({ code: 'card_declined' });
    const again = await charge(s, 'd', body);
    expect(again.status).toBe(402);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(s.ledger.charges.map((c) => c.status)).toEqual(['declined']);
  });

  it('shares keys across instances (one account) and every error body carries a code', async () => {
    const s = await startServices();
    await charge(s, 'shared', undefined, { instance: 0 });
    const fromOther = await charge(s, 'shared', undefined, { instance: 1 });
    expect(fromOther.headers['idempotent-replayed']).toBe('true');
    const unknownRoute = await call(s, 'payments', 'GET', '/nope');
    expect(unknownRoute.status).toBe(404);
    expect(unknownRoute.body).toMatchObject({ code: 'route_not_found' });
  });
});
