// Tests of Redis namespaces on real servers: claim gives an empty DB, release flushes it and frees the lock,
// concurrent claims never share, exhaustion fails clearly, and DBs holding someone else's data are left alone.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfraError } from '../errors.ts';
import { createRedisNamespace, KNOWN_KEY, LOCK_TTL_MS, lockKey, namespaceToken, sweepStaleNamespaces } from './redis-namespace.ts';
import { acquireRedis } from './redis-source.ts';
import { withRedis } from './redis-client.ts';
import type { Infra, RedisSource } from './types.ts';

/** An Infra with only Redis (namespaces never touch PostgreSQL). */
function redisOnly(redis: RedisSource | null): Infra {
  const postgres = { adminUrl: '', source: 'local', version: '', host: '', port: 0, close: async () => undefined } as const;
  return { postgres, redis, close: async () => undefined };
}

describe('Redis namespaces on the local Redis', () => {
  let infra: Infra;
  beforeAll(async () => {
    const { redis } = await acquireRedis({ env: {} });
    infra = redisOnly(redis);
  });

  it('claims an empty logical DB 1..15, and release() flushes it and frees the lock', async () => {
    const ns = await createRedisNamespace(infra);
    expect(ns).not.toBeNull();
    expect(ns!.db).toBeGreaterThanOrEqual(1);
    expect(ns!.db).toBeLessThanOrEqual(15);
    expect(ns!.url).toBe(`redis://127.0.0.1:6379/${ns!.db}`);
    await withRedis(ns!.url, async (c) => {
      expect(await c.dbsize()).toBe(0);
      await c.set('seat:A1', 'u1');
    });
    const lock = await withRedis(infra.redis!.url, (c) => c.pttl(lockKey(ns!.db)), { db: 0 });
    expect(lock).toBeGreaterThan(500_000);
    await ns!.release();
    await ns!.release(); // idempotent
    await withRedis(infra.redis!.url, async (c) => {
      expect(await c.exists(lockKey(ns!.db))).toBe(0);
      await c.select(ns!.db);
      expect(await c.dbsize()).toBe(0);
    });
  });

  it('concurrent claims get different databases', async () => {
    const spaces = await Promise.all(Array.from({ length: 4 }, () => createRedisNamespace(infra)));
    const dbs = spaces.map((s) => s!.db);
    expect(new Set(dbs).size).toBe(4);
    await Promise.all(spaces.map((s) => s!.release()));
  });

  it('returns null when the infra has no Redis', async () => {
    expect(await createRedisNamespace(redisOnly(null))).toBeNull();
  });
});

describe('Redis namespaces on a private redis-server', () => {
  let redis: RedisSource;
  let infra: Infra;
  beforeAll(async () => {
    const res = await acquireRedis({ preferSpawned: true });
    redis = res.redis!;
    expect(redis.source).toBe('spawned');
    infra = redisOnly(redis);
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('flushes leftovers of a crashed gauntlet run on claim', async () => {
    // Every index is "known" and holds stale keys: whatever DB is claimed must come back empty.
    await withRedis(redis.url, async (c) => {
      for (let db = 1; db <= 15; db++) {
        await c.sadd(KNOWN_KEY, String(db));
        await c.select(db);
        await c.set('stale', 'x');
        await c.select(0);
      }
    });
    const ns = await createRedisNamespace(infra);
    await withRedis(ns!.url, async (c) => expect(await c.dbsize()).toBe(0));
    await ns!.release();
    await withRedis(redis.url, (c) => c.flushall());
  });

  it('frees the namespace a run killed outright still holds on this host, and leaves live and foreign holders alone', async () => {
    const dead = 2 ** 22 + 12345; // above the kernel's pid_max: never a live process
    await withRedis(redis.url, async (c) => {
      await c.set(lockKey(3), namespaceToken(dead), 'PX', LOCK_TTL_MS);
      await c.set(lockKey(4), namespaceToken(process.ppid), 'PX', LOCK_TTL_MS);
      await c.set(lockKey(5), `elsewhere.example/${dead}/abcd`, 'PX', LOCK_TTL_MS);
      for (const db of [3, 4, 5]) {
        await c.select(db);
        await c.set('left', 'x');
        await c.select(0);
      }
    });
    expect(await sweepStaleNamespaces(redis.url)).toEqual([3]);
    await withRedis(redis.url, async (c) => {
      expect(await c.exists(lockKey(3))).toBe(0);
      expect(await c.exists(lockKey(4), lockKey(5))).toBe(2);
      const sizes: number[] = [];
      for (const db of [3, 4, 5]) {
        await c.select(db);
        sizes.push(await c.dbsize());
      }
      expect(sizes).toEqual([0, 1, 1]);
      await c.flushall();
    });
  });

  it("never claims a DB holding data gauntlet did not write, and says so when all others are taken", async () => {
    await withRedis(redis.url, (c) => c.set('someone-elses', 'data'), { db: 7 });
    const spaces = await Promise.all(Array.from({ length: 14 }, () => createRedisNamespace(infra)));
    const dbs = spaces.map((s) => s!.db).sort((a, b) => a - b);
    expect(dbs).toEqual([1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15]);

    const started = Date.now();
    const err = await createRedisNamespace(infra, { waitMs: 300 }).catch((e) => e);
    expect(err).toBeInstanceOf(InfraError);
    expect(err.message).toContain('no free Redis namespace');
    expect(err.message).toContain('14 of the logical databases 1..15 are claimed');
    expect(err.message).toContain('DB 7');
    expect(Date.now() - started).toBeLessThan(3000);

    // A claim that waits gets the index another run releases meanwhile.
    const waiting = createRedisNamespace(infra, { waitMs: 5000 });
    setTimeout(() => void spaces[0]!.release(), 200);
    const late = await waiting;
    expect(late!.db).toBe(spaces[0]!.db);
    await Promise.all([late!.release(), ...spaces.map((s) => s!.release())]);
    expect(await withRedis(redis.url, (c) => c.get('someone-elses'), { db: 7 })).toBe('data');
  });

  it("release() does not flush a DB whose lock expired and was taken by another run", async () => {
    const ns = await createRedisNamespace(infra);
    // Simulate expiry + takeover: another token now holds the lock and has data in the DB.
    await withRedis(redis.url, (c) => c.set(lockKey(ns!.db), 'other-run', 'PX', 60_000), { db: 0 });
    await withRedis(ns!.url, (c) => c.set('theirs', '1'));
    await ns!.release();
    expect(await withRedis(ns!.url, (c) => c.get('theirs'))).toBe('1');
    expect(await withRedis(redis.url, (c) => c.get(lockKey(ns!.db)), { db: 0 })).toBe('other-run');
  });

  it('release() is quiet when the server is already gone', async () => {
    const res = await acquireRedis({ preferSpawned: true });
    const ns = await createRedisNamespace(redisOnly(res.redis));
    await res.redis!.close();
    await expect(ns!.release()).resolves.toBeUndefined();
  });
});
