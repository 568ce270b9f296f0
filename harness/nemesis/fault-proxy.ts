// A small TCP proxy between the candidate's instances and PostgreSQL (Toxiproxy is not available): it adds
// latency, resets every connection, or blackholes traffic on demand, so database faults hit real transactions.
// It refuses SSL itself so the traffic stays in the clear, can listen on extra tagged TCP or Unix sockets, and
// with `record` decodes the wire protocol of every connection into SqlRecords (../wire/pg-wire.ts).

import { abortSocket } from '../infra/abort-socket.ts';
import net from 'node:net';
import { onCleanup } from '../cleanup.ts';
import { createPgWireDecoder, type PgWireDecoder, type SqlRecord } from '../wire/pg-wire.ts';
import { createStartupWatch, type StartupError, type StartupWatch } from './startup-watch.ts';
import { bindServer, closeServer, SslRefusal, type BoundAddress, type ListenOptions, type ProxyListener } from './proxy-listeners.ts';

export type { ListenOptions, ProxyListener } from './proxy-listeners.ts';

export interface FaultProxyOptions {
  upstreamHost: string;
  upstreamPort: number;
  /** Where the proxy listens; 127.0.0.1 and a free port by default. */
  listenHost?: string;
  listenPort?: number;
  /**
   * Decode the PostgreSQL protocol of every connection and pass each record here (synchronously, as the bytes
   * arrive; never delays forwarding). Absent: no decoding at all.
   */
  record?: (r: SqlRecord) => void;
  /** The records' clock, in µs; performance.now() by default. */
  nowUs?: () => number;
}

export interface FaultProxy {
  readonly host: string;
  readonly port: number;
  /** Delay every chunk, both directions, by latencyMs ± jitterMs (uniform, drawn from rng), keeping order. */
  setLatency(latencyMs: number, jitterMs?: number, rng?: { next(): number }): void;
  /** New chunks go through at once (chunks already delayed still arrive in order). */
  clearLatency(): void;
  /** Reset (RST) every open connection pair now; returns how many pairs were reset. */
  resetAll(): number;
  /**
   * While on, nothing is forwarded either way (new connections are accepted and hang). Turning it off resets
   * every connection that was open while on, since its byte stream lost data; returns how many (0 when turning on).
   */
  blackhole(on: boolean): number;
  /** Open connection pairs. */
  connections(): number;
  /**
   * Connections the server refused before they were ready (an ErrorResponse during startup: no free slots, a server
   * starting or stopping), with how many connections through this proxy held a server slot then. Always watched,
   * recorded or not.
   */
  refusals(): ConnectionRefusal[];
  /**
   * Listen on one more TCP address or Unix socket path; its connections share the fault state of the others and
   * their records carry `tag` (the default listener's carry none).
   */
  listen(o: ListenOptions): Promise<ProxyListener>;
  /** Stop listening and destroy every connection. Idempotent. */
  close(): Promise<void>;
}

export interface ConnectionRefusal extends StartupError {
  /** When, on the proxy's clock (µs). */
  tUs: number;
  /** Connections through this proxy that the server had made ready and that were still open at the time. */
  open: number;
  /** The listener's tag (which process), absent for the default listener. */
  tag?: string;
}

/** Bytes queued in one direction (delayed) before the source is paused. */
const HIGH_WATER_BYTES = 1 << 20;

type Item = { at: number; chunk: Buffer } | { at: number; end: 'end' | 'reset' };

/** One direction of a connection pair: a time-ordered delivery queue with backpressure. */
class Pipe {
  private queue: Item[] = [];
  private queuedBytes = 0;
  private lastAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private destBlocked = false;
  private pausedByUs = false;
  private ended = false;

  constructor(
    private readonly src: net.Socket,
    private readonly dest: net.Socket,
    private readonly pair: Pair,
    private readonly delayMs: () => number,
  ) {
    dest.on('drain', () => {
      this.destBlocked = false;
      this.maybeResume();
    });
  }

  push(chunk: Buffer): void {
    if (this.pair.blackholed) return; // dropped, as a black hole does
    const delay = this.delayMs();
    if (delay <= 0 && this.queue.length === 0) {
      this.write(chunk);
      return;
    }
    this.enqueue({ at: Math.max(performance.now() + delay, this.lastAt), chunk });
    this.queuedBytes += chunk.length;
    if (this.queuedBytes > HIGH_WATER_BYTES) this.pause();
  }

  /** The source ended (FIN) or died: pass it on after the data queued before it. */
  finish(kind: 'end' | 'reset'): void {
    if (this.ended || this.pair.blackholed) return;
    this.ended = true;
    if (this.queue.length === 0) this.deliverEnd(kind);
    else this.enqueue({ at: this.lastAt, end: kind });
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queue = [];
    this.queuedBytes = 0;
  }

  private enqueue(item: Item): void {
    this.lastAt = item.at;
    this.queue.push(item);
    if (!this.timer) this.schedule();
  }

  private schedule(): void {
    const head = this.queue[0];
    if (!head) return;
    this.timer = setTimeout(() => this.flush(), Math.max(1, Math.ceil(head.at - performance.now())));
  }

  private flush(): void {
    this.timer = null;
    const now = performance.now();
    while (this.queue.length > 0 && this.queue[0].at <= now) {
      const item = this.queue.shift()!;
      if (this.pair.blackholed) continue;
      if ('chunk' in item) {
        this.queuedBytes -= item.chunk.length;
        this.write(item.chunk);
      } else {
        this.deliverEnd(item.end);
      }
    }
    if (this.pair.blackholed) this.queuedBytes = 0;
    this.maybeResume();
    this.schedule();
  }

  private write(chunk: Buffer): void {
    if (this.dest.destroyed) return;
    if (!this.dest.write(chunk)) {
      this.destBlocked = true;
      this.pause();
    }
  }

  private deliverEnd(kind: 'end' | 'reset'): void {
    if (this.dest.destroyed) return;
    if (kind === 'end') this.dest.end();
    else this.pair.destroy(true, 'peer-reset'); // pass an abrupt close on as one
  }

  private pause(): void {
    if (!this.pausedByUs) {
      this.pausedByUs = true;
      this.src.pause();
    }
  }

  private maybeResume(): void {
    if (this.pausedByUs && !this.destBlocked && this.queuedBytes <= HIGH_WATER_BYTES) {
      this.pausedByUs = false;
      if (!this.src.destroyed) this.src.resume();
    }
  }
}

const REFUSE_ENCRYPTION = Buffer.from('N');

/** A client connection and its upstream connection. */
class Pair {
  blackholed = false;
  private done = false;
  private readonly pipes: Pipe[];
  /** Watches the server's answers up to the first ReadyForQuery; null after. */
  private watch: StartupWatch | null;
  /** The server made this connection ready (it holds one of the server's slots until it closes). */
  ready = false;

  constructor(
    readonly client: net.Socket,
    readonly upstream: net.Socket,
    /** The extra listener the client came through; null for the default one. */
    readonly listener: ProxyListener | null,
    delayMs: () => number,
    private readonly decoder: PgWireDecoder | null,
    private readonly onGone: (pair: Pair) => void,
    onStartupError: (e: StartupError) => void,
  ) {
    this.watch = createStartupWatch(onStartupError, () => {
      this.ready = true;
    });
    const up = new Pipe(client, upstream, this, delayMs);
    const down = new Pipe(upstream, client, this, delayMs);
    this.pipes = [up, down];
    const ssl = new SslRefusal();
    const finishUp = (kind: 'end' | 'reset'): void => {
      const held = ssl.active ? ssl.flush() : null;
      if (held) up.push(held);
      up.finish(kind);
    };
    client.on('data', (chunk: Buffer) => {
      if (this.blackholed) return; // dropped, as a black hole does
      let refusals = 0;
      if (ssl.active) {
        const filtered = ssl.filter(chunk);
        if (filtered.forward) up.push(filtered.forward);
        refusals = filtered.refusals;
      } else {
        up.push(chunk);
      }
      decoder?.fromClient(chunk);
      for (let k = 0; k < refusals; k++) {
        down.push(REFUSE_ENCRYPTION); // through the pipe, so latency applies to the answer too
        decoder?.fromServer(REFUSE_ENCRYPTION);
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      down.push(chunk);
      if (this.watch && !this.watch.fromServer(chunk)) this.watch = null;
      if (!this.blackholed) decoder?.fromServer(chunk);
    });
    // The server's side is gone: its slot is free again, whenever the client notices.
    upstream.once('close', () => {
      this.ready = false;
    });
    for (const [socket, finish] of [[client, finishUp], [upstream, (kind: 'end' | 'reset') => down.finish(kind)]] as const) {
      // A reset must never crash the harness: every socket has an error listener.
      socket.on('error', () => finish('reset'));
      socket.on('end', () => finish('end'));
      socket.on('close', (hadError) => {
        finish(hadError ? 'reset' : 'end');
        if (client.destroyed && upstream.destroyed) this.destroy(false, 'end');
      });
    }
  }

  /**
   * Tear both sockets down; with `reset`, send RST so the peer sees ECONNRESET rather than a clean close.
   * `reason` goes to the decoder's 'close' record (the first call's reason wins).
   */
  destroy(reset: boolean, reason: string): void {
    if (!this.done) {
      this.done = true;
      for (const pipe of this.pipes) pipe.stop();
      this.onGone(this);
      this.decoder?.close(reason);
    }
    for (const socket of [this.client, this.upstream]) {
      if (socket.destroyed) continue;
      try {
        if (reset) abortSocket(socket);
        else socket.destroy();
      } catch {
        socket.destroy();
      }
    }
  }
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const pairs = new Set<Pair>();
  const listeners = new Set<ProxyListener>();
  let latencyMs = 0;
  let jitterMs = 0;
  let rng: { next(): number } = { next: Math.random };
  let blackholeOn = false;
  let closed = false;
  let lastConn = 0;
  const refused: ConnectionRefusal[] = [];
  const { record } = options;
  const nowUs = options.nowUs ?? (() => Math.round(performance.now() * 1000));

  const delayMs = (): number => {
    if (latencyMs <= 0 && jitterMs <= 0) return 0;
    const jitter = jitterMs > 0 ? (rng.next() * 2 - 1) * jitterMs : 0;
    return Math.max(0, latencyMs + jitter);
  };

  const createServer = (listener: ProxyListener | null): net.Server => {
    const server = net.createServer({ allowHalfOpen: true }, (client) => {
      client.on('error', () => {});
      if (closed) {
        client.destroy();
        return;
      }
      client.setNoDelay(true); // a no-op on a Unix socket
      const upstream = net.connect({ host: options.upstreamHost, port: options.upstreamPort, allowHalfOpen: true });
      upstream.on('error', () => {});
      upstream.setNoDelay(true);
      const conn = ++lastConn;
      const decoder = record ? createPgWireDecoder({ conn, tag: listener?.tag, nowUs, emit: record }) : null;
      const onStartupError = (e: StartupError): void => {
        let open = 0;
        for (const p of pairs) if (p.ready) open++;
        if (refused.length < 1000) refused.push({ tUs: nowUs(), open, ...(listener?.tag !== undefined ? { tag: listener.tag } : {}), ...e });
      };
      const pair = new Pair(client, upstream, listener, delayMs, decoder, (p) => pairs.delete(p), onStartupError);
      pair.blackholed = blackholeOn;
      pairs.add(pair);
    });
    server.on('error', () => {});
    return server;
  };

  const server = createServer(null);
  const address = await bindServer(server, { host: options.listenHost, port: options.listenPort });

  const destroyAll = (predicate: (pair: Pair) => boolean, reason: string): number => {
    let count = 0;
    for (const pair of [...pairs]) {
      if (!predicate(pair)) continue;
      pair.destroy(true, reason);
      count++;
    }
    return count;
  };

  let unregister = (): void => {};
  const proxy: FaultProxy = {
    host: address.host!,
    port: address.port!,
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
        for (const pair of pairs) pair.blackholed = true;
        return 0;
      }
      return destroyAll((pair) => pair.blackholed, 'reset');
    },
    connections: () => pairs.size,
    refusals: () => refused.map((r) => ({ ...r })),
    async listen(o) {
      if (closed) throw new Error('the fault proxy is closed');
      let closing: Promise<void> | null = null;
      const listener: ProxyListener & BoundAddress = {
        tag: o.tag,
        close() {
          closing ??= (() => {
            listeners.delete(listener);
            destroyAll((pair) => pair.listener === listener, 'listener-closed');
            return closeServer(extra, listener.path);
          })();
          return closing;
        },
      };
      const extra = createServer(listener);
      Object.assign(listener, await bindServer(extra, o));
      listeners.add(listener);
      if (closed) {
        await listener.close(); // the proxy closed while this was binding
        throw new Error('the fault proxy is closed');
      }
      return listener;
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      unregister();
      destroyAll(() => true, 'proxy-closed');
      return Promise.all([closeServer(server), ...[...listeners].map((l) => l.close())]).then(() => {});
    },
  };
  unregister = onCleanup(() => proxy.close());
  return proxy;
}
