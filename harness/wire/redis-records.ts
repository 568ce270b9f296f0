// What the Redis proxy records about each connection (RedisRecord), and how a command is shown in a record:
// arguments cut to a readable size, binary bytes escaped, passwords masked.

import { isUtf8 } from 'node:buffer';

const EMPTY = Buffer.alloc(0);

export type RedisRecordKind = 'command' | 'reply-error' | 'refused' | 'close' | 'garbage';

export interface RedisRecord {
  t: number;
  /** Connection number, unique within the proxy (all listeners). */
  conn: number;
  /** The listener's tag. */
  tag?: string;
  kind: RedisRecordKind;
  /**
   * The command: name upper-cased first, each argument cut at 1 KiB (printable text as is, other bytes as \xHH,
   * a cut one ends with "…(+N bytes)"), at most 64 arguments then "…(+N)". Passwords show as ***.
   * For 'reply-error', the command the error answers (when known).
   */
  args?: string[];
  /** The error sent back ('refused', 'reply-error') or what was wrong ('garbage'). */
  error?: string;
  /** Some argument was cut, or there were more than 64. */
  truncated?: boolean;
  /**
   * Why a connection closed ('close'), the PostgreSQL fault proxy's words: end (either side closed), peer-reset
   * (either side reset), reset (resetAll, or a blackhole healed), listener-closed, proxy-closed; and
   * protocol-error (garbage from the client), setup-failed (the upstream AUTH/SELECT failed).
   */
  reason?: string;
}

/** Each argument is recorded up to this many bytes, and at most this many arguments. */
export const RECORD_ARG_BYTES = 1024;
export const RECORD_MAX_ARGS = 64;

/** A command as read: its upper-cased name, the captured start of each argument, their real lengths. */
export interface RecordedCommand {
  name: string;
  args: Buffer[];
  lens: number[];
}

/** The command's arguments as a record shows them (see RedisRecord.args), `password` masked wherever it appears. */
export function recordArgs(c: RecordedCommand, password: Buffer): { args: string[]; truncated: boolean } {
  const out: string[] = [];
  let truncated = false;
  const n = Math.min(c.lens.length, RECORD_MAX_ARGS);
  for (let i = 0; i < n; i++) {
    const full = c.args[i] ?? EMPTY;
    const shown = full.length > RECORD_ARG_BYTES ? full.subarray(0, RECORD_ARG_BYTES) : full;
    const cut = c.lens[i] > shown.length;
    if (cut) truncated = true;
    if (password.length && c.lens[i] === password.length && shown.equals(password)) {
      out.push('***');
      continue;
    }
    const text = showArg(i === 0 ? Buffer.from(c.name, 'latin1').subarray(0, shown.length) : shown, cut);
    out.push(text + (cut ? `…(+${c.lens[i] - shown.length} bytes)` : ''));
  }
  if (c.lens.length > RECORD_MAX_ARGS) {
    out.push(`…(+${c.lens.length - RECORD_MAX_ARGS})`);
    truncated = true;
  }
  // Passwords never appear: AUTH [user] ***, HELLO ... AUTH user ***, MIGRATE ... AUTH *** / AUTH2 user ***.
  if (c.name === 'AUTH') {
    for (let i = out.length === 3 ? 2 : 1; i < out.length; i++) out[i] = '***';
  } else if (c.name === 'HELLO' || c.name === 'MIGRATE') {
    for (let i = 1; i < out.length; i++) {
      const opt = out[i].toUpperCase();
      if (opt === 'AUTH' && c.name === 'HELLO' && i + 2 < out.length) out[i + 2] = '***';
      else if (opt === 'AUTH' && c.name === 'MIGRATE' && i + 1 < out.length) out[i + 1] = '***';
      else if (opt === 'AUTH2' && i + 2 < out.length) out[i + 2] = '***';
    }
  }
  return { args: out, truncated };
}

function isPrintableAscii(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/** Bytes as text: printable ASCII as is (a backslash doubled), any other byte as \xHH. */
export function hexEscape(b: Buffer): string {
  let s = '';
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c === 0x5c) s += '\\\\';
    else if (c >= 0x20 && c <= 0x7e) s += String.fromCharCode(c);
    else s += '\\x' + c.toString(16).padStart(2, '0');
  }
  return s;
}

/** An argument for a record: printable ASCII or UTF-8 text as is, else hexEscape (a cut UTF-8 tail too). */
function showArg(b: Buffer, cut: boolean): string {
  if (isPrintableAscii(b)) return b.toString('latin1');
  // A cut may split a UTF-8 character: try without up to 3 trailing bytes, and show those in hex.
  for (let drop = 0; drop <= (cut ? 3 : 0) && drop < b.length; drop++) {
    const head = b.subarray(0, b.length - drop);
    if (isUtf8(head)) {
      const text = head.toString('utf8');
      if (!/[\u0000-\u001f\u007f]/.test(text)) return text + hexEscape(b.subarray(b.length - drop));
      break;
    }
  }
  return hexEscape(b);
}
