// The channel providers (email, sms, push) on real sockets: Stripe-like replays, invalid recipients (422, final),
// poison recipients (500 on every attempt), the provider-wide token bucket (429 with Retry-After, nothing stored,
// replays free), switching a limit at run time, and faults that hit one provider and leave the others alone.

import { describe, expect, it } from 'vitest';
import { call, sleep, startServices } from './test-helpers.ts';
import type { MockServices, ProviderChannel } from './types.ts';

const msg = (to: string, eventId = 'e1') => ({ to, template: 'created', data: { eventId } });
const send = (s: MockServices, channel: ProviderChannel, key: string | undefined, body: unknown, instance = 0) => call(s, channel, 'POST', '/send', { key, body, instance });

describe('POST /send', () => {
  it('accepts (202), records a message on its channel with the data as sent, and replays a key from any instance', async () => {
    const s = await startServices();
    const body = { to: 'a@example.com', template: 'created', data: { eventId: 'e1', nested: { n: 1 } } };
    const first = await send(s, 'email', 'e1:email', body, 0);
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ id: expect.stringMatching(/^email_/), status: 'accepted' });
    const again = await send(s, 'email', 'e1:email', body, 1);
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(s.ledger.messages).toEqual([expect.objectContaining({ service: 'email', channel: 'email', ...body, key: 'e1:email', instance: 0 })]);
    expect(s.ledger.attempts.map((a) => [a.service, a.route, a.executed, a.replayed])).toEqual([
      ['email', 'POST /send', true, false],
      ['email', 'POST /send', false, true],
    ]);
    // keys belong to a provider: the same key on sms is a send of its own
    expect((await send(s, 'sms', 'e1:email', msg('+15550001'))).status).toBe(202);
    expect((await send(s, 'email', 'e1:email', { ...body, to: 'b@example.com' })).body).toMatchObject({ code: 'idempotency_mismatch' });
    expect(s.ledger.messages.map((m) => m.channel)).toEqual(['email', 'sms']);
  });

  it('answers 400 invalid_request to a malformed body and stores nothing', async () => {
    const s = await startServices();
    for (const bad of [undefined, { template: 't' }, { to: '', template: 't' }, { to: 'x' }, { to: 'x', template: 't', data: 'text' }]) {
      const r = await send(s, 'push', 'k', bad);
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ code: 'invalid_request' });
    }
    expect((await send(s, 'push', 'k', msg('tok-1'))).status).toBe(202); // the key stayed free
    expect(s.ledger.messages).toHaveLength(1);
  });

  it('answers 422 invalid_recipient to an invalid recipient, the same every time, and sends nothing', async () => {
    const s = await startServices({ providers: { invalidRecipients: ['bounced@example.com', 'dead-token'] } });
    for (let i = 0; i < 3; i++) {
      const r = await send(s, 'email', 'e1:email', msg('bounced@example.com'), i % 2);
      expect(r.status).toBe(422);
      expect(r.body).toMatchObject({ code: 'invalid_recipient' });
    }
    expect((await send(s, 'push', undefined, msg('dead-token'))).status).toBe(422);
    expect((await send(s, 'email', 'other', msg('ok@example.com'))).status).toBe(202);
    expect(s.ledger.messages.map((m) => m.to)).toEqual(['ok@example.com']);
    expect(s.ledger.attempts.filter((a) => a.status === 422).every((a) => a.code === 'invalid_recipient' && a.fault === 'none' && !a.executed)).toBe(true);
  });

  it('answers 500 provider_error to a poison recipient on every attempt, never delivering', async () => {
    const s = await startServices({ providers: { poisonRecipients: ['+15559999'] } });
    for (let i = 0; i < 5; i++) {
      const r = await send(s, 'sms', 'e9:sms', msg('+15559999', 'e9'), i % 2);
      expect(r.status).toBe(500);
      expect(r.body).toMatchObject({ code: 'provider_error' });
      expect(r.headers['idempotent-replayed']).toBeUndefined();
    }
    expect(s.ledger.messages).toEqual([]);
    expect(s.ledger.attempts.map((a) => [a.status, a.code, a.fault, a.executed])).toEqual(Array(5).fill([500, 'provider_error', 'none', false]));
  });
});

describe('rate limits (a token bucket per provider, over every caller)', () => {
  it('answers sends beyond the bucket 429 with Retry-After, stores nothing, and a send after the wait gets through', async () => {
    const s = await startServices({ providers: { rateLimits: { sms: { perSecond: 2, burst: 3 } } } }, { instances: 3 });
    const rs = await Promise.all(Array.from({ length: 8 }, (_, i) => send(s, 'sms', `e${i}:sms`, msg(`+1555000${i}`, `e${i}`), i % 3)));
    const accepted = rs.filter((r) => r.status === 202);
    const limited = rs.filter((r) => r.status === 429);
    expect(accepted).toHaveLength(3);
    expect(limited).toHaveLength(5);
    for (const r of limited) {
      expect(r.body).toMatchObject({ code: 'rate_limited' });
      const ms = Number(r.headers['retry-after-ms']);
      expect(ms).toBeGreaterThanOrEqual(1);
      expect(ms).toBeLessThanOrEqual(500); // one token every 500 ms
      expect(r.headers['retry-after']).toBe('1'); // whole seconds, rounded up
    }
    const records = s.ledger.attempts.filter((a) => a.status === 429);
    expect(records).toHaveLength(5);
    for (const a of records) {
      expect(a).toMatchObject({ service: 'sms', code: 'rate_limited', fault: 'none', executed: false, replayed: false, outcome: 'answered' });
      expect(a.retryAfterMs).toBeGreaterThanOrEqual(1);
    }
    expect(s.ledger.messages).toHaveLength(3);
    // other providers are not limited
    expect((await send(s, 'email', 'e0:email', msg('a@example.com'))).status).toBe(202);

    // the wait asked for is enough: a refused key was not stored, so its retry executes
    const refusedIndex = rs.findIndex((r) => r.status === 429);
    await sleep(Math.max(...limited.map((r) => Number(r.headers['retry-after-ms']))));
    const retry = await send(s, 'sms', `e${refusedIndex}:sms`, msg(`+1555000${refusedIndex}`, `e${refusedIndex}`), 2);
    expect(retry.status).toBe(202);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(s.ledger.messages.filter((m) => m.channel === 'sms')).toHaveLength(4);
  });

  it('asks for exactly the time until the next token', async () => {
    const s = await startServices({ providers: { rateLimits: { push: { perSecond: 2 } } } }); // burst 2, a token every 500 ms
    expect((await send(s, 'push', 'a', msg('t1'))).status).toBe(202);
    expect((await send(s, 'push', 'b', msg('t2'))).status).toBe(202);
    const limited = await send(s, 'push', 'c', msg('t3'));
    expect(limited.status).toBe(429);
    const ms = Number(limited.headers['retry-after-ms']);
    expect(ms).toBeGreaterThan(300);
    expect(ms).toBeLessThanOrEqual(500);
    expect(limited.body).toMatchObject({ retryAfterMs: ms });
    // asked again at once: still limited, and the wait has only shrunk
    const again = await send(s, 'push', 'c', msg('t3'));
    expect(again.status).toBe(429);
    expect(Number(again.headers['retry-after-ms'])).toBeLessThanOrEqual(ms);
    await sleep(Number(again.headers['retry-after-ms']));
    expect((await send(s, 'push', 'c', msg('t3'))).status).toBe(202);
  });

  it('a replay of a stored key spends no token and is answered even while the bucket is empty', async () => {
    const s = await startServices({ providers: { rateLimits: { email: { perSecond: 0.1, burst: 2 } } } }); // a token every 10 s
    expect((await send(s, 'email', 'a', msg('a@example.com'))).status).toBe(202);
    for (let i = 0; i < 5; i++) {
      const r = await send(s, 'email', 'a', msg('a@example.com'), i % 2);
      expect(r.status).toBe(202);
      expect(r.headers['idempotent-replayed']).toBe('true');
    }
    expect((await send(s, 'email', 'b', msg('b@example.com'))).status).toBe(202); // the second token is still there
    expect((await send(s, 'email', 'c', msg('c@example.com'))).status).toBe(429);
    const replay = await send(s, 'email', 'b', msg('b@example.com'));
    expect([replay.status, replay.headers['idempotent-replayed']]).toEqual([202, 'true']);
    expect(s.ledger.messages.map((m) => m.to)).toEqual(['a@example.com', 'b@example.com']);
  });

  it('invalid and poison recipients are answered without spending a token', async () => {
    const s = await startServices({ providers: { invalidRecipients: ['bad'], poisonRecipients: ['poison'], rateLimits: { sms: { perSecond: 0.1, burst: 1 } } } });
    expect((await send(s, 'sms', 'x', msg('bad'))).status).toBe(422);
    expect((await send(s, 'sms', 'y', msg('poison'))).status).toBe(500);
    expect((await send(s, 'sms', 'z', msg('good'))).status).toBe(202);
    expect((await send(s, 'sms', 'x', msg('bad'))).status).toBe(422);
    expect((await send(s, 'sms', 'w', msg('good2'))).status).toBe(429);
  });

  it('is switched on, replaced and off at run time with providers.setRateLimit', async () => {
    const s = await startServices();
    expect(s.providers.rateLimit('sms')).toBeNull();
    s.providers.setRateLimit('sms', { perSecond: 0.1, burst: 1 });
    expect(s.providers.rateLimit('sms')).toEqual({ perSecond: 0.1, burst: 1 });
    expect((await send(s, 'sms', 'a', msg('1'))).status).toBe(202);
    expect((await send(s, 'sms', 'b', msg('2'))).status).toBe(429);
    await s.healAll(); // not a fault: healing leaves it on
    expect((await send(s, 'sms', 'b', msg('2'))).status).toBe(429);
    s.providers.setRateLimit('sms', { perSecond: 0.1, burst: 2 }); // a new limit starts with a full bucket
    expect((await send(s, 'sms', 'b', msg('2'))).status).toBe(202);
    s.providers.setRateLimit('sms', null);
    for (const k of ['c', 'd', 'e']) expect((await send(s, 'sms', k, msg(k))).status).toBe(202);
    expect(() => s.providers.setRateLimit('sms', { perSecond: 0 })).toThrow(/perSecond/);
    expect(() => s.providers.setRateLimit('fax' as ProviderChannel, { perSecond: 1 })).toThrow(/no provider fax/);
  });

  it('refuses a malformed limit when the services start', async () => {
    await expect(startServices({ providers: { rateLimits: { email: { perSecond: 5, burst: 0.5 } } } })).rejects.toThrow(/burst/);
  });
});

describe('faults on one provider', () => {
  it('per-request faults and an outage on sms leave email and push working', async () => {
    const s = await startServices({ faults: { sms: { error500: 1 } } });
    const r = await send(s, 'sms', 'k1', msg('+1'));
    expect([r.status, (r.body as { code: string }).code]).toEqual([500, 'internal_error']);
    expect((await send(s, 'email', 'k1', msg('a@example.com'))).status).toBe(202);

    s.faults.set('sms', { rateLimit429: 1, retryAfterMs: [300, 300] });
    const limited = await send(s, 'sms', 'k1', msg('+1'));
    expect([limited.status, limited.headers['retry-after-ms'], limited.headers['retry-after']]).toEqual([429, '300', '1']);
    expect(s.ledger.attempts.at(-1)).toMatchObject({ service: 'sms', status: 429, code: 'rate_limited', fault: 'rate-limit-429', retryAfterMs: 300, executed: false });

    s.faults.set('sms', null);
    const heal = s.faults.outage('sms', { mode: 'reset' });
    expect((await send(s, 'sms', 'k1', msg('+1'))).transport).toBe('reset');
    expect((await send(s, 'push', 'k1', msg('tok'))).status).toBe(202);
    await heal();
    expect((await send(s, 'sms', 'k1', msg('+1'))).status).toBe(202);

    const down = s.faults.outage('email', { mode: '503' });
    expect((await send(s, 'email', 'k2', msg('b@example.com'))).status).toBe(503);
    expect((await send(s, 'sms', 'k2', msg('+2'))).status).toBe(202);
    await down();
    expect(s.windows.map((w) => [w.fault, w.detail?.service])).toEqual([
      ['service-faults', 'sms'],
      ['service-faults', 'sms'],
      ['service-outage', 'sms'],
      ['service-outage', 'email'],
    ]);
    expect(s.ledger.messages.map((m) => m.channel)).toEqual(['email', 'push', 'sms', 'sms']);
  });

  it('a ghost send is delivered and stored: the retry replays it', async () => {
    const s = await startServices({ faults: { push: { ghost: 1, routes: { 'POST /send': { ghost: 1 } } } } });
    expect((await send(s, 'push', 'g1', msg('tok'))).transport).toBe('reset');
    s.faults.set('push', null);
    const r = await send(s, 'push', 'g1', msg('tok'));
    expect([r.status, r.headers['idempotent-replayed']]).toEqual([202, 'true']);
    expect(s.ledger.messages).toHaveLength(1);
  });
});
