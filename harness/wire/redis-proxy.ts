// A Redis proxy between candidate code and the shared Redis server, one per scenario: it confines every
// connection to the scenario's logical database (SELECTed upstream before any client byte; commands that reach
// another database or the whole server are refused), checks the candidates' password itself, records every
// command, and injects the faults of the PostgreSQL fault proxy (reset, blackhole, latency) into Redis traffic.
//
// This file is the public face: options, listeners, fault controls, records. The rest, by job:
//   redis-connection.ts      one client connection and its upstream: setup, AUTH/MULTI/SUBSCRIBE/RESET state, closing
//   redis-command-reader.ts  the client's bytes to whole commands with a verdict, streamed rather than held
//   redis-policy.ts          which commands are forwarded, rewritten, refused or answered by the proxy, and why
//   redis-script-scan.ts     what a Lua script may do outside the database
//   redis-reply-order.ts     the server's replies and the proxy's own, in order
//   redis-flow.ts            one direction of a pair: latency, blackhole, backpressure
//   redis-records.ts         RedisRecord, and how a command is shown in one
//   resp-request-parser.ts   incremental RESP2/inline request parser
//   resp-reply-parser.ts     incremental RESP2/RESP3 reply frame parser
//   resp-primitives.ts       small RESP helpers shared by the above

import { createHash } from 'node:crypto';
import net from 'node:net';
import { onCleanup } from '../cleanup.ts';
import { bindServer, closeServer, type ListenOptions, type ProxyListener } from '../nemesis/proxy-listeners.ts';
import { ConnectionPair, type SharedState } from './redis-connection.ts';
import type { RedisRecord } from './redis-records.ts';
import type { SwallowEntry } from './redis-reply-order.ts';
import { encodeCommand } from './resp-primitives.ts';

export type { RedisRecord, RedisRecordKind } from './redis-records.ts';

export interface RedisProxyOptions {
  /** The real server, e.g. redis://127.0.0.1:6379 (a username/password in it are used upstream only). */
  upstreamUrl: string;
  /** The scenario's logical database: the only one its clients can reach (they see it as database 0). */
  db: number;
  /**
   * What clients must present (AUTH <pw>, AUTH <user> <pw> with any user, or HELLO <ver> AUTH <user> <pw>);
   * checked by the proxy, never forwarded. An empty string lets every client in without AUTH.
   */
  password: string;
  /** Clock for records (µs); performance.now() in µs by default, as the PostgreSQL fault proxy. */
  nowUs?: () => number;
  /** Receives every record; absent, nothing is recorded (and arguments are not kept). */
  record?: (r: RedisRecord) => void;
  /** The main listener: 127.0.0.1 and a free port by default. */
  listenHost?: string;
  listenPort?: number;
  /** Tag carried by the records of the main listener's connections. */
  tag?: string;
}

/** An extra listener: TCP (127.0.0.1 and a free port by default) or a Unix socket path (made 0666). */
export type RedisListenSpec = ListenOptions;

export interface RedisListener extends ProxyListener {
  /** redis://:<password>@host:port/0 (TCP listeners only). */
  readonly url?: string;
}

export interface RedisProxy {
  readonly host: string;
  readonly port: number;
  /** What candidates get: redis://:<password>@host:port/0 */
  readonly url: string;
  /** Another listener (TCP, or a Unix socket file made 0666) sharing this proxy's state, faults and records. */
  listen(spec: RedisListenSpec): Promise<RedisListener>;
  /** Delay every chunk, both directions, by latencyMs ± jitterMs (uniform, drawn from rng), keeping order. */
  setLatency(latencyMs: number, jitterMs?: number, rng?: { next(): number }): void;
  /** New chunks go through at once (chunks already delayed still arrive in order). */
  clearLatency(): void;
  /** Reset (RST) every open connection pair now; returns how many. */
  resetAll(): number;
  /** While on nothing is forwarded either way; turning it off resets every connection open while on (returns how many). */
  blackhole(on: boolean): number;
  /**
   * Redis is down: turning it on resets every open connection (returns how many) and, while on, every new client
   * connection is reset as soon as it is accepted, as a stopped server's port would refuse it.
   */
  refuse(on: boolean): number;
  /** Open connection pairs, all listeners. */
  connections(): number;
  /** Stop every listener and destroy every connection. Idempotent. */
  close(): Promise<void>;
}

function parseUpstream(url: string): { host: string; port: number; tls: boolean; user: string; password: string } {
  const u = new URL(url);
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`redis proxy: upstream must be a redis:// or rediss:// URL, got ${u.protocol}`);
  return {
    host: (u.hostname || '127.0.0.1').replace(/^\[(.*)\]$/, '$1'),
    port: u.port ? Number(u.port) : 6379,
    tls: u.protocol === 'rediss:',
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
  };
}

interface ListenerState {
  tag: string | undefined;
  server: net.Server;
  conns: Set<ConnectionPair>;
  path?: string;
  host?: string;
  port?: number;
  closing: Promise<void> | null;
}

export async function startRedisProxy(o: RedisProxyOptions): Promise<RedisProxy> {
  if (!Number.isInteger(o.db) || o.db < 0) throw new Error(`redis proxy: db must be a logical database index, got ${o.db}`);
  const up = parseUpstream(o.upstreamUrl);
  let latencyMs = 0;
  let jitterMs = 0;
  let rng: { next(): number } = { next: Math.random };
  const setupArgs: Buffer[][] = [];
  if (up.password) setupArgs.push(up.user ? ['AUTH', up.user, up.password].map((s) => Buffer.from(s)) : ['AUTH', up.password].map((s) => Buffer.from(s)));
  setupArgs.push([Buffer.from('SELECT'), Buffer.from(String(o.db))]);
  const password = Buffer.from(o.password);
  let open = true;
  let blackholeOn = false;
  let refusing = false;
  const shared: SharedState = {
    dbArg: Buffer.from(String(o.db)),
    password,
    passwordDigest: createHash('sha256').update(password).digest(),
    upstream: { host: up.host, port: up.port, tls: up.tls },
    setup: Buffer.concat(setupArgs.map(encodeCommand)),
    setupEntries: () => setupArgs.map((a): SwallowEntry => ({ k: 'swallow', what: a[0].toString(), setup: true })),
    recordFn: o.record,
    nowUs: o.nowUs ?? (() => Math.round(performance.now() * 1000)),
    delayMs: () => {
      if (latencyMs <= 0 && jitterMs <= 0) return 0;
      const jitter = jitterMs > 0 ? (rng.next() * 2 - 1) * jitterMs : 0;
      return Math.max(0, latencyMs + jitter);
    },
  };

  const conns = new Set<ConnectionPair>();
  const listeners = new Set<ListenerState>();
  let nextId = 1;

  const destroyAll = (predicate: (c: ConnectionPair) => boolean, reason: string, within: Iterable<ConnectionPair> = conns): number => {
    let count = 0;
    for (const c of [...within]) {
      if (!predicate(c)) continue;
      c.destroy(true, reason);
      count++;
    }
    return count;
  };

  const startListener = async (tag: string | undefined, where: { path: string } | { host?: string; port?: number }): Promise<ListenerState> => {
    const state: ListenerState = { tag, server: null as unknown as net.Server, conns: new Set(), closing: null };
    const server = net.createServer({ allowHalfOpen: true }, (client) => {
      client.on('error', () => {});
      if (refusing) {
        // A TCP client gets a reset; a Unix socket (a contained instance) cannot, and is just closed.
        try {
          client.resetAndDestroy();
        } catch {
          client.destroy();
        }
        return;
      }
      if (!open || state.closing) {
        client.destroy();
        return;
      }
      const conn = new ConnectionPair(shared, nextId++, tag, client, (c) => {
        conns.delete(c);
        state.conns.delete(c);
      });
      conn.blackholed = blackholeOn;
      conns.add(conn);
      state.conns.add(conn);
    });
    server.on('error', () => {});
    state.server = server;
    const bound = await bindServer(server, where); // a Unix socket: mode 0666, a stale file replaced
    state.path = bound.path;
    state.host = bound.host;
    state.port = bound.port;
    listeners.add(state);
    return state;
  };

  const closeListener = (state: ListenerState, reason: string): Promise<void> => {
    state.closing ??= (async () => {
      listeners.delete(state);
      destroyAll(() => true, reason, state.conns);
      await closeServer(state.server, state.path);
    })();
    return state.closing;
  };

  const main = await startListener(o.tag, { host: o.listenHost, port: o.listenPort });
  const urlFor = (host: string, port: number): string => `redis://:${encodeURIComponent(o.password)}@${host.includes(':') ? `[${host}]` : host}:${port}/0`;

  let closing: Promise<void> | null = null;
  let unregister = (): void => {};
  const proxy: RedisProxy = {
    host: main.host!,
    port: main.port!,
    url: urlFor(main.host!, main.port!),
    async listen(spec) {
      if (!open) throw new Error('redis proxy: closed');
      const state = await startListener(spec.tag, 'path' in spec ? { path: spec.path } : { host: spec.host, port: spec.port });
      if (!open) {
        await closeListener(state, 'proxy-closed'); // the proxy closed while this was binding
        throw new Error('redis proxy: closed');
      }
      const close = (): Promise<void> => closeListener(state, 'listener-closed');
      if (state.path) return { tag: spec.tag, path: state.path, close };
      return { tag: spec.tag, host: state.host, port: state.port, url: urlFor(state.host!, state.port!), close };
    },
    setLatency(ms, jitter = 0, random) {
      latencyMs = Math.max(0, ms);
      jitterMs = Math.max(0, jitter);
      if (random) rng = random;
    },
    clearLatency() {
      latencyMs = 0;
      jitterMs = 0;
    },
    resetAll: () => destroyAll(() => true, 'reset'),
    blackhole(on) {
      blackholeOn = on;
      if (on) {
        for (const c of conns) c.blackholed = true;
        return 0;
      }
      return destroyAll((c) => c.blackholed, 'reset');
    },
    refuse(on) {
      refusing = on;
      return on ? destroyAll(() => true, 'reset') : 0;
    },
    connections: () => conns.size,
    close() {
      closing ??= (async () => {
        open = false;
        unregister();
        await Promise.all([...listeners].map((l) => closeListener(l, 'proxy-closed')));
      })();
      return closing;
    },
  };
  unregister = onCleanup(() => proxy.close());
  return proxy;
}
