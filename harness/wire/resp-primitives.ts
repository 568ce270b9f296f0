// Small RESP pieces shared by the Redis proxy's parsers and connections: reading a decimal integer out of a
// header line, encoding a command or an error reply, and upper-casing a command name.

const CRLF = Buffer.from('\r\n');

/** The integer in b[start, end): optional '-', digits only (no '+', no spaces), at most 2^53 - 1; NaN otherwise. */
export function parseInteger(b: Buffer, start: number, end: number): number {
  if (end <= start) return NaN;
  let i = start;
  let neg = false;
  if (b[i] === 0x2d) {
    neg = true;
    i++;
    if (i >= end) return NaN;
  }
  let v = 0;
  for (; i < end; i++) {
    const c = b[i] - 0x30;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
    if (v > Number.MAX_SAFE_INTEGER) return NaN;
  }
  return neg ? -v : v;
}

/** A command as a RESP2 multibulk: *<n> then $<len> <bytes> per argument. */
export function encodeCommand(args: Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) parts.push(Buffer.from(`$${a.length}\r\n`), a, CRLF);
  return Buffer.concat(parts);
}

/** A simple error reply (-text), line breaks in the text turned into spaces. */
export const errorReply = (text: string): Buffer => Buffer.from(`-${text.replace(/[\r\n]/g, ' ')}\r\n`);

/** ASCII upper case of a command name or option; other bytes unchanged, read as latin1. */
export const upperAscii = (b: Buffer | undefined): string => (b ? b.toString('latin1').replace(/[a-z]+/g, (m) => m.toUpperCase()) : '');
