// One client connection of the Redis proxy and its own upstream connection. The upstream connection starts with
// the proxy's AUTH (when the upstream URL has credentials) and SELECT of the scenario's database; the client's
// commands are held until both succeed (a failure closes the pair: 'setup-failed').
//
// The client's commands are read by redis-command-reader.ts and judged by redis-policy.ts: each is forwarded,
// rewritten or answered by the proxy itself, then recorded, and what its reply needs is queued in
// redis-reply-order.ts, which puts the proxy's replies in order with the server's. This file keeps the state a
// command changes: authentication, MULTI (so that EXEC fails when a queued command was refused), SUBSCRIBE
// (replies stop being one per command: they pass straight through, and a refused command's error is written as
// soon as nothing is pending before it, best effort), and RESET, which would SELECT 0 upstream: it is forwarded
// with the proxy's own AUTH/SELECT right behind it, and the client must authenticate again, as with a server
// that has a password.
//
// Each direction goes through a Flow (redis-flow.ts), where the latency and blackhole faults apply; a reset
// fault destroys both sockets with RST. A client that sends something that is not RESP gets a protocol error
// and is closed ('protocol-error'); commands read before it still go upstream.

import { abortSocket } from '../infra/abort-socket.ts';
import net from 'node:net';
import tls from 'node:tls';
import { CommandReader, type ReadCommand } from './redis-command-reader.ts';
import { Flow, HIGH_WATER_BYTES } from './redis-flow.ts';
import { decide, requestLimits, type Scope, type Session, type Verdict } from './redis-policy.ts';
import { hexEscape, recordArgs, type RedisRecord, type RedisRecordKind } from './redis-records.ts';
import { ReplyOrder, type SwallowEntry } from './redis-reply-order.ts';
import { encodeCommand, errorReply } from './resp-primitives.ts';

const PROTOCOL_ERROR = 'ERR gauntlet proxy: protocol error';
const SUBSCRIBE = new Set(['SUBSCRIBE', 'PSUBSCRIBE', 'SSUBSCRIBE']);

/** What every connection of one proxy shares. */
export interface SharedState extends Scope {
  /** What clients must present; empty: no AUTH needed. */
  password: Buffer;
  upstream: { host: string; port: number; tls: boolean };
  /** AUTH (when the upstream URL has credentials) and SELECT <db>, sent first on every upstream connection. */
  setup: Buffer;
  /** The replies `setup` gets, to swallow. */
  setupEntries: () => SwallowEntry[];
  recordFn?: (r: RedisRecord) => void;
  nowUs: () => number;
  /** The latency to add to a chunk now (either direction). */
  delayMs: () => number;
}

/** A Buffer list that joins a slice to the previous one when they are adjacent in memory (same chunk). */
function appendMerged(list: Buffer[], b: Buffer): void {
  if (b.length === 0) return;
  const n = list.length;
  if (n > 0) {
    const last = list[n - 1];
    if (last.buffer === b.buffer && last.byteOffset + last.length === b.byteOffset) {
      list[n - 1] = Buffer.from(last.buffer, last.byteOffset, last.length + b.length);
      return;
    }
  }
  list.push(b);
}

export class ConnectionPair {
  /** The blackhole fault is on for this pair: nothing passes either way, and healing it resets the pair. */
  blackholed = false;
  /** Destroyed (and recorded as closed). */
  private gone = false;
  /** Closing: nothing more is read from the client. */
  private closing = false;
  private readonly upstream: net.Socket;
  private readonly reader: CommandReader;
  private readonly replies: ReplyOrder;
  private readonly inFlow: Flow;
  private readonly outFlow: Flow;
  // client side
  private readonly session: Session;
  /** A SUBSCRIBE was sent: replies stop being one per command (once the replies before it are in). */
  private subIntent = false;
  // server side
  /** The setup commands succeeded: the client's commands can go upstream (held until then). */
  private ready = false;
  private hold: Buffer[] = [];
  private holdBytes = 0;
  private endUpstreamWhenReady = false;
  private reason: string | undefined;
  // output gathered while one chunk is processed
  private upOut: Buffer[] = [];
  private downOut: Buffer[] = [];

  constructor(
    private readonly shared: SharedState,
    readonly id: number,
    readonly tag: string | undefined,
    private readonly client: net.Socket,
    private readonly onGone: (c: ConnectionPair) => void,
  ) {
    this.session = { authed: shared.password.length === 0, inMulti: false, multiDirty: false };
    const up = shared.upstream;
    this.upstream = up.tls
      ? tls.connect({ host: up.host, port: up.port, servername: net.isIP(up.host) ? undefined : up.host })
      : net.connect({ host: up.host, port: up.port, allowHalfOpen: true });
    const upstream = this.upstream;
    upstream.on('error', () => {});
    upstream.setNoDelay(true);
    client.setNoDelay(true);
    this.reader = new CommandReader({
      decide: (c, complete) => decide(c, complete, this.session, shared),
      limits: () => requestLimits(this.session.authed),
      recording: !!shared.recordFn,
      forward: (slice) => appendMerged(this.upOut, slice),
      command: (c, verdict) => this.complete(c, verdict),
      garbage: (reason, sample) => this.garbage(reason, sample),
    });
    this.replies = new ReplyOrder(
      {
        toClient: (b) => appendMerged(this.downOut, b),
        replyError: (extra) => this.record('reply-error', extra),
        swallowedError: (what, text) => {
          this.record('reply-error', { error: text, args: [what] });
          this.closeWithError(`ERR gauntlet proxy: upstream ${what} failed: ${text ?? ''}`, 'setup-failed');
        },
        setupDone: () => this.becomeReady(),
        closeAfterReply: () => this.closeAfterReply(),
      },
      shared.setupEntries(),
    );
    this.inFlow = new Flow(
      client,
      this,
      shared.delayMs,
      (chunk) => this.onClientData(chunk),
      (kind) => this.onClientEnd(kind),
      () => upstream.writableLength > HIGH_WATER_BYTES || this.holdBytes > HIGH_WATER_BYTES || client.writableLength > HIGH_WATER_BYTES,
    );
    this.outFlow = new Flow(
      upstream,
      this,
      shared.delayMs,
      (chunk) => this.onUpstreamData(chunk),
      (kind) => this.onUpstreamEnd(kind),
      () => client.writableLength > HIGH_WATER_BYTES,
    );
    upstream.write(shared.setup);

    for (const [socket, flow] of [[client, this.inFlow], [upstream, this.outFlow]] as const) {
      // A reset must never crash the harness: every socket has an error listener.
      socket.on('error', () => flow.finish('reset'));
      socket.on('data', (chunk: Buffer) => flow.push(chunk));
      socket.on('end', () => flow.finish('end'));
      socket.on('close', (hadError) => {
        flow.finish(hadError ? 'reset' : 'end');
        if (client.destroyed && upstream.destroyed) this.destroy(false, this.reason ?? 'end');
      });
      socket.on('drain', () => {
        this.inFlow.kick();
        this.outFlow.kick();
      });
    }
  }

  /** Tear both sockets down; with `reset`, send RST so the peer sees ECONNRESET rather than a clean close. */
  destroy(reset: boolean, reason: string): void {
    if (!this.gone) {
      this.gone = true;
      this.reason ??= reason;
      this.inFlow.stop();
      this.outFlow.stop();
      this.reader.stop();
      this.record('close', { reason: this.reason });
      this.onGone(this);
    }
    for (const socket of [this.client, this.upstream]) {
      if (socket.destroyed) continue;
      try {
        if (reset && !(socket instanceof tls.TLSSocket)) abortSocket(socket);
        else socket.destroy();
      } catch {
        socket.destroy();
      }
    }
  }

  // ---- records

  private record(kind: RedisRecordKind, extra: Omit<RedisRecord, 't' | 'conn' | 'kind' | 'tag'>): void {
    const fn = this.shared.recordFn;
    if (!fn) return;
    const r: RedisRecord = { t: this.shared.nowUs(), conn: this.id, kind, ...extra };
    if (this.tag !== undefined) r.tag = this.tag;
    try {
      fn(r);
    } catch {
      // a failing recorder must not break the connection
    }
  }

  // ---- client → upstream

  private onClientData(chunk: Buffer): void {
    if (this.gone || this.closing) return;
    this.reader.feed(chunk);
    this.flushOut();
  }

  private onClientEnd(kind: 'end' | 'reset'): void {
    if (kind === 'reset') return this.destroy(true, 'peer-reset'); // pass an abrupt close on as one
    this.reason ??= 'end';
    this.flushOut();
    if (this.ready) this.upstream.end();
    else this.endUpstreamWhenReady = true;
  }

  private garbage(reason: string, sample: Buffer): void {
    this.record('garbage', { error: reason, args: [hexEscape(sample.subarray(0, 32))] });
    this.closeWithError(PROTOCOL_ERROR, 'protocol-error');
  }

  /** A whole command was read: send it (or the proxy's reply), record it, and queue what its reply needs. */
  private complete(c: ReadCommand, v: Verdict): void {
    const session = this.session;
    if (v.do !== 'forward' && v.authenticates) session.authed = true;
    const rec = this.shared.recordFn ? recordArgs(c, this.shared.password) : undefined;
    if (v.do === 'answer') {
      if (v.refused !== undefined) {
        this.record('refused', { args: rec?.args, error: v.refused, ...(rec?.truncated ? { truncated: true } : {}) });
        if (session.inMulti) session.multiDirty = true; // as Redis does with a command that fails to queue
      } else this.record('command', { args: rec?.args, ...(rec?.truncated ? { truncated: true } : {}) });
      this.replies.push({ k: 'inject', data: v.reply, close: v.close });
      return;
    }
    if (v.do === 'rewrite') appendMerged(this.upOut, encodeCommand(v.args));
    else if (c.inline) appendMerged(this.upOut, encodeCommand(c.args));
    if (rec) this.record('command', rec.truncated ? { args: rec.args, truncated: true } : { args: rec.args });

    const name = c.name;
    if (name === 'MULTI') session.inMulti = true;
    else if (name === 'EXEC' || name === 'DISCARD') {
      session.inMulti = false;
      session.multiDirty = false;
    }
    if (v.do === 'rewrite' && v.entries) {
      for (const e of v.entries) if (!this.subIntent || e.k === 'inject') this.replies.push(e);
      return;
    }
    if (name === 'RESET') {
      // Upstream RESET returns to database 0 and drops authentication: re-establish both before anything else.
      this.replies.push({ k: 'reset' });
      appendMerged(this.upOut, this.shared.setup);
      for (const e of this.shared.setupEntries()) this.replies.push({ ...e, setup: false });
      session.authed = this.shared.password.length === 0;
      session.inMulti = false;
      session.multiDirty = false;
      this.subIntent = false;
      return;
    }
    if (SUBSCRIBE.has(name)) {
      if (!this.subIntent) this.replies.push({ k: 'sub' });
      this.subIntent = true;
      return;
    }
    if (!this.subIntent) this.replies.push({ k: 'up', args: rec?.args });
  }

  // ---- upstream → client

  private onUpstreamData(chunk: Buffer): void {
    if (this.gone) return;
    this.replies.feed(chunk);
    this.flushOut();
  }

  private onUpstreamEnd(kind: 'end' | 'reset'): void {
    if (kind === 'reset') return this.destroy(true, 'peer-reset');
    this.reason ??= 'end';
    this.flushOut();
    if (!this.client.destroyed) this.client.end();
  }

  private becomeReady(): void {
    this.ready = true;
    if (this.hold.length) {
      const held = this.hold;
      this.hold = [];
      this.holdBytes = 0;
      this.write(this.upstream, held);
    }
    if (this.endUpstreamWhenReady) this.upstream.end();
    this.inFlow.kick();
  }

  // ---- output

  private flushOut(): void {
    if (this.upOut.length) {
      const out = this.upOut;
      this.upOut = [];
      if (this.ready) this.write(this.upstream, out);
      else
        for (const b of out) {
          this.hold.push(b);
          this.holdBytes += b.length;
        }
    }
    if (this.downOut.length) {
      const out = this.downOut;
      this.downOut = [];
      this.write(this.client, out);
    }
  }

  private write(socket: net.Socket, list: Buffer[]): void {
    if (socket.destroyed || !socket.writable) return;
    if (list.length === 1) {
      socket.write(list[0]);
      return;
    }
    socket.cork();
    for (const b of list) socket.write(b);
    socket.uncork();
  }

  /** Answer the client with an error and close: the client at once, upstream after what was already sent. */
  private closeWithError(message: string, reason: string): void {
    if (this.closing || this.gone) return;
    this.closing = true;
    this.reason ??= reason;
    this.reader.stop();
    const up = this.upOut;
    this.upOut = [];
    if (this.ready && up.length) this.write(this.upstream, up); // commands read before the bad bytes
    if (this.downOut.length) this.write(this.client, this.downOut.splice(0));
    const client = this.client;
    if (!client.destroyed && client.writable) client.end(errorReply(message), () => client.destroy());
    else client.destroy();
    this.upstream.end();
    setTimeout(() => this.destroy(false, reason), 2000).unref();
  }

  /** QUIT before authentication: +OK, then close. */
  private closeAfterReply(): void {
    this.closing = true;
    this.reason ??= 'end';
    this.reader.stop();
    this.flushOut();
    const client = this.client;
    if (!client.destroyed && client.writable) client.end(() => client.destroy());
    this.upstream.end();
    setTimeout(() => this.destroy(false, 'end'), 2000).unref();
  }
}
