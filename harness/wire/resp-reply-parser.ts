// Incremental parser of what a Redis server sends back, for the proxy's bookkeeping: it finds where each
// top-level reply frame starts and ends (RESP2 and RESP3: nested aggregates, maps, attributes, push frames),
// hands every byte on in order, and keeps only the text of a top-level error or simple string. Bulk payloads are
// counted, never held. Anything that is not RESP (including RESP3 streamed aggregates, which Redis never sends)
// is reported once with the bytes not yet handed on, and the caller passes the rest through raw.

import { parseInteger } from './resp-primitives.ts';

/** The most of an error's or simple string's text that is kept. */
const TEXT_BYTES = 1024;
/** A header or simple line longer than this is not RESP. */
const MAX_REPLY_LINE = 1 << 20;
const EMPTY = Buffer.alloc(0);

export interface ReplySink {
  /** A top-level frame starts with this type byte ('|' for an attribute in front of a reply). */
  frameStart(type: number): void;
  /** Raw bytes of the current frame. */
  bytes(slice: Buffer): void;
  /** The frame ended; `text` is the line of a top-level simple string or error, or a blob error's start. */
  frameEnd(type: number, text: string | undefined): void;
  /**
   * Something that is not RESP (or a line over 1 MiB): `rest` is meant to be what was not handed on yet (see
   * failAt). The caller passes it and everything after it through raw, and feeds the parser no more.
   */
  fail(rest: Buffer): void;
}

export class ReplyParser {
  private stack: number[] = [];
  private attr: boolean[] = [];
  private left = 0;
  private inBulk = false;
  private line: Buffer[] = [];
  private lineLen = 0;
  private inFrame = false;
  private frameType = 0;
  private text: string | undefined;
  private capture = false;
  private capParts: Buffer[] = [];
  private capLen = 0;

  constructor(private readonly sink: ReplySink) {}

  feed(buf: Buffer): void {
    const n = buf.length;
    let i = 0;
    let seg = 0;
    while (i < n) {
      if (this.inBulk) {
        const take = Math.min(this.left, n - i);
        if (this.capture && this.capLen < TEXT_BYTES) {
          const c = Math.min(take, TEXT_BYTES - this.capLen);
          this.capParts.push(buf.subarray(i, i + c));
          this.capLen += c;
        }
        i += take;
        this.left -= take;
        if (this.left > 0) continue;
        this.inBulk = false;
        if (this.capture) {
          this.capture = false;
          this.text = Buffer.concat(this.capParts).toString('utf8').replace(/\r?\n?$/, '');
          this.capParts = [];
        }
        if (this.elementDone()) {
          this.endFrame(buf, seg, i);
          seg = i;
        }
        continue;
      }
      if (!this.inFrame) {
        this.inFrame = true;
        this.frameType = 0;
        this.text = undefined;
        seg = i;
        this.sink.frameStart(buf[i]);
      }
      const nl = buf.indexOf(0x0a, i);
      if (nl === -1) {
        this.line.push(buf.subarray(i, n));
        this.lineLen += n - i;
        if (this.lineLen > MAX_REPLY_LINE) return this.failAt(buf, seg);
        i = n;
        break;
      }
      const lineBuf = this.lineLen ? Buffer.concat([...this.line, buf.subarray(i, nl)]) : buf.subarray(i, nl);
      this.line = [];
      this.lineLen = 0;
      i = nl + 1;
      const type = lineBuf[0];
      const end = lineBuf.length - (lineBuf[lineBuf.length - 1] === 0x0d ? 1 : 0);
      const top = this.stack.length === 0;
      let done = false;
      switch (type) {
        case 0x2b: // + simple string
        case 0x2d: // - error
          if (top) {
            this.frameType = type;
            this.text = lineBuf.toString('utf8', 1, Math.min(end, TEXT_BYTES + 1));
          }
          done = this.elementDone();
          break;
        case 0x3a: // : integer
        case 0x5f: // _ null
        case 0x2c: // , double
        case 0x23: // # boolean
        case 0x28: // ( big number
          if (top) this.frameType = type;
          done = this.elementDone();
          break;
        case 0x24: // $ bulk string
        case 0x21: // ! blob error
        case 0x3d: {
          // = verbatim string
          const len = parseInteger(lineBuf, 1, end);
          if (!Number.isInteger(len)) return this.failAt(buf, seg);
          if (top) this.frameType = type;
          if (len < 0) {
            done = this.elementDone();
            break;
          }
          this.inBulk = true;
          this.left = len + 2;
          if (top && type === 0x21) {
            this.capture = true;
            this.capParts = [];
            this.capLen = 0;
          }
          break;
        }
        case 0x2a: // * array
        case 0x7e: // ~ set
        case 0x3e: // > push
        case 0x25: // % map
        case 0x7c: {
          // | attribute
          let count = parseInteger(lineBuf, 1, end);
          if (!Number.isInteger(count)) return this.failAt(buf, seg); // includes streamed '?' aggregates
          if (type === 0x25 || type === 0x7c) count *= 2;
          if (top && type !== 0x7c) this.frameType = type;
          if (count <= 0) {
            if (type !== 0x7c) done = this.elementDone(); // an empty attribute is no element
          } else {
            this.stack.push(count);
            this.attr.push(type === 0x7c);
          }
          break;
        }
        default:
          return this.failAt(buf, seg);
      }
      if (done) {
        this.endFrame(buf, seg, i);
        seg = i;
      }
    }
    if (this.inFrame && seg < n) this.sink.bytes(buf.subarray(seg, n));
  }

  private endFrame(buf: Buffer, seg: number, i: number): void {
    if (i > seg) this.sink.bytes(buf.subarray(seg, i));
    this.inFrame = false;
    this.sink.frameEnd(this.frameType, this.text);
  }

  /** One element finished; true when that completes a top-level frame. */
  private elementDone(): boolean {
    for (;;) {
      const top = this.stack.length - 1;
      if (top < 0) return true;
      if (--this.stack[top] > 0) return false;
      this.stack.pop();
      if (this.attr.pop()) return false; // an attribute is not an element of what holds it
    }
  }

  private failAt(buf: Buffer, seg: number): void {
    // What `line` held of earlier chunks was handed on through bytes() already: only this chunk's part is not.
    this.line = [];
    this.lineLen = 0;
    this.sink.fail(buf.subarray(seg));
  }
}
