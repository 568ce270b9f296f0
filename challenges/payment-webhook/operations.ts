// Webhook operations as calls: a delivery of signed bytes to POST /webhooks/payment, a read of a payment's
// subscriptions and a read of the dead-letter list (CONTRACT §6), and how each answer becomes a history outcome.
// A delivery answered 2xx is ok (acknowledged), 4xx is fail (refused: the provider stops), anything else is
// indeterminate (5xx, timeout, reset: the provider redelivers, and it may or may not have taken effect).

import type { CallSpec, Decode } from '../../harness/scenario.ts';

/** What a delivery was, from the provider's point of view. */
export type DeliveryKind = 'valid' | 'duplicate' | 'forged' | 'stale' | 'poison';

export interface DeliveryArgs {
  /** The delivery this attempt belongs to (`d17`): attempts of one delivery carry the same bytes. */
  delivery: string;
  /** 1 for the first attempt, 2+ for the provider's redeliveries after 5xx, timeouts and dropped connections. */
  attempt: number;
  kind: DeliveryKind;
  /** Finer kind: `sequential`, `concurrent`, `late`, `unsigned`, `wrong-signature`, `missing-userId` ... */
  variant: string;
  paymentId: string;
  idempotencyKey: string;
  eventStatus: string;
  amount?: unknown;
  userId?: unknown;
  /** The exact bytes sent (dead-letter lists are matched against them). */
  rawBody: string;
  /** The signature header as sent (absent for unsigned deliveries). */
  signature?: string;
  /** For a tampered replay: the field changed and its forged value. */
  tampered?: { field: string; value: unknown };
  /** How the body's bytes differ from JSON.stringify of the parsed object (spacing, key order, escapes). */
  encoding?: string;
}

export const SIGNATURE_HEADER = 'gauntlet-signature';

const snippet = (text: string) => (text.length > 160 ? `${text.slice(0, 160)}…` : text);

/** 2xx ok, 4xx fail (`HTTP_4xx`), anything else indeterminate (`HTTP_5xx`, or no status at all). */
export const decodeDelivery: Decode = (res) => {
  const body = res.body as Record<string, unknown> | undefined;
  const said = body && typeof body === 'object' && !Array.isArray(body) ? (body.error ?? body.message ?? body.code) : undefined;
  const text = said !== undefined ? String(said) : res.bodyText;
  if (res.status >= 200 && res.status < 300) return { type: 'ok', value: { status: res.status, ...(res.bodyText ? { body: snippet(res.bodyText) } : {}) } };
  if (res.status >= 400 && res.status < 500) return { type: 'fail', code: `HTTP_${res.status}`, error: snippet(text) };
  return { type: 'info', code: `HTTP_${res.status}`, error: `status ${res.status}${text ? `: ${snippet(text)}` : ''}` };
};

/** 200 with an array. A 404 without a body (HTTP mode) also reads as "none". */
const decodeList = (what: string): Decode => (res) => {
  const body = res.body as unknown;
  if (res.status === 200 && Array.isArray(body)) return { type: 'ok', value: body };
  if (res.status === 404 && !(body && typeof body === 'object' && 'code' in (body as object))) return { type: 'ok', value: [] };
  const code = body && typeof body === 'object' && typeof (body as { code?: unknown }).code === 'string' ? String((body as { code: string }).code) : undefined;
  if (res.status === 501 && code === 'NOT_IMPLEMENTED') return { type: 'fail', code, error: String((body as { error?: unknown }).error ?? '') };
  if (code === 'GAUNTLET_NO_REDIS') return { type: 'info', code, error: String((body as { error?: unknown }).error ?? '') };
  if (res.status >= 200 && res.status < 300) return { type: 'info', code: `HTTP_${res.status}`, error: `${what} must answer a JSON array, got ${snippet(res.bodyText) || 'nothing'}` };
  return { type: 'info', code: `HTTP_${res.status}`, error: `status ${res.status}${res.bodyText ? `: ${snippet(res.bodyText)}` : ''}` };
};

const decodeSubscriptions = decodeList('getSubscriptionsByPaymentId');
const decodeDeadLetters = decodeList('getDeadLetters');

export function deliver(process: string, instance: number, args: DeliveryArgs, headers: Record<string, string>, phase: string, timeoutMs?: number): CallSpec {
  return {
    process,
    instance,
    f: 'deliver',
    args: args as unknown as Record<string, unknown>,
    phase,
    timeoutMs,
    decode: decodeDelivery,
    request: { method: 'POST', path: '/webhooks/payment', headers, rawBody: args.rawBody },
  };
}

export function readSubscriptions(process: string, instance: number, paymentId: string, phase: string, timeoutMs?: number): CallSpec {
  return { process, instance, f: 'read', args: { paymentId }, phase, timeoutMs, decode: decodeSubscriptions, request: { method: 'GET', path: `/subscriptions?paymentId=${encodeURIComponent(paymentId)}` } };
}

export function readDeadLetters(process: string, instance: number, phase: string, timeoutMs?: number): CallSpec {
  return { process, instance, f: 'dead-letters', args: {}, phase, timeoutMs, decode: decodeDeadLetters, request: { method: 'GET', path: '/dead-letters' } };
}
