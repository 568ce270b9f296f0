// The inventory mock on real sockets: pricing, stock and out_of_stock, commit and release, expiry after a
// (compressed) TTL, and commits that fail for good, with every state transition in the ledger.

import { describe, expect, it } from 'vitest';
import { call, sleep, startServices } from './test-helpers.ts';

const reserve = (s: Awaited<ReturnType<typeof startServices>>, key: string | undefined, productId = 'gold', quantity = 1, instance = 0) =>
  call(s, 'inventory', 'POST', '/reservations', { key, body: { productId, quantity }, instance });

describe('inventory', () => {
  it('prices a reservation, holds stock, and answers out_of_stock when none is left', async () => {
    const s = await startServices({ products: { gold: { stock: 2, price: 1500, currency: 'eur' } } });
    const r = await reserve(s, 'a', 'gold', 2);
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ id: expect.stringMatching(/^rsv_/), productId: 'gold', quantity: 2, amount: 3000, currency: 'eur', status: 'reserved' });
    const none = await reserve(s, 'b');
    expect(none.status).toBe(409);
    expect(none.body).toMatchObject({ code: 'out_of_stock' });
    expect(s.inventory.stockOf('gold')).toEqual({ stock: 2, reserved: 2, committed: 0, available: 0 });
    const id = (r.body as { id: string }).id;
    expect((await call(s, 'inventory', 'DELETE', `/reservations/${id}`, { key: 'rel' })).body).toMatchObject({ status: 'released' });
    expect((await reserve(s, 'c')).status).toBe(201);
    expect((await reserve(s, 'x', 'nothing')).body).toMatchObject({ code: 'product_not_found' });
    expect((await reserve(s, 'y', 'gold', 0)).status).toBe(400);
  });

  it('commits once (a second commit is 200 again), and records each transition', async () => {
    const s = await startServices({ products: { gold: { stock: 5, price: 100 } } });
    const id = ((await reserve(s, 'a', 'gold', 1, 1)).body as { id: string }).id;
    const c1 = await call(s, 'inventory', 'POST', `/reservations/${id}/commit`, { key: 'c1', instance: 0 });
    expect(c1.status).toBe(200);
    expect(c1.body).toMatchObject({ id, status: 'committed', amount: 100, currency: 'usd' });
    expect((await call(s, 'inventory', 'POST', `/reservations/${id}/commit`, { key: 'c2' })).status).toBe(200);
    expect((await call(s, 'inventory', 'GET', `/reservations/${id}`)).body).toMatchObject({ status: 'committed' });
    expect(s.inventory.stockOf('gold')).toMatchObject({ committed: 1, available: 4 });
    expect(s.ledger.reservations[0].transitions.map((t) => [t.state, t.cause, t.instance])).toEqual([
      ['reserved', 'reserve', 1],
      ['committed', 'commit', 0],
    ]);
    expect((await call(s, 'inventory', 'POST', '/reservations/rsv_x/commit')).body).toMatchObject({ code: 'reservation_not_found' });
  });

  it('expires an uncommitted reservation after the TTL: stock comes back and a commit is reservation_expired', async () => {
    const s = await startServices({ products: { gold: { stock: 1, price: 100 } }, reservationTtlMs: 200 });
    const id = ((await reserve(s, 'a')).body as { id: string }).id;
    expect((await reserve(s, 'b')).status).toBe(409);
    const before = s.ledger.version();
    await sleep(300);
    expect(s.ledger.version()).toBe(before + 1); // the timer expired it: a ledger change
    expect(s.inventory.stockOf('gold')?.available).toBe(1);
    const commit = await call(s, 'inventory', 'POST', `/reservations/${id}/commit`, { key: 'commit-a' });
    expect(commit.status).toBe(409);
    expect(commit.body).toMatchObject({ code: 'reservation_expired', status: 'expired' });
    const t = s.ledger.reservations[0].transitions[1];
    expect(t).toMatchObject({ state: 'expired', cause: 'ttl', instance: -1 });
    expect((t.atUs - s.ledger.reservations[0].atUs) / 1000).toBeCloseTo(200, -1);
    expect((await call(s, 'inventory', 'DELETE', `/reservations/${id}`)).body).toMatchObject({ status: 'expired' });
    expect((await reserve(s, 'c')).status).toBe(201);
  });

  it('fails chosen commits for good (reservation_expired, final) and returns their stock', async () => {
    const s = await startServices({ products: { gold: { stock: 3, price: 100 }, silver: { stock: 3, price: 50 } }, commitFailures: { products: ['gold'] } });
    const gold = ((await reserve(s, 'g')).body as { id: string }).id;
    const c = await call(s, 'inventory', 'POST', `/reservations/${gold}/commit`, { key: 'cg' });
    expect(c.status).toBe(409);
    expect(c.body).toMatchObject({ code: 'reservation_expired' });
    expect((await call(s, 'inventory', 'POST', `/reservations/${gold}/commit`, { key: 'cg2' })).status).toBe(409);
    expect(s.ledger.reservations[0].transitions.at(-1)).toMatchObject({ state: 'expired', cause: 'commit-refused' });
    expect(s.inventory.stockOf('gold')?.available).toBe(3);

    const silver = ((await reserve(s, 's', 'silver')).body as { id: string }).id;
    s.inventory.failCommits({ match: (r) => r.key === 's' });
    expect((await call(s, 'inventory', 'POST', `/reservations/${silver}/commit`)).status).toBe(409);
    // healing faults does not undo a final refusal
    await s.healAll();
    expect((await call(s, 'inventory', 'POST', `/reservations/${silver}/commit`)).status).toBe(409);
  });

  it('releasing a committed reservation cancels it and returns the stock', async () => {
    const s = await startServices({ products: { gold: { stock: 1, price: 100 } } });
    const id = ((await reserve(s, 'a')).body as { id: string }).id;
    await call(s, 'inventory', 'POST', `/reservations/${id}/commit`);
    expect((await call(s, 'inventory', 'DELETE', `/reservations/${id}`)).body).toMatchObject({ status: 'released' });
    expect(s.inventory.stockOf('gold')?.available).toBe(1);
    expect((await call(s, 'inventory', 'POST', `/reservations/${id}/commit`)).body).toMatchObject({ code: 'reservation_expired', status: 'released' });
  });
});
