// Injected faults on real sockets: those answered without executing store nothing, the ghost success and the held
// response execute and store, 429 carries Retry-After, outages fail every call and heal, windows are recorded.

import { describe, expect, it } from 'vitest';
import { call, charge, sleep, startServices } from './test-helpers.ts';
import { SERVICE_FAULT } from './index.ts';

describe('faults answered without executing', () => {
  for (const [field, status, code] of [
    ['error500', 500, 'internal_error'],
    ['error503', 503, 'service_unavailable'],
    ['rateLimit429', 429, 'rate_limited'],
  ] as const) {
    it(`${status} stores nothing under the key: the retry executes once`, async () => {
      const s = await startServices({ faults: { payments: { [field]: 1 } } });
      const faulted = await charge(s, 'k');
      expect(faulted.status).toBe(status);
      expect(faulted.body).toMatchObject({ code });
      expect(s.ledger.charges).toHaveLength(0);
      expect(s.ledger.version()).toBe(0);
      await s.healAll();
      const retry = await charge(s, 'k');
      expect(retry.status).toBe(201);
      expect(retry.headers['idempotent-replayed']).toBeUndefined();
      expect(s.ledger.charges).toHaveLength(1);
      expect(s.ledger.attempts.map((a) => [a.fault, a.executed, a.status])).toEqual([
        [field === 'error500' ? 'error-500' : field === 'error503' ? 'error-503' : 'rate-limit-429', false, status],
        ['none', true, 201],
      ]);
    });
  }

  it('429 carries Retry-After (seconds, rounded up) and Retry-After-Ms, recorded in the ledger', async () => {
    const s = await startServices({ faults: { payments: { rateLimit429: 1, retryAfterMs: [1200, 1200] } } });
    const r = await charge(s, 'k');
    expect(r.status).toBe(429);
    expect(r.headers['retry-after']).toBe('2');
    expect(r.headers['retry-after-ms']).toBe('1200');
    expect(s.ledger.attempts[0].retryAfterMs).toBe(1200);
  });

  it('a reset connection executes nothing', async () => {
    const s = await startServices({ faults: { payments: { reset: 1 } } });
    const r = await charge(s, 'k');
    expect(r.status).toBe(0);
    expect(r.transport).toBe('reset');
    expect(s.ledger.charges).toHaveLength(0);
    expect(s.ledger.attempts[0]).toMatchObject({ fault: 'reset', executed: false, outcome: 'reset', status: 0 });
    await s.faults.heal('payments');
    expect((await charge(s, 'k')).status).toBe(201);
  });
});

describe('faults after executing', () => {
  it('ghost success: the charge happens, the socket drops, a retry with the key gets the stored result', async () => {
    const s = await startServices({ faults: { payments: { routes: { 'POST /charges': { ghost: 1 } } } } });
    const r = await charge(s, 'g');
    expect(r.status).toBe(0);
    expect(r.transport).toBe('reset');
    expect(r.sent).toBe(true);
    expect(s.ledger.charges).toHaveLength(1);
    expect(s.ledger.attempts[0]).toMatchObject({ fault: 'ghost', executed: true, outcome: 'dropped' });
    await s.healAll();
    const retry = await charge(s, 'g', undefined, { instance: 1 });
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect((retry.body as { id: string }).id).toBe(s.ledger.charges[0].id);
    expect(s.ledger.charges).toHaveLength(1);
    // other routes of the service are untouched by a route override
    expect((await call(s, 'payments', 'GET', `/charges/${s.ledger.charges[0].id}`)).status).toBe(200);
  });

  it('held response: executed and stored, held past the client timeout, replayed to a retry', async () => {
    const s = await startServices({ faults: { payments: { hold: 1 } } });
    const started = Date.now();
    const r = await charge(s, 'h', undefined, { timeoutMs: 400 });
    expect(r.transport).toBe('timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(380);
    expect(s.ledger.charges).toHaveLength(1);
    await sleep(50);
    expect(s.ledger.attempts[0]).toMatchObject({ fault: 'hold', executed: true, outcome: 'client-closed', status: 0 });
    await s.healAll();
    const retry = await charge(s, 'h');
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(s.ledger.charges).toHaveLength(1);
  });

  it('a held response is answered when the faults heal, or after holdMs', async () => {
    const s = await startServices({ faults: { notifications: { hold: 1 } } });
    const msg = { channel: 'email', to: 'u1', template: 't', data: {} };
    const pending = call(s, 'notifications', 'POST', '/messages', { key: 'm', body: msg, timeoutMs: 5000 });
    await sleep(300);
    expect(s.ledger.messages).toHaveLength(1);
    await s.healAll();
    const r = await pending;
    expect(r.status).toBe(202);
    expect(s.ledger.attempts[0]).toMatchObject({ outcome: 'answered', status: 202, fault: 'hold' });

    s.faults.set('notifications', { hold: 1, holdMs: 200 });
    const t0 = Date.now();
    const timed = await call(s, 'notifications', 'POST', '/messages', { key: 'm2', body: msg, timeoutMs: 5000 });
    expect(timed.status).toBe(202);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
  });

  it('a client that gave up during latency: the call still executes, the attempt records no answer', async () => {
    const s = await startServices({ faults: { payments: { latency: 1, latencyMs: [400, 400] } } });
    const r = await charge(s, 'late', undefined, { timeoutMs: 100 });
    expect(r.transport).toBe('timeout');
    await sleep(450);
    expect(s.ledger.charges).toHaveLength(1);
    expect(s.ledger.attempts[0]).toMatchObject({ executed: true, outcome: 'client-closed', status: 0 });
  });

  it('added latency delays the answer and is recorded', async () => {
    const s = await startServices({ faults: { inventory: { latency: 1, latencyMs: [250, 250] } }, products: { p: { stock: 1, price: 10 } } });
    const t0 = Date.now();
    const r = await call(s, 'inventory', 'POST', '/reservations', { key: 'r', body: { productId: 'p', quantity: 1 } });
    expect(r.status).toBe(201);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(240);
    expect(s.ledger.attempts[0].latencyMs).toBe(250);
  });
});

describe('outages and windows', () => {
  it('an outage fails every call to the service (503 or reset) until healed, and records its window', async () => {
    const s = await startServices();
    const heal = s.faults.outage('notifications');
    const msg = { channel: 'sms', to: 'u', template: 't' };
    for (const instance of [0, 1]) {
      const r = await call(s, 'notifications', 'POST', '/messages', { key: `k${instance}`, body: msg, instance });
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({ code: 'service_unavailable' });
    }
    expect((await charge(s, 'other-service')).status).toBe(201);
    expect(s.windows.find((w) => w.fault === SERVICE_FAULT.outage)?.endUs).toBe(Number.POSITIVE_INFINITY);
    await heal();
    await heal(); // idempotent
    expect((await call(s, 'notifications', 'POST', '/messages', { key: 'k0', body: msg })).status).toBe(202);
    const w = s.windows.filter((x) => x.fault === SERVICE_FAULT.outage);
    expect(w).toHaveLength(1);
    expect(w[0].detail).toMatchObject({ service: 'notifications', mode: '503' });
    expect(w[0].endUs).toBeGreaterThan(w[0].startUs);
    expect(Number.isFinite(w[0].endUs)).toBe(true);
    expect(s.ledger.attempts.filter((a) => a.fault === 'outage')).toHaveLength(2);
  });

  it('reset mode, limited to chosen instances, healing by itself after durationMs', async () => {
    const s = await startServices();
    s.faults.outage('payments', { mode: 'reset', instances: [1], durationMs: 300 });
    expect((await charge(s, 'a', undefined, { instance: 1 })).transport).toBe('reset');
    expect((await charge(s, 'b', undefined, { instance: 0 })).status).toBe(201);
    await sleep(350);
    expect((await charge(s, 'a', undefined, { instance: 1 })).status).toBe(201);
    const w = s.windows.find((x) => x.fault === SERVICE_FAULT.outage)!;
    expect((w.endUs - w.startUs) / 1000).toBeGreaterThanOrEqual(290);
  });

  it('an outage may send Retry-After with its 503s', async () => {
    const s = await startServices();
    s.faults.outage('payments', { retryAfterMs: 300 });
    const r = await charge(s, 'k');
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('1');
    expect(r.headers['retry-after-ms']).toBe('300');
    expect(s.ledger.attempts[0]).toMatchObject({ fault: 'outage', retryAfterMs: 300, executed: false });
  });

  it('healAll ends outages and the per-request schedule, and closes their windows', async () => {
    const s = await startServices({ faults: { payments: { error500: 1 } } });
    s.faults.outage('inventory');
    expect(s.windows.map((w) => w.fault).sort()).toEqual([SERVICE_FAULT.faults, SERVICE_FAULT.outage]);
    expect((await charge(s, 'x')).status).toBe(500);
    await s.healAll();
    expect(s.windows.every((w) => Number.isFinite(w.endUs))).toBe(true);
    expect((await charge(s, 'x')).status).toBe(201);
    expect(s.faults.get('payments')).toBeNull();
    // faults can start again after a heal
    s.faults.set('payments', { error503: 1 });
    expect((await charge(s, 'y')).status).toBe(503);
    expect(s.windows.filter((w) => w.fault === SERVICE_FAULT.faults)).toHaveLength(2);
  });

  it('rejects rates that are not probabilities or add up to more than 1', async () => {
    const s = await startServices();
    expect(() => s.faults.set('payments', { error500: 0.7, ghost: 0.5 })).toThrow(/add up to 1\.2/);
    expect(() => s.faults.set('payments', { reset: 2 })).toThrow(/probability/);
  });
});
