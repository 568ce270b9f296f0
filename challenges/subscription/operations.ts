// Subscription operations as calls: the request each sends (CONTRACT §6 routes) and how an answer becomes a
// history outcome. Definite failures are exactly the contract's codes; anything else (5xx, an unknown body, a
// timeout, a reset) is indeterminate: the purchase may or may not have happened.

import type { CallSpec, Decode } from '../../harness/scenario.ts';

export const DEFINITE_CODES = ['OUT_OF_STOCK', 'PAYMENT_DECLINED', 'PURCHASE_FAILED'] as const;
export type DefiniteCode = (typeof DEFINITE_CODES)[number];

/** A purchase as the service reported it (CONTRACT §3 `Purchase`), normalised to strings and a number. */
export interface PurchaseValue {
  id: string;
  requestId: string;
  userId: string;
  productId: string;
  status: string;
  chargeId: string;
  amount: number;
}

export interface PurchaseRequest {
  requestId: string;
  userId: string;
  productId: string;
}

const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));

function normalise(body: Record<string, unknown>): PurchaseValue {
  return {
    id: str(body.id),
    requestId: str(body.requestId),
    userId: str(body.userId),
    productId: str(body.productId),
    status: str(body.status),
    chargeId: str(body.chargeId),
    amount: Number(body.amount),
  };
}

function codeOf(body: unknown): string | undefined {
  return body && typeof body === 'object' && typeof (body as { code?: unknown }).code === 'string' ? (body as { code: string }).code : undefined;
}

function indeterminate(res: Parameters<Decode>[0]) {
  const body = res.body as Record<string, unknown> | undefined;
  const detail = body && typeof body === 'object' && body.error ? `: ${String(body.error)}` : res.bodyText ? `: ${res.bodyText.slice(0, 200)}` : '';
  return { type: 'info' as const, code: codeOf(body), error: `status ${res.status}${detail}` };
}

/** createSubscriptionWithRetry: a purchase object is ok; a contract code is a definite failure; the rest is unknown. */
const decodeCreate: Decode = (res) => {
  const body = res.body;
  const code = codeOf(body);
  if (res.status >= 200 && res.status < 300) {
    if (body && typeof body === 'object' && !Array.isArray(body)) return { type: 'ok', value: normalise(body as Record<string, unknown>) };
    return { type: 'info', error: `a 2xx without a purchase: ${res.bodyText.slice(0, 100) || '(empty body)'}` };
  }
  if (code && (DEFINITE_CODES as readonly string[]).includes(code)) return { type: 'fail', code };
  if (res.status === 501 && code === 'NOT_IMPLEMENTED') return { type: 'fail', code };
  return indeterminate(res);
};

/** getSubscription: `200 null` (module adapter) or a 404 without a code (HTTP mode) both mean "no subscription". */
const decodeGet: Decode = (res) => {
  const body = res.body;
  if (res.status === 404 && !codeOf(body)) return { type: 'ok', value: null };
  if (res.status >= 200 && res.status < 300) {
    const text = res.bodyText.trim();
    if (text === '' || text === 'null' || body === null) return { type: 'ok', value: null };
    if (body && typeof body === 'object' && !Array.isArray(body)) return { type: 'ok', value: normalise(body as Record<string, unknown>) };
    return { type: 'info', error: `unexpected body ${text.slice(0, 100)}` };
  }
  return indeterminate(res);
};

export function create(process: string, instance: number, req: PurchaseRequest, phase: string, timeoutMs?: number): CallSpec {
  return { process, instance, f: 'create', args: { ...req }, phase, timeoutMs, decode: decodeCreate, request: { method: 'POST', path: '/subscriptions', body: { ...req } } };
}

export function get(process: string, instance: number, requestId: string, phase: string, timeoutMs?: number): CallSpec {
  return { process, instance, f: 'get', args: { requestId }, phase, timeoutMs, decode: decodeGet, request: { method: 'GET', path: `/subscriptions/${encodeURIComponent(requestId)}` } };
}
