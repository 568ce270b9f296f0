// The scenario inspection on the real local PostgreSQL and Redis: the candidate's schema from the catalog (keys,
// unique constraints, indexes, foreign keys), a session left idle in a transaction, an advisory lock still held,
// Redis keys without an expiry; and a broken target reported, never thrown.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Redis } from 'ioredis';
import { acquireInfra } from '../../harness/infra/acquire-infra.ts';
import { createRedisNamespace, createScenarioDatabase } from '../../harness/infra/index.ts';
import { leftovers } from '../../harness/infra/test-helpers.ts';
import type { Infra } from '../../harness/infra/types.ts';
import { IDLE_IN_TRANSACTION_MIN_MS, inspectScenario } from './database.ts';

let infra: Infra;

describe('scenario inspection (local PostgreSQL and Redis)', () => {
  beforeAll(async () => {
    infra = await acquireInfra({ env: {} });
  });
  afterAll(async () => {
    await infra.close();
    expect(await leftovers()).toEqual([]);
  });

  it('reports the schema, open transactions, advisory locks and keys without TTL', { timeout: 30_000 }, async () => {
    const db = await createScenarioDatabase(infra, 'rubric/inspection');
    const ns = await createRedisNamespace(infra);
    const sessions: pg.Client[] = [];
    const redis = ns ? new Redis(ns.url, { maxRetriesPerRequest: 0 }) : null;
    try {
      const connect = async () => {
        const c = new pg.Client({ connectionString: db.url });
        c.on('error', () => {});
        await c.connect();
        sessions.push(c);
        return c;
      };
      const app = await connect();
      await app.query(`CREATE TABLE seats (seat_id text PRIMARY KEY, user_id text);
        CREATE TABLE holds (id serial PRIMARY KEY, seat_id text NOT NULL REFERENCES seats(seat_id), user_id text, UNIQUE (seat_id, user_id));
        CREATE INDEX holds_user ON holds (user_id);
        CREATE TABLE audit (at timestamptz, what text);
        INSERT INTO seats VALUES ('a', NULL);`);
      const leaky = await connect();
      await leaky.query('BEGIN');
      await leaky.query("UPDATE seats SET user_id = 'u1' WHERE seat_id = 'a'");
      await app.query('SELECT pg_advisory_lock(42)');
      if (redis) await redis.mset('seat:lock:a', 'token', 'seat:a', 'u1');
      if (redis) await redis.set('cache:a', 'u1', 'PX', 60_000);
      await new Promise((r) => setTimeout(r, IDLE_IN_TRANSACTION_MIN_MS + 100));

      const i = await inspectScenario({ adminUrl: db.adminUrl, role: db.role, redisUrl: ns?.url });
      expect(i.error).toBeUndefined();
      const byName = Object.fromEntries(i.tables.map((t) => [t.name, t]));
      expect(Object.keys(byName).sort()).toEqual(['audit', 'holds', 'seats']);
      expect(byName.seats.primaryKey).toEqual(['seat_id']);
      expect(byName.audit.primaryKey).toBeNull();
      expect(byName.audit.indexes).toEqual([]);
      expect(byName.holds.unique).toEqual(expect.arrayContaining([['id'], ['seat_id', 'user_id']]));
      expect(byName.holds.indexes.map((x) => x.columns)).toEqual(expect.arrayContaining([['user_id']]));
      expect(byName.holds.foreignKeys).toEqual([{ columns: ['seat_id'], references: 'seats' }]);
      expect(i.idleInTransaction).toHaveLength(1);
      expect(i.idleInTransaction[0].query).toMatch(/UPDATE seats/);
      expect(i.idleInTransaction[0].ageMs).toBeGreaterThanOrEqual(IDLE_IN_TRANSACTION_MIN_MS);
      expect(i.advisoryLocks).toBe(1);
      if (redis) expect(i.redis).toEqual({ keys: 3, withoutTtl: 2, sampleWithoutTtl: ['seat:a', 'seat:lock:a'], truncated: false });
    } finally {
      redis?.disconnect();
      for (const c of sessions) await c.end().catch(() => {});
      await ns?.release();
      await db.drop();
    }
  });

  it('reports a target it cannot reach instead of throwing', { timeout: 15_000 }, async () => {
    const i = await inspectScenario({ adminUrl: 'postgres://postgres@127.0.0.1:1/nothing', role: 'nobody' });
    expect(i.error).toMatch(/ECONNREFUSED|connect/);
    expect(i.tables).toEqual([]);
  });
});
