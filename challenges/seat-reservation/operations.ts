// Seat operations as calls: the request each sends (CONTRACT §6 routes) and how an answer becomes a history
// outcome. Definite failures are exactly the contract's codes; anything else (5xx, unknown body, timeout) is
// indeterminate: the reservation may or may not have happened.

import type { CallSpec, Decode } from '../../harness/scenario.ts';

export const DEFINITE_CODES = ['SEAT_TAKEN', 'SEAT_NOT_FOUND', 'HOLD_EXPIRED'] as const;

export interface SeatValue {
  seatId: string;
  userId: string;
}

const decode: Decode = (res) => {
  const body = res.body as Record<string, unknown> | null | undefined;
  const code = body && typeof body === 'object' && typeof body.code === 'string' ? body.code : undefined;
  if (res.status >= 200 && res.status < 300) {
    if (body === null || body === undefined || res.bodyText.trim() === '' || res.bodyText.trim() === 'null') return { type: 'ok', value: null };
    // A null userId stays null: on a read it says nobody holds the seat, as a null reservation does.
    if (typeof body === 'object') return { type: 'ok', value: { ...body, userId: body.userId === undefined || body.userId === null ? body.userId : String(body.userId) } };
    return { type: 'info', error: `unexpected body ${res.bodyText.slice(0, 100)}` };
  }
  if (code && (DEFINITE_CODES as readonly string[]).includes(code)) return { type: 'fail', code };
  if (res.status === 501 && code === 'NOT_IMPLEMENTED') return { type: 'fail', code, error: String(body?.error ?? '') };
  if (code === 'GAUNTLET_NO_REDIS') return { type: 'info', code, error: String(body?.error ?? '') };
  return { type: 'info', code, error: `status ${res.status}${body && typeof body === 'object' && body.error ? `: ${String(body.error)}` : res.bodyText ? `: ${res.bodyText.slice(0, 200)}` : ''}` };
};

/** getReservation: 200 null (module adapter) or a 404 without SEAT_NOT_FOUND (HTTP mode) both mean "nobody". */
const decodeGet: Decode = (res) => {
  const body = res.body as Record<string, unknown> | undefined;
  if (res.status === 404 && !(body && body.code === 'SEAT_NOT_FOUND')) return { type: 'ok', value: null };
  return decode(res);
};

const seg = (s: string) => encodeURIComponent(s);

export function reserve(process: string, instance: number, seatId: string, userId: string, phase: string, timeoutMs?: number): CallSpec {
  return { process, instance, f: 'reserve', args: { seatId, userId }, phase, timeoutMs, decode, request: { method: 'POST', path: `/seats/${seg(seatId)}/reservations`, body: { userId } } };
}

export function read(process: string, instance: number, seatId: string, phase: string, timeoutMs?: number): CallSpec {
  return { process, instance, f: 'read', args: { seatId }, phase, timeoutMs, decode: decodeGet, request: { method: 'GET', path: `/seats/${seg(seatId)}/reservation` } };
}

export function hold(process: string, instance: number, seatId: string, userId: string, ttlMs: number, phase: string): CallSpec {
  return { process, instance, f: 'hold', args: { seatId, userId, ttlMs }, phase, decode, request: { method: 'POST', path: `/seats/${seg(seatId)}/holds`, body: { userId, ttlMs } } };
}

export function confirm(process: string, instance: number, seatId: string, userId: string, phase: string): CallSpec {
  return { process, instance, f: 'confirm', args: { seatId, userId }, phase, decode, request: { method: 'POST', path: `/seats/${seg(seatId)}/holds/confirm`, body: { userId } } };
}

export function release(process: string, instance: number, seatId: string, userId: string, phase: string): CallSpec {
  return { process, instance, f: 'release', args: { seatId, userId }, phase, decode, request: { method: 'DELETE', path: `/seats/${seg(seatId)}/reservation`, body: { userId } } };
}
