// Tests of the provider's parts against an independent verifier (the inbox-outbox reference's): genuine signatures
// verify and every forgery fails, raw bodies never equal re-serialised JSON yet parse to the event, every poison body
// is rejected by validation, plans cover every kind, and the adapter turns handler results into HTTP answers.

import { describe, expect, it } from 'vitest';
import { createRng } from '../../../harness/seed.ts';
import { verifySignature, parseEvent } from '../../../reference/payment-webhook/inbox-outbox.ts';
import { encodeEvent, poisonBodies, INJECTION_USER_IDS } from './payloads.ts';
import { forgedDeliveries, tamperedReplays, FORGED_VARIANTS } from './hostile.ts';
import { signatureHeader, unixNow, parseSignature } from './signing.ts';
import { makePlans, PLAN_KINDS } from './plans.ts';
import { webhookResponse } from '../routes.ts';
import type { Op } from '../../../harness/types.ts';

const SECRET = 'whsec_test';
const event = (i: number) => ({ paymentId: `pay_${i}`, status: 'success' as const, amount: 1900 + i, userId: INJECTION_USER_IDS[i % INJECTION_USER_IDS.length], idempotencyKey: `evt_${i}` });

describe('signing and bodies', () => {
  it('a genuine signature verifies over the raw bytes; the same body re-serialised does not', () => {
    const rng = createRng(1);
    for (let i = 0; i < 40; i++) {
      const { rawBody } = encodeEvent(rng, event(i));
      const header = signatureHeader(SECRET, rawBody);
      expect(verifySignature(SECRET, header, rawBody)).toBeNull();
      const reserialised = JSON.stringify(JSON.parse(rawBody));
      expect(reserialised).not.toBe(rawBody);
      expect(verifySignature(SECRET, header, reserialised)).toBe('signature mismatch');
      expect(parseEvent(rawBody)).toEqual({ event: event(i) });
    }
  });

  it('the header has the contract form t=<unix s>,v1=<64 hex>', () => {
    const h = signatureHeader(SECRET, '{}', 1700000000);
    expect(h).toMatch(/^t=1700000000,v1=[0-9a-f]{64}$/);
    expect(parseSignature(h)).toEqual({ t: '1700000000', v1: h.slice(16) });
  });

  it('every forgery fails verification, each for its own reason', () => {
    const forged = forgedDeliveries(createRng(2), SECRET, 'decoy', FORGED_VARIANTS.length);
    expect(forged.map((d) => d.variant)).toEqual([...FORGED_VARIANTS]);
    for (const d of forged) {
      const header = typeof d.signature === 'string' ? d.signature : undefined;
      expect(verifySignature(SECRET, header, d.rawBody), d.variant).not.toBeNull();
      expect(d.retry).toBe(false);
    }
    expect(forged.find((d) => d.variant === 'stale')!.kind).toBe('stale');
  });

  it('a tampered replay keeps the original header and changes one field', () => {
    const rng = createRng(3);
    const { rawBody } = encodeEvent(rng, { ...event(1), status: 'success' });
    const signature = signatureHeader(SECRET, rawBody, unixNow());
    const failed = encodeEvent(rng, { ...event(2), status: 'failed' as never });
    const ops = [
      { args: { paymentId: 'pay_1', idempotencyKey: 'evt_1', eventStatus: 'success', rawBody, signature } },
      { args: { paymentId: 'pay_2', idempotencyKey: 'evt_2', eventStatus: 'failed', rawBody: failed.rawBody, signature: signatureHeader(SECRET, failed.rawBody) } },
    ] as unknown as Op[];
    const replays = tamperedReplays(rng, ops, 5);
    expect(replays).toHaveLength(2);
    for (const r of replays) {
      expect(verifySignature(SECRET, r.signature as string, r.rawBody)).toBe('signature mismatch');
      expect((JSON.parse(r.rawBody) as Record<string, unknown>)[r.tampered!.field]).toEqual(r.tampered!.value);
    }
    expect(replays.find((r) => r.paymentId === 'pay_2')!.tampered).toEqual({ field: 'status', value: 'success' });
  });

  it('every poison body is rejected by validation, with its key when it has one', () => {
    const poison = poisonBodies(createRng(4), 'pay_poison', 22);
    expect(new Set(poison.map((p) => p.variant)).size).toBe(11);
    expect(new Set(poison.map((p) => p.rawBody)).size).toBe(22);
    for (const p of poison) {
      const parsed = parseEvent(p.rawBody);
      expect('reason' in parsed, p.variant).toBe(true);
      if (p.idempotencyKey) expect((parsed as { idempotencyKey?: string }).idempotencyKey).toBe(p.idempotencyKey);
    }
  });
});

describe('plans', () => {
  it('cycle through every kind, give each event its own key, and end at the provider\'s final status', () => {
    const plans = makePlans(createRng(5), 't', PLAN_KINDS.length * 2, { copies: 4, injectionShare: 0.3 });
    expect(new Set(plans.map((p) => p.kind))).toEqual(new Set(PLAN_KINDS));
    const keys = plans.flatMap((p) => p.events.map((e) => e.idempotencyKey));
    expect(new Set(keys).size).toBe(keys.length);
    expect(new Set(plans.map((p) => p.paymentId)).size).toBe(plans.length);
    for (const p of plans) {
      expect(p.finalStatus).toBe(p.events[p.events.length - 1].status);
      // The provider's state never lags a delivered event: every delivered event was emitted before.
      const emitted = new Set<number>();
      for (const s of p.steps) {
        if (s.do === 'emit') emitted.add(s.event);
        if (s.do === 'deliver') expect(emitted.has(s.event)).toBe(true);
        if (s.do === 'deliver-together') for (const e of s.events) expect(emitted.has(e)).toBe(true);
      }
    }
    expect(plans.some((p) => INJECTION_USER_IDS.some((u) => p.userId.startsWith(u)))).toBe(true);
  });
});

describe('the adapter route', () => {
  it('sends the handler\'s status and body; a malformed result is a 500 naming it; 204 has no body', () => {
    expect(webhookResponse({ status: 202, body: { ok: 1 } })).toEqual({ status: 202, body: { ok: 1 } });
    expect(webhookResponse({ status: 204, body: 'x' })).toEqual({ status: 204 });
    expect(webhookResponse(undefined).status).toBe(500);
    expect(webhookResponse({ status: '200' }).body).toMatchObject({ error: expect.stringContaining('must resolve to { status') });
    expect(webhookResponse({ status: 700 }).status).toBe(500);
  });
});
