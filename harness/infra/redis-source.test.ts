// Tests of Redis resolution on real servers: the local default, REDIS_URL (working and broken), a private
// redis-server spawned from PATH (stopped by pid on close), and "no Redis" with the fix spelled out.

import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { guardedCount } from './exit-guard.ts';
import { freePort, pidAlive } from './process-util.ts';
import { probeRedis } from './redis-client.ts';
import { spawnRedisServer } from './redis-server.ts';
import { LOCAL_REDIS_URL, acquireRedis } from './redis-source.ts';

describe('Redis resolution', () => {
  it('uses the local Redis when REDIS_URL is not set', async () => {
    const { redis, problem } = await acquireRedis({ env: {} });
    expect(problem).toBeUndefined();
    expect(redis).toMatchObject({ source: 'local', url: LOCAL_REDIS_URL, host: '127.0.0.1', port: 6379 });
    expect(redis?.version).toMatch(/^\d+\.\d+/);
  });

  it('uses REDIS_URL when it works, and reports (without falling back) when it does not', async () => {
    const ok = await acquireRedis({ env: { REDIS_URL: 'redis://localhost:6379' } });
    expect(ok.redis).toMatchObject({ source: 'env', host: 'localhost', port: 6379 });

    const port = await freePort();
    const started = Date.now();
    const bad = await acquireRedis({ env: { REDIS_URL: `redis://:secret@127.0.0.1:${port}` } });
    expect(bad.redis).toBeNull();
    expect(bad.problem).toContain('REDIS_URL');
    expect(bad.problem).toContain('ECONNREFUSED');
    expect(bad.problem).not.toContain('secret');
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('spawns a private redis-server from PATH and stops it (by pid) on close', async () => {
    const guardsBefore = guardedCount();
    const { redis } = await acquireRedis({ env: { PATH: process.env.PATH }, preferSpawned: true });
    expect(redis?.source).toBe('spawned');
    expect(redis?.port).not.toBe(6379);
    expect(await probeRedis(redis!.url, 1000)).toMatchObject({ ok: true });
    await redis!.close();
    await redis!.close(); // idempotent
    expect(await probeRedis(redis!.url, 300)).toMatchObject({ ok: false });
    expect(guardedCount()).toBe(guardsBefore);
  });

  it('spawnRedisServer: process and temp folder are gone after stop()', async () => {
    const server = await spawnRedisServer();
    expect(pidAlive(server.pid)).toBe(true);
    expect(existsSync(server.dir)).toBe(true);
    await server.stop();
    expect(pidAlive(server.pid)).toBe(false);
    expect(existsSync(server.dir)).toBe(false);
  });

  it('reports no Redis, with the install fix, when nothing is available', async () => {
    const { redis, problem } = await acquireRedis({ env: { PATH: '/nonexistent' }, preferSpawned: true });
    expect(redis).toBeNull();
    expect(problem).toContain('redis-server is not on PATH');
    expect(problem).toContain('apt-get install redis-server');
    expect(problem).toContain('REDIS_URL');
  });
});
