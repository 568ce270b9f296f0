// A small TCP proxy between the candidate's instances and PostgreSQL (Toxiproxy is not available): it adds
// latency, resets every connection, or blackholes traffic on demand, so database faults hit real transactions.

import net from 'node:net';
import { onCleanup } from '../cleanup.ts';

export interface FaultProxyOptions {
  upstreamHost: string;
  upstreamPort: number;
  /** Where the proxy listens; 127.0.0.1 and a free port by default. */
  listenHost?: string;
  listenPort?: number;
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
  /** Stop listening and destroy every connection. Idempotent. */
  close(): Promise<void>;
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
    else this.pair.destroy(true); // pass an abrupt close on as one
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

/** A client connection and its upstream connection. */
class Pair {
  blackholed = false;
  private done = false;
  private readonly pipes: Pipe[];

  constructor(
    readonly client: net.Socket,
    readonly upstream: net.Socket,
    delayMs: () => number,
    private readonly onGone: (pair: Pair) => void,
  ) {
    const up = new Pipe(client, upstream, this, delayMs);
    const down = new Pipe(upstream, client, this, delayMs);
    this.pipes = [up, down];
    for (const [socket, pipe] of [[client, up], [upstream, down]] as const) {
      // A reset must never crash the harness: every socket has an error listener.
      socket.on('error', () => pipe.finish('reset'));
      socket.on('data', (chunk: Buffer) => pipe.push(chunk));
      socket.on('end', () => pipe.finish('end'));
      socket.on('close', (hadError) => {
        pipe.finish(hadError ? 'reset' : 'end');
        if (client.destroyed && upstream.destroyed) this.destroy(false);
      });
    }
  }

  /** Tear both sockets down; with `reset`, send RST so the peer sees ECONNRESET rather than a clean close. */
  destroy(reset: boolean): void {
    if (!this.done) {
      this.done = true;
      for (const pipe of this.pipes) pipe.stop();
      this.onGone(this);
    }
    for (const socket of [this.client, this.upstream]) {
      if (socket.destroyed) continue;
      try {
        if (reset && typeof socket.resetAndDestroy === 'function' && !socket.connecting) socket.resetAndDestroy();
        else socket.destroy();
      } catch {
        socket.destroy();
      }
    }
  }
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const pairs = new Set<Pair>();
  let latencyMs = 0;
  let jitterMs = 0;
  let rng: { next(): number } = { next: Math.random };
  let blackholeOn = false;
  let closed = false;

  const delayMs = (): number => {
    if (latencyMs <= 0 && jitterMs <= 0) return 0;
    const jitter = jitterMs > 0 ? (rng.next() * 2 - 1) * jitterMs : 0;
    return Math.max(0, latencyMs + jitter);
  };

  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    client.on('error', () => {});
    if (closed) {
      client.destroy();
      return;
    }
    client.setNoDelay(true);
    const upstream = net.connect({ host: options.upstreamHost, port: options.upstreamPort, allowHalfOpen: true });
    upstream.on('error', () => {});
    upstream.setNoDelay(true);
    const pair = new Pair(client, upstream, delayMs, (p) => pairs.delete(p));
    pair.blackholed = blackholeOn;
    pairs.add(pair);
  });
  server.on('error', () => {});

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listenPort ?? 0, options.listenHost ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as net.AddressInfo;

  const destroyAll = (predicate: (pair: Pair) => boolean): number => {
    let count = 0;
    for (const pair of [...pairs]) {
      if (!predicate(pair)) continue;
      pair.destroy(true);
      count++;
    }
    return count;
  };

  let unregister = (): void => {};
  const proxy: FaultProxy = {
    host: address.address,
    port: address.port,
    setLatency(ms, jitter = 0, random) {
      latencyMs = Math.max(0, ms);
      jitterMs = Math.max(0, jitter);
      if (random) rng = random;
    },
    clearLatency() {
      latencyMs = 0;
      jitterMs = 0;
    },
    resetAll: () => destroyAll(() => true),
    blackhole(on) {
      blackholeOn = on;
      if (on) {
        for (const pair of pairs) pair.blackholed = true;
        return 0;
      }
      return destroyAll((pair) => pair.blackholed);
    },
    connections: () => pairs.size,
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      unregister();
      destroyAll(() => true);
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  unregister = onCleanup(() => proxy.close());
  return proxy;
}
