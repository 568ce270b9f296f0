// The webhook operations' requests and decoders (issue 13): a delivery's answer is ok on 2xx (acknowledged), fail
// on 4xx (refused: the provider stops), indeterminate otherwise (the provider redelivers; it may have taken effect);
// the two list reads are ok only on 200 with a JSON array. Also the module adapter's webhookResponse.

import { describe, expect, it } from 'vitest';
import { answer, json } from '../../harness/generator/test-answers.ts';
import type { HttpResponse } from '../../harness/generator/http-client.ts';
import { matchRoute } from '../../harness/instances/routes.ts';
import { decodeDelivery, deliver, readDeadLetters, readSubscriptions, SIGNATURE_HEADER, type DeliveryArgs } from './operations.ts';
import { routeTable, webhookResponse } from './routes.ts';


const args: DeliveryArgs = {
  delivery: 'd17', attempt: 2, kind: 'valid', variant: 'sequential', paymentId: 'pay 1', idempotencyKey: 'k1',
  eventStatus: 'succeeded', amount: 1000, userId: 'u1', rawBody: '{"id":"pay 1",  "status":"succeeded"}', signature: 'sig',
};
const decodeSubs = readSubscriptions('r', 0, 'pay 1', 'final').decode;
const decodeDead = readDeadLetters('r', 0, 'final').decode;

describe('webhook requests', () => {
  it('deliver sends the exact raw bytes with the given headers to POST /webhooks/payment', () => {
    const headers = { [SIGNATURE_HEADER]: 'sig' };
    const spec = deliver('provider', 1, args, headers, 'deliveries', 8000);
    expect(spec).toMatchObject({ process: 'provider', instance: 1, f: 'deliver', phase: 'deliveries', timeoutMs: 8000 });
    expect(spec.args).toBe(args);
    expect(spec.request).toEqual({ method: 'POST', path: '/webhooks/payment', headers, rawBody: args.rawBody });
    expect(spec.request.body).toBeUndefined();
    expect(spec.decode).toBe(decodeDelivery);
  });

  it('the reads: GET /subscriptions?paymentId= (encoded) and GET /dead-letters', () => {
    const subs = readSubscriptions('r', 2, 'pay 1&x=2', 'final', 500);
    expect(subs).toMatchObject({ f: 'read', args: { paymentId: 'pay 1&x=2' }, timeoutMs: 500, request: { method: 'GET', path: '/subscriptions?paymentId=pay%201%26x%3D2' } });
    expect(readDeadLetters('r', 0, 'final')).toMatchObject({ f: 'dead-letters', args: {}, request: { method: 'GET', path: '/dead-letters' } });
  });

  it('the module adapter routes each request to its method (the query string is not part of the route)', () => {
    const calls = [deliver('p', 0, args, {}, 't'), readSubscriptions('r', 0, 'p1', 't'), readDeadLetters('r', 0, 't')].map(
      (s) => matchRoute(routeTable, s.request.method, s.request.path.split('?')[0])?.route.call,
    );
    expect(calls).toEqual(['handlePaymentWebhook', 'getSubscriptionsByPaymentId', 'getDeadLetters']);
    expect(routeTable.codeStatus).toEqual({});
  });
});

describe('decodeDelivery', () => {
  it('2xx is ok (acknowledged), with the status and a snippet of the body when there is one', () => {
    expect(decodeDelivery(answer(200))).toEqual({ type: 'ok', value: { status: 200 } });
    expect(decodeDelivery(answer(204))).toEqual({ type: 'ok', value: { status: 204 } });
    expect(decodeDelivery(json(202, { received: true }))).toEqual({ type: 'ok', value: { status: 202, body: '{"received":true}' } });
    expect(decodeDelivery(answer(200, 'OK'))).toEqual({ type: 'ok', value: { status: 200, body: 'OK' } }); // not JSON: fine
  });

  it('a long body is cut to 160 characters and an ellipsis', () => {
    const d = decodeDelivery(answer(200, 'x'.repeat(400)));
    expect((d.value as { body: string }).body).toBe(`${'x'.repeat(160)}…`);
  });

  it('4xx is a definite refusal: fail HTTP_<status>, with what the body said', () => {
    expect(decodeDelivery(json(401, { error: 'bad signature' }))).toEqual({ type: 'fail', code: 'HTTP_401', error: 'bad signature' });
    expect(decodeDelivery(json(400, { message: 'invalid event' }))).toEqual({ type: 'fail', code: 'HTTP_400', error: 'invalid event' });
    expect(decodeDelivery(json(409, { code: 'DUPLICATE' }))).toEqual({ type: 'fail', code: 'HTTP_409', error: 'DUPLICATE' });
    expect(decodeDelivery(answer(422, 'stale event'))).toEqual({ type: 'fail', code: 'HTTP_422', error: 'stale event' });
    expect(decodeDelivery(answer(499))).toEqual({ type: 'fail', code: 'HTTP_499', error: '' });
  });

  it('what the body said: error before message before code; other types are stringified; arrays give the raw text', () => {
    expect(decodeDelivery(json(400, { code: 'C', message: 'M', error: 'E' })).error).toBe('E');
    expect(decodeDelivery(json(400, { code: 'C', message: 'M' })).error).toBe('M');
    expect(decodeDelivery(json(400, { error: 42 })).error).toBe('42');
    expect(decodeDelivery(json(400, { error: { reason: 'x' } })).error).toBe('[object Object]');
    expect(decodeDelivery(json(400, ['bad'])).error).toBe('["bad"]');
    expect(decodeDelivery(json(400, { other: 1 })).error).toBe('{"other":1}');
  });

  it('5xx, 3xx, 1xx and status 0 are indeterminate (the provider redelivers)', () => {
    expect(decodeDelivery(json(500, { error: 'db down' }))).toEqual({ type: 'info', code: 'HTTP_500', error: 'status 500: db down' });
    expect(decodeDelivery(answer(503))).toEqual({ type: 'info', code: 'HTTP_503', error: 'status 503' });
    expect(decodeDelivery(answer(302, 'moved'))).toEqual({ type: 'info', code: 'HTTP_302', error: 'status 302: moved' });
    expect(decodeDelivery(answer(199))).toMatchObject({ type: 'info', code: 'HTTP_199' });
    expect(decodeDelivery(answer(0, 'garbage'))).toEqual({ type: 'info', code: 'HTTP_0', error: 'status 0: garbage' });
    expect(decodeDelivery(answer(500, 'y'.repeat(300))).error).toBe(`status 500: ${'y'.repeat(160)}…`);
  });
});

describe('list decoders (getSubscriptionsByPaymentId, getDeadLetters)', () => {
  it('200 with an array is ok with it, as it is', () => {
    const rows = [{ id: 1, paymentId: 'pay 1', extra: true }, 'odd'];
    expect(decodeSubs(json(200, rows))).toEqual({ type: 'ok', value: rows });
    expect(decodeDead(json(200, []))).toEqual({ type: 'ok', value: [] });
  });

  it('HTTP mode: a 404 without a code (empty, text, or a body without `code`) is none', () => {
    expect(decodeSubs(answer(404))).toEqual({ type: 'ok', value: [] });
    expect(decodeSubs(answer(404, 'Not Found'))).toEqual({ type: 'ok', value: [] });
    expect(decodeSubs(json(404, { error: 'none' }))).toEqual({ type: 'ok', value: [] });
    expect(decodeDead(answer(404))).toEqual({ type: 'ok', value: [] });
  });

  it('a 404 carrying a code is indeterminate', () => {
    expect(decodeSubs(json(404, { code: 'UNKNOWN_PAYMENT' }))).toEqual({ type: 'info', code: 'HTTP_404', error: 'status 404: {"code":"UNKNOWN_PAYMENT"}' });
    expect(decodeSubs(json(404, { code: null })).type).toBe('info'); // a `code` key of any value counts
  });

  it('a 2xx that is not an array is indeterminate and names the method that must answer one', () => {
    expect(decodeSubs(json(200, { items: [] }))).toEqual({ type: 'info', code: 'HTTP_200', error: 'getSubscriptionsByPaymentId must answer a JSON array, got {"items":[]}' });
    expect(decodeSubs(answer(200, 'null'))).toEqual({ type: 'info', code: 'HTTP_200', error: 'getSubscriptionsByPaymentId must answer a JSON array, got null' });
    expect(decodeDead(answer(200))).toEqual({ type: 'info', code: 'HTTP_200', error: 'getDeadLetters must answer a JSON array, got nothing' });
    expect(decodeDead(answer(200, '[1,2'))).toEqual({ type: 'info', code: 'HTTP_200', error: 'getDeadLetters must answer a JSON array, got [1,2' });
  });

  it('only 200 carries a list: a 201 or 204 with an array is indeterminate too', () => {
    expect(decodeSubs(json(201, []))).toEqual({ type: 'info', code: 'HTTP_201', error: 'getSubscriptionsByPaymentId must answer a JSON array, got []' });
    expect(decodeSubs(answer(204)).type).toBe('info');
  });

  it('501 NOT_IMPLEMENTED fails; GAUNTLET_NO_REDIS and 5xx are indeterminate', () => {
    expect(decodeDead(json(501, { code: 'NOT_IMPLEMENTED', error: 'getDeadLetters is not implemented' }))).toEqual({ type: 'fail', code: 'NOT_IMPLEMENTED', error: 'getDeadLetters is not implemented' });
    expect(decodeDead(json(501, { code: 'NOT_IMPLEMENTED' }))).toEqual({ type: 'fail', code: 'NOT_IMPLEMENTED', error: '' });
    expect(decodeDead(json(500, { code: 'NOT_IMPLEMENTED' }))).toMatchObject({ type: 'info', code: 'HTTP_500' });
    expect(decodeSubs(json(500, { code: 'GAUNTLET_NO_REDIS', error: 'no Redis' }))).toEqual({ type: 'info', code: 'GAUNTLET_NO_REDIS', error: 'no Redis' });
    expect(decodeSubs(json(500, { error: 'boom' }))).toEqual({ type: 'info', code: 'HTTP_500', error: 'status 500: {"error":"boom"}' });
    expect(decodeSubs(answer(502))).toEqual({ type: 'info', code: 'HTTP_502', error: 'status 502' });
    expect(decodeSubs(json(500, { code: 7 }))).toMatchObject({ type: 'info', code: 'HTTP_500' }); // a non-string code is no code
  });
});

describe('webhookResponse (the module adapter turns the handler result into an answer)', () => {
  it('a valid {status, body} passes through', () => {
    expect(webhookResponse({ status: 200, body: { ok: true } })).toEqual({ status: 200, body: { ok: true } });
    expect(webhookResponse({ status: 400 })).toEqual({ status: 400, body: undefined });
    expect(webhookResponse({ status: 100 })).toEqual({ status: 100, body: undefined });
    expect(webhookResponse({ status: 599, body: 'x', extra: 1 })).toEqual({ status: 599, body: 'x' });
  });

  it('204 and 304 never carry a body (it would corrupt the framing)', () => {
    expect(webhookResponse({ status: 204, body: { ignored: true } })).toEqual({ status: 204 });
    expect(webhookResponse({ status: 304, body: 'x' })).toEqual({ status: 304 });
  });

  it("anything else is the handler's bug: 500 with a message naming what it resolved to", () => {
    const bad: unknown[] = [null, undefined, 200, 'ok', {}, { status: '200' }, { status: 200.5 }, { status: 99 }, { status: 600 }, { status: NaN }];
    for (const result of bad) {
      const r = webhookResponse(result);
      expect(r.status).toBe(500);
      expect((r.body as { error: string }).error).toMatch(/^handlePaymentWebhook must resolve to \{ status: <100\.\.599>, body\? \}, it resolved to /);
    }
    expect((webhookResponse(undefined).body as { error: string }).error).toMatch(/it resolved to undefined$/);
    expect((webhookResponse({ status: '200' }).body as { error: string }).error).toMatch(/it resolved to \{"status":"200"\}$/);
  });

  it('a result JSON cannot show (circular, BigInt) is shown with String(); a long one is cut at 120 characters', () => {
    const circular: Record<string, unknown> = { status: 'x' };
    circular.self = circular;
    expect((webhookResponse(circular).body as { error: string }).error).toMatch(/it resolved to \[object Object\]$/);
    expect((webhookResponse({ status: 10n }).body as { error: string }).error).toMatch(/it resolved to \[object Object\]$/);
    const long = webhookResponse({ status: 'no', pad: 'p'.repeat(500) }).body as { error: string };
    expect(long.error.split('it resolved to ')[1]).toHaveLength(120);
  });
});
