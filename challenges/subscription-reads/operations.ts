// subscription-reads operations as calls: the request each sends (CONTRACT §6 routes) and how an answer becomes a
// history outcome. The service has no error codes: a 200 with a ReadResult is an answer, anything else (5xx, a
// timeout, a reset, a body that is not a ReadResult) is indeterminate — a write may or may not have been applied.

import type { CallSpec, Decode } from '../../harness/scenario.ts';
import { indeterminate } from '../../harness/generator/indeterminate.ts';
import type { Plan } from './contract.ts';

export const PLANS: readonly Plan[] = ['free', 'starter', 'pro', 'team'];

/** A ReadResult as the history keeps it (`value` of an ok op). */
export interface ReadValue { userId: string; plan: string; status: string; requestId: string; token?: string }

/** Who a call is made for: the user's own session (sends and keeps their token), or someone else (no token). */
export type Caller = 'session' | 'anonymous' | 'admin';

/** A 2xx whose body is `{subscription: {userId, plan, status, requestId}, consistencyToken?}`. */
const decodeResult: Decode = (res) => {
  if (res.status < 200 || res.status >= 300) return indeterminate(res);
  const body = (res.body && typeof res.body === 'object' ? res.body : {}) as Record<string, unknown>;
  const sub = body.subscription as Record<string, unknown> | undefined;
  if (!sub || typeof sub !== 'object' || typeof sub.requestId !== 'string') {
    return { type: 'info', error: `the answer is not a ReadResult ({subscription: {userId, plan, status, requestId}, consistencyToken?}): ${res.bodyText.slice(0, 160) || '(empty body)'}` };
  }
  const token = body.consistencyToken;
  const value: ReadValue = { userId: String(sub.userId ?? ''), plan: String(sub.plan ?? ''), status: String(sub.status ?? ''), requestId: sub.requestId };
  if (token !== undefined && token !== null && token !== '') value.token = String(token).slice(0, 200);
  return { type: 'ok', value };
};

/** metrics(): `{cacheHitRatio, replicaLagMs}` as given (judged by the scenario); anything else is indeterminate. */
const decodeMetrics: Decode = (res) => {
  if (res.status < 200 || res.status >= 300) return indeterminate(res);
  const body = (res.body && typeof res.body === 'object' ? res.body : {}) as Record<string, unknown>;
  return { type: 'ok', value: { cacheHitRatio: body.cacheHitRatio, replicaLagMs: body.replicaLagMs } };
};

export function metrics(instance: number, phase: string): CallSpec {
  return { process: 'monitor', instance, f: 'metrics', args: {}, phase, decode: decodeMetrics, request: { method: 'GET', path: '/reads/metrics' } };
}

const tokenHeader = (token: string | undefined): Record<string, string> => (token ? { 'consistency-token': token } : {});

export function changePlan(instance: number, userId: string, plan: Plan, requestId: string, by: Caller, phase: string, token?: string): CallSpec {
  return {
    process: by === 'session' ? userId : `admin:${userId}`, instance, f: 'change-plan', args: { userId, plan, requestId, by }, phase, decode: decodeResult,
    request: { method: 'PUT', path: `/accounts/${encodeURIComponent(userId)}/subscription`, headers: tokenHeader(token), body: { plan, requestId } },
  };
}

export function cancel(instance: number, userId: string, requestId: string, by: Caller, phase: string, token?: string): CallSpec {
  return {
    process: by === 'session' ? userId : `admin:${userId}`, instance, f: 'cancel', args: { userId, requestId, by }, phase, decode: decodeResult,
    request: { method: 'DELETE', path: `/accounts/${encodeURIComponent(userId)}/subscription`, headers: tokenHeader(token), body: { requestId } },
  };
}

/** A read: the user's session sends their token (when they have one); anyone else sends none. */
export function read(instance: number, userId: string, by: Caller, phase: string, token?: string): CallSpec {
  const sent = by === 'session' ? token : undefined;
  return {
    process: by === 'session' ? userId : `reader:${userId}`, instance, f: 'read', args: { userId, by, ...(sent ? { token: sent } : {}) }, phase, decode: decodeResult,
    request: { method: 'GET', path: `/accounts/${encodeURIComponent(userId)}/subscription`, headers: tokenHeader(sent) },
  };
}
