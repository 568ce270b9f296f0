// The services as a whole: notifications recorded with their keys, every call attributed to the instance whose
// URLs it used (setup included), quiescence detection, the JSON snapshot, and a close that leaves nothing open.

import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { call, charge, sleep, startServices } from './test-helpers.ts';

describe('notifications', () => {
  it('accepts a message (202) and records it with its key', async () => {
    const s = await startServices();
    const msg = { channel: 'email', to: 'u1', template: 'subscription-confirmed', data: { paymentId: 'p1' } };
    const r = await call(s, 'notifications', 'POST', '/messages', { key: 'confirm-p1', body: msg, instance: 1 });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ id: expect.stringMatching(/^msg_/) });
    expect((await call(s, 'notifications', 'POST', '/messages', { key: 'confirm-p1', body: msg })).body).toEqual(r.body);
    expect(s.ledger.messages).toEqual([expect.objectContaining({ ...msg, key: 'confirm-p1', instance: 1 })]);
    expect((await call(s, 'notifications', 'POST', '/messages', { body: { ...msg, channel: 'pigeon' } })).body).toMatchObject({ code: 'invalid_request' });
  });
});

describe('per-instance attribution', () => {
  it('gives each instance (and setup, -1) its own base URLs and attributes every call to it', async () => {
    const s = await startServices({}, { instances: 3 });
    const urls = [-1, 0, 1, 2, 3, 4].map((i) => s.urlsFor(i));
    expect(new Set(urls.map((u) => u.payments)).size).toBe(6);
    expect(new Set(urls.flatMap((u) => [u.payments, u.notifications, u.inventory])).size).toBe(18);
    expect(() => s.urlsFor(5)).toThrow(/spareInstances/);
    for (const i of [-1, 0, 2, 4]) await charge(s, `k${i}`, undefined, { instance: i });
    expect(s.ledger.charges.map((c) => c.instance)).toEqual([-1, 0, 2, 4]);
    expect(s.ledger.attempts.map((a) => a.instance)).toEqual([-1, 0, 2, 4]);
  });
});

describe('quiescence and the ledger', () => {
  it('is quiet once nothing changed and nothing is in flight for quietMs; bounded otherwise', async () => {
    const s = await startServices({ faults: { payments: { latency: 1, latencyMs: [300, 300] } } });
    const slow = charge(s, 'slow');
    await sleep(20);
    const t0 = Date.now();
    const q = await s.waitQuiet({ quietMs: 100, maxMs: 2000 });
    expect(q.quiet).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250); // waited for the slow call to execute and then 100 ms more
    expect(q.version).toBe(1);
    await slow;

    let stop = false;
    const busy = (async () => {
      for (let i = 0; !stop; i++) {
        await charge(s, undefined);
        await sleep(20);
      }
    })();
    const bounded = await s.waitQuiet({ quietMs: 200, maxMs: 500 });
    stop = true;
    await busy;
    expect(bounded.quiet).toBe(false);
    expect(bounded.waitedMs).toBeGreaterThanOrEqual(500);
    expect(bounded.waitedMs).toBeLessThan(1500);

    let reads = 0;
    const probed = await s.waitQuiet({ quietMs: 100, maxMs: 2000, probe: () => Math.min(3, ++reads) });
    expect(probed.quiet).toBe(true);
    expect(reads).toBeGreaterThan(3);
  });

  it('replays and attempts do not count as changes; effects do', async () => {
    const s = await startServices({ products: { p: { stock: 1, price: 1 } } });
    await charge(s, 'a');
    await charge(s, 'a');
    await call(s, 'payments', 'GET', '/charges?idempotencyKey=a');
    expect(s.ledger.version()).toBe(1);
    await call(s, 'inventory', 'POST', '/reservations', { body: { productId: 'p', quantity: 1 } });
    await call(s, 'inventory', 'POST', `/reservations/${s.ledger.reservations[0].id}/commit`);
    expect(s.ledger.version()).toBe(3);
  });

  it('snapshots to plain JSON with attempts, effects and stock', async () => {
    const s = await startServices({ products: { p: { stock: 2, price: 7 } } });
    await charge(s, 'a', { customerId: 'u', amount: 7, currency: 'usd' });
    await call(s, 'inventory', 'POST', '/reservations', { key: 'r', body: { productId: 'p', quantity: 1 } });
    const snap = s.ledger.snapshot();
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
    expect(snap.attempts).toHaveLength(2);
    expect(snap.attempts[0]).toMatchObject({ service: 'payments', method: 'POST', path: '/charges', route: 'POST /charges', key: 'a', body: { customerId: 'u', amount: 7, currency: 'usd' }, status: 201, fault: 'none', executed: true, replayed: false, outcome: 'answered' });
    expect(snap.attempts[0].endUs).toBeGreaterThanOrEqual(snap.attempts[0].startUs);
    expect(snap.stock).toEqual({ p: { stock: 2, reserved: 1, committed: 0, available: 1 } });
  });

  it('a client that leaves before sending its whole body executes nothing', async () => {
    const s = await startServices();
    const { port } = new URL(s.urlsFor(0).payments);
    const socket = net.connect(Number(port), '127.0.0.1');
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('POST /charges HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nidempotency-key: cut\r\ncontent-length: 100\r\n\r\n{"customerId":');
    await sleep(50);
    socket.destroy();
    await sleep(50);
    expect(s.ledger.attempts).toHaveLength(1);
    expect(s.ledger.attempts[0]).toMatchObject({ key: 'cut', executed: false, outcome: 'client-closed', status: 0 });
    expect(s.ledger.charges).toHaveLength(0);
    expect((await charge(s, 'cut')).status).toBe(201);
  });

  it('close() frees every port and destroys held connections', async () => {
    const s = await startServices({ faults: { payments: { hold: 1 } } });
    const port = Number(new URL(s.urlsFor(0).payments).port);
    const held = charge(s, 'h', undefined, { timeoutMs: 5000 });
    await sleep(100);
    await s.close();
    const r = await held;
    expect(r.status).toBe(0);
    const refused = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.on('error', () => resolve(true));
    });
    expect(refused).toBe(true);
    await s.close(); // idempotent
  });
});
