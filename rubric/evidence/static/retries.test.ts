// Retries: names that say so, retry packages, the SQLSTATE codes worth retrying, loops around awaits in try/catch;
// not object keys that merely mention a retry, and not loops without a try.

import { describe, expect, it } from 'vitest';
import { findRetries } from './retries.ts';
import { detect } from './testing.ts';

const lines = (src: string) => detect(findRetries, src).map((r) => r.line);

describe('retries', () => {
  it('finds retry helpers, codes, packages and retry loops', () => {
    const src = `import { retry, handleAll } from 'cockatiel';
const MAX_RETRIES = 5;
async function withRetry(fn) {
  for (let n = 0; ; n++) {
    try { return await fn(); } catch (e) { if (e.code !== '40001' || n > MAX_RETRIES) throw e; }
  }
}`;
    expect(lines(src)).toEqual([1, 1, 2, 3, 4, 5]);
  });

  it('does not count object keys, loops without try, or try without await', () => {
    const src = `export async function f(ctx, items) {
  ctx.log('x', { attempt: 1, retryAfterMs: 2 });
  for (const i of items) await ctx.pg.query('SELECT 1');
  while (items.length) { try { items.pop(); } catch {} }
}`;
    expect(lines(src)).toEqual([]);
  });
});
