// Shared by the payment-webhook references (not a reference itself: self-test skips `_`-prefixed entries): what
// a delivery is — its signature checked over the raw bytes, its body validated into an event — and what the event's
// status means for the subscription.
import crypto from 'node:crypto';
import type { Subscription } from 'gauntlet';

export type EventStatus = 'pending' | 'success' | 'failed';
export interface Event { paymentId: string; status: EventStatus; amount: number; userId: string; idempotencyKey: string }

const TOLERANCE_S = 300;
export const STATUS_OF: Record<EventStatus, Subscription['status']> = { pending: 'pending', success: 'active', failed: 'failed' };

/**
 * null when authentic; otherwise why not (never says which part of the HMAC was wrong). HMAC-SHA256(secret, t + "." +
 * rawBody) over the bytes exactly as received (re-serialised JSON has other bytes), compared in constant time, with t
 * within 300 s of now.
 */
export function verifySignature(secret: string, header: string | undefined, rawBody: string, nowS = Date.now() / 1000): string | null {
  if (!header) return 'missing gauntlet-signature header';
  let t: string | undefined;
  const v1: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (k === 't') t = v;
    else if (k === 'v1') v1.push(v);
  }
  if (!t || !/^\d{1,12}$/.test(t) || v1.length === 0) return 'malformed gauntlet-signature header';
  if (Math.abs(nowS - Number(t)) > TOLERANCE_S) return 'signature timestamp outside the 300 s tolerance';
  const expected = crypto.createHmac('sha256', secret).update(`${t}.${rawBody}`, 'utf8').digest();
  for (const candidate of v1) {
    if (!/^[0-9a-f]{64}$/i.test(candidate)) continue;
    if (crypto.timingSafeEqual(Buffer.from(candidate, 'hex'), expected)) return null;
  }
  return 'signature mismatch';
}

/** The event, or why the body is poison (with its idempotency key when it has one). */
export function parseEvent(rawBody: string): { event: Event } | { reason: string; idempotencyKey?: string } {
  let v: unknown;
  try {
    v = JSON.parse(rawBody);
  } catch {
    return { reason: 'body is not valid JSON' };
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return { reason: 'body is not a JSON object' };
  const o = v as Record<string, unknown>;
  const idempotencyKey = typeof o.idempotencyKey === 'string' && o.idempotencyKey ? o.idempotencyKey : undefined;
  const problems: string[] = [];
  if (typeof o.paymentId !== 'string' || !o.paymentId) problems.push('paymentId must be a non-empty string');
  if (o.status !== 'pending' && o.status !== 'success' && o.status !== 'failed') problems.push('status must be pending, success or failed');
  if (typeof o.amount !== 'number' || !Number.isSafeInteger(o.amount) || o.amount < 0) problems.push('amount must be a whole number ≥ 0');
  if (typeof o.userId !== 'string' || !o.userId) problems.push('userId must be a non-empty string');
  if (!idempotencyKey) problems.push('idempotencyKey must be a non-empty string');
  if (problems.length) return { reason: problems.join('; '), ...(idempotencyKey ? { idempotencyKey } : {}) };
  return { event: { paymentId: o.paymentId as string, status: o.status as EventStatus, amount: o.amount as number, userId: o.userId as string, idempotencyKey: idempotencyKey! } };
}
