// The client's waiting rules (CONTRACT §8), on real sockets: a call answered after the answer deadline is
// recorded with its answer and real latency while the system keeps answering others (a lock convoy); a call
// nothing answers is given up once the whole system went silent for a deadline (a hang); a call with a deadline
// of its own (a provider, a buyer who gives up) ends there; and the hard limit bounds everything.

import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient } from './client.ts';
import { StallWatchdog } from './stall-watchdog.ts';
import { History } from '../history/history.ts';
import type { CallSpec } from '../scenario.ts';

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => { s.closeAllConnections(); s.close(r); })));
});

/** A server answering `/wait/<ms>` after that many ms (`/never` never answers). */
async function slowServer(): Promise<string> {
  const server = http.createServer((req, res) => {
    const m = /^\/wait\/(\d+)/.exec(req.url ?? '');
    if (!m) return; // /never: hold the request
    setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ waited: Number(m[1]) })), Number(m[1]));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const spec = (path: string, timeoutMs?: number): CallSpec => ({
  process: path, instance: 0, f: 'get', args: { path }, phase: 'test', timeoutMs,
  request: { method: 'GET', path },
  decode: (res) => (res.status === 200 ? { type: 'ok', value: res.body } : { type: 'info', error: `status ${res.status}` }),
});

describe('client waiting rules', () => {
  it('a late answer counts while other calls keep being answered (slow, not failed)', async () => {
    const url = await slowServer();
    const client = createClient(new History(), { size: 1, baseUrl: () => url }, { callTimeoutMs: 300, hardLimitMs: 10_000 });
    // A convoy: answers every 100 ms for 1.5 s; the last waits 1.2 s, four times the deadline.
    const calls = Array.from({ length: 15 }, (_, i) => client.call(spec(`/wait/${(i + 1) * 100}`)));
    const ops = await Promise.all(calls);
    expect(ops.every((op) => op.type === 'ok')).toBe(true);
    const last = ops[ops.length - 1];
    expect((last.endUs - last.startUs) / 1000).toBeGreaterThan(1400);
  }, 10_000);

  it('a call nothing answers is given up once the whole system was silent for a deadline (a hang)', async () => {
    const url = await slowServer();
    const client = createClient(new History(), { size: 1, baseUrl: () => url }, { callTimeoutMs: 400, hardLimitMs: 10_000 });
    const started = Date.now();
    const op = await client.call(spec('/never'));
    const tookMs = Date.now() - started;
    expect(op.type).toBe('info');
    expect(op.error).toMatch(/hung: no answer within the 400 ms deadline \(waited \d+ ms\)/);
    expect(tookMs).toBeGreaterThanOrEqual(380);
    expect(tookMs).toBeLessThan(2500);
  }, 10_000);

  it('a call with its own deadline ends there even while others are answered; the hard limit bounds the rest', async () => {
    const url = await slowServer();
    const client = createClient(new History(), { size: 1, baseUrl: () => url }, { callTimeoutMs: 800, hardLimitMs: 1_200 });
    // Answers keep coming until 1.1 s, so the hang rule alone would wait until ~1.9 s: the hard limit ends it first.
    const [own, hard] = await Promise.all([client.call(spec('/wait/2000', 300)), client.call(spec('/never')), ...Array.from({ length: 12 }, (_, i) => client.call(spec(`/wait/${i * 100}`)))]);
    expect(own.type).toBe('info');
    expect(own.error).toMatch(/no answer within 300 ms/);
    expect(hard.type).toBe('info');
    expect((hard.endUs - hard.startUs) / 1000).toBeGreaterThanOrEqual(1150);
    expect((hard.endUs - hard.startUs) / 1000).toBeLessThan(1800);
  }, 10_000);

  it('burst calls follow the same rules', async () => {
    const url = await slowServer();
    const client = createClient(new History(), { size: 1, baseUrl: () => url }, { callTimeoutMs: 300, hardLimitMs: 10_000 });
    const { ops } = await client.burst(Array.from({ length: 12 }, (_, i) => spec(`/wait/${(i + 1) * 100}`)));
    expect(ops.map((o) => o.type)).toEqual(Array(12).fill('ok'));
  }, 10_000);
});

describe('StallWatchdog', () => {
  it('expires only calls past the deadline with no answer anywhere for a deadline', () => {
    let now = 0;
    const dog = new StallWatchdog({ answerDeadlineMs: 100, now: () => now });
    const expired: string[] = [];
    const unwatchA = dog.watch(() => expired.push('a'));
    now = 50;
    dog.watch(() => expired.push('b'));
    now = 120;
    dog.answered(); // progress at 120
    dog.check();
    expect(expired).toEqual([]); // a is 120 ms old, but something was answered just now
    now = 219;
    dog.check();
    expect(expired).toEqual([]);
    now = 221;
    dog.check();
    expect(expired).toEqual(['a', 'b']); // 101 ms of silence, both older than the deadline
    unwatchA();
    const dog2 = new StallWatchdog({ answerDeadlineMs: 100, now: () => now });
    dog2.watch(() => expired.push('c'));
    now += 99;
    dog2.check();
    expect(expired).not.toContain('c'); // silence counts from its own start at the earliest
    now += 2;
    dog2.check();
    expect(expired).toContain('c');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Outcome classification on real loopback sockets (issue 13): a call the instance could not have seen is a
// definite failure (refused, missing socket file); a call whose bytes were all written and then lost its
// connection, or got no answer, is indeterminate (info: it may have happened); a malformed answer is handed to
// the challenge's decoder or, when it cannot be framed, is indeterminate; a definite code fails; a 2xx is ok.

import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { MAX_RESPONSE_BYTES } from './http-client.ts';
import * as seat from '../../challenges/seat-reservation/operations.ts';
import * as sub from '../../challenges/subscription/operations.ts';

const rawServers: net.Server[] = [];
const rawSockets = new Set<net.Socket>();
afterEach(async () => {
  for (const s of rawSockets) s.destroy();
  rawSockets.clear();
  await Promise.all(rawServers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** Length of a complete HTTP request at the start of `buf` (head + Content-Length body), or -1. */
function requestLength(buf: Buffer): number {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) return -1;
  const m = /\r\ncontent-length: *(\d+)/i.exec(buf.subarray(0, headEnd).toString('latin1'));
  const total = headEnd + 4 + (m ? Number(m[1]) : 0);
  return buf.length >= total ? total : -1;
}

interface RawServer {
  url: string;
  /** Every request the server received in full, as text. */
  requests: string[];
}

/**
 * A bare TCP server: `onRequest` runs once a socket has delivered one whole request and decides what the
 * "instance" does with it (answer raw bytes, close, reset, hold). `pauseOnConnect` servers never read at all.
 */
async function rawServer(onRequest: (socket: net.Socket, request: string) => void, options: { neverRead?: boolean } = {}): Promise<RawServer> {
  const requests: string[] = [];
  const server = net.createServer({ pauseOnConnect: options.neverRead === true }, (socket) => {
    rawSockets.add(socket);
    socket.on('error', () => {}); // the client hanging up mid-answer is expected in several cases
    socket.on('close', () => rawSockets.delete(socket));
    if (options.neverRead) return;
    let buf = Buffer.alloc(0);
    let seen = false;
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const n = requestLength(buf);
      if (n < 0 || seen) return;
      seen = true;
      const text = buf.subarray(0, n).toString('utf8');
      requests.push(text);
      onRequest(socket, text);
    });
  });
  rawServers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

/** A loopback port nothing listens on: bound, then closed. */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** An answer with a JSON body and a correct Content-Length. */
const jsonAnswer = (status: number, body: unknown, reason = 'X') => {
  const text = JSON.stringify(body);
  return `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`;
};

/** Wraps a spec's decoder to count how often the client consulted it. */
function counted(spec: CallSpec): { spec: CallSpec; decoded: () => number } {
  let n = 0;
  return { spec: { ...spec, decode: (res) => (n++, spec.decode(res)) }, decoded: () => n };
}

const clientFor = (url: string | ((i: number) => string), size = 1, timeouts: Partial<{ callTimeoutMs: number; hardLimitMs: number }> = {}) =>
  createClient(new History(), { size, baseUrl: typeof url === 'string' ? () => url : url }, { callTimeoutMs: 2_000, hardLimitMs: 5_000, ...timeouts });

describe('client outcome classification (real loopback sockets)', () => {
  it('connection refused (nothing listens on the port): fail UNAVAILABLE, the decoder is never consulted', async () => {
    const port = await freePort();
    const { spec, decoded } = counted(seat.reserve('u1', 0, 'A1', 'u1', 'test'));
    const op = await clientFor(`http://127.0.0.1:${port}`).call(spec);
    expect(op.type).toBe('fail');
    expect(op.code).toBe('UNAVAILABLE');
    expect(op.error).toMatch(/^instance unreachable \(refused\): ECONNREFUSED/);
    expect(op.status).toBeUndefined();
    expect(op.endUs).toBeGreaterThanOrEqual(op.startUs);
    expect(decoded()).toBe(0);
  });

  it("a contained instance's missing Unix socket file counts as refused: fail UNAVAILABLE", async () => {
    const socketPath = path.join(os.tmpdir(), `gauntlet-no-such-instance-${process.pid}-${Date.now()}.sock`);
    const client = createClient(new History(), { size: 1, baseUrl: () => 'http://localhost:1', target: () => ({ host: 'localhost', port: 1, socketPath }) });
    const op = await client.call(seat.read('r', 0, 'A1', 'test'));
    expect(op.type).toBe('fail');
    expect(op.code).toBe('UNAVAILABLE');
    expect(op.error).toMatch(/\(refused\): ENOENT/);
  });

  it('request fully received, then the server closes (FIN) without answering: info, no code', async () => {
    const srv = await rawServer((socket) => socket.destroy());
    const { spec, decoded } = counted(seat.reserve('u1', 0, 'A1', 'u1', 'test'));
    const op = await clientFor(srv.url).call(spec);
    expect(srv.requests).toHaveLength(1);
    expect(srv.requests[0]).toMatch(/^POST \/seats\/A1\/reservations HTTP\/1\.1\r\n/);
    expect(srv.requests[0].endsWith('{"userId":"u1"}')).toBe(true); // the whole request arrived: it may have happened
    expect(op.type).toBe('info');
    expect(op.code).toBeUndefined();
    expect(op.error).toBe('reset: connection closed before any answer');
    expect(decoded()).toBe(0);
  });

  it('request fully received, then the server resets the connection (RST): info', async () => {
    const srv = await rawServer((socket) => socket.resetAndDestroy());
    const op = await clientFor(srv.url).call(sub.create('b1', 0, { requestId: 'r1', userId: 'u1', productId: 'p1' }, 'test'));
    expect(srv.requests).toHaveLength(1);
    expect(op.type).toBe('info');
    expect(op.code).toBeUndefined();
    // Depending on timing the RST surfaces as ECONNRESET or as the close it causes; both are a reset.
    expect(op.error).toMatch(/^reset: (ECONNRESET|connection closed before any answer)/);
  });

  it('the answer head arrives but the body is cut off by a close: info (connection closed mid-body)', async () => {
    const srv = await rawServer((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"seatId":"A1"'));
    const op = await clientFor(srv.url).call(seat.reserve('u1', 0, 'A1', 'u1', 'test'));
    expect(op.type).toBe('info');
    expect(op.error).toBe('reset: connection closed mid-body');
    expect(op.status).toBeUndefined();
  });

  it('a chunked answer cut off before its last chunk: info', async () => {
    const srv = await rawServer((socket) => socket.end('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\n{"a":\r\n'));
    const op = await clientFor(srv.url).call(seat.reserve('u1', 0, 'A1', 'u1', 'test'));
    expect(op.type).toBe('info');
    expect(op.error).toBe('reset: connection closed mid-body');
  });

  it('garbage without a header terminator, then close: info (no answer could be framed)', async () => {
    const srv = await rawServer((socket) => socket.end('this is not http'));
    const { spec, decoded } = counted(seat.reserve('u1', 0, 'A1', 'u1', 'test'));
    const op = await clientFor(srv.url).call(spec);
    expect(op.type).toBe('info');
    expect(op.error).toBe('reset: connection closed before any answer');
    expect(decoded()).toBe(0);
  });

  it('a framed answer with a garbage status line reaches the decoder as status 0, which every challenge reads as info', async () => {
    const srv = await rawServer((socket) => socket.end('BANANA 200 OK\r\ncontent-length: 2\r\n\r\n{}'));
    const client = clientFor(srv.url);
    const { spec, decoded } = counted(seat.reserve('u1', 0, 'A1', 'u1', 'test'));
    const a = await client.call(spec);
    expect(decoded()).toBe(1);
    expect(a).toMatchObject({ type: 'info', status: 0, error: 'status 0: {}' });
    const b = await client.call(sub.create('b1', 0, { requestId: 'r1', userId: 'u1', productId: 'p1' }, 'test'));
    expect(b).toMatchObject({ type: 'info', status: 0, error: 'status 0: {}' });
  });

  it('a 2xx whose body is not JSON reaches the decoder with body undefined and the raw text', async () => {
    const srv = await rawServer((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 8\r\n\r\nnot json'));
    let seen: { body: unknown; bodyText: string; status: number; sent: boolean } | undefined;
    const spy: CallSpec = { ...spec('/x'), decode: (res) => ((seen = res), { type: 'info', error: 'seen' }) };
    await clientFor(srv.url).call(spy);
    expect(seen).toMatchObject({ status: 200, bodyText: 'not json', sent: true });
    expect(seen!.body).toBeUndefined();
  });

  it('an answer larger than MAX_RESPONSE_BYTES is cut off and counts as unanswered: info too-large', async () => {
    const size = MAX_RESPONSE_BYTES + 1024 * 1024;
    const srv = await rawServer((socket) => {
      socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${size}\r\n\r\n`);
      socket.end(Buffer.alloc(size, 0x20));
    });
    const op = await clientFor(srv.url).call(seat.read('r', 0, 'A1', 'test'));
    expect(op.type).toBe('info');
    expect(op.error).toMatch(/^too-large: the response exceeded 8388608 bytes/);
  }, 15_000);

  it('a server that accepts but never reads nor answers: the call ends at its own deadline as info (timeout)', async () => {
    const srv = await rawServer(() => {}, { neverRead: true });
    const started = Date.now();
    const op = await clientFor(srv.url).call(seat.reserve('u1', 0, 'A1', 'u1', 'test', 250));
    expect(op.type).toBe('info');
    expect(op.code).toBeUndefined();
    expect(op.error).toBe('timeout: no answer within 250 ms');
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
  });

  it('a server that reads the whole request and never answers: hung after the answer deadline, info', async () => {
    const srv = await rawServer(() => {});
    const op = await clientFor(srv.url, 1, { callTimeoutMs: 300, hardLimitMs: 5_000 }).call(sub.create('b1', 0, { requestId: 'r1', userId: 'u1', productId: 'p1' }, 'test'));
    expect(srv.requests).toHaveLength(1);
    expect(op.type).toBe('info');
    expect(op.error).toMatch(/^timeout: hung: no answer within the 300 ms deadline/);
  });

  it('a proper error answer with a definite code: fail with that code and the status', async () => {
    const srv = await rawServer((socket, req) => {
      if (req.startsWith('POST /seats/')) socket.end(jsonAnswer(409, { code: 'SEAT_TAKEN', error: 'taken' }, 'Conflict'));
      else socket.end(jsonAnswer(409, { code: 'PAYMENT_DECLINED' }, 'Conflict'));
    });
    const client = clientFor(srv.url);
    const a = await client.call(seat.reserve('u2', 0, 'A1', 'u2', 'test'));
    expect(a).toMatchObject({ type: 'fail', code: 'SEAT_TAKEN', status: 409 });
    const b = await client.call(sub.create('b1', 0, { requestId: 'r1', userId: 'u1', productId: 'p1' }, 'test'));
    expect(b).toMatchObject({ type: 'fail', code: 'PAYMENT_DECLINED', status: 409 });
  });

  it('an error answer without a definite code (500): info with the status, not fail', async () => {
    const srv = await rawServer((socket) => socket.end(jsonAnswer(500, { error: 'deadlock detected' }, 'Internal Server Error')));
    const op = await clientFor(srv.url).call(seat.reserve('u2', 0, 'A1', 'u2', 'test'));
    expect(op).toMatchObject({ type: 'info', status: 500, error: 'status 500: deadlock detected' });
    expect(op.code).toBeUndefined();
  });

  it('a success answer: ok with the decoded value and the status (Content-Length and chunked framing)', async () => {
    const srv = await rawServer((socket, req) => {
      if (req.startsWith('POST')) socket.end(jsonAnswer(201, { seatId: 'A1', userId: 7, timestamp: '2026-01-01T00:00:00Z' }, 'Created'));
      // GET: chunked, split over several writes, and the server keeps the connection open after the last chunk.
      else {
        socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n');
        socket.write('c\r\n{"seatId":"A\r\n');
        setTimeout(() => socket.write('10\r\n1","userId":"7"}\r\n0\r\n\r\n'), 20);
      }
    });
    const client = clientFor(srv.url);
    const w = await client.call(seat.reserve('u7', 0, 'A1', '7', 'test'));
    expect(w).toMatchObject({ type: 'ok', status: 201, value: { seatId: 'A1', userId: '7', timestamp: '2026-01-01T00:00:00Z' } });
    const r = await client.call(seat.read('r', 0, 'A1', 'test'));
    expect(r).toMatchObject({ type: 'ok', status: 200, value: { seatId: 'A1', userId: '7' } });
  });

  it('a burst classifies each call on its own: ok, refused (fail), reset after the request (info)', async () => {
    const okSrv = await rawServer((socket) => socket.end(jsonAnswer(200, { seatId: 'A1', userId: 'u0' })));
    const resetSrv = await rawServer((socket) => socket.destroy());
    const dead = `http://127.0.0.1:${await freePort()}`;
    const urls = [okSrv.url, dead, resetSrv.url];
    const history = new History();
    const client = createClient(history, { size: 3, baseUrl: (i) => urls[i] }, { callTimeoutMs: 2_000, hardLimitMs: 5_000 });
    const { ops } = await client.burst([0, 1, 2, 0, 1, 2].map((i) => seat.reserve(`u${i}`, i, 'A1', `u${i}`, 'burst')));
    expect(ops.map((o) => [o.instance, o.type, o.code])).toEqual([
      [0, 'ok', undefined],
      [1, 'fail', 'UNAVAILABLE'],
      [2, 'info', undefined],
      [0, 'ok', undefined],
      [1, 'fail', 'UNAVAILABLE'],
      [2, 'info', undefined],
    ]);
    expect(resetSrv.requests).toHaveLength(2); // both reset calls' requests arrived whole
    expect(history.ops).toHaveLength(6);
    expect(history.ops.every((o) => o.endUs >= o.startUs)).toBe(true);
  });
});
