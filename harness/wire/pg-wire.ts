// A streaming, I/O-free decoder of the PostgreSQL v3 wire protocol, fed the bytes a proxy sees each way: it
// emits one small record per statement-level event (startup, query, parse/bind/execute, command complete,
// error, ready-for-query, COPY, close) and skips everything else (rows, descriptions, auth) by counting bytes.

export type SqlRecordKind =
  | 'startup'
  | 'query'
  | 'parse'
  | 'bind'
  | 'execute'
  | 'complete'
  | 'error'
  | 'ready'
  | 'copy'
  | 'cancel'
  | 'ssl'
  | 'close'
  | 'garbage'
  | 'terminate'
  | 'notice';

export interface SqlRecord {
  /** µs, from the decoder's nowUs() clock, when the message was complete. */
  t: number;
  /** Connection id (per proxy, increasing). */
  conn: number;
  /** The tag of the listener the connection came through; absent for the default listener. */
  tag?: string;
  kind: SqlRecordKind;
  /** Query text (query, parse), cut at maxMessageBytes with `truncated: true`. */
  sql?: string;
  /** Prepared statement name (parse, bind); omitted when unnamed. */
  name?: string;
  /** Portal name (bind, execute); omitted when unnamed. */
  portal?: string;
  /** Bind parameter values: text format as a string, binary as "\\x<hex>", NULL as null (each cut at 4 KiB). */
  params?: (string | null)[];
  /** CommandComplete tag, e.g. "UPDATE 1". */
  commandTag?: string;
  /** ErrorResponse (or WARNING NoticeResponse) SQLSTATE (field C). */
  code?: string;
  /** ErrorResponse message (field M); what a close, ssl, copy or garbage record is about. */
  message?: string;
  /** ReadyForQuery transaction status. */
  status?: 'I' | 'T' | 'E';
  /** StartupMessage parameters. */
  user?: string;
  database?: string;
  /** COPY: how many data bytes the client sent (the data itself is never recorded). */
  bytes?: number;
  /** Something recorded was cut (text, a parameter, or parameters past the budget). */
  truncated?: boolean;
}

export interface PgWireDecoderOptions {
  conn: number;
  tag?: string;
  nowUs(): number;
  /** Called synchronously for each record; an exception it throws is swallowed. */
  emit(r: SqlRecord): void;
  /** Most bytes kept of one recorded message body (and of all bind parameters together); 64 KiB by default. */
  maxMessageBytes?: number;
}

export interface PgWireDecoder {
  /** Frontend bytes, in order. */
  fromClient(chunk: Buffer): void;
  /** Backend bytes, in order (as the client sees them, including a proxy's own answer to an SSLRequest). */
  fromServer(chunk: Buffer): void;
  /** The connection is gone: emit one 'close' record (once) and decode nothing more. */
  close(reason: string): void;
  /** Bytes the decoder holds right now (buffers of messages split over chunks); for tests and stats. */
  bufferedBytes(): number;
}

/** Codes of the untyped requests a client may send before its StartupMessage. */
export const SSL_REQUEST = 80877103;
export const GSSENC_REQUEST = 80877104;
export const CANCEL_REQUEST = 80877102;
/** PostgreSQL refuses larger startup packets (MAX_STARTUP_PACKET_LENGTH). */
const MAX_STARTUP_BYTES = 10_000;
/** PostgreSQL refuses larger frontend messages (PQ_LARGE_MESSAGE_LIMIT); backend ones fit an int32. */
const MAX_FRONTEND_LENGTH = 0x3fffffff;
const MAX_BACKEND_LENGTH = 0x7fffffff;
const PARAM_KEEP_BYTES = 4096;
const NAME_KEEP_BYTES = 1024;
const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024;

// What to do with a message of a given type byte.
const INVALID = 0;
const SKIP = 1; // count its bytes, record nothing
const KEEP = 2; // keep its body (up to the cap), then record it
const BIND = 3; // parse as it streams (parameters can be large)
const COPY_DATA = 4; // skip, but add its size to the COPY in progress

function table(entries: Record<string, number>): Uint8Array {
  const t = new Uint8Array(256);
  for (const [ch, action] of Object.entries(entries)) t[ch.charCodeAt(0)] = action;
  return t;
}

function lengths(entries: Record<string, number>): Int32Array {
  const t = new Int32Array(256).fill(-1);
  for (const [ch, len] of Object.entries(entries)) t[ch.charCodeAt(0)] = len;
  return t;
}

const FRONTEND_ACTIONS = table({
  Q: KEEP, P: KEEP, B: BIND, E: KEEP, X: KEEP, c: KEEP, f: KEEP, d: COPY_DATA,
  S: SKIP, H: SKIP, D: SKIP, C: SKIP, F: SKIP, p: SKIP, // p: password / SASL, never kept
});
const BACKEND_ACTIONS = table({
  C: KEEP, E: KEEP, Z: KEEP, N: KEEP,
  R: SKIP, K: SKIP, S: SKIP, D: SKIP, T: SKIP, t: SKIP, n: SKIP, '1': SKIP, '2': SKIP, '3': SKIP,
  A: SKIP, s: SKIP, I: SKIP, G: SKIP, H: SKIP, W: SKIP, d: SKIP, c: SKIP, V: SKIP, v: SKIP,
});
// Whole-message lengths fixed by the protocol: a mismatch means the stream is not what we think it is.
const FRONTEND_FIXED = lengths({ S: 4, H: 4, X: 4, c: 4 });
const BACKEND_FIXED = lengths({ Z: 5, '1': 4, '2': 4, '3': 4, n: 4, s: 4, I: 4, c: 4 });

/** UTF-8 text of buf[start, end); when `cut`, a multi-byte character cut off at the end is dropped. */
function text(buf: Buffer, start: number, end: number, cut: boolean): string {
  if (cut && end > start) {
    let p = end - 1;
    while (p > start && p > end - 4 && (buf[p] & 0xc0) === 0x80) p--;
    const b = buf[p];
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    if (end - p < need) end = p;
  }
  return buf.toString('utf8', start, end);
}

/** A NUL-terminated string at pos in body (a whole message body, or its first bytes when `cut`). */
function cstring(body: Buffer, pos: number, cut: boolean): { value: string; next: number; cut: boolean } {
  const z = body.indexOf(0, pos);
  if (z === -1) return { value: text(body, pos, body.length, cut), next: body.length, cut: true };
  return { value: body.toString('utf8', pos, z), next: z + 1, cut: false };
}

function describeType(byte: number): string {
  return byte >= 0x20 && byte < 0x7f ? `'${String.fromCharCode(byte)}'` : `0x${byte.toString(16).padStart(2, '0')}`;
}

function paramValue(buf: Buffer, start: number, end: number, binary: boolean, cut: boolean): string {
  return binary ? '\\x' + buf.toString('hex', start, end) : text(buf, start, end, cut);
}

// Bind parser states.
const B_PORTAL = 0;
const B_STMT = 1;
const B_NFORMATS = 2;
const B_FORMAT = 3;
const B_NPARAMS = 4;
const B_PARAM_LEN = 5;
const B_PARAM_VALUE = 6;
const B_REST = 7;

/**
 * Parses a Bind message as its bytes arrive, keeping at most NAME_KEEP_BYTES of each name, PARAM_KEEP_BYTES of
 * each parameter and `budget` bytes of parameters in all, so a bind with a 100 MB parameter is never buffered.
 */
class BindParser {
  portal = '';
  statement = '';
  params: (string | null)[] = [];
  truncated = false;
  private state = B_PORTAL;
  private acc: Buffer | null = null; // name or parameter bytes split over chunks
  private accHave = 0;
  private accCut = false;
  private scratch = Buffer.alloc(4);
  private scratchHave = 0;
  private nFormats = 0;
  private formatAll = 0;
  private formats: Uint8Array | null = null;
  private index = 0;
  private nParams = 0;
  private valueLeft = 0;
  private valueKeep = 0;
  private valueCut = false;

  constructor(private budget: number) {}

  bufferedBytes(): number {
    return this.acc ? this.acc.length : 0;
  }

  feed(buf: Buffer, i: number, end: number): void {
    while (i < end) {
      const state = this.state;
      if (state === B_REST) return;
      if (state === B_PORTAL || state === B_STMT) {
        const z = buf.indexOf(0, i);
        const stop = z === -1 || z >= end ? end : z;
        let value: string | null = null;
        if (stop < end && this.acc === null) {
          value = text(buf, i, Math.min(stop, i + NAME_KEEP_BYTES), stop - i > NAME_KEEP_BYTES);
          if (stop - i > NAME_KEEP_BYTES) this.truncated = true;
        } else {
          this.keep(buf, i, stop, NAME_KEEP_BYTES);
          if (stop === end) return;
          value = this.takeAcc();
        }
        i = stop + 1;
        if (state === B_PORTAL) {
          this.portal = value;
          this.state = B_STMT;
        } else {
          this.statement = value;
          this.state = B_NFORMATS;
        }
        continue;
      }
      if (state === B_PARAM_VALUE) {
        const take = Math.min(this.valueLeft, end - i);
        const binary = (this.formats ? this.formats[this.index] ?? 0 : this.formatAll) !== 0;
        if (this.acc === null && take === this.valueLeft) {
          // the whole (rest of the) value is here and nothing was kept before: convert in place
          const keepEnd = i + Math.min(take, this.valueKeep);
          this.pushParam(paramValue(buf, i, keepEnd, binary, this.valueCut));
        } else {
          if (this.acc === null) this.startAcc(this.valueKeep);
          this.keep(buf, i, i + take, this.valueKeep);
          if (take === this.valueLeft) this.pushParam(this.takeAccValue(binary));
        }
        this.valueLeft -= take;
        i += take;
        if (this.valueLeft === 0) this.nextParam();
        continue;
      }
      // fixed-size integers
      const size = state === B_PARAM_LEN ? 4 : 2;
      let v: number;
      if (this.scratchHave === 0 && end - i >= size) {
        v = size === 4 ? buf.readInt32BE(i) : buf.readUInt16BE(i);
        i += size;
      } else {
        const take = Math.min(size - this.scratchHave, end - i);
        buf.copy(this.scratch, this.scratchHave, i, i + take);
        this.scratchHave += take;
        i += take;
        if (this.scratchHave < size) return;
        this.scratchHave = 0;
        v = size === 4 ? this.scratch.readInt32BE(0) : this.scratch.readUInt16BE(0);
      }
      this.onInt(v);
    }
  }

  private onInt(v: number): void {
    switch (this.state) {
      case B_NFORMATS:
        this.nFormats = v;
        if (v > 1) this.formats = new Uint8Array(v);
        this.index = 0;
        this.state = v > 0 ? B_FORMAT : B_NPARAMS;
        break;
      case B_FORMAT:
        if (this.formats) this.formats[this.index] = v === 0 ? 0 : 1;
        else this.formatAll = v;
        if (++this.index >= this.nFormats) this.state = B_NPARAMS;
        break;
      case B_NPARAMS:
        this.nParams = v;
        this.index = 0;
        this.state = v > 0 ? B_PARAM_LEN : B_REST;
        break;
      case B_PARAM_LEN:
        if (v === -1) {
          this.pushParam(null);
          this.budget -= 4;
          this.nextParam();
        } else if (v < 0) {
          this.truncated = true; // malformed: PostgreSQL rejects it too
          this.state = B_REST;
        } else if (this.budget <= 0) {
          this.truncated = true;
          this.state = B_REST;
        } else {
          this.valueLeft = v;
          this.valueKeep = Math.min(v, PARAM_KEEP_BYTES, this.budget);
          this.valueCut = v > this.valueKeep;
          if (this.valueCut) this.truncated = true;
          this.budget -= Math.max(4, this.valueKeep);
          if (v === 0) {
            const binary = (this.formats ? this.formats[this.index] ?? 0 : this.formatAll) !== 0;
            this.pushParam(binary ? '\\x' : '');
            this.nextParam();
          } else {
            this.state = B_PARAM_VALUE;
          }
        }
        break;
    }
  }

  private pushParam(value: string | null): void {
    this.params.push(value);
  }

  private nextParam(): void {
    this.index++;
    this.state = this.index < this.nParams ? B_PARAM_LEN : B_REST;
  }

  private startAcc(cap: number): void {
    this.acc = Buffer.allocUnsafe(cap);
    this.accHave = 0;
    this.accCut = false;
  }

  /** Append buf[start, end) to the accumulator, keeping at most `cap` bytes. */
  private keep(buf: Buffer, start: number, end: number, cap: number): void {
    if (this.acc === null) this.startAcc(cap);
    const acc = this.acc!;
    const room = acc.length - this.accHave;
    const n = Math.min(room, end - start);
    if (n > 0) {
      buf.copy(acc, this.accHave, start, start + n);
      this.accHave += n;
    }
    if (end - start > n) this.accCut = true;
  }

  private takeAcc(): string {
    const cut = this.accCut;
    if (cut) this.truncated = true;
    const value = this.acc ? text(this.acc, 0, this.accHave, cut) : '';
    this.acc = null;
    this.accHave = 0;
    this.accCut = false;
    return value;
  }

  private takeAccValue(binary: boolean): string {
    const value = paramValue(this.acc!, 0, this.accHave, binary, this.valueCut);
    this.acc = null;
    this.accHave = 0;
    this.accCut = false;
    return value;
  }
}

interface Direction {
  readonly client: boolean;
  readonly actions: Uint8Array;
  readonly fixed: Int32Array;
  readonly maxLength: number;
  done: boolean;
  /** Client only: before the StartupMessage, messages have no type byte. */
  startup: boolean;
  header: Buffer;
  headerHave: number;
  type: number;
  mode: number;
  /** Body bytes of the current message still to come. */
  left: number;
  /** KEEP messages split over chunks: their first bytes. */
  keep: Buffer | null;
  keepHave: number;
  keepCut: boolean;
  bind: BindParser | null;
}

function direction(client: boolean): Direction {
  return {
    client,
    actions: client ? FRONTEND_ACTIONS : BACKEND_ACTIONS,
    fixed: client ? FRONTEND_FIXED : BACKEND_FIXED,
    maxLength: client ? MAX_FRONTEND_LENGTH : MAX_BACKEND_LENGTH,
    done: false,
    startup: client,
    header: Buffer.alloc(5),
    headerHave: 0,
    type: 0,
    mode: SKIP,
    left: 0,
    keep: null,
    keepHave: 0,
    keepCut: false,
    bind: null,
  };
}

export function createPgWireDecoder(o: PgWireDecoderOptions): PgWireDecoder {
  const cap = Math.max(1, o.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES);
  const client = direction(true);
  const server = direction(false);
  let closed = false;
  /** SSLRequest / GSSENCRequest sent, whose one-byte answer the server direction has not seen yet. */
  let awaitingSslAnswers = 0;
  /** COPY data bytes sent since the last CopyDone / CopyFail; -1 when no COPY is in progress. */
  let copyBytes = -1;

  const emit = (fields: Omit<SqlRecord, 't' | 'conn'>): void => {
    const r: SqlRecord =
      o.tag === undefined ? { t: o.nowUs(), conn: o.conn, ...fields } : { t: o.nowUs(), conn: o.conn, tag: o.tag, ...fields };
    try {
      o.emit(r);
    } catch {
      // a failing sink must not break decoding (nor the proxy forwarding the bytes)
    }
  };

  const stop = (d: Direction): void => {
    d.done = true;
    d.keep = null;
    d.bind = null;
  };

  const garbage = (d: Direction, why: string): void => {
    stop(d);
    emit({ kind: 'garbage', message: `${d.client ? 'client' : 'server'}: ${why}; no more decoding this way` });
  };

  /** A typed or startup message header was read: set up its body. Returns false on garbage. */
  const begin = (d: Direction, h: Buffer, at: number): boolean => {
    if (d.startup) {
      const len = h.readInt32BE(at);
      if (len < 8 || len > MAX_STARTUP_BYTES) {
        garbage(d, `bad startup packet length ${len}`);
        return false;
      }
      d.type = 0;
      d.mode = KEEP;
      d.left = len - 4;
      return true;
    }
    const type = h[at];
    const len = h.readInt32BE(at + 1);
    const action = d.actions[type];
    if (action === INVALID) {
      garbage(d, `unknown message type ${describeType(type)} (length ${len})`);
      return false;
    }
    const fixed = d.fixed[type];
    if (len < 4 || len > d.maxLength || (fixed >= 0 && len !== fixed)) {
      garbage(d, `bad length ${len} for message type ${describeType(type)}`);
      return false;
    }
    d.type = type;
    d.left = len - 4;
    if (action === COPY_DATA) {
      copyBytes = Math.max(0, copyBytes) + d.left;
      d.mode = SKIP;
    } else {
      d.mode = action;
    }
    return true;
  };

  const onStartup = (body: Buffer, cut: boolean): void => {
    const code = body.readInt32BE(0);
    if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
      if (body.length !== 4) return garbage(client, `bad ${code === SSL_REQUEST ? 'SSLRequest' : 'GSSENCRequest'} length`);
      awaitingSslAnswers++;
      return emit({ kind: 'ssl', message: code === SSL_REQUEST ? 'SSLRequest' : 'GSSENCRequest' });
    }
    if (code === CANCEL_REQUEST) {
      stop(client); // nothing follows a CancelRequest on its connection
      return emit({ kind: 'cancel' });
    }
    if (code >>> 16 !== 3) return garbage(client, `unsupported protocol ${code >>> 16}.${code & 0xffff}`);
    client.startup = false;
    const r: Omit<SqlRecord, 't' | 'conn'> = { kind: 'startup' };
    let pos = 4;
    while (pos < body.length && body[pos] !== 0) {
      const key = cstring(body, pos, cut);
      const value = cstring(body, key.next, cut);
      pos = value.next;
      if (key.value === 'user') r.user = value.value;
      else if (key.value === 'database') r.database = value.value;
    }
    emit(r);
  };

  const onClientMessage = (type: number, body: Buffer, cut: boolean): void => {
    switch (type) {
      case 0x51: { // Q
        const q = cstring(body, 0, cut);
        return emit(q.cut ? { kind: 'query', sql: q.value, truncated: true } : { kind: 'query', sql: q.value });
      }
      case 0x50: { // P
        const name = cstring(body, 0, cut);
        const q = cstring(body, name.next, cut);
        const r: Omit<SqlRecord, 't' | 'conn'> = { kind: 'parse', sql: q.value };
        if (name.value) r.name = name.value;
        if (q.cut) r.truncated = true;
        return emit(r);
      }
      case 0x45: { // E
        const portal = cstring(body, 0, cut);
        return emit(portal.value ? { kind: 'execute', portal: portal.value } : { kind: 'execute' });
      }
      case 0x58: // X
        return emit({ kind: 'terminate' });
      case 0x63: // c
      case 0x66: { // f
        const bytes = Math.max(0, copyBytes);
        copyBytes = -1;
        if (type === 0x63) return emit({ kind: 'copy', bytes, message: 'done' });
        const why = cstring(body, 0, cut);
        return emit({ kind: 'copy', bytes, message: `failed: ${why.value}`, ...(why.cut ? { truncated: true } : {}) });
      }
    }
  };

  const onServerMessage = (type: number, body: Buffer, cut: boolean): void => {
    switch (type) {
      case 0x43: { // C
        const tag = cstring(body, 0, cut);
        return emit({ kind: 'complete', commandTag: tag.value });
      }
      case 0x45: // E
      case 0x4e: { // N: only WARNINGs are kept (e.g. 25P01 "there is no transaction in progress"), not chatter
        const r: Omit<SqlRecord, 't' | 'conn'> = { kind: type === 0x45 ? 'error' : 'notice' };
        let severity = '';
        let pos = 0;
        while (pos < body.length && body[pos] !== 0) {
          const field = body[pos];
          const value = cstring(body, pos + 1, cut);
          pos = value.next;
          if (field === 0x43) r.code = value.value;
          else if (field === 0x56) severity = value.value;
          else if (field === 0x4d) {
            r.message = value.value;
            if (value.cut) r.truncated = true;
          }
        }
        if (type === 0x4e && severity !== 'WARNING') return;
        return emit(r);
      }
      case 0x5a: { // Z
        const status = String.fromCharCode(body[0]);
        if (status !== 'I' && status !== 'T' && status !== 'E') return garbage(server, `bad ReadyForQuery status ${describeType(body[0])}`);
        return emit({ kind: 'ready', status });
      }
    }
  };

  /** The current message is complete; `body` holds its (first) bytes when it was kept. */
  const finish = (d: Direction, body: Buffer | null, cut: boolean): void => {
    if (d.mode === KEEP) {
      const b = body ?? Buffer.alloc(0);
      if (d.client && d.startup) onStartup(b, cut);
      else if (d.client) onClientMessage(d.type, b, cut);
      else onServerMessage(d.type, b, cut);
    } else if (d.mode === BIND && d.bind) {
      const p = d.bind;
      const r: Omit<SqlRecord, 't' | 'conn'> = { kind: 'bind', params: p.params };
      if (p.statement) r.name = p.statement;
      if (p.portal) r.portal = p.portal;
      if (p.truncated) r.truncated = true;
      emit(r);
    }
    d.keep = null;
    d.bind = null;
    d.mode = SKIP;
  };

  const consume = (d: Direction, chunk: Buffer): void => {
    const n = chunk.length;
    let i = 0;
    while (i < n && !d.done && !closed) {
      if (d.left > 0) {
        const take = Math.min(d.left, n - i);
        if (d.mode === KEEP && d.keep) {
          const room = d.keep.length - d.keepHave;
          if (room > 0) {
            const k = Math.min(room, take);
            chunk.copy(d.keep, d.keepHave, i, i + k);
            d.keepHave += k;
          }
          if (take > room) d.keepCut = true;
        } else if (d.mode === BIND && d.bind) {
          d.bind.feed(chunk, i, i + take);
        }
        i += take;
        d.left -= take;
        if (d.left === 0) finish(d, d.keep ? d.keep.subarray(0, d.keepHave) : null, d.keepCut);
        continue;
      }
      if (!d.client && awaitingSslAnswers > 0 && d.headerHave === 0) {
        const answer = chunk[i];
        if (answer === 0x4e) { // 'N': carry on in the clear
          awaitingSslAnswers--;
          i++;
          continue;
        }
        awaitingSslAnswers = 0;
        if (answer === 0x53 || answer === 0x47) { // 'S' / 'G': encrypted from here on
          stop(client);
          stop(server);
          emit({ kind: 'ssl', message: `${answer === 0x53 ? 'SSL' : 'GSS'} encryption accepted; not decoded` });
          return;
        }
        // anything else (an old server's ErrorResponse) is a typed message
      }
      const headerSize = d.startup ? 4 : 5;
      let header: Buffer;
      let at: number;
      if (d.headerHave === 0 && n - i >= headerSize) {
        header = chunk;
        at = i;
        i += headerSize;
      } else {
        const take = Math.min(headerSize - d.headerHave, n - i);
        chunk.copy(d.header, d.headerHave, i, i + take);
        d.headerHave += take;
        i += take;
        if (d.headerHave < headerSize) return;
        d.headerHave = 0;
        header = d.header;
        at = 0;
      }
      if (!begin(d, header, at)) return;
      if (d.mode === KEEP) {
        const keepLen = Math.min(d.left, d.startup ? MAX_STARTUP_BYTES : cap);
        if (d.left <= n - i) {
          // the whole body is in this chunk: decode it in place, no copy
          const body = chunk.subarray(i, i + keepLen);
          const cut = keepLen < d.left;
          i += d.left;
          d.left = 0;
          finish(d, body, cut);
          continue;
        }
        d.keep = Buffer.allocUnsafe(keepLen);
        d.keepHave = 0;
        d.keepCut = false;
      } else if (d.mode === BIND) {
        d.bind = new BindParser(cap);
      }
      if (d.left === 0) finish(d, null, false);
    }
  };

  const feed = (d: Direction, chunk: Buffer): void => {
    if (d.done || closed) return;
    try {
      consume(d, chunk);
    } catch (err) {
      garbage(d, `undecodable (${err instanceof Error ? err.message : String(err)})`);
    }
  };

  return {
    fromClient: (chunk) => feed(client, chunk),
    fromServer: (chunk) => feed(server, chunk),
    close(reason) {
      if (closed) return;
      if (copyBytes >= 0) emit({ kind: 'copy', bytes: copyBytes, message: 'interrupted' });
      emit({ kind: 'close', message: reason });
      closed = true;
      stop(client);
      stop(server);
    },
    bufferedBytes() {
      let total = 0;
      for (const d of [client, server]) {
        if (d.keep) total += d.keep.length;
        if (d.bind) total += d.bind.bufferedBytes();
      }
      return total;
    },
  };
}
