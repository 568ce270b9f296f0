// ctx.log calls (direct, through a local, destructuring or a parameter typed as the context's log), console calls,
// and Redis / PostgreSQL use; a `log` that is not the context's is not counted.

import { describe, expect, it } from 'vitest';
import { findUsage } from './logging.ts';
import { scanOf } from './testing.ts';

const usage = (src: string) => {
  const scan = scanOf(src);
  return findUsage(scan, scan.files[0]);
};

describe('logging and uses', () => {
  it('counts ctx.log through locals, destructuring and a Log parameter', () => {
    const src = `import type { AppContext } from 'gauntlet';
type Log = AppContext['log'];
function retry(log: Log) { log('retrying'); }
export default async function create(ctx: AppContext) {
  const log = ctx.log;
  const { log: say } = ctx;
  ctx.log('up');
  log('a');
  say('b');
  retry(ctx.log);
  console.log('x'); console.error('y');
}`;
    expect(usage(src)).toMatchObject({ ctxLogCalls: 4, consoleCalls: 2, usesRedis: false });
  });

  it('does not count a log that is not the context one', () => {
    const src = `const log = (m: string) => process.stdout.write(m);
export function f(logger) { log('a'); logger.log('b'); Math.log(2); }`;
    expect(usage(src).ctxLogCalls).toBe(0);
  });

  it('sees Redis and PostgreSQL use', () => {
    expect(usage(`export default async function create(ctx) { await ctx.redis.get('k'); }`)).toMatchObject({ usesRedis: true, usesPostgres: false });
    expect(usage(`export async function f(c) { await c.query('SELECT 1 FROM seats'); }`)).toMatchObject({ usesRedis: false, usesPostgres: true });
    expect(usage(`import Redis from 'ioredis';\nexport default async function create(ctx) { await ctx.pg.connect(); }`)).toMatchObject({ usesRedis: true, usesPostgres: true });
  });
});
