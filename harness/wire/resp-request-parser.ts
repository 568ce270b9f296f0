// Incremental parser of what a Redis client sends: RESP2 multibulk commands (*<n> then $<len> <bytes> each) and
// inline commands (a line of words, split as redis-server does). It is fed chunks cut anywhere and reports each
// command to a sink as it goes: argument headers, a capped prefix of each argument (as much as the sink asks
// for), and the command's raw bytes in order, so a value of any size streams through without being held whole.
// Anything that is not a command (bad lengths, control bytes in an inline line, unbalanced quotes) is reported
// once as garbage and the parser stops.

import { isUtf8 } from 'node:buffer';
import { parseInteger } from './resp-primitives.ts';

/** Hard limits on any command: its number of arguments, and each one's length (Redis's proto-max-bulk-len). */
export const MAX_ARGS = 1024 * 1024;
export const MAX_BULK = 512 * 1024 * 1024;
const MAX_INLINE_BYTES = 64 * 1024;
/** A '*<n>' or '$<len>' line is never longer than this. */
const MAX_HEADER_LINE = 32;
const EMPTY = Buffer.alloc(0);

export interface RequestSink {
  /** A multibulk command starts ('*'); its raw bytes follow through bytes(). */
  begin(): void;
  count(argc: number): void;
  /** `*0`: nothing (Redis ignores it). */
  abandon(): void;
  /** How many bytes of argument `index` to capture (given to argDone). */
  argStart(index: number): number;
  /** Raw bytes of the current multibulk command, in order, as they are parsed. */
  bytes(slice: Buffer): void;
  /** Argument `index` ended: `captured` is its first argStart() bytes, `len` its whole length. */
  argDone(index: number, captured: Buffer, len: number): void;
  done(): void;
  /** A whole inline command (never empty). */
  inline(args: Buffer[]): void;
  garbage(reason: string, sample: Buffer): void;
}

/** Where the parser is in the stream. */
const enum State {
  Start,
  Count,
  Inline,
  BulkHeader,
  Bulk,
  BulkCr,
  BulkLf,
  Dead,
}

export class RequestParser {
  private state = State.Start;
  private line: Buffer[] = [];
  private lineLen = 0;
  private argc = 0;
  private index = 0;
  private left = 0;
  private argLen = 0;
  private cap = 0;
  private capParts: Buffer[] = [];
  private capLen = 0;
  private inCmd = false;
  private emitFrom = 0;

  constructor(
    private readonly sink: RequestSink,
    /** Read at each header: the most arguments and the longest argument allowed now (within MAX_ARGS, MAX_BULK). */
    private readonly limits: () => { maxArgs: number; maxBulk: number },
  ) {}

  /** Stop: whatever comes next is ignored. */
  kill(): void {
    this.state = State.Dead;
  }

  get dead(): boolean {
    return this.state === State.Dead;
  }

  feed(buf: Buffer): void {
    const n = buf.length;
    let i = 0;
    this.emitFrom = 0;
    while (i < n) {
      switch (this.state) {
        case State.Dead:
          return;
        case State.Start: {
          if (buf[i] === 0x2a) {
            this.inCmd = true;
            this.emitFrom = i;
            this.line = [];
            this.lineLen = 0;
            this.state = State.Count;
            this.sink.begin();
            i++;
          } else {
            this.line = [];
            this.lineLen = 0;
            this.state = State.Inline;
          }
          break;
        }
        case State.Inline: {
          let j = i;
          for (; j < n; j++) {
            const c = buf[j];
            if (c === 0x0a) break;
            if ((c < 0x20 && c !== 0x09 && c !== 0x0d) || c === 0x7f) {
              this.fail('unexpected byte in an inline command', Buffer.concat([...this.line, buf.subarray(i, Math.min(n, j + 16))]));
              return;
            }
          }
          this.line.push(buf.subarray(i, j));
          this.lineLen += j - i;
          if (this.lineLen > MAX_INLINE_BYTES) {
            this.fail('inline command too long', Buffer.concat(this.line).subarray(0, 32));
            return;
          }
          if (j >= n) {
            i = n;
            break;
          }
          i = j + 1;
          let lineBuf = this.line.length === 1 ? this.line[0] : Buffer.concat(this.line);
          this.line = [];
          this.lineLen = 0;
          this.state = State.Start;
          if (lineBuf.length && lineBuf[lineBuf.length - 1] === 0x0d) lineBuf = lineBuf.subarray(0, lineBuf.length - 1);
          if (lineBuf.includes(0x0d) || !isUtf8(lineBuf)) {
            this.fail('unexpected byte in an inline command', lineBuf.subarray(0, 32));
            return;
          }
          const args = splitInline(lineBuf);
          if (!args) {
            this.fail('unbalanced quotes in an inline command', lineBuf.subarray(0, 32));
            return;
          }
          if (args.length) this.sink.inline(args);
          break;
        }
        case State.Count:
        case State.BulkHeader: {
          const nl = buf.indexOf(0x0a, i);
          const end = nl === -1 ? n : nl;
          if (this.lineLen + (end - i) > MAX_HEADER_LINE) {
            this.fail(this.state === State.Count ? 'invalid multibulk length' : 'invalid bulk length', Buffer.concat([...this.line, buf.subarray(i, Math.min(end, i + 32))]));
            return;
          }
          if (nl === -1) {
            this.line.push(Buffer.from(buf.subarray(i, n)));
            this.lineLen += n - i;
            i = n;
            break;
          }
          const lineBuf = this.lineLen ? Buffer.concat([...this.line, buf.subarray(i, nl)]) : buf.subarray(i, nl);
          this.line = [];
          this.lineLen = 0;
          i = nl + 1;
          if (lineBuf.length < 1 || lineBuf[lineBuf.length - 1] !== 0x0d) {
            this.fail('header line without CRLF', lineBuf);
            return;
          }
          const limits = this.limits();
          if (this.state === State.Count) {
            const argc = parseInteger(lineBuf, 0, lineBuf.length - 1);
            if (!Number.isInteger(argc) || argc < 0 || argc > Math.min(MAX_ARGS, limits.maxArgs)) {
              this.fail('invalid multibulk length', Buffer.concat([Buffer.from('*'), lineBuf]));
              return;
            }
            if (argc === 0) {
              this.inCmd = false;
              this.state = State.Start;
              this.sink.abandon();
              break;
            }
            this.argc = argc;
            this.index = 0;
            this.state = State.BulkHeader;
            this.sink.count(argc);
            break;
          }
          if (lineBuf[0] !== 0x24) {
            this.fail("expected '$'", lineBuf);
            return;
          }
          const len = parseInteger(lineBuf, 1, lineBuf.length - 1);
          if (!Number.isInteger(len) || len < 0 || len > Math.min(MAX_BULK, limits.maxBulk)) {
            this.fail('invalid bulk length', lineBuf);
            return;
          }
          this.argLen = len;
          this.left = len;
          this.capParts = [];
          this.capLen = 0;
          this.cap = this.sink.argStart(this.index);
          if (this.dead) return;
          this.state = len === 0 ? State.BulkCr : State.Bulk;
          break;
        }
        case State.Bulk: {
          const take = Math.min(this.left, n - i);
          if (this.capLen < this.cap) {
            const c = Math.min(take, this.cap - this.capLen);
            this.capParts.push(buf.subarray(i, i + c));
            this.capLen += c;
          }
          i += take;
          this.left -= take;
          if (this.left === 0) this.state = State.BulkCr;
          break;
        }
        case State.BulkCr: {
          if (buf[i] !== 0x0d) {
            this.fail('bulk not followed by CRLF', buf.subarray(i, i + 16));
            return;
          }
          i++;
          this.state = State.BulkLf;
          break;
        }
        case State.BulkLf: {
          if (buf[i] !== 0x0a) {
            this.fail('bulk not followed by CRLF', buf.subarray(i, i + 16));
            return;
          }
          i++;
          this.flushRaw(buf, i);
          const captured = this.capParts.length === 1 ? this.capParts[0] : this.capParts.length ? Buffer.concat(this.capParts) : EMPTY;
          this.capParts = [];
          const index = this.index++;
          this.state = this.index === this.argc ? State.Start : State.BulkHeader;
          this.sink.argDone(index, captured, this.argLen);
          if (this.dead) return;
          if (this.state === State.Start) {
            this.inCmd = false;
            this.sink.done();
            if (this.dead) return;
          }
          break;
        }
      }
    }
    if (this.inCmd) this.flushRaw(buf, n);
  }

  private flushRaw(buf: Buffer, to: number): void {
    if (to > this.emitFrom) this.sink.bytes(buf.subarray(this.emitFrom, to));
    this.emitFrom = to;
  }

  private fail(reason: string, sample: Buffer): void {
    this.state = State.Dead;
    this.inCmd = false;
    this.sink.garbage(reason, sample);
  }
}

/** Redis's sdssplitargs: words, "double quoted" with \n \xHH escapes, 'single quoted'; null when unbalanced. */
function splitInline(line: Buffer): Buffer[] | null {
  const args: Buffer[] = [];
  const n = line.length;
  const isSpace = (c: number | undefined): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c;
  const isHex = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
  let i = 0;
  for (;;) {
    while (i < n && isSpace(line[i])) i++;
    if (i >= n) return args;
    const cur: number[] = [];
    let inDq = false;
    let inSq = false;
    for (;;) {
      if (inDq) {
        if (i >= n) return null;
        const c = line[i];
        if (c === 0x5c && i + 3 < n && line[i + 1] === 0x78 && isHex(line[i + 2]) && isHex(line[i + 3])) {
          cur.push(parseInt(String.fromCharCode(line[i + 2], line[i + 3]), 16));
          i += 4;
          continue;
        }
        if (c === 0x5c && i + 1 < n) {
          const e = line[i + 1];
          const map: Record<number, number> = { 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09, 0x62: 0x08, 0x61: 0x07 };
          cur.push(map[e] ?? e);
          i += 2;
          continue;
        }
        if (c === 0x22) {
          if (i + 1 < n && !isSpace(line[i + 1])) return null;
          i++;
          break;
        }
        cur.push(c);
        i++;
      } else if (inSq) {
        if (i >= n) return null;
        const c = line[i];
        if (c === 0x5c && i + 1 < n && line[i + 1] === 0x27) {
          cur.push(0x27);
          i += 2;
          continue;
        }
        if (c === 0x27) {
          if (i + 1 < n && !isSpace(line[i + 1])) return null;
          i++;
          break;
        }
        cur.push(c);
        i++;
      } else {
        if (i >= n) break;
        const c = line[i];
        if (isSpace(c)) break;
        if (c === 0x22) inDq = true;
        else if (c === 0x27) inSq = true;
        else cur.push(c);
        i++;
      }
    }
    args.push(Buffer.from(cur));
  }
}
