// Minimal HTTP/1.1 client over raw sockets, so a call's fate is known exactly (refused before sending = did
// not happen; reset or timeout after sending = may have happened) and so a burst can open every connection
// first and then write every request at once (barrier release).

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  path: string;
  headers?: Record<string, string>;
  /** Sent as JSON unless `rawBody` is given. */
  body?: unknown;
  /** Exact bytes to send (e.g. a signed webhook body). */
  rawBody?: string;
}

export interface HttpResponse {
  /** 0 when no response arrived. */
  status: number;
  headers: Record<string, string>;
  bodyText: string;
  /** Parsed JSON body, or undefined. */
  body: unknown;
  /** What went wrong at the transport level, when no full response arrived (`too-large`: over MAX_RESPONSE_BYTES). */
  transport?: 'refused' | 'reset' | 'timeout' | 'error' | 'too-large';
  /** Whether request bytes were written before a transport failure (decides fail vs info). */
  sent: boolean;
  transportError?: string;
}

import net from 'node:net';

/**
 * Largest response the harness reads (head and body). A bigger one is cut off and recorded as no answer
 * (indeterminate): a submission cannot make the harness buffer gigabytes. No contract answer comes near it.
 */
export const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

export interface Target {
  host: string;
  port: number;
  /** A contained instance is reached through a Unix socket (its `host`/`port` are then only the Host header). */
  socketPath?: string;
}

/** Serialise a request to the exact bytes written on the socket (`Connection: close`: one call, one connection). */
export function encodeRequest(target: Target, req: HttpRequest): Buffer {
  const body = req.rawBody ?? (req.body === undefined ? '' : JSON.stringify(req.body));
  const headers: Record<string, string> = {
    host: target.socketPath ? 'localhost' : `${target.host}:${target.port}`,
    connection: 'close',
    ...(body || req.method !== 'GET' ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}),
    ...lowerKeys(req.headers ?? {}),
  };
  let head = `${req.method} ${req.path} HTTP/1.1\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  return Buffer.concat([Buffer.from(head + '\r\n', 'latin1'), Buffer.from(body, 'utf8')]);
}

function lowerKeys(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = v;
  return out;
}

/** Incremental HTTP/1.1 response parser (Content-Length, chunked, or until close). */
class ResponseParser {
  private buf: Buffer = Buffer.alloc(0);
  /** Chunks received after `buf` was last joined (joined only when they may complete the response). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Every byte received so far. */
  received = 0;
  status = 0;
  headers: Record<string, string> = {};
  private headEnd = -1;
  body: Buffer | null = null;

  /** Feed bytes; returns true once the response is complete. */
  push(chunk: Buffer): boolean {
    this.received += chunk.length;
    const len = this.headEnd >= 0 ? this.headers['content-length'] : undefined;
    if (len !== undefined && this.buf.length + this.pendingBytes + chunk.length < this.headEnd + Number(len)) {
      // A long body: keep the pieces and join them once, not once per chunk.
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      return false;
    }
    this.buf = Buffer.concat([this.buf, ...this.pending, chunk]);
    this.pending = [];
    this.pendingBytes = 0;
    return this.tryComplete(false);
  }

  /** The peer closed: complete if the framing allows it. */
  end(): boolean {
    if (this.pending.length) {
      this.buf = Buffer.concat([this.buf, ...this.pending]);
      this.pending = [];
      this.pendingBytes = 0;
    }
    return this.tryComplete(true);
  }

  get headComplete(): boolean {
    return this.headEnd >= 0;
  }

  private tryComplete(closed: boolean): boolean {
    if (this.body) return true;
    if (this.headEnd < 0) {
      const idx = this.buf.indexOf('\r\n\r\n');
      if (idx < 0) return false;
      this.headEnd = idx + 4;
      const lines = this.buf.subarray(0, idx).toString('latin1').split('\r\n');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
      this.status = m ? Number(m[1]) : 0;
      for (const line of lines.slice(1)) {
        const c = line.indexOf(':');
        if (c > 0) this.headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
      }
    }
    const rest = this.buf.subarray(this.headEnd);
    const len = this.headers['content-length'];
    if (len !== undefined) {
      const n = Number(len);
      if (rest.length >= n) this.body = rest.subarray(0, n);
    } else if (/chunked/i.test(this.headers['transfer-encoding'] ?? '')) {
      const decoded = decodeChunked(rest);
      if (decoded) this.body = decoded;
    } else if (this.status === 204 || this.status === 304) {
      this.body = Buffer.alloc(0);
    } else if (closed) {
      this.body = rest;
    }
    return this.body !== null;
  }
}

function decodeChunked(data: Buffer): Buffer | null {
  const parts: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', pos);
    if (lineEnd < 0) return null;
    const size = parseInt(data.subarray(pos, lineEnd).toString('latin1'), 16);
    if (Number.isNaN(size)) return null;
    pos = lineEnd + 2;
    if (size === 0) return Buffer.concat(parts);
    if (data.length < pos + size + 2) return null;
    parts.push(data.subarray(pos, pos + size));
    pos += size + 2;
  }
}

function toResponse(p: ResponseParser): HttpResponse {
  const bodyText = p.body ? p.body.toString('utf8') : '';
  let body: unknown;
  if (bodyText) {
    try {
      body = JSON.parse(bodyText);
    } catch {
      body = undefined;
    }
  }
  return { status: p.status, headers: p.headers, bodyText, body, sent: true };
}

function transportFailure(kind: HttpResponse['transport'], sent: boolean, err?: string): HttpResponse {
  return { status: 0, headers: {}, bodyText: '', body: undefined, transport: kind, sent, transportError: err };
}

/** A connection opened ahead of time, to be written to at release. */
export interface OpenConnection {
  socket: net.Socket | null;
  /** Set when the connect failed: the request can never be sent (a definite failure). */
  failure?: HttpResponse;
}

/** Open a TCP connection; never rejects. */
export function openConnection(target: Target, timeoutMs: number): Promise<OpenConnection> {
  return new Promise((resolve) => {
    const socket = target.socketPath ? net.connect({ path: target.socketPath }) : net.connect({ host: target.host, port: target.port });
    socket.setNoDelay?.(true);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ socket: null, failure: transportFailure('timeout', false, `connect to ${target.socketPath ?? `${target.host}:${target.port}`} timed out`) });
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.on('error', () => {}); // errors after connect are handled by exchange()
      resolve({ socket });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      // A contained instance's socket file is gone or not yet there: as refused as a closed port.
      const refused = err.code === 'ECONNREFUSED' || (!!target.socketPath && err.code === 'ENOENT');
      resolve({ socket: null, failure: transportFailure(refused ? 'refused' : 'error', false, `${err.code ?? ''} ${err.message}`.trim()) });
    });
  });
}

/** An exchange whose listeners are attached ahead of time, so that sending is a bare socket write. */
export interface ArmedExchange {
  /** Write the first part of the request ahead of time (nothing is sent as far as the history is concerned). */
  prime(bytes: Buffer): void;
  /** Write the (rest of the) request now; the answer timeout starts here. Returns false when there is no connection. */
  send(bytes: Buffer): boolean;
  /** Give up now: the call ends as a timeout (sent, so indeterminate) with this reason. No-op once answered. */
  expire(reason: string): void;
  readonly result: Promise<HttpResponse>;
}

/**
 * Attach the listeners for one request/response on an open connection. The result is a transport failure on
 * reset or timeout after sending (the request was sent, so its effect is unknown).
 */
export function arm(conn: OpenConnection, timeoutMs: number): ArmedExchange {
  if (!conn.socket) {
    const failure = conn.failure ?? transportFailure('error', false, 'no connection');
    return { prime: () => {}, send: () => false, expire: () => {}, result: Promise.resolve(failure) };
  }
  const socket = conn.socket;
  let resolve!: (r: HttpResponse) => void;
  const result = new Promise<HttpResponse>((r) => (resolve = r));
  const parser = new ResponseParser();
  let done = false;
  let sent = false;
  let timer: NodeJS.Timeout | undefined;
  const finish = (res: HttpResponse) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    socket.destroy();
    resolve(res);
  };
  const failed = (kind: 'reset' | 'error', why: string) => transportFailure(kind, sent, why);
  socket.on('data', (chunk: Buffer) => {
    if (parser.push(chunk)) finish(toResponse(parser));
    else if (parser.received > MAX_RESPONSE_BYTES) {
      finish(transportFailure('too-large', sent, `the response exceeded ${MAX_RESPONSE_BYTES} bytes (gauntlet's response-size cap); the rest was not read and the call counts as unanswered`));
    }
  });
  socket.on('end', () => {
    if (parser.end()) finish(toResponse(parser));
    else finish(failed('reset', parser.headComplete ? 'connection closed mid-body' : 'connection closed before any answer'));
  });
  socket.on('close', () => {
    if (!done) finish(parser.end() ? toResponse(parser) : failed('reset', 'connection closed before any answer'));
  });
  socket.on('error', (err: NodeJS.ErrnoException) => finish(failed('reset', `${err.code ?? ''} ${err.message}`.trim())));
  return {
    result,
    expire(reason: string) {
      finish(transportFailure('timeout', sent, reason));
    },
    prime(bytes: Buffer) {
      // A server that answers a partial request (or drops it) has not seen the whole request: still "not sent".
      if (!done) socket.write(bytes);
    },
    send(bytes: Buffer) {
      if (done) return false;
      sent = true;
      timer = setTimeout(() => finish(transportFailure('timeout', true, `no answer within ${timeoutMs} ms`)), timeoutMs);
      socket.write(bytes);
      return true;
    },
  };
}

/** Write the request on an open connection and read the answer. Never rejects. */
export function exchange(conn: OpenConnection, bytes: Buffer, timeoutMs: number): Promise<HttpResponse> {
  const x = arm(conn, timeoutMs);
  x.send(bytes);
  return x.result;
}

/** One request on a fresh connection. Never rejects. */
export async function httpCall(target: Target, req: HttpRequest, timeoutMs: number): Promise<HttpResponse> {
  const conn = await openConnection(target, Math.min(timeoutMs, 5000));
  return exchange(conn, encodeRequest(target, req), timeoutMs);
}

/** Parse `http://host:port` into a Target. */
export function targetOf(baseUrl: string): Target {
  const u = new URL(baseUrl);
  return { host: u.hostname, port: Number(u.port) };
}
