// Tests of the Redis proxy against the local Redis (real sockets, ioredis and raw RESP): confinement to one
// logical database, the proxy's own password, refused commands answered in order inside pipelines and
// transactions, scripts, big values, blocking commands, pub/sub, garbage, the faults, records, and a tagged
// Unix-socket listener. The parsers and the script scan have tests of their own (resp-*.test.ts,
// redis-script-scan.test.ts).
//
// The test database is 13 or 14: while the suite runs it holds that index's namespace lock (gauntlet:ns:<db>
// in DB 0, as redis-namespace.ts does) so a concurrent grade never claims it, flushes only that index, and
// deletes its own DB 0 keys (the lock and a marker) at the end.

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawnRedisServer } from '../infra/redis-server.ts';
import { startRedisProxy, type RedisProxy, type RedisRecord } from './redis-proxy.ts';

const REDIS_URL = process.env.GAUNTLET_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PASSWORD = `pw-${randomBytes(6).toString('hex')}`;
const RELEASE_LUA = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

let DB = 0;
let lockToken = '';
let direct0: Redis; // DB 0 of the real server
let directDb: Redis; // the test database on the real server
const MARKER = `gauntlet-test:redis-proxy:marker:${randomBytes(4).toString('hex')}`;

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

function directClientFor(url: string, db = 0): Redis {
  const c = new Redis(url, { db, connectTimeout: 2000, commandTimeout: 5000, maxRetriesPerRequest: 1, lazyConnect: true });
  c.on('error', () => {});
  return c;
}

const directClient = (db: number): Redis => directClientFor(REDIS_URL, db);

beforeAll(async () => {
  direct0 = directClient(0);
  await direct0.connect();
  lockToken = `redis-proxy-test:${process.pid}:${randomBytes(4).toString('hex')}`;
  const deadline = Date.now() + 20_000;
  while (!DB) {
    for (const db of [13, 14]) {
      if ((await direct0.set(`gauntlet:ns:${db}`, lockToken, 'PX', 600_000, 'NX')) === 'OK') {
        DB = db;
        break;
      }
    }
    if (!DB && Date.now() > deadline) throw new Error('Redis DB 13 and 14 are both held by other runs (gauntlet:ns:13/14)');
    if (!DB) await new Promise((r) => setTimeout(r, 250));
  }
  directDb = directClient(DB);
  await directDb.connect();
  await directDb.flushdb();
  await direct0.set(MARKER, 'survives');
}, 30_000);

afterAll(async () => {
  if (directDb) {
    await directDb.flushdb();
    directDb.disconnect();
  }
  if (direct0) {
    await direct0.del(MARKER);
    if (DB) await direct0.eval(RELEASE_LUA, 1, `gauntlet:ns:${DB}`, lockToken);
    direct0.disconnect();
  }
});

const key = (name: string): string => `rp:${name}:${randomBytes(3).toString('hex')}`;

async function proxyWith(records?: RedisRecord[], extra: { password?: string } = {}): Promise<RedisProxy> {
  const proxy = await startRedisProxy({ upstreamUrl: REDIS_URL, db: DB, password: extra.password ?? PASSWORD, record: records ? (r) => records.push(r) : undefined });
  open.push(proxy);
  return proxy;
}

function viaProxy(urlOrOptions: string | RedisOptions, opts: RedisOptions = {}): Redis {
  const base: RedisOptions = { connectTimeout: 3000, commandTimeout: 5000, maxRetriesPerRequest: 2, retryStrategy: (n) => Math.min(50 * n, 500), lazyConnect: true, ...opts };
  const c = typeof urlOrOptions === 'string' ? new Redis(urlOrOptions, base) : new Redis({ ...base, ...urlOrOptions });
  c.on('error', () => {});
  open.push({ close: () => c.disconnect() });
  return c;
}

async function ready(c: Redis): Promise<Redis> {
  await within(c.connect(), 5000, 'connect');
  return c;
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

/** Resolves with how the promise settled, or 'pending' after ms. */
function settledWithin(promise: Promise<unknown>, ms: number): Promise<'resolved' | 'rejected' | 'pending'> {
  return Promise.race([
    promise.then(
      () => 'resolved' as const,
      () => 'rejected' as const,
    ),
    new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), ms)),
  ]);
}

/** A raw socket to the proxy that gathers what comes back. */
async function rawSocket(proxy: { port: number }): Promise<{ socket: net.Socket; received: () => string; waitFor(text: string, ms?: number): Promise<string>; closed: Promise<'end' | 'error'> }> {
  const socket = net.connect(proxy.port, '127.0.0.1');
  let data = Buffer.alloc(0);
  const waiters: Array<() => void> = [];
  socket.on('data', (chunk: Buffer) => {
    data = Buffer.concat([data, chunk]);
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<'end' | 'error'>((resolve) => {
    socket.on('error', () => resolve('error'));
    socket.on('close', (hadError) => resolve(hadError ? 'error' : 'end'));
  });
  await within(new Promise<void>((resolve) => socket.once('connect', () => resolve())), 3000, 'raw connect');
  open.push({ close: () => socket.destroy() });
  const received = (): string => data.toString('latin1');
  return {
    socket,
    received,
    closed,
    async waitFor(text: string, ms = 3000) {
      const deadline = Date.now() + ms;
      while (!received().includes(text)) {
        if (Date.now() > deadline) throw new Error(`expected ${JSON.stringify(text)}, got ${JSON.stringify(received())}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
      return received();
    },
  };
}

const resp = (...args: (string | Buffer)[]): Buffer =>
  Buffer.concat([Buffer.from(`*${args.length}\r\n`), ...args.flatMap((a) => [Buffer.from(`$${Buffer.byteLength(a)}\r\n`), Buffer.from(a), Buffer.from('\r\n')])]);

describe('redis proxy: confinement and authentication', () => {
  it('lands ioredis SET/GET in the scenario database and nowhere else', async () => {
    const proxy = await proxyWith();
    expect(proxy.url).toBe(`redis://:${PASSWORD}@127.0.0.1:${proxy.port}/0`);
    const c = await ready(viaProxy(proxy.url));
    const k = key('land');
    expect(await c.set(k, 'here')).toBe('OK');
    expect(await c.get(k)).toBe('here');
    expect(await c.call('SELECT', '0')).toBe('OK'); // the client's database 0 is the scenario's database
    expect(await c.get(k)).toBe('here');
    expect(await directDb.get(k)).toBe('here');
    expect(await direct0.exists(k)).toBe(0);
    expect(proxy.connections()).toBe(1);
  }, 15_000);

  it('refuses a wrong password and a missing one', async () => {
    const proxy = await proxyWith();
    // ioredis rejects connect() with "Connection is closed." and reports the cause as an 'error' event.
    for (const [url, expected] of [
      [proxy.url.replace(PASSWORD, 'nope'), /^WRONGPASS/],
      [proxy.url.replace(`:${PASSWORD}@`, ''), /^NOAUTH/],
    ] as const) {
      const errors: Error[] = [];
      const c = viaProxy(url, { retryStrategy: () => null });
      c.on('error', (err: Error) => errors.push(err));
      await expect(within(c.connect(), 5000, 'connect')).rejects.toThrow();
      expect(errors.map((e) => e.message).join('; '), url).toMatch(expected);
    }

    const raw = await rawSocket(proxy);
    raw.socket.write('GET x\r\n');
    raw.socket.write(resp('AUTH', 'nope'));
    raw.socket.write(resp('AUTH', 'someone', 'nope'));
    raw.socket.write(resp('HELLO', '3', 'AUTH', 'default', 'nope'));
    raw.socket.write(resp('SET', 'x', '1'));
    raw.socket.write(resp('AUTH', 'anyuser', PASSWORD));
    raw.socket.write('PING\r\n');
    const out = await raw.waitFor('+PONG\r\n');
    expect(out).toBe(
      '-NOAUTH Authentication required.\r\n' +
        '-WRONGPASS invalid username-password pair or user is disabled.\r\n'.repeat(3) +
        '-NOAUTH Authentication required.\r\n' +
        '+OK\r\n+PONG\r\n',
    );
    expect(await direct0.exists('x')).toBe(0);
  }, 15_000);

  it('refuses SELECT 1, FLUSHALL, CONFIG, SWAPDB and friends without touching the server', async () => {
    const proxy = await proxyWith();
    const c = await ready(viaProxy(proxy.url));
    const k = key('kept');
    await c.set(k, 'v');
    const refused: Array<[string[], RegExp]> = [
      [['SELECT', '1'], /^ERR gauntlet: SELECT is not allowed here/],
      [['FLUSHALL'], /^ERR gauntlet: FLUSHALL is not allowed here$/],
      [['CONFIG', 'GET', 'databases'], /^ERR gauntlet: CONFIG is not allowed here$/],
      [['CONFIG', 'SET', 'maxmemory', '1'], /^ERR gauntlet: CONFIG is not allowed here$/],
      [['SWAPDB', '0', String(DB)], /^ERR gauntlet: SWAPDB is not allowed here$/],
      [['MOVE', k, '0'], /^ERR gauntlet: MOVE is not allowed here$/],
      [['COPY', k, `${k}:c`, 'DB', '1'], /^ERR gauntlet: COPY \.\.\. DB is not allowed here/],
      [['CLIENT', 'LIST'], /^ERR gauntlet: CLIENT LIST is not allowed here$/],
      [['CLIENT', 'KILL', 'ID', '1'], /^ERR gauntlet: CLIENT KILL is not allowed here$/],
      [['SCRIPT', 'FLUSH'], /^ERR gauntlet: SCRIPT FLUSH is not allowed here$/],
      [['FUNCTION', 'FLUSH'], /^ERR gauntlet: FUNCTION FLUSH is not allowed here$/],
      [['ACL', 'LIST'], /^ERR gauntlet: ACL LIST is not allowed here$/],
      [['DEBUG', 'SLEEP', '0'], /^ERR gauntlet: DEBUG is not allowed here$/],
      [['MONITOR'], /^ERR gauntlet: MONITOR is not allowed here$/],
      [['SHUTDOWN', 'NOSAVE'], /^ERR gauntlet: SHUTDOWN is not allowed here$/],
    ];
    for (const [args, pattern] of refused) {
      const err = await c.call(...(args as [string, ...string[]])).then(
        () => null,
        (e: Error) => e,
      );
      expect(err?.message, args.join(' ')).toMatch(pattern);
    }
    // COPY ... DB 0 names this database: rewritten to the scenario's index, so it works.
    expect(await c.call('COPY', k, `${k}:c`, 'DB', '0', 'REPLACE')).toBe(1);
    expect(await direct0.get(MARKER)).toBe('survives');
    expect(await directDb.get(k)).toBe('v'); // still there: no MOVE, no SWAPDB
    expect(await directDb.get(`${k}:c`)).toBe('v');
    expect(await direct0.exists(`${k}:c`)).toBe(0);
    expect(await c.call('CLIENT', 'SETNAME', 'worker-1')).toBe('OK');
    expect(await c.call('CLIENT', 'GETNAME')).toBe('worker-1');
    expect(await c.call('FLUSHDB')).toBe('OK'); // only this database
    expect(await directDb.dbsize()).toBe(0);
    expect(await direct0.get(MARKER)).toBe('survives');
  }, 20_000);

  it('RESET is forwarded but keeps the connection in its database and asks for AUTH again', async () => {
    const proxy = await proxyWith();
    const k = key('reset');
    const raw = await rawSocket(proxy);
    raw.socket.write(Buffer.concat([resp('AUTH', PASSWORD), resp('SET', k, 'mine'), resp('RESET'), resp('GET', k), resp('AUTH', PASSWORD), resp('GET', k)]));
    const out = await raw.waitFor('$4\r\nmine\r\n');
    expect(out).toBe('+OK\r\n+OK\r\n+RESET\r\n-NOAUTH Authentication required.\r\n+OK\r\n$4\r\nmine\r\n');
    expect(await direct0.exists(k)).toBe(0);
  }, 15_000);
});

describe('redis proxy: ordering, transactions, scripts, sizes', () => {
  it('answers a 500-command pipeline with refused commands in the middle, every reply in order', async () => {
    const proxy = await proxyWith();
    const c = await ready(viaProxy(proxy.url));
    const counter = key('ctr');
    const refusedAt = new Map<number, string[]>([
      [100, ['SELECT', '1']],
      [250, ['FLUSHALL']],
      [251, ['CONFIG', 'GET', '*']],
      [400, ['SWAPDB', '0', '1']],
    ]);
    const p = c.pipeline();
    for (let i = 0; i < 500; i++) {
      const refused = refusedAt.get(i);
      if (refused) p.call(...(refused as [string, ...string[]]));
      else if (i % 2 === 0) p.incr(counter);
      else p.echo(`echo-${i}`);
    }
    const results = (await within(p.exec(), 10_000, 'pipeline'))!;
    expect(results).toHaveLength(500);
    let expected = 0;
    for (let i = 0; i < 500; i++) {
      const [err, value] = results[i];
      const refused = refusedAt.get(i);
      if (refused) {
        expect(err?.message, `reply ${i}`).toMatch(new RegExp(`^ERR gauntlet: ${refused[0]} is not allowed here`));
      } else if (i % 2 === 0) {
        expect(err, `reply ${i}`).toBeNull();
        expect(value, `reply ${i}`).toBe(++expected);
      } else {
        expect(value, `reply ${i}`).toBe(`echo-${i}`);
      }
    }
    expect(await direct0.get(MARKER)).toBe('survives');
  }, 20_000);

  it('survives any chunking of a raw pipeline (inline and multibulk, binary, refused)', async () => {
    const proxy = await proxyWith();
    const k = key('chunks');
    const binary = Buffer.from([0, 1, 2, 13, 10, 255, 254, 42]);
    const request = Buffer.concat([
      resp('AUTH', PASSWORD),
      Buffer.from('PING\r\n'),
      resp('SET', k, binary),
      resp('FLUSHALL'),
      Buffer.from('ECHO "two words"\r\n'),
      resp('STRLEN', k),
      resp('SELECT', '3'),
      resp('GET', k),
      Buffer.from('\r\n'), // an empty inline line is ignored, as Redis does
      resp('DEL', k),
    ]);
    const expected = Buffer.concat([
      Buffer.from('+OK\r\n+PONG\r\n+OK\r\n-ERR gauntlet: FLUSHALL is not allowed here\r\n$9\r\ntwo words\r\n:8\r\n'),
      Buffer.from('-ERR gauntlet: SELECT is not allowed here (this connection has database 0 only)\r\n'),
      Buffer.from('$8\r\n'),
      binary,
      Buffer.from('\r\n:1\r\n'),
    ]);
    for (const chunkSize of [1, 2, 3, 7, 64]) {
      const raw = await rawSocket(proxy);
      for (let i = 0; i < request.length; i += chunkSize) {
        raw.socket.write(request.subarray(i, i + chunkSize));
        if (chunkSize < 4) await new Promise((r) => setImmediate(r));
      }
      const deadline = Date.now() + 5000;
      while (raw.received().length < expected.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(Buffer.from(raw.received(), 'latin1').equals(expected), `chunk size ${chunkSize}: ${JSON.stringify(raw.received())}`).toBe(true);
      raw.socket.destroy();
    }
  }, 30_000);

  it('runs MULTI/EXEC, and aborts a transaction holding a refused command as Redis does', async () => {
    const proxy = await proxyWith();
    const c = await ready(viaProxy(proxy.url));
    const k = key('tx');
    expect(await c.multi().set(k, '1').incr(k).get(k).exec()).toEqual([
      [null, 'OK'],
      [null, 2],
      [null, '2'],
    ]);
    const k2 = key('tx2');
    await expect(c.multi().set(k2, '1').flushall().exec()).rejects.toThrow(/EXECABORT/);
    expect(await directDb.exists(k2)).toBe(0);
    expect(await c.multi().call('SELECT', '0').set(k2, 'in-tx').exec()).toEqual([
      [null, 'OK'],
      [null, 'OK'],
    ]);
    expect(await directDb.get(k2)).toBe('in-tx');
    expect(await direct0.exists(k2)).toBe(0);
    expect(await direct0.get(MARKER)).toBe('survives');
  }, 15_000);

  it('runs Lua scripts (EVAL, and EVALSHA through defineCommand) and refuses ones that leave the database', async () => {
    const proxy = await proxyWith();
    const c = await ready(viaProxy(proxy.url));
    const k = key('lua');
    expect(await c.eval("return redis.call('INCRBY', KEYS[1], ARGV[1])", 1, k, '5')).toBe(5);
    c.defineCommand('addTwice', { numberOfKeys: 1, lua: "redis.call('INCRBY', KEYS[1], ARGV[1]); return redis.call('INCRBY', KEYS[1], ARGV[1])" });
    const custom = c as Redis & { addTwice(k: string, n: string): Promise<number> };
    expect(await custom.addTwice(k, '1')).toBe(7); // EVAL the first time on this socket
    expect(await custom.addTwice(k, '1')).toBe(9); // EVALSHA after that
    expect(await directDb.get(k)).toBe('9');

    await expect(c.eval("redis.call('FLUSHALL') return 1", 0)).rejects.toThrow(/EVAL is not allowed here \(the script calls FLUSHALL\)/);
    await expect(c.eval("redis.call('select', 0) redis.call('set', KEYS[1], 'x') return 1", 1, k)).rejects.toThrow(/calls SELECT/);
    await expect(c.eval('return redis.call(ARGV[1])', 0, 'flushall')).rejects.toThrow(/given FLUSHALL/);
    await expect(c.call('SCRIPT', 'LOAD', "return redis.pcall('SwapDB', 0, 1)")).rejects.toThrow(/calls SWAPDB/);
    // An EVALSHA the proxy never read is unknown to it: the client gets NOSCRIPT and sends the body.
    await expect(c.evalsha('e0e1f9fabfc9d4800c877a703b823ac0578ff8db', 0)).rejects.toThrow(/NOSCRIPT/);
    expect(await direct0.get(MARKER)).toBe('survives');
    expect(await directDb.get(k)).toBe('9');
  }, 15_000);

  it('streams a 20 MB value both ways and records it cut', async () => {
    const records: RedisRecord[] = [];
    const proxy = await proxyWith(records);
    const c = await ready(viaProxy(proxy.url, { commandTimeout: 20_000 }));
    const k = key('big');
    const value = randomBytes(20 * 1024 * 1024);
    expect(await within(c.set(k, value), 20_000, 'SET 20 MB')).toBe('OK');
    expect(await directDb.strlen(k)).toBe(value.length);
    const back = await within(c.getBuffer(k), 20_000, 'GET 20 MB');
    expect(back && Buffer.compare(back, value)).toBe(0);
    const set = records.find((r) => r.kind === 'command' && r.args?.[0] === 'SET' && r.args[1] === k)!;
    expect(set.truncated).toBe(true);
    expect(set.args![2]).toMatch(new RegExp(`…\\(\\+${value.length - 1024} bytes\\)$`));
    expect(set.args![2].length).toBeLessThan(8 * 1024);
    await c.del(k);
  }, 60_000);

  it('serves a blocking BLPOP answered by a push from another client', async () => {
    const proxy = await proxyWith();
    const waiter = await ready(viaProxy(proxy.url));
    const pusher = await ready(viaProxy(proxy.url));
    const k = key('queue');
    const popped = waiter.blpop(k, 5);
    expect(await settledWithin(popped, 200)).toBe('pending');
    expect(await pusher.rpush(k, 'job-1')).toBe(1);
    expect(await within(popped, 3000, 'BLPOP')).toEqual([k, 'job-1']);
    // and the connection still answers in order afterwards
    expect(await waiter.ping()).toBe('PONG');
  }, 15_000);

  for (const protocol of [2, 3] as const) {
    it(`relays SUBSCRIBE/PUBLISH (RESP${protocol})`, async () => {
      const proxy = await proxyWith();
      const sub = await ready(viaProxy(proxy.url, { protocol }));
      const pub = await ready(viaProxy(proxy.url, { protocol }));
      const channel = key('chan');
      const got: string[] = [];
      const twoMessages = new Promise<void>((resolve) => {
        sub.on('message', (ch: string, message: string) => {
          if (ch === channel) got.push(message);
          if (got.length === 2) resolve();
        });
      });
      await within(sub.subscribe(channel), 3000, 'SUBSCRIBE');
      expect(await pub.publish(channel, 'hello')).toBe(1);
      expect(await pub.publish(channel, 'again')).toBe(1);
      await within(twoMessages, 3000, 'messages');
      expect(got).toEqual(['hello', 'again']);
      await within(sub.unsubscribe(channel), 3000, 'UNSUBSCRIBE');
    }, 15_000);
  }
});

describe('redis proxy: garbage and faults', () => {
  for (const garbage of [Buffer.from('\x00\xff garbage', 'latin1'), Buffer.from('*-5\r\n')]) {
    it(`answers ${JSON.stringify(garbage.toString('latin1'))} with a protocol error and closes only that connection`, async () => {
      const records: RedisRecord[] = [];
      const proxy = await proxyWith(records);
      const other = await ready(viaProxy(proxy.url));
      const k = key('bystander');
      await other.set(k, 'fine');
      const raw = await rawSocket(proxy);
      raw.socket.write(garbage);
      expect(await raw.waitFor('-ERR gauntlet proxy: protocol error\r\n')).toBe('-ERR gauntlet proxy: protocol error\r\n');
      expect(await within(raw.closed, 3000, 'close')).toBeTruthy();
      expect(records.filter((r) => r.kind === 'garbage')).toHaveLength(1);
      expect(await other.get(k)).toBe('fine');
      await within(
        (async () => {
          while (proxy.connections() !== 1) await new Promise((r) => setTimeout(r, 20));
        })(),
        3000,
        'garbage connection gone',
      );
      expect(records.some((r) => r.kind === 'close' && r.reason === 'protocol-error')).toBe(true);
    }, 15_000);
  }

  it('resetAll resets every connection; ioredis reconnects by itself and commands work again', async () => {
    const proxy = await proxyWith();
    const c = await ready(viaProxy(proxy.url));
    const k = key('reset');
    await c.set(k, 'before');
    const events: string[] = [];
    c.on('close', () => events.push('close'));
    c.on('reconnecting', () => events.push('reconnecting'));
    expect(proxy.resetAll()).toBe(1);
    await within(
      (async () => {
        while (!events.includes('reconnecting')) await new Promise((r) => setTimeout(r, 10));
      })(),
      3000,
      'reconnecting',
    );
    expect(await within(c.get(k), 5000, 'GET after reset')).toBe('before');
    expect(proxy.connections()).toBe(1);
  }, 15_000);

  it('blackhole holds a command until healed, then resets the connection', async () => {
    const proxy = await proxyWith();
    const raw = await rawSocket(proxy);
    raw.socket.write(resp('AUTH', PASSWORD));
    await raw.waitFor('+OK\r\n');
    const c = await ready(viaProxy(proxy.url));
    const k = key('bh');
    await c.set(k, 'v');

    expect(proxy.blackhole(true)).toBe(0);
    raw.socket.write(resp('PING'));
    const held = c.get(k);
    expect(await settledWithin(held, 400)).toBe('pending');
    expect(raw.received()).toBe('+OK\r\n');
    expect(proxy.blackhole(false)).toBe(2);
    expect(await within(raw.closed, 3000, 'raw reset')).toBe('error');
    expect(raw.received()).toBe('+OK\r\n');
    // ioredis reconnects and resends what was unanswered
    expect(await within(held, 5000, 'held GET')).toBe('v');
  }, 15_000);

  it('refuse (Redis down) resets open connections and new ones, TCP and Unix socket alike, until turned off', async () => {
    const proxy = await proxyWith();
    const c = await ready(viaProxy(proxy.url, { maxRetriesPerRequest: 1, retryStrategy: (n) => (n > 50 ? null : 20) }));
    const k = key('down');
    await c.set(k, 'v');
    expect(proxy.refuse(true)).toBe(1);
    await expect(within(c.get(k), 3000, 'GET while down')).rejects.toThrow();
    const closedAtOnce = (socket: net.Socket) => new Promise((resolve) => socket.on('close', () => resolve('closed')));
    const tcp = net.createConnection({ host: proxy.host, port: proxy.port });
    tcp.on('error', () => {});
    expect(await within(closedAtOnce(tcp), 3000, 'new TCP connection')).toBe('closed');
    const sock = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-test-refuse-')), 'r.sock');
    const listener = await proxy.listen({ tag: '0', path: sock });
    open.push({ close: () => listener.close() });
    const unix = net.createConnection(sock);
    unix.on('error', () => {});
    expect(await within(closedAtOnce(unix), 3000, 'new Unix connection')).toBe('closed');
    expect(proxy.refuse(false)).toBe(0);
    expect(await within(c.get(k), 5000, 'GET after Redis is back')).toBe('v');
    fs.rmSync(path.dirname(sock), { recursive: true, force: true });
  }, 15_000);

  it('latency of 50 ms slows a GET by at least 45 ms, and clears', async () => {
    const proxy = await proxyWith();
    const c = await ready(viaProxy(proxy.url));
    const k = key('lat');
    await c.set(k, 'v');
    const time = async (): Promise<number> => {
      const t0 = performance.now();
      expect(await c.get(k)).toBe('v');
      return performance.now() - t0;
    };
    const baseline = await time();
    proxy.setLatency(50, 0);
    const slow = await time();
    proxy.clearLatency();
    const healed = await time();
    expect(slow - baseline).toBeGreaterThanOrEqual(45);
    expect(slow).toBeLessThan(1000);
    expect(healed).toBeLessThan(Math.max(40, baseline * 10));
  }, 15_000);
});

describe('redis proxy: records and listeners', () => {
  it('records commands with their arguments, refusals and reply errors, never the password', async () => {
    const records: RedisRecord[] = [];
    const proxy = await proxyWith(records);
    const c = await ready(viaProxy(proxy.url));
    const k = key('rec');
    await c.set(k, 'value-1');
    await c.call('AUTH', PASSWORD);
    await c.call('FLUSHALL').catch(() => undefined);
    await c.lpush(k, 'x').catch(() => undefined); // WRONGTYPE from the server
    await c.set(`${k}:bin`, Buffer.from([0, 255, 65]));
    await c.quit();
    await within(
      (async () => {
        while (!records.some((r) => r.kind === 'close')) await new Promise((r) => setTimeout(r, 10));
      })(),
      3000,
      'close record',
    );
    expect(records.some((r) => r.kind === 'command' && JSON.stringify(r.args) === JSON.stringify(['SET', k, 'value-1']))).toBe(true);
    expect(records.some((r) => r.kind === 'command' && JSON.stringify(r.args) === JSON.stringify(['SET', `${k}:bin`, '\\x00\\xffA']))).toBe(true);
    expect(records.some((r) => r.kind === 'command' && JSON.stringify(r.args) === JSON.stringify(['AUTH', '***']))).toBe(true);
    expect(records.some((r) => r.kind === 'command' && r.args?.[0] === 'HELLO' && r.args.includes('***'))).toBe(true);
    expect(records.some((r) => r.kind === 'refused' && r.args?.[0] === 'FLUSHALL' && r.error === 'ERR gauntlet: FLUSHALL is not allowed here')).toBe(true);
    const wrongType = records.find((r) => r.kind === 'reply-error' && r.error?.startsWith('WRONGTYPE'));
    expect(wrongType?.args).toEqual(['LPUSH', k, 'x']);
    expect(records.filter((r) => r.kind === 'close')).toHaveLength(1);
    expect(JSON.stringify(records)).not.toContain(PASSWORD);
    expect(records.every((r) => r.conn === 1 && r.tag === undefined && Number.isFinite(r.t))).toBe(true);
    expect(await direct0.get(MARKER)).toBe('survives');
  }, 15_000);

  it('serves a tagged Unix-socket listener sharing the proxy (records carry the tag)', async () => {
    const records: RedisRecord[] = [];
    const proxy = await proxyWith(records);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-rp-'));
    open.push({ close: () => fs.rmSync(dir, { recursive: true, force: true }) });
    const socketPath = path.join(dir, 'redis.sock');
    const listener = await proxy.listen({ tag: 'instance-2', path: socketPath });
    expect(listener.path).toBe(socketPath);
    expect(fs.statSync(socketPath).mode & 0o777).toBe(0o666);
    const c = await ready(viaProxy({ path: socketPath, password: PASSWORD }));
    const k = key('unix');
    expect(await c.set(k, 'via-socket')).toBe('OK');
    expect(await directDb.get(k)).toBe('via-socket');
    const tcp = await ready(viaProxy(proxy.url));
    expect(await tcp.get(k)).toBe('via-socket');
    expect(proxy.connections()).toBe(2);
    const tagged = records.filter((r) => r.tag === 'instance-2');
    expect(tagged.some((r) => r.kind === 'command' && r.args?.[0] === 'SET' && r.args[1] === k)).toBe(true);
    expect(records.some((r) => r.tag === undefined && r.args?.[0] === 'GET')).toBe(true);

    // A fault hits every listener's connections.
    expect(proxy.resetAll()).toBe(2);
    expect(records.filter((r) => r.kind === 'close' && r.reason === 'reset').map((r) => r.tag ?? 'main').sort()).toEqual(['instance-2', 'main']);
    expect(await within(c.get(k), 5000, 'GET after reset')).toBe('via-socket');

    const tcpListener = await proxy.listen({ tag: 'instance-3' });
    const c3 = await ready(viaProxy(tcpListener.url!));
    expect(await c3.get(k)).toBe('via-socket');
    expect(records.some((r) => r.tag === 'instance-3' && r.args?.[0] === 'GET')).toBe(true);

    await listener.close();
    expect(fs.existsSync(socketPath)).toBe(false);
    await tcpListener.close();
    expect(await tcp.get(k)).toBe('via-socket'); // the main listener still serves
  }, 20_000);
});

describe('redis proxy on a private redis-server with a password', () => {
  it('authenticates upstream itself, and a database the server lacks fails the setup with an error', async () => {
    const server = await spawnRedisServer();
    open.push({ close: () => server.stop() });
    const admin = directClientFor(server.url);
    await admin.connect();
    const upstreamPassword = `up-${randomBytes(4).toString('hex')}`;
    await admin.config('SET', 'requirepass', upstreamPassword);
    admin.disconnect();
    const upstreamUrl = server.url.replace('redis://', `redis://default:${encodeURIComponent(upstreamPassword)}@`);

    const records: RedisRecord[] = [];
    const proxy = await startRedisProxy({ upstreamUrl, db: 3, password: PASSWORD, record: (r) => records.push(r) });
    open.push(proxy);
    const c = await ready(viaProxy(proxy.url));
    expect(await c.set('k', 'in-3')).toBe('OK');
    const check = directClientFor(upstreamUrl, 3);
    await check.connect();
    open.push({ close: () => check.disconnect() });
    expect(await check.get('k')).toBe('in-3');
    expect(JSON.stringify(records)).not.toContain(upstreamPassword);

    const badDb = await startRedisProxy({ upstreamUrl, db: 16, password: PASSWORD, record: (r) => records.push(r) });
    open.push(badDb);
    const raw = await rawSocket(badDb);
    raw.socket.write(Buffer.concat([resp('AUTH', PASSWORD), resp('SET', 'never', 'x')]));
    expect(await raw.waitFor('DB index is out of range')).toMatch(/^-ERR gauntlet proxy: upstream SELECT failed: ERR DB index is out of range\r\n$/);
    expect(await within(raw.closed, 3000, 'close')).toBeTruthy();
    expect(await check.call('SELECT', '0')).toBe('OK');
    expect(await check.exists('never')).toBe(0); // nothing ran in DB 0 after the failed SELECT
    expect(records.some((r) => r.kind === 'close' && r.reason === 'setup-failed')).toBe(true);
  }, 30_000);
});
