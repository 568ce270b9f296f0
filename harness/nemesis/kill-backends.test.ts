// Tests of killBackends against a real PostgreSQL: a session of the role, inside an open transaction, is
// terminated and its next statement fails; other roles' sessions are left alone.

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killBackends, terminateBackends } from './kill-backends.ts';

const ADMIN_URL = process.env.GAUNTLET_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROLE = `gauntlet_kb_${process.pid}`;

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

function roleUrl(): string {
  const url = new URL(ADMIN_URL);
  url.username = ROLE;
  url.password = '';
  return url.toString();
}

beforeAll(async () => {
  await admin(async (c) => {
    await c.query(`DROP ROLE IF EXISTS ${ROLE}`);
    await c.query(`CREATE ROLE ${ROLE} LOGIN`);
  });
}, 30_000);

afterAll(async () => {
  await admin(async (c) => {
    await c.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1`, [ROLE]);
    await c.query(`DROP ROLE IF EXISTS ${ROLE}`);
  });
}, 30_000);

describe('killBackends', () => {
  it('terminates a session in an open transaction: its next statement fails', async () => {
    const errors: Error[] = [];
    const victim = new pg.Client({ connectionString: roleUrl() });
    victim.on('error', (err) => errors.push(err)); // without it the process would crash (CONTRACT §8)
    await victim.connect();
    const bystander = new pg.Client({ connectionString: ADMIN_URL });
    bystander.on('error', () => {});
    await bystander.connect();
    try {
      await victim.query('BEGIN');
      await victim.query('SELECT txid_current()');
      const result = await terminateBackends(ADMIN_URL, ROLE);
      expect(result.killed).toBe(1);
      expect(result.byState).toEqual({ 'idle in transaction': 1 });
      await expect(victim.query('SELECT 1')).rejects.toThrow();
      // the admin's own session and other roles survive
      expect((await bystander.query('SELECT 1 AS one')).rows[0].one).toBe(1);
      expect(await killBackends(ADMIN_URL, ROLE)).toBe(0);
    } finally {
      await victim.end().catch(() => {});
      await bystander.end().catch(() => {});
    }
  }, 20_000);

  it('terminates every backend of the role, active ones included', async () => {
    const clients = await Promise.all(
      [0, 1, 2].map(async () => {
        const c = new pg.Client({ connectionString: roleUrl() });
        c.on('error', () => {});
        await c.connect();
        return c;
      }),
    );
    try {
      const sleeping = clients[0].query('SELECT pg_sleep(10)');
      sleeping.catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 100));
      const t0 = performance.now();
      expect(await killBackends(ADMIN_URL, ROLE)).toBe(3);
      await expect(sleeping).rejects.toThrow();
      expect(performance.now() - t0).toBeLessThan(3000);
    } finally {
      await Promise.all(clients.map((c) => c.end().catch(() => {})));
    }
  }, 20_000);
});
