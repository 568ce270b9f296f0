// The startup watch and the refusal judgement, without a database: PostgreSQL's answers to a new connection fed in
// pieces, a fake server behind the real fault proxy that refuses or accepts connections, and whose fault a refusal
// is (connection-slots.ts).

import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createStartupWatch, errorFields, type StartupError } from './startup-watch.ts';
import { startFaultProxy, type FaultProxy } from './fault-proxy.ts';
import { refusalExcuse, scenarioConnections, serverFull, slotKeys } from '../infra/connection-slots.ts';

function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}
const authOk = message('R', Buffer.from([0, 0, 0, 0]));
const param = message('S', Buffer.from('server_version\u000015.2\u0000'));
const ready = message('Z', Buffer.from('I'));
function errorResponse(code: string, text: string): Buffer {
  return message('E', Buffer.from(`SFATAL\u0000C${code}\u0000M${text}\u0000\u0000`));
}
const FULL = 'remaining connection slots are reserved for non-replication superuser connections';

describe('startup watch', () => {
  it('reports the error a server refuses a connection with, fed a byte at a time', () => {
    const errors: StartupError[] = [];
    const watch = createStartupWatch((e) => errors.push(e));
    const bytes = Buffer.concat([authOk, errorResponse('53300', FULL)]);
    let watching = true;
    for (let i = 0; i < bytes.length; i++) watching = watch.fromServer(bytes.subarray(i, i + 1));
    expect(watching).toBe(false);
    expect(errors).toEqual([{ code: '53300', message: FULL }]);
    expect(watch.fromServer(errorResponse('57P01', 'later'))).toBe(false); // over: nothing more is read
    expect(errors).toHaveLength(1);
  });

  it('ends at ReadyForQuery without an error, and ignores what comes after', () => {
    const errors: StartupError[] = [];
    let readies = 0;
    const watch = createStartupWatch((e) => errors.push(e), () => readies++);
    expect(watch.fromServer(Buffer.concat([authOk, param]))).toBe(true);
    expect(watch.fromServer(Buffer.concat([ready, errorResponse('42P01', 'relation does not exist')]))).toBe(false);
    expect(errors).toEqual([]);
    expect(readies).toBe(1);
  });

  it('gives up on bytes that are not the protocol', () => {
    const errors: StartupError[] = [];
    const watch = createStartupWatch((e) => errors.push(e));
    expect(watch.fromServer(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'))).toBe(false);
    expect(errors).toEqual([]);
  });

  it('reads the code and message fields of an error body', () => {
    expect(errorFields(Buffer.from('SFATAL\u0000VFATAL\u0000C53300\u0000Msorry, too many clients already\u0000\u0000'))).toEqual({ code: '53300', message: 'sorry, too many clients already' });
    expect(errorFields(Buffer.from('C53300'))).toEqual({}); // cut short: nothing made up
  });
});

describe('whose fault a refusal is', () => {
  const facts = { maxConnections: 100, reserved: 3, usable: 97 };

  it('tells a full server from a role or database limit', () => {
    expect(serverFull('53300', 'sorry, too many clients already')).toBe(true);
    expect(serverFull('53300', FULL)).toBe(true);
    expect(serverFull('53300', 'remaining connection slots are reserved for roles with the SUPERUSER attribute')).toBe(true); // PostgreSQL 16+
    expect(serverFull('53300', 'too many connections for role "gauntlet_1"')).toBe(false);
    expect(serverFull('53300', 'too many connections for database "x"')).toBe(false);
    expect(serverFull('57P03', 'the database system is starting up')).toBe(false);
  });

  it('excuses refusals while the scenario held under half of the usable slots', () => {
    const reason = refusalExcuse([{ code: '53300', message: FULL, open: 11 }, { code: '53300', message: FULL, open: 12 }], facts);
    expect(reason).toMatch(/refused 2 connections .*held at most 12 of its 97 usable connections/);
    expect(reason).toMatch(/not the submission's/);
  });

  it('does not excuse a scenario that filled the server itself, nor refusals of another kind', () => {
    expect(refusalExcuse([{ code: '53300', message: FULL, open: 11 }, { code: '53300', message: FULL, open: 49 }], facts)).toBeNull();
    // What the scenario's own pools may hold is its due even above half the server (60 for 4 instances); more is not.
    expect(refusalExcuse([{ code: '53300', message: FULL, open: 55 }], facts, 60)).toMatch(/held at most 55/);
    expect(refusalExcuse([{ code: '53300', message: FULL, open: 60 }], facts, 60)).toBeNull();
    expect(refusalExcuse([{ code: '53300', message: 'too many connections for role "r"', open: 2 }], facts)).toBeNull();
    expect(refusalExcuse([], facts)).toBeNull();
  });

  it('sizes a scenario and the server in pools of ten', () => {
    expect(scenarioConnections(4)).toBe(60);
    expect(slotKeys(facts)).toBe(9);
    expect(slotKeys({ maxConnections: 300, reserved: 3, usable: 297 })).toBe(29);
    expect(slotKeys({ maxConnections: 10, reserved: 3, usable: 7 })).toBe(1);
  });
});

describe('the fault proxy records refusals', () => {
  const closers: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  /** A fake PostgreSQL: the first `accept` connections become ready, the rest are refused as a full server would. */
  async function fakeServer(accept: number): Promise<number> {
    let n = 0;
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.once('data', () => {
        n++;
        if (n <= accept) socket.write(Buffer.concat([authOk, param, ready]));
        else socket.end(Buffer.concat([authOk, errorResponse('53300', FULL)]));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(r));
    });
    return (server.address() as net.AddressInfo).port;
  }

  async function connect(proxy: FaultProxy): Promise<{ socket: net.Socket; answer: Promise<Buffer> }> {
    const socket = net.connect(proxy.port, proxy.host);
    socket.on('error', () => {});
    closers.unshift(() => socket.destroy());
    const answer = new Promise<Buffer>((resolve) => socket.once('data', resolve));
    await new Promise((r) => socket.once('connect', r));
    socket.write(Buffer.from([0, 0, 0, 8, 0, 3, 0, 0])); // a startup message's length and protocol version, enough for the fake
    return { socket, answer };
  }

  it('counts only the connections the server made ready when one is refused', async () => {
    const port = await fakeServer(2);
    const proxy = await startFaultProxy({ upstreamHost: '127.0.0.1', upstreamPort: port });
    closers.unshift(() => proxy.close());
    for (let i = 0; i < 2; i++) await (await connect(proxy)).answer;
    const refused = await connect(proxy);
    expect((await refused.answer).toString('latin1')).toContain(FULL);
    await new Promise((r) => setTimeout(r, 50));
    expect(proxy.refusals()).toEqual([expect.objectContaining({ code: '53300', message: FULL, open: 2 })]);
    expect(refusalExcuse(proxy.refusals(), { maxConnections: 100, reserved: 3, usable: 97 })).toMatch(/held at most 2/);
  });
});
