// The seat operations' requests and decoders (issue 13): the route each call hits, and how an instance's answer
// becomes a history outcome — a 2xx is ok (userId normalised to a string), exactly the contract's codes are
// definite failures, anything else is indeterminate (info: the reservation may or may not have happened).

import type { Op } from '../../harness/types.ts';
import { grantedUser, holderOf } from './checkers/model.ts';
import { describe, expect, it } from 'vitest';
import { answer, json } from '../../harness/generator/test-answers.ts';
import type { HttpResponse } from '../../harness/generator/http-client.ts';
import { matchRoute } from '../../harness/instances/routes.ts';
import { confirm, DEFINITE_CODES, hold, read, release, reserve } from './operations.ts';
import { routeTable } from './routes.ts';


const writes = {
  reserve: reserve('u1', 0, 'A1', 'u1', 'test'),
  hold: hold('u1', 0, 'A1', 'u1', 5000, 'test'),
  confirm: confirm('u1', 0, 'A1', 'u1', 'test'),
  release: release('u1', 0, 'A1', 'u1', 'test'),
};
const decodeWrite = writes.reserve.decode;
const decodeRead = read('r', 0, 'A1', 'test').decode;

describe('seat requests', () => {
  it('each operation builds the CONTRACT §6 request, with its f, args, phase and deadline', () => {
    expect(reserve('p', 2, 'A1', 'u1', 'burst', 900)).toMatchObject({
      process: 'p', instance: 2, f: 'reserve', args: { seatId: 'A1', userId: 'u1' }, phase: 'burst', timeoutMs: 900,
      request: { method: 'POST', path: '/seats/A1/reservations', body: { userId: 'u1' } },
    });
    expect(read('p', 1, 'A1', 'final')).toMatchObject({ f: 'read', args: { seatId: 'A1' }, request: { method: 'GET', path: '/seats/A1/reservation' } });
    expect(read('p', 1, 'A1', 'final').request.body).toBeUndefined();
    expect(writes.hold).toMatchObject({ f: 'hold', args: { seatId: 'A1', userId: 'u1', ttlMs: 5000 }, request: { method: 'POST', path: '/seats/A1/holds', body: { userId: 'u1', ttlMs: 5000 } } });
    expect(writes.confirm).toMatchObject({ f: 'confirm', request: { method: 'POST', path: '/seats/A1/holds/confirm', body: { userId: 'u1' } } });
    expect(writes.release).toMatchObject({ f: 'release', request: { method: 'DELETE', path: '/seats/A1/reservation', body: { userId: 'u1' } } });
    expect(writes.hold.timeoutMs).toBeUndefined();
  });

  it('seat ids are URL-encoded, and the module adapter routes every request back to its method with the id intact', () => {
    const id = 'A 1/ü?#';
    const expected: [ReturnType<typeof reserve>, string][] = [
      [reserve('p', 0, id, 'u', 't'), 'reserveSeat'],
      [read('p', 0, id, 't'), 'getReservation'],
      [hold('p', 0, id, 'u', 10, 't'), 'holdSeat'],
      [confirm('p', 0, id, 'u', 't'), 'confirmHold'],
      [release('p', 0, id, 'u', 't'), 'releaseSeat'],
    ];
    for (const [spec, method] of expected) {
      expect(spec.request.path.split('/')[2]).toBe(encodeURIComponent(id));
      const m = matchRoute(routeTable, spec.request.method, spec.request.path);
      expect(m?.route.call).toBe(method);
      expect(m?.params.seatId).toBe(id);
    }
  });

  it("the route table's status for every definite code is decoded back as that definite failure", () => {
    expect(Object.keys(routeTable.codeStatus).sort()).toEqual([...DEFINITE_CODES].sort());
    for (const code of DEFINITE_CODES) {
      expect(decodeWrite(json(routeTable.codeStatus[code], { code }))).toEqual({ type: 'fail', code });
    }
  });
});

describe('seat decoder for reserve, hold, confirm, release', () => {
  it('the four writes share one decoder', () => {
    for (const spec of Object.values(writes)) expect(spec.decode).toBe(decodeWrite);
  });

  describe('2xx: ok', () => {
    it('a reservation body is the value', () => {
      const body = { seatId: 'A1', userId: 'u1', timestamp: '2026-01-01T00:00:00.000Z' };
      expect(decodeWrite(json(200, body))).toEqual({ type: 'ok', value: body });
    });

    it('any 2xx status counts (201, 299)', () => {
      expect(decodeWrite(json(201, { seatId: 'A1', userId: 'u1' }))).toMatchObject({ type: 'ok', value: { userId: 'u1' } });
      expect(decodeWrite(json(299, { seatId: 'A1', userId: 'u1' }))).toMatchObject({ type: 'ok' });
      expect(decodeWrite(json(300, { seatId: 'A1', userId: 'u1' })).type).toBe('info');
    });

    it('a numeric userId is normalised to a string; extra fields are kept', () => {
      expect(decodeWrite(json(200, { seatId: 'A1', userId: 42, extra: { deep: true } }))).toEqual({ type: 'ok', value: { seatId: 'A1', userId: '42', extra: { deep: true } } });
    });

    it('a body without userId is ok with userId undefined (the checkers then credit the caller)', () => {
      const d = decodeWrite(json(200, { seatId: 'A1' }));
      expect(d.type).toBe('ok');
      expect(d.value).toHaveProperty('userId', undefined);
      expect(d.value).toHaveProperty('seatId', 'A1');
    });

    it('a userId of another type is stringified as it is (an object → "[object Object]")', () => {
      expect(decodeWrite(json(200, { userId: { id: 1 } })).value).toEqual({ userId: '[object Object]' });
      expect(decodeWrite(json(200, { userId: true })).value).toEqual({ userId: 'true' });
    });

    // A null userId stays null: checkers/model.ts reads it as "no holder" on a read (a final read answering
    // `{seatId, userId: null}` when nobody won is not a holder named "null") and as the caller on a write.
    it('a null userId stays null, as the checkers expect', () => {
      expect(decodeWrite(json(200, { seatId: 'A1', userId: null })).value).toEqual({ seatId: 'A1', userId: null });
      expect(decodeRead(json(200, { seatId: 'A1', userId: null })).value).toEqual({ seatId: 'A1', userId: null });
      const read = { value: decodeRead(json(200, { seatId: 'A1', userId: null })).value } as Op;
      expect(holderOf(read)).toBeNull();
      const write = { value: decodeWrite(json(200, { seatId: 'A1', userId: null })).value, args: { seatId: 'A1', userId: 'u7' } } as unknown as Op;
      expect(grantedUser(write)).toBe('u7');
    });

    it('an empty body, whitespace, `null` and a 204 are ok with value null', () => {
      expect(decodeWrite(answer(200, ''))).toEqual({ type: 'ok', value: null });
      expect(decodeWrite(answer(200, '   '))).toEqual({ type: 'ok', value: null });
      expect(decodeWrite(answer(200, 'null'))).toEqual({ type: 'ok', value: null });
      expect(decodeWrite(answer(204))).toEqual({ type: 'ok', value: null });
    });

    it('a 2xx whose body is not JSON at all is ok with value null (the 2xx says it happened; e.g. Express sendStatus(201) → "Created")', () => {
      expect(decodeWrite(answer(201, 'Created'))).toEqual({ type: 'ok', value: null });
      expect(decodeWrite(answer(200, '{"seatId":"A1","userId":"u1"'))).toEqual({ type: 'ok', value: null }); // truncated JSON too
    });

    it('a JSON array body is spread into an object (ok, no userId)', () => {
      expect(decodeWrite(json(200, ['u1']))).toEqual({ type: 'ok', value: { 0: 'u1', userId: undefined } });
    });
  });

  it('a 2xx whose JSON body is a string, number or boolean is indeterminate (unexpected body)', () => {
    expect(decodeWrite(json(200, 'reserved'))).toEqual({ type: 'info', error: 'unexpected body "reserved"' });
    expect(decodeWrite(json(200, 1))).toEqual({ type: 'info', error: 'unexpected body 1' });
    expect(decodeWrite(json(200, true))).toEqual({ type: 'info', error: 'unexpected body true' });
    expect(decodeWrite(answer(200, `"${'x'.repeat(300)}"`)).error).toHaveLength('unexpected body '.length + 100);
  });

  describe('definite failures: exactly the contract codes', () => {
    it('SEAT_TAKEN, SEAT_NOT_FOUND, HOLD_EXPIRED with their statuses', () => {
      expect(decodeWrite(json(409, { code: 'SEAT_TAKEN', error: 'seat A1 is taken' }))).toEqual({ type: 'fail', code: 'SEAT_TAKEN' });
      expect(decodeWrite(json(404, { code: 'SEAT_NOT_FOUND' }))).toEqual({ type: 'fail', code: 'SEAT_NOT_FOUND' });
      expect(decodeWrite(json(410, { code: 'HOLD_EXPIRED' }))).toEqual({ type: 'fail', code: 'HOLD_EXPIRED' });
    });

    it('the code decides, not the status: a definite code on a 500 or a 400 is still a definite failure', () => {
      expect(decodeWrite(json(500, { code: 'SEAT_TAKEN' }))).toEqual({ type: 'fail', code: 'SEAT_TAKEN' });
      expect(decodeWrite(json(400, { code: 'HOLD_EXPIRED' }))).toEqual({ type: 'fail', code: 'HOLD_EXPIRED' });
    });

    it('a 2xx wins over a code in its body', () => {
      expect(decodeWrite(json(200, { code: 'SEAT_TAKEN' })).type).toBe('ok');
    });

    it('501 NOT_IMPLEMENTED is a definite failure carrying the message; NOT_IMPLEMENTED on another status is not', () => {
      expect(decodeWrite(json(501, { code: 'NOT_IMPLEMENTED', error: 'holdSeat is not implemented' }))).toEqual({ type: 'fail', code: 'NOT_IMPLEMENTED', error: 'holdSeat is not implemented' });
      expect(decodeWrite(json(501, { code: 'NOT_IMPLEMENTED' }))).toEqual({ type: 'fail', code: 'NOT_IMPLEMENTED', error: '' });
      expect(decodeWrite(json(500, { code: 'NOT_IMPLEMENTED' }))).toEqual({ type: 'info', code: 'NOT_IMPLEMENTED', error: 'status 500: {"code":"NOT_IMPLEMENTED"}' });
    });
  });

  describe('indeterminate: everything else', () => {
    it('an unknown code, a lower-case contract code and a non-string code', () => {
      expect(decodeWrite(json(409, { code: 'SEAT_LOCKED' }))).toEqual({ type: 'info', code: 'SEAT_LOCKED', error: 'status 409: {"code":"SEAT_LOCKED"}' });
      expect(decodeWrite(json(409, { code: 'seat_taken' }))).toMatchObject({ type: 'info', code: 'seat_taken' });
      expect(decodeWrite(json(409, { code: 409 }))).toEqual({ type: 'info', code: undefined, error: 'status 409: {"code":409}' });
      expect(decodeWrite(json(409, { code: ['SEAT_TAKEN'] })).type).toBe('info');
    });

    it('a 5xx: the error field, else the raw text (cut at 200 characters), else just the status', () => {
      expect(decodeWrite(json(500, { error: 'deadlock detected' }))).toEqual({ type: 'info', code: undefined, error: 'status 500: deadlock detected' });
      expect(decodeWrite(answer(502, '<html>Bad Gateway</html>'))).toEqual({ type: 'info', code: undefined, error: 'status 502: <html>Bad Gateway</html>' });
      expect(decodeWrite(answer(503))).toEqual({ type: 'info', code: undefined, error: 'status 503' });
      expect(decodeWrite(answer(500, 'e'.repeat(500))).error).toBe(`status 500: ${'e'.repeat(200)}`);
    });

    it('a 409 or 400 without any code', () => {
      expect(decodeWrite(answer(409))).toEqual({ type: 'info', code: undefined, error: 'status 409' });
      expect(decodeWrite(json(400, { message: 'userId required' }))).toEqual({ type: 'info', code: undefined, error: 'status 400: {"message":"userId required"}' });
    });

    it("GAUNTLET_NO_REDIS (the harness's own refusal) is indeterminate with its code and message", () => {
      expect(decodeWrite(json(500, { code: 'GAUNTLET_NO_REDIS', error: 'no Redis' }))).toEqual({ type: 'info', code: 'GAUNTLET_NO_REDIS', error: 'no Redis' });
    });

    it('status 0 (an answer whose status line could not be read) is indeterminate', () => {
      expect(decodeWrite(answer(0, '{}'))).toEqual({ type: 'info', code: undefined, error: 'status 0: {}' });
    });
  });
});

describe('seat decoder for read (getReservation)', () => {
  it('a reservation is ok with it; `200 null` and an empty 200 are ok null (nobody)', () => {
    expect(decodeRead(json(200, { seatId: 'A1', userId: 9 }))).toEqual({ type: 'ok', value: { seatId: 'A1', userId: '9' } });
    expect(decodeRead(answer(200, 'null'))).toEqual({ type: 'ok', value: null });
    expect(decodeRead(answer(200))).toEqual({ type: 'ok', value: null });
  });

  it('HTTP mode: a 404 without SEAT_NOT_FOUND is nobody, whatever else its body says', () => {
    expect(decodeRead(answer(404))).toEqual({ type: 'ok', value: null });
    expect(decodeRead(answer(404, 'Not Found'))).toEqual({ type: 'ok', value: null });
    expect(decodeRead(json(404, { error: 'no reservation' }))).toEqual({ type: 'ok', value: null });
    expect(decodeRead(json(404, { code: 'NO_RESERVATION' }))).toEqual({ type: 'ok', value: null });
  });

  it('a 404 with SEAT_NOT_FOUND is the definite failure (the seat does not exist)', () => {
    expect(decodeRead(json(404, { code: 'SEAT_NOT_FOUND' }))).toEqual({ type: 'fail', code: 'SEAT_NOT_FOUND' });
  });

  it('a 5xx is indeterminate (a final read that could not read)', () => {
    expect(decodeRead(json(500, { error: 'pool exhausted' }))).toEqual({ type: 'info', code: undefined, error: 'status 500: pool exhausted' });
  });

  it('a 2xx with a JSON scalar is indeterminate, but a 2xx whose body is not JSON reads as nobody (ok null)', () => {
    expect(decodeRead(json(200, 'u1'))).toEqual({ type: 'info', error: 'unexpected body "u1"' });
    // Lenient like the writes: unparseable text is treated as an empty body. Unlike subscription's getSubscription,
    // which calls the same answer indeterminate (see challenges/subscription/operations.test.ts).
    expect(decodeRead(answer(200, 'u1'))).toEqual({ type: 'ok', value: null });
  });
});
