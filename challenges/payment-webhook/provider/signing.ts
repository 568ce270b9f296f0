// The provider's signature (CONTRACT §3): `gauntlet-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." +
// rawBody)>`, over the exact bytes sent. Forgeries are built from the same parts, each wrong in one way.

import crypto from 'node:crypto';

/** Deliveries older than this must be refused (CONTRACT §3). */
export const TOLERANCE_S = 300;

export const unixNow = () => Math.floor(Date.now() / 1000);

export function hmacHex(secret: string, t: number | string, rawBody: string): string {
  return crypto.createHmac('sha256', secret).update(`${t}.${rawBody}`, 'utf8').digest('hex');
}

export function signatureHeader(secret: string, rawBody: string, t: number = unixNow()): string {
  return `t=${t},v1=${hmacHex(secret, t, rawBody)}`;
}

/** Parse `t=..,v1=..` (for building replays from a header that was sent). */
export function parseSignature(header: string): { t: string; v1: string } | null {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2) as [string, string]));
  return parts.t && parts.v1 ? { t: parts.t, v1: parts.v1 } : null;
}
