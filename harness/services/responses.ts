// Small helpers the mock services share: error answers that always carry a `code`, body validation,
// and sequential ids (`ch_000001`), so the service files read as their business rules.

import type { RouteResult } from './request-flow.ts';

/** A 400 for a malformed request: not executed, nothing stored under the key (Stripe does the same). */
export function invalid(message: string): RouteResult {
  return { status: 400, body: { code: 'invalid_request', message }, executed: false };
}

/** A 404 for an unknown resource: not executed, nothing stored. */
export function notFound(code: string, message: string): RouteResult {
  return { status: 404, body: { code, message }, executed: false };
}

/** A business refusal (402, 409): the call was executed and its answer is stored under the key. */
export function refused(status: number, code: string, message: string, extra: Record<string, unknown> = {}): RouteResult {
  return { status, body: { code, message, ...extra } };
}

/** `Retry-After` in whole seconds (rounded up, so honouring it is never early) and `Retry-After-Ms` exactly. */
export function retryAfterHeaders(ms: number): Record<string, string> {
  return { 'retry-after': String(Math.ceil(ms / 1000)), 'retry-after-ms': String(ms) };
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function nonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

export function positiveInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

/** `ch_000001`, `ch_000002` ... */
export function idMaker(prefix: string): () => string {
  let n = 0;
  return () => `${prefix}_${String(++n).padStart(6, '0')}`;
}
