// The subscription operations' requests and decoders (issue 13): a purchase object in a 2xx is ok (normalised to
// strings and a number), exactly the contract's codes are definite failures, anything else is indeterminate (the
// purchase may or may not have happened); getSubscription reads `200 null` or a bare 404 as "none".

import { describe, expect, it } from 'vitest';
import { answer, json } from '../../harness/generator/test-answers.ts';
import type { HttpResponse } from '../../harness/generator/http-client.ts';
import { matchRoute } from '../../harness/instances/routes.ts';
import { create, DEFINITE_CODES, get } from './operations.ts';
import { routeTable } from './routes.ts';


const req = { requestId: 'r/1', userId: 'u1', productId: 'p1' };
const decodeCreate = create('b', 0, req, 'test').decode;
const decodeGet = get('r', 0, 'r/1', 'test').decode;
const purchase = { id: 'sub-1', requestId: 'r/1', userId: 'u1', productId: 'p1', status: 'active', chargeId: 'ch_1', amount: 999 };

describe('subscription requests', () => {
  it('create: POST /subscriptions with a copy of the request; get: GET /subscriptions/<encoded requestId>', () => {
    const c = create('buyer', 3, req, 'burst', 20_000);
    expect(c).toMatchObject({ process: 'buyer', instance: 3, f: 'create', args: req, phase: 'burst', timeoutMs: 20_000, request: { method: 'POST', path: '/subscriptions', body: req } });
    expect(c.args).not.toBe(req);
    expect(c.request.body).not.toBe(req);
    expect(get('r', 1, 'r/1 ü', 'final')).toMatchObject({ f: 'get', args: { requestId: 'r/1 ü' }, request: { method: 'GET', path: '/subscriptions/r%2F1%20%C3%BC' } });
  });

  it('the module adapter routes both to their methods, with the requestId intact', () => {
    const c = create('b', 0, req, 't').request;
    expect(matchRoute(routeTable, c.method, c.path)?.route.call).toBe('createSubscriptionWithRetry');
    const g = get('r', 0, 'r/1 ü', 't').request;
    const m = matchRoute(routeTable, g.method, g.path);
    expect(m?.route.call).toBe('getSubscription');
    expect(m?.params.requestId).toBe('r/1 ü');
  });

  it('every definite code travels with 409 and is decoded back as that definite failure', () => {
    expect(Object.keys(routeTable.codeStatus).sort()).toEqual([...DEFINITE_CODES].sort());
    for (const code of DEFINITE_CODES) {
      expect(routeTable.codeStatus[code]).toBe(409);
      expect(decodeCreate(json(routeTable.codeStatus[code], { code }))).toEqual({ type: 'fail', code });
    }
  });
});

describe('decodeCreate (createSubscriptionWithRetry)', () => {
  it('a purchase in a 2xx is ok with it', () => {
    expect(decodeCreate(json(200, purchase))).toEqual({ type: 'ok', value: purchase });
    expect(decodeCreate(json(201, purchase))).toEqual({ type: 'ok', value: purchase });
  });

  it('fields are normalised: ids to strings, amount to a number; extra fields dropped', () => {
    const d = decodeCreate(json(200, { ...purchase, id: 17, userId: 5, chargeId: 123, amount: '9.99', secret: 'x' }));
    expect(d).toEqual({ type: 'ok', value: { ...purchase, id: '17', userId: '5', chargeId: '123', amount: 9.99 } });
  });

  it("missing or null fields become '' and a missing amount NaN (still ok: the 2xx says it happened)", () => {
    expect(decodeCreate(json(200, { requestId: 'r/1', chargeId: null }))).toEqual({
      type: 'ok',
      value: { id: '', requestId: 'r/1', userId: '', productId: '', status: '', chargeId: '', amount: NaN },
    });
    expect(decodeCreate(json(200, {})).type).toBe('ok');
    expect((decodeCreate(json(200, { ...purchase, amount: 'lots' })).value as { amount: number }).amount).toBeNaN();
  });

  it('a 2xx without a purchase object (empty, null, array, scalar, not JSON) is indeterminate', () => {
    expect(decodeCreate(answer(200))).toEqual({ type: 'info', error: 'a 2xx without a purchase: (empty body)' });
    expect(decodeCreate(answer(204))).toEqual({ type: 'info', error: 'a 2xx without a purchase: (empty body)' });
    expect(decodeCreate(answer(200, 'null'))).toEqual({ type: 'info', error: 'a 2xx without a purchase: null' });
    expect(decodeCreate(json(200, [purchase])).type).toBe('info');
    expect(decodeCreate(json(200, 'created'))).toEqual({ type: 'info', error: 'a 2xx without a purchase: "created"' });
    expect(decodeCreate(answer(201, 'Created'))).toEqual({ type: 'info', error: 'a 2xx without a purchase: Created' });
    expect(decodeCreate(answer(200, 'z'.repeat(300))).error).toBe(`a 2xx without a purchase: ${'z'.repeat(100)}`);
  });

  it('a contract code is a definite failure whatever the status; a 2xx wins over a code', () => {
    expect(decodeCreate(json(409, { code: 'OUT_OF_STOCK', error: 'sold out' }))).toEqual({ type: 'fail', code: 'OUT_OF_STOCK' });
    expect(decodeCreate(json(500, { code: 'PAYMENT_DECLINED' }))).toEqual({ type: 'fail', code: 'PAYMENT_DECLINED' });
    expect(decodeCreate(json(402, { code: 'PURCHASE_FAILED' }))).toEqual({ type: 'fail', code: 'PURCHASE_FAILED' });
    expect(decodeCreate(json(200, { ...purchase, code: 'OUT_OF_STOCK' })).type).toBe('ok');
  });

  it('501 NOT_IMPLEMENTED fails; on another status it is indeterminate', () => {
    expect(decodeCreate(json(501, { code: 'NOT_IMPLEMENTED' }))).toEqual({ type: 'fail', code: 'NOT_IMPLEMENTED' });
    expect(decodeCreate(json(500, { code: 'NOT_IMPLEMENTED' }))).toEqual({ type: 'info', code: 'NOT_IMPLEMENTED', error: 'status 500: {"code":"NOT_IMPLEMENTED"}' });
  });

  it('an unknown, mis-cased or non-string code is indeterminate (the code is kept when it is a string)', () => {
    expect(decodeCreate(json(409, { code: 'RATE_LIMITED', error: 'slow down' }))).toEqual({ type: 'info', code: 'RATE_LIMITED', error: 'status 409: slow down' });
    expect(decodeCreate(json(409, { code: 'out_of_stock' }))).toMatchObject({ type: 'info', code: 'out_of_stock' });
    expect(decodeCreate(json(409, { code: 1 }))).toEqual({ type: 'info', code: undefined, error: 'status 409: {"code":1}' });
  });

  it('5xx and other errors: info with the error field, else the raw text (200 characters), else the status', () => {
    expect(decodeCreate(json(500, { error: 'payment provider timeout' }))).toEqual({ type: 'info', code: undefined, error: 'status 500: payment provider timeout' });
    expect(decodeCreate(answer(502, 'Bad Gateway'))).toEqual({ type: 'info', code: undefined, error: 'status 502: Bad Gateway' });
    expect(decodeCreate(answer(504))).toEqual({ type: 'info', code: undefined, error: 'status 504' });
    expect(decodeCreate(answer(503, 'q'.repeat(400))).error).toBe(`status 503: ${'q'.repeat(200)}`);
    expect(decodeCreate(json(500, { code: 'GAUNTLET_NO_REDIS', error: 'no Redis' }))).toEqual({ type: 'info', code: 'GAUNTLET_NO_REDIS', error: 'status 500: no Redis' });
    expect(decodeCreate(answer(0, '{}'))).toEqual({ type: 'info', code: undefined, error: 'status 0: {}' });
    expect(decodeCreate(json(400, { message: 'bad request' }))).toEqual({ type: 'info', code: undefined, error: 'status 400: {"message":"bad request"}' });
  });
});

describe('decodeGet (getSubscription)', () => {
  it('a purchase is ok with it, normalised', () => {
    expect(decodeGet(json(200, { ...purchase, amount: '999' }))).toEqual({ type: 'ok', value: purchase });
  });

  it('`200 null`, an empty 2xx and HTTP mode\'s bare 404 are "no subscription"', () => {
    expect(decodeGet(answer(200, 'null'))).toEqual({ type: 'ok', value: null });
    expect(decodeGet(answer(200, ' null '))).toEqual({ type: 'ok', value: null });
    expect(decodeGet(answer(200))).toEqual({ type: 'ok', value: null });
    expect(decodeGet(answer(204))).toEqual({ type: 'ok', value: null });
    expect(decodeGet(answer(404))).toEqual({ type: 'ok', value: null });
    expect(decodeGet(answer(404, 'Not Found'))).toEqual({ type: 'ok', value: null });
    expect(decodeGet(json(404, { error: 'not found' }))).toEqual({ type: 'ok', value: null });
  });

  it('a 404 with a code is indeterminate, even a contract code (get has no definite failures)', () => {
    expect(decodeGet(json(404, { code: 'NOT_FOUND' }))).toEqual({ type: 'info', code: 'NOT_FOUND', error: 'status 404: {"code":"NOT_FOUND"}' });
    expect(decodeGet(json(409, { code: 'PURCHASE_FAILED' }))).toMatchObject({ type: 'info', code: 'PURCHASE_FAILED' });
  });

  it('a 2xx that is neither a purchase nor null (array, scalar, not JSON) is indeterminate', () => {
    expect(decodeGet(json(200, [purchase])).type).toBe('info');
    expect(decodeGet(json(200, 42))).toEqual({ type: 'info', error: 'unexpected body 42' });
    expect(decodeGet(answer(200, 'active'))).toEqual({ type: 'info', error: 'unexpected body active' });
    expect(decodeGet(answer(200, '{"id":"sub-1"'))).toEqual({ type: 'info', error: 'unexpected body {"id":"sub-1"' });
  });

  it('5xx is indeterminate', () => {
    expect(decodeGet(json(500, { error: 'db down' }))).toEqual({ type: 'info', code: undefined, error: 'status 500: db down' });
    expect(decodeGet(json(503, { code: 'GAUNTLET_NO_REDIS' }))).toMatchObject({ type: 'info', code: 'GAUNTLET_NO_REDIS' });
  });
});
