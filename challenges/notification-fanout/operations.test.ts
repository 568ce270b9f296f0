// The notification-fanout operations' requests and decoders: publish and setPreferences are acknowledged by any 2xx;
// a 5xx (or any other non-2xx) is indeterminate — the event may or may not have been accepted — except 501
// NOT_IMPLEMENTED, a definite failure; getDeadLetters must answer a JSON array, its entries normalised to strings.

import { describe, expect, it } from 'vitest';
import { answer, json } from '../../harness/generator/test-answers.ts';
import { matchRoute } from '../../harness/instances/routes.ts';
import { CHANNELS, deadLetters, KINDS, publish, setPreferences } from './operations.ts';
import { routeTable } from './routes.ts';
import type { Preferences } from './contract.ts';

const event = { eventId: 'evt/1', kind: 'created' as const, userId: 'u 1', occurredAt: '2026-01-01T00:00:00.000Z' };
const prefs: Preferences = { created: ['email'], renewed: ['sms', 'push'], 'payment-failed': ['email', 'sms'], cancelled: [] };
const decodePublish = publish('u', 0, event, 't').decode;
const decodePrefs = setPreferences('u', 0, 'u1', prefs, 't').decode;
const decodeDead = deadLetters('r', 0, 'final').decode;

describe('notification-fanout requests', () => {
  it('publish: POST /notifications/events with a copy of the event', () => {
    const c = publish('u 1', 2, event, 'burst', 10_000);
    expect(c).toMatchObject({ process: 'u 1', instance: 2, f: 'publish', args: event, phase: 'burst', timeoutMs: 10_000, request: { method: 'POST', path: '/notifications/events', body: event } });
    expect(c.args).not.toBe(event);
    expect(c.request.body).not.toBe(event);
  });

  it('setPreferences: PUT /notifications/preferences/<encoded userId> {preferences}; deadLetters: GET', () => {
    expect(setPreferences('u', 1, 'u/1 ü', prefs, 'change')).toMatchObject({
      f: 'set-preferences', args: { userId: 'u/1 ü', preferences: prefs }, request: { method: 'PUT', path: '/notifications/preferences/u%2F1%20%C3%BC', body: { preferences: prefs } },
    });
    expect(deadLetters('final-read', 0, 'final', 10_000)).toMatchObject({ f: 'dead-letters', args: {}, phase: 'final', timeoutMs: 10_000, request: { method: 'GET', path: '/notifications/dead-letters' } });
  });

  it('the module adapter routes each to its method, with the userId intact', () => {
    const p = publish('u', 0, event, 't').request;
    const mp = matchRoute(routeTable, p.method, p.path);
    expect(mp?.route.call).toBe('publish');
    const s = setPreferences('u', 0, 'u/1 ü', prefs, 't').request;
    const ms = matchRoute(routeTable, s.method, s.path);
    expect(ms?.route.call).toBe('setPreferences');
    expect(ms?.params.userId).toBe('u/1 ü');
    const d = deadLetters('r', 0, 'final').request;
    expect(matchRoute(routeTable, d.method, d.path)?.route.call).toBe('getDeadLetters');
  });

  it('the channels and kinds are the contract\'s', () => {
    expect([...CHANNELS]).toEqual(['email', 'sms', 'push']);
    expect([...KINDS]).toEqual(['created', 'renewed', 'payment-failed', 'cancelled']);
  });
});

describe('decodeAck (publish, setPreferences)', () => {
  it('any 2xx is an acknowledgement, whatever the body', () => {
    for (const decode of [decodePublish, decodePrefs]) {
      expect(decode(answer(200))).toEqual({ type: 'ok' });
      expect(decode(json(202, { accepted: true }))).toEqual({ type: 'ok' });
      expect(decode(answer(204))).toEqual({ type: 'ok' });
      expect(decode(answer(299, 'not json'))).toEqual({ type: 'ok' });
    }
  });

  it('a 5xx is indeterminate, with the error field, else the raw text (200 characters), else the status', () => {
    expect(decodePublish(json(500, { code: 'DB_DOWN', error: 'connection refused' }))).toEqual({ type: 'info', code: 'DB_DOWN', error: 'status 500: connection refused' });
    expect(decodePublish(answer(503, 'Service Unavailable'))).toEqual({ type: 'info', error: 'status 503: Service Unavailable' });
    expect(decodePublish(answer(502, 'x'.repeat(300)))).toEqual({ type: 'info', error: `status 502: ${'x'.repeat(200)}` });
    expect(decodePrefs(answer(500))).toEqual({ type: 'info', error: 'status 500' });
    expect(decodePublish(json(500, { code: 7 })).code).toBeUndefined();
  });

  it('other non-2xx answers are indeterminate too (the service has no error codes)', () => {
    expect(decodePublish(json(409, { code: 'DUPLICATE' }))).toEqual({ type: 'info', code: 'DUPLICATE', error: 'status 409: {"code":"DUPLICATE"}' });
    expect(decodePublish(answer(404)).type).toBe('info');
    expect(decodePrefs(json(400, { error: 'bad preferences' }))).toEqual({ type: 'info', error: 'status 400: bad preferences' });
  });

  it('501 NOT_IMPLEMENTED is a definite failure; a 501 without that code is indeterminate', () => {
    expect(decodePublish(json(501, { code: 'NOT_IMPLEMENTED', error: 'publish is not implemented' }))).toEqual({ type: 'fail', code: 'NOT_IMPLEMENTED' });
    expect(decodePrefs(json(501, { code: 'NOT_IMPLEMENTED' }))).toEqual({ type: 'fail', code: 'NOT_IMPLEMENTED' });
    expect(decodePublish(answer(501, 'Not Implemented'))).toEqual({ type: 'info', error: 'status 501: Not Implemented' });
    expect(decodePublish(json(500, { code: 'NOT_IMPLEMENTED' })).type).toBe('info');
  });
});

describe('decodeDeadLetters (getDeadLetters)', () => {
  it('a JSON array of dead letters is ok with it; an empty array too', () => {
    const list = [{ eventId: 'e1', channel: 'sms', reason: 'per-user SMS limit' }, { eventId: 'e2', channel: 'push', reason: 'invalid_recipient' }];
    expect(decodeDead(json(200, list))).toEqual({ type: 'ok', value: list });
    expect(decodeDead(json(200, []))).toEqual({ type: 'ok', value: [] });
  });

  it('entries are normalised: fields to strings, missing or null to \'\', extra fields dropped, non-objects to empty entries', () => {
    const d = decodeDead(json(200, [{ eventId: 17, channel: 'email', reason: { code: 'x' }, extra: true }, { eventId: 'e2', channel: null }, null, 'e3', 5]));
    expect(d).toEqual({
      type: 'ok',
      value: [
        { eventId: '17', channel: 'email', reason: '[object Object]' },
        { eventId: 'e2', channel: '', reason: '' },
        { eventId: '', channel: '', reason: '' },
        { eventId: '', channel: '', reason: '' },
        { eventId: '', channel: '', reason: '' },
      ],
    });
  });

  it('a 2xx that is not a JSON array (an object, null, a scalar, not JSON, empty) is indeterminate', () => {
    expect(decodeDead(json(200, { deadLetters: [] }))).toEqual({ type: 'info', error: 'getDeadLetters answered {"deadLetters":[]}, not a JSON array' });
    expect(decodeDead(answer(200, 'null'))).toEqual({ type: 'info', error: 'getDeadLetters answered null, not a JSON array' });
    expect(decodeDead(answer(200, 'e1,e2'))).toEqual({ type: 'info', error: 'getDeadLetters answered e1,e2, not a JSON array' });
    expect(decodeDead(answer(204))).toEqual({ type: 'info', error: 'getDeadLetters answered (empty body), not a JSON array' });
    expect(decodeDead(answer(200, 'z'.repeat(300))).error).toBe(`getDeadLetters answered ${'z'.repeat(100)}, not a JSON array`);
  });

  it('a 5xx is indeterminate; 501 NOT_IMPLEMENTED fails', () => {
    expect(decodeDead(json(500, { error: 'boom' }))).toEqual({ type: 'info', error: 'status 500: boom' });
    expect(decodeDead(json(501, { code: 'NOT_IMPLEMENTED' }))).toEqual({ type: 'fail', code: 'NOT_IMPLEMENTED' });
  });
});
