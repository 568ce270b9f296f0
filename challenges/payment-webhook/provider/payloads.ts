// Raw webhook bodies as a real provider writes them: key order shuffled, spacing and indentation varied, non-ASCII
// sometimes escaped, so the bytes never equal JSON.stringify of the parsed object (a signature must be checked over
// the raw body). Also the injection strings valid events carry, and the poison bodies (signed, but not a valid event).

import type { Rng } from '../../../harness/seed.ts';

export interface WebhookEvent {
  paymentId: string;
  status: 'pending' | 'success' | 'failed';
  amount: number;
  userId: string;
  idempotencyKey: string;
}

interface Style {
  name: string;
  colon: string;
  comma: string;
  /** Pretty-print with this indent (newlines between members). */
  indent?: number;
  /** Write characters above U+007E as \uXXXX escapes. */
  escapeNonAscii?: boolean;
  /** Write "/" as "\/" (legal JSON, and JSON.stringify never does it). */
  escapeSlash?: boolean;
  trailingNewline?: boolean;
}

const STYLES: Style[] = [
  { name: 'pretty-2', colon: ': ', comma: ',', indent: 2, trailingNewline: true },
  { name: 'python-dumps', colon: ': ', comma: ', ' },
  { name: 'spaced-escaped', colon: ' : ', comma: ' , ', escapeNonAscii: true, escapeSlash: true },
  { name: 'pretty-4-escaped', colon: ': ', comma: ',', indent: 4, escapeNonAscii: true },
  { name: 'colon-space', colon: ': ', comma: ',', escapeSlash: true },
];

function str(s: string, style: Style): string {
  let out = JSON.stringify(s);
  if (style.escapeNonAscii) out = out.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (style.escapeSlash) out = out.replace(/\//g, '\\/');
  return out;
}

function write(value: unknown, style: Style, depth: number): string {
  if (typeof value === 'string') return str(value, style);
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  const nl = style.indent ? '\n' : '';
  const pad = (d: number) => (style.indent ? ' '.repeat(style.indent * d) : '');
  const items = Array.isArray(value)
    ? value.map((v) => write(v, style, depth + 1))
    : Object.entries(value as Record<string, unknown>).map(([k, v]) => `${str(k, style)}${style.colon}${write(v, style, depth + 1)}`);
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  if (!items.length) return open + close;
  return `${open}${nl}${items.map((i) => pad(depth + 1) + i).join(style.comma + nl)}${nl}${pad(depth)}${close}`;
}

/** Encode an object (keys in a seeded order) in a seeded style. The bytes always differ from JSON.stringify's. */
export function encodeBody(rng: Rng, obj: Record<string, unknown>): { rawBody: string; encoding: string } {
  const style = rng.pick(STYLES);
  const keys = rng.shuffle(Object.keys(obj));
  const ordered = Object.fromEntries(keys.map((k) => [k, obj[k]]));
  let rawBody = write(ordered, style, 0) + (style.trailingNewline ? '\n' : '');
  if (rawBody === JSON.stringify(JSON.parse(rawBody))) rawBody += '\n';
  const order = keys.join(',') === Object.keys(obj).join(',') ? '' : ', keys reordered';
  return { rawBody, encoding: `${style.name}${order}` };
}

export function encodeEvent(rng: Rng, e: WebhookEvent): { rawBody: string; encoding: string } {
  return encodeBody(rng, { paymentId: e.paymentId, status: e.status, amount: e.amount, userId: e.userId, idempotencyKey: e.idempotencyKey });
}

/**
 * Strings valid events carry in userId: they must come back byte for byte from getSubscriptionsByPaymentId and in
 * the confirmation's `to`. (No NUL and no lone surrogates: PostgreSQL text cannot hold them.)
 */
export const INJECTION_USER_IDS = [
  `o'brien"; -- quoted`,
  `'; DROP TABLE subscriptions; --`,
  `Robert'); DELETE FROM subscriptions WHERE ('1'='1`,
  `日本語ユーザー 😀 zero\u200bwidth`,
  `back\\slash \\' and \\" and tab\there`,
  `<script>alert("x")</script> {{7*7}} \${7*7} %s%n`,
  `line\nbreak\r\nand "quotes"`,
  `$1 $$ ?? :name @p0 \\x27`,
];

/** Payment ids that are hostile too, but safe in a URL path segment once encoded. */
export const INJECTION_PAYMENT_IDS = [`pay_o'reilly`, `pay_x'; DROP TABLE subscriptions;--`, `pay_ünïcödé_ß`, `pay_"quoted"`];

export interface PoisonBody {
  variant: string;
  rawBody: string;
  /** The key the body carries, when it carries one as a string. */
  idempotencyKey?: string;
  paymentId: string;
  encoding: string;
}

/**
 * Signed bodies that are not a valid PaymentWebhook (CONTRACT §3 poison). Each names a payment of its own, always
 * with status `success` where a status is present: processing one would create a subscription nobody paid for.
 */
export function poisonBodies(rng: Rng, prefix: string, n: number): PoisonBody[] {
  const base = (i: number) => ({ paymentId: `${prefix}_${i}`, status: 'success', amount: 1000 + i, userId: `user_poison_${i}`, idempotencyKey: `evt_${prefix}_${i}` });
  const variants: { variant: string; make(i: number): Record<string, unknown> | string }[] = [
    { variant: 'missing-userId', make: (i) => omit(base(i), 'userId') },
    { variant: 'missing-idempotencyKey', make: (i) => omit(base(i), 'idempotencyKey') },
    { variant: 'missing-amount', make: (i) => omit(base(i), 'amount') },
    { variant: 'missing-status', make: (i) => omit(base(i), 'status') },
    { variant: 'amount-as-string', make: (i) => ({ ...base(i), amount: String(1000 + i) }) },
    { variant: 'negative-amount', make: (i) => ({ ...base(i), amount: -(1000 + i) }) },
    { variant: 'unknown-status', make: (i) => ({ ...base(i), status: 'refunded' }) },
    { variant: 'paymentId-not-string', make: (i) => ({ ...base(i), paymentId: 900000 + i }) },
    { variant: 'userId-null', make: (i) => ({ ...base(i), userId: null }) },
    { variant: 'not-json', make: (i) => `{"paymentId": "${prefix}_${i}", "status": "success", "amount": ${1000 + i}, "userId": "user_poison_${i}", "idempot` },
    { variant: 'not-an-object', make: (i) => `["${prefix}_${i}", "success", ${1000 + i}]` },
  ];
  const out: PoisonBody[] = [];
  for (let i = 0; i < n; i++) {
    const v = variants[i % variants.length];
    const made = v.make(i + 1);
    if (typeof made === 'string') {
      out.push({ variant: v.variant, rawBody: made, paymentId: `${prefix}_${i + 1}`, encoding: 'broken' });
    } else {
      const { rawBody, encoding } = encodeBody(rng, made);
      out.push({ variant: v.variant, rawBody, paymentId: `${prefix}_${i + 1}`, encoding, ...(typeof made.idempotencyKey === 'string' ? { idempotencyKey: made.idempotencyKey } : {}) });
    }
  }
  return out;
}

function omit(o: Record<string, unknown>, key: string): Record<string, unknown> {
  const { [key]: _, ...rest } = o;
  return rest;
}
