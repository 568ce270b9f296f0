// notification-fanout operations as calls: the request each sends (CONTRACT §6 routes) and how an answer becomes a
// history outcome. The service has no error codes: any 2xx accepts, anything else (5xx, a timeout, a reset) is
// indeterminate — the event may or may not have been accepted.

import type { CallSpec, Decode } from '../../harness/scenario.ts';
import { indeterminate } from '../../harness/generator/indeterminate.ts';
import type { Channel, EventKind, Preferences } from './contract.ts';

export interface EventSpec { eventId: string; kind: EventKind; userId: string; occurredAt: string }
export interface DeadLetterValue { eventId: string; channel: string; reason: string }

/** publish and setPreferences: any 2xx is an acknowledgement. */
const decodeAck: Decode = (res) => (res.status >= 200 && res.status < 300 ? { type: 'ok' } : indeterminate(res));

/** getDeadLetters: a JSON array of {eventId, channel, reason}; entries are normalised to strings. */
const decodeDeadLetters: Decode = (res) => {
  if (res.status < 200 || res.status >= 300) return indeterminate(res);
  if (!Array.isArray(res.body)) return { type: 'info', error: `getDeadLetters answered ${res.bodyText.slice(0, 100) || '(empty body)'}, not a JSON array` };
  const value: DeadLetterValue[] = res.body.map((d: unknown) => {
    const o = (d && typeof d === 'object' ? d : {}) as Record<string, unknown>;
    return { eventId: String(o.eventId ?? ''), channel: String(o.channel ?? ''), reason: String(o.reason ?? '') };
  });
  return { type: 'ok', value };
};

export function publish(process: string, instance: number, event: EventSpec, phase: string, timeoutMs?: number): CallSpec {
  return { process, instance, f: 'publish', args: { ...event }, phase, timeoutMs, decode: decodeAck, request: { method: 'POST', path: '/notifications/events', body: { ...event } } };
}

export function setPreferences(process: string, instance: number, userId: string, preferences: Preferences, phase: string, timeoutMs?: number): CallSpec {
  return {
    process, instance, f: 'set-preferences', args: { userId, preferences }, phase, timeoutMs, decode: decodeAck,
    request: { method: 'PUT', path: `/notifications/preferences/${encodeURIComponent(userId)}`, body: { preferences } },
  };
}

export function deadLetters(process: string, instance: number, phase: string, timeoutMs?: number): CallSpec {
  return { process, instance, f: 'dead-letters', args: {}, phase, timeoutMs, decode: decodeDeadLetters, request: { method: 'GET', path: '/notifications/dead-letters' } };
}

export const CHANNELS: readonly Channel[] = ['email', 'sms', 'push'];
export const KINDS: readonly EventKind[] = ['created', 'renewed', 'payment-failed', 'cancelled'];
