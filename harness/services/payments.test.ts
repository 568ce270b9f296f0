// The payments mock on real sockets: charges and their lookups, seeded declines, refunds (once per charge, replayed
// under the same key, 409 under another), and the webhook provider's payment table behind GET /payments/:id.

import { describe, expect, it } from 'vitest';
import { call, charge, startServices } from './test-helpers.ts';

describe('payments', () => {
  it('charges, finds a charge by id and by idempotency key, and records it with instance and key', async () => {
    const s = await startServices();
    const r = await charge(s, 'buy-1', { customerId: 'alice', amount: 4200, currency: 'eur', metadata: { requestId: 'r1' } }, { instance: 1 });
    expect(r.status).toBe(201);
    const body = r.body as { id: string };
    expect(r.body).toMatchObject({ id: expect.stringMatching(/^ch_/), status: 'succeeded', amount: 4200, currency: 'eur', customerId: 'alice', refunded: false });
    expect((await call(s, 'payments', 'GET', `/charges/${body.id}`)).body).toEqual(r.body);
    expect((await call(s, 'payments', 'GET', '/charges/ch_nope')).body).toMatchObject({ code: 'charge_not_found' });
    expect((await call(s, 'payments', 'GET', '/charges?idempotencyKey=buy-1')).body).toEqual({ data: [r.body] });
    expect((await call(s, 'payments', 'GET', '/charges?idempotencyKey=other')).body).toEqual({ data: [] });
    expect(s.ledger.charges[0]).toMatchObject({ id: body.id, key: 'buy-1', customerId: 'alice', amount: 4200, instance: 1, status: 'succeeded', metadata: { requestId: 'r1' } });
    expect(s.ledger.charges[0].atUs).toBeGreaterThan(0);
  });

  it('declines the chosen customers every time, and a seeded share of the others consistently', async () => {
    const s = await startServices({ declines: { customers: ['bob'], probability: 0.5 } });
    expect((await charge(s, undefined, { customerId: 'bob', amount: 1, currency: 'usd' })).status).toBe(402);
    const first: number[] = [];
    const second: number[] = [];
    for (let i = 0; i < 20; i++) first.push((await charge(s, undefined, { customerId: `c${i}`, amount: 1, currency: 'usd' })).status);
    for (let i = 0; i < 20; i++) second.push((await charge(s, undefined, { customerId: `c${i}`, amount: 1, currency: 'usd' })).status);
    expect(second).toEqual(first);
    expect(first).toContain(402);
    expect(first).toContain(201);
  });

  it('refunds once: the same key replays the refund, another key gets 409 already_refunded', async () => {
    const s = await startServices({ declines: { customers: ['broke'] } });
    const c = (await charge(s, 'c')).body as { id: string };
    const r1 = await call(s, 'payments', 'POST', '/refunds', { key: 'rf-1', body: { chargeId: c.id } });
    expect(r1.status).toBe(201);
    expect(r1.body).toMatchObject({ id: expect.stringMatching(/^re_/), chargeId: c.id, amount: 1000 });
    const replay = await call(s, 'payments', 'POST', '/refunds', { key: 'rf-1', body: { chargeId: c.id } });
    expect(replay.body).toEqual(r1.body);
    const other = await call(s, 'payments', 'POST', '/refunds', { key: 'rf-2', body: { chargeId: c.id } });
    expect(other.status).toBe(409);
    expect(other.body).toMatchObject({ code: 'already_refunded', refundId: (r1.body as { id: string }).id });
    expect(s.ledger.refunds).toHaveLength(1);
    expect((await call(s, 'payments', 'GET', `/charges/${c.id}`)).body).toMatchObject({ refunded: true });
    expect((await call(s, 'payments', 'POST', '/refunds', { body: { chargeId: 'ch_x' } })).body).toMatchObject({ code: 'charge_not_found' });
    const declined = (await charge(s, 'd', { customerId: 'broke', amount: 5, currency: 'usd' })).body as { chargeId: string };
    expect((await call(s, 'payments', 'POST', '/refunds', { body: { chargeId: declined.chargeId } })).body).toMatchObject({ code: 'charge_not_refundable' });
  });

  it('serves the payment table the provider controls at GET /payments/:paymentId', async () => {
    const s = await startServices({ payments: [{ paymentId: 'pay_1', status: 'pending', amount: 990, userId: 'u1' }] });
    expect((await call(s, 'payments', 'GET', '/payments/pay_1')).body).toEqual({ paymentId: 'pay_1', status: 'pending', amount: 990, userId: 'u1' });
    s.payments.setPayment({ paymentId: 'pay_1', status: 'success', amount: 990, userId: 'u1' });
    expect((await call(s, 'payments', 'GET', '/payments/pay_1')).body).toMatchObject({ status: 'success' });
    const missing = await call(s, 'payments', 'GET', '/payments/pay_2');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: 'payment_not_found' });
    expect(s.ledger.snapshot().payments).toEqual([{ paymentId: 'pay_1', status: 'success', amount: 990, userId: 'u1' }]);
  });
});
