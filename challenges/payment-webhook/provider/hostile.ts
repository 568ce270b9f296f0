// What an attacker sends to the webhook (each once, no redelivery): unsigned, wrongly signed, signed with another
// secret, a malformed header, stale (older than 300 s), a replay with a refreshed timestamp, and replays of real
// deliveries with their body changed. And the provider's poison: signed, but not a valid PaymentWebhook.

import type { Rng } from '../../../harness/seed.ts';
import type { Op } from '../../../harness/types.ts';
import type { DeliveryArgs } from '../operations.ts';
import { encodeBody, encodeEvent, poisonBodies, type WebhookEvent } from './payloads.ts';
import { hmacHex, signatureHeader, unixNow } from './signing.ts';
import type { Delivery } from './provider.ts';

export const FORGED_VARIANTS = ['unsigned', 'wrong-signature', 'other-secret', 'malformed-header', 'stale', 'refreshed-timestamp', 'empty-signature'] as const;

const hex = (rng: Rng, n: number) => Array.from({ length: n }, () => Math.floor(rng.next() * 16).toString(16)).join('');

/** `count` forged or stale deliveries of success events for decoy payments nobody paid for. */
export function forgedDeliveries(rng: Rng, secret: string, prefix: string, count: number): Delivery[] {
  const out: Delivery[] = [];
  for (let i = 0; i < count; i++) {
    const variant = FORGED_VARIANTS[i % FORGED_VARIANTS.length];
    const e: WebhookEvent = { paymentId: `pay_${prefix}_${i + 1}`, status: 'success', amount: rng.int(5, 99) * 100, userId: `mallory_${i + 1}`, idempotencyKey: `evt_${hex(rng, 24)}` };
    const { rawBody, encoding } = encodeEvent(rng, e);
    const now = unixNow();
    let signature: string | null;
    switch (variant) {
      case 'unsigned':
        signature = null;
        break;
      case 'wrong-signature':
        signature = `t=${now},v1=${hex(rng, 64)}`;
        break;
      case 'other-secret':
        signature = signatureHeader(`whsec_${hex(rng, 32)}`, rawBody, now);
        break;
      case 'malformed-header':
        // GitHub's format, with a correct HMAC of the body alone: not the contract's `t=…,v1=…`.
        signature = `sha256=${hmacHex(secret, '', rawBody).slice(0, 64)}`;
        break;
      case 'stale':
        signature = signatureHeader(secret, rawBody, now - rng.int(600, 3600));
        break;
      case 'refreshed-timestamp': {
        const old = now - rng.int(600, 3600);
        signature = `t=${now},v1=${hmacHex(secret, old, rawBody)}`;
        break;
      }
      case 'empty-signature':
        signature = `t=${now},v1=`;
        break;
    }
    out.push({
      kind: variant === 'stale' ? 'stale' : 'forged',
      variant,
      paymentId: e.paymentId,
      idempotencyKey: e.idempotencyKey,
      eventStatus: e.status,
      amount: e.amount,
      userId: e.userId,
      rawBody,
      encoding,
      signature,
      retry: false,
    });
  }
  return out;
}

/**
 * Replays of real deliveries (the header exactly as the provider sent it, still fresh) with the body changed: a failed
 * payment's event turned into a success, or a success event's amount or user changed.
 */
export function tamperedReplays(rng: Rng, acknowledged: Op[], max: number): Delivery[] {
  const out: Delivery[] = [];
  const used = new Set<string>();
  for (const op of rng.shuffle([...acknowledged])) {
    if (out.length >= max) break;
    const a = op.args as unknown as DeliveryArgs;
    if (!a.signature || used.has(a.paymentId) || (a.eventStatus !== 'failed' && a.eventStatus !== 'success')) continue;
    used.add(a.paymentId);
    const body = JSON.parse(a.rawBody) as Record<string, unknown>;
    let tampered: { field: string; value: unknown };
    if (a.eventStatus === 'failed') tampered = { field: 'status', value: 'success' };
    else if (rng.chance(0.5)) tampered = { field: 'amount', value: 1 };
    else tampered = { field: 'userId', value: 'mallory' };
    body[tampered.field] = tampered.value;
    const { rawBody, encoding } = encodeBody(rng, body);
    out.push({
      kind: 'forged',
      variant: `tampered-${tampered.field}`,
      paymentId: a.paymentId,
      idempotencyKey: a.idempotencyKey,
      eventStatus: String(body.status),
      amount: body.amount,
      userId: body.userId,
      rawBody,
      encoding,
      signature: a.signature,
      retry: false,
      tampered,
    });
  }
  return out;
}

/** Poison: correctly signed on every attempt, and redelivered like any provider delivery if answered 5xx. */
export function poisonDeliveries(rng: Rng, prefix: string, count: number): Delivery[] {
  return poisonBodies(rng, prefix, count).map((p) => ({
    kind: 'poison',
    variant: p.variant,
    paymentId: p.paymentId,
    idempotencyKey: p.idempotencyKey ?? '',
    eventStatus: 'success',
    rawBody: p.rawBody,
    encoding: p.encoding,
    signature: 'fresh',
    retry: true,
  }));
}
