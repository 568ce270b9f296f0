// The raw-socket HTTP client under the call classification (issue 13): what goes on the wire (encodeRequest),
// how answers are framed (Content-Length in pieces, chunked, until close, 204), which malformed framings end as a
// transport failure, and the burst's priming rule — a request whose last byte was never written was not sent,
// so a connection the server drops after the prime is `sent: false` (a definite failure in the history).
// Real loopback sockets throughout (net.createServer on 127.0.0.1, port 0).

import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { arm, encodeRequest, exchange, httpCall, openConnection, targetOf, type Target } from './http-client.ts';

const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A TCP server whose connection handler is the test's; returns its target. */
async function server(onConnection: (socket: net.Socket) => void): Promise<Target> {
  const srv = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { host: '127.0.0.1', port: (srv.address() as AddressInfo).port };
}

/** A server that, once a request head arrived, runs `answer` on the socket. */
const answering = (answer: (socket: net.Socket) => void) =>
  server((socket) => {
    let buf = '';
    let done = false;
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      if (!done && buf.includes('\r\n\r\n')) {
        done = true;
        answer(socket);
      }
    });
  });

const GET = { method: 'GET' as const, path: '/x' };

describe('encodeRequest', () => {
  const t: Target = { host: '127.0.0.1', port: 8123 };

  it('a GET without a body: request line, host, connection: close, no content headers', () => {
    expect(encodeRequest(t, { method: 'GET', path: '/seats/A1/reservation' }).toString('latin1')).toBe(
      'GET /seats/A1/reservation HTTP/1.1\r\nhost: 127.0.0.1:8123\r\nconnection: close\r\n\r\n',
    );
  });

  it('a JSON body is serialised and its content-length counts UTF-8 bytes', () => {
    const text = encodeRequest(t, { method: 'POST', path: '/s', body: { userId: 'ü' } }).toString('utf8');
    expect(text).toContain('content-type: application/json\r\n');
    expect(text).toContain('content-length: 15\r\n'); // {"userId":"ü"} is 14 characters, 15 bytes
    expect(text.endsWith('\r\n\r\n{"userId":"ü"}')).toBe(true);
  });

  it('a bodyless non-GET still declares content-length: 0', () => {
    expect(encodeRequest(t, { method: 'DELETE', path: '/s' }).toString('latin1')).toContain('content-length: 0\r\n');
  });

  it('rawBody goes out byte for byte (a signed webhook) and wins over body', () => {
    const raw = '{ "b":1,  "a" : 2 }';
    const text = encodeRequest(t, { method: 'POST', path: '/webhooks/payment', body: { a: 2, b: 1 }, rawBody: raw }).toString('utf8');
    expect(text.endsWith(`\r\n\r\n${raw}`)).toBe(true);
    expect(text).toContain(`content-length: ${raw.length}\r\n`);
  });

  it("caller headers are lower-cased and override the defaults; a Unix-socket target's host is localhost", () => {
    const text = encodeRequest({ ...t, socketPath: '/tmp/x.sock' }, { method: 'POST', path: '/s', body: {}, headers: { 'Content-Type': 'text/plain', 'Gauntlet-Signature': 'abc' } }).toString('latin1');
    expect(text).toContain('host: localhost\r\n');
    expect(text).toContain('content-type: text/plain\r\n');
    expect(text).not.toContain('application/json');
    expect(text).toContain('gauntlet-signature: abc\r\n');
  });

  it('targetOf parses a base URL', () => {
    expect(targetOf('http://127.0.0.1:4567')).toEqual({ host: '127.0.0.1', port: 4567 });
  });
});

describe('response framing', () => {
  it('a Content-Length body delivered in many small pieces is joined whole; bytes past it are ignored', async () => {
    const body = JSON.stringify({ items: Array.from({ length: 200 }, (_, i) => `item-${i}`) });
    const target = await answering((socket) => {
      const whole = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length:   ${body.length}  \r\n\r\n${body}TRAILING-GARBAGE`);
      let i = 0;
      const step = () => {
        if (i >= whole.length) return; // keep the connection open: the length alone must complete the answer
        socket.write(whole.subarray(i, i + 97));
        i += 97;
        setImmediate(step);
      };
      step();
    });
    const res = await httpCall(target, GET, 3000);
    expect(res.transport).toBeUndefined();
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe(String(body.length)); // names lower-cased, values trimmed
    expect(res.bodyText).toBe(body);
    expect(res.body).toEqual(JSON.parse(body));
  });

  it('an answer without length or chunking ends at the close; HTTP/1.0 status lines are read', async () => {
    const target = await answering((socket) => socket.end('HTTP/1.0 201 Created\r\n\r\n{"ok":true}'));
    const res = await httpCall(target, GET, 3000);
    expect(res).toMatchObject({ status: 201, bodyText: '{"ok":true}', body: { ok: true }, sent: true });
    expect(res.transport).toBeUndefined();
  });

  it('a 204 completes at its head, without waiting for a close', async () => {
    const target = await answering((socket) => socket.write('HTTP/1.1 204 No Content\r\n\r\n'));
    const res = await httpCall(target, GET, 1000);
    expect(res.transport).toBeUndefined();
    expect(res).toMatchObject({ status: 204, bodyText: '', sent: true });
    expect(res.body).toBeUndefined();
  });

  it('a non-numeric Content-Length never completes: at the close it is a reset mid-body (sent, so indeterminate)', async () => {
    const target = await answering((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: lots\r\n\r\n{}'));
    const res = await httpCall(target, GET, 3000);
    expect(res).toMatchObject({ status: 0, transport: 'reset', sent: true, transportError: 'connection closed mid-body' });
  });

  it('an answer whose head never ends is given up at the timeout: sent, so indeterminate', async () => {
    const target = await answering((socket) => socket.write('HTTP/1.1 200 OK\r\ncontent-le'));
    const res = await httpCall(target, GET, 200);
    expect(res).toMatchObject({ status: 0, transport: 'timeout', sent: true, transportError: 'no answer within 200 ms' });
  });
});

describe('sent or not (what decides fail vs info)', () => {
  it('refused: sent false, transport refused', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const conn = await openConnection({ host: '127.0.0.1', port }, 1000);
    expect(conn.socket).toBeNull();
    expect(conn.failure).toMatchObject({ transport: 'refused', sent: false, status: 0 });
    const x = arm(conn, 1000);
    expect(x.send(Buffer.from('GET / HTTP/1.1\r\n\r\n'))).toBe(false);
    expect(await x.result).toBe(conn.failure);
  });

  it('a burst connection the server drops after the prime (request incomplete) is not sent, and cannot be sent after', async () => {
    let received = '';
    const target = await server((socket) => {
      socket.on('data', (d) => {
        received += d.toString('latin1');
        socket.destroy(); // sees a partial request and hangs up
      });
    });
    const bytes = encodeRequest(target, { method: 'POST', path: '/seats/A1/reservations', body: { userId: 'u1' } });
    const conn = await openConnection(target, 1000);
    const x = arm(conn, 1000);
    x.prime(bytes.subarray(0, bytes.length - 1));
    const res = await x.result;
    expect(received).toBe(bytes.subarray(0, bytes.length - 1).toString('latin1'));
    expect(res).toMatchObject({ transport: 'reset', sent: false });
    expect(x.send(bytes.subarray(bytes.length - 1))).toBe(false);
  });

  it('a connection dropped after the last byte was written is sent: indeterminate', async () => {
    const target = await answering((socket) => socket.destroy());
    const conn = await openConnection(target, 1000);
    const res = await exchange(conn, encodeRequest(target, { method: 'POST', path: '/s', body: { a: 1 } }), 1000);
    expect(res).toMatchObject({ transport: 'reset', sent: true });
  });

  it('expire() ends a sent call as a timeout with the reason; after an answer it changes nothing', async () => {
    const silent = await server(() => {});
    const conn = await openConnection(silent, 1000);
    const x = arm(conn, 10_000);
    x.send(encodeRequest(silent, GET));
    x.expire('hung: test');
    expect(await x.result).toMatchObject({ transport: 'timeout', sent: true, transportError: 'hung: test' });

    const talker = await answering((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}'));
    const conn2 = await openConnection(talker, 1000);
    const y = arm(conn2, 1000);
    y.send(encodeRequest(talker, GET));
    const answered = await y.result;
    y.expire('too late');
    expect(answered).toMatchObject({ status: 200, body: {} });
    expect(answered.transport).toBeUndefined();
  });
});
