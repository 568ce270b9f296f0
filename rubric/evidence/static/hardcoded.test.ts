// Hard-coded credentials and URLs: literals under credential names (through locals, destructuring defaults and
// client options), secrets used to sign or compared against, database and localhost URLs; and what is not one.

import { describe, expect, it } from 'vitest';
import { findHardcoded, isCredentialName } from './hardcoded.ts';
import { detect } from './testing.ts';

const found = (src: string) => detect(findHardcoded, src).map((r) => `${r.kind}@${r.line}`);

describe('hard-coded values', () => {
  it('credential names: the last word decides, any case or separator', () => {
    for (const n of ['DB_PASSWORD', 'dbPassword', 'password', 'passwd', 'pwd', 'secret', 'apiKey', 'api_key', 'API_KEY', 'token', 'accessToken', 'authToken', 'webhookSecret', 'x-api-key', 'signingKey']) expect(isCredentialName(n), n).toBe(true);
    for (const n of ['secretHeader', 'tokenHeader', 'idempotencyKey', 'cacheKey', 'passwordHash', 'SIGNATURE_HEADER', 'maxTokens', 'bypass']) expect(isCredentialName(n), n).toBe(false);
  });

  it('flags credential literals bound to names, client options and destructuring defaults', () => {
    const src = `import { Pool } from 'pg';
const DB_PASSWORD = 's3cret';
const dbPassword = process.env.DB_PASSWORD ?? 'changeme';
const cfg = { user: 'app', password: 'x' };
const pool = new Pool(cfg);
const pw = 'hunter2';
const other = new Pool({ password: pw });
export function connect(opts) {
  const { password = 'hunter22' } = opts;
  return password;
}`;
    expect(found(src)).toEqual(['credential@2', 'credential@3', 'credential@4', 'credential@6', 'credential@9']);
  });

  it('flags a webhook secret used to sign, an API key compared against, and secret-shaped literals', () => {
    const src = `import crypto from 'node:crypto';
export function verify(headers: Record<string, string>, body: string, apiKey: string) {
  const mac = crypto.createHmac('sha256', 'my webhook secret').update(body).digest('hex');
  if (headers['x-api-key'] !== 'k3y-123') return false;
  if (apiKey === 'abc123') return true;
  const stripe = 'sk_live_abcdef';
  return mac;
}`;
    expect(found(src)).toEqual(['credential@3', 'credential@4', 'credential@5', 'credential@6']);
  });

  it('does not flag header names, empty strings or values taken from the context', () => {
    const src = `const config = { token: 'gauntlet-signature', secretHeader: 'x-signature', apiKeyHeader: 'x-api-key', password: '' };
export function f(ctx, headers: Record<string, string>, token?: string) {
  const secret = ctx.webhookSecret;
  const webhookSecret: string = process.env.WEBHOOK_SECRET!;
  const sig = headers['gauntlet-signature'];
  if (typeof token === 'string' && token === '') return null;
  return { secret, webhookSecret, sig, auth: { type: 'password' } };
}`;
    expect(found(src)).toEqual([]);
  });

  it('flags database URLs anywhere and localhost service URLs with a port', () => {
    const src = `const a = 'postgres://app:pw@localhost:5432/db';
const b = process.env.DATABASE_URL ?? 'postgresql://localhost/db';
const c = \`redis://\${host}:6379\`;
const d = 'http://localhost:4010';
const e = 'mongodb+srv://cluster.example.net';
const f = 'http://127.0.0.1:8080/payments';
const g = 'https://api.example.com/v1';
const h = \`http://localhost:\${port}\`;`;
    expect(found(src)).toEqual(['database-url@1', 'database-url@2', 'database-url@3', 'service-url@4', 'database-url@5', 'service-url@6']);
  });
});
