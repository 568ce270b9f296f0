// A scenario's own, empty Redis namespace: a logical database 1..15 claimed with a token lock in DB 0 (so
// concurrent runs never share one), flushed on claim and on release, the lock refreshed while held.

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { InfraError } from '../errors.ts';
import { onCleanup } from '../cleanup.ts';
import type { Infra, RedisNamespace } from './types.ts';
import { track } from './infra-registry.ts';
import { errorText, pidAlive, sleep } from './process-util.ts';
import { connectRedis, endRedis, withRedis } from './redis-client.ts';
import { redactUrl, withUrlParts } from './url-util.ts';

export const LOCK_TTL_MS = 600_000;
const REFRESH_EVERY_MS = 60_000;
/** DB 0 set of the indexes gauntlet has ever used: data in any other index belongs to someone else. */
export const KNOWN_KEY = 'gauntlet:ns:known';
export const lockKey = (db: number): string => `gauntlet:ns:${db}`;

const REFRESH_LUA = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE_LUA = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export interface NamespaceOptions {
  /** How long to keep retrying when every index is claimed (default 10 s). */
  waitMs?: number;
}

/** Claim a namespace; null when the infra has no Redis. Throws InfraError when none frees up in time. */
export async function createRedisNamespace(infra: Infra, opts: NamespaceOptions = {}): Promise<RedisNamespace | null> {
  if (!infra.redis) return null;
  const baseUrl = infra.redis.url;
  const token = namespaceToken();
  const db = await withRedis(baseUrl, (client) => claim(client, token, opts.waitMs ?? 10_000, baseUrl), { db: 0 }).catch((err) => {
    throw err instanceof InfraError ? err : new InfraError(`could not claim a Redis namespace on ${redactUrl(baseUrl)}: ${errorText(err)}`);
  });

  // Refresh by a fresh short connection each time: nothing stays open, and the timer never holds the process.
  const refresh = setInterval(() => {
    void withRedis(baseUrl, (c) => c.eval(REFRESH_LUA, 1, lockKey(db), token, String(LOCK_TTL_MS)), { db: 0 }).catch(() => undefined);
  }, REFRESH_EVERY_MS);
  refresh.unref();

  let releasing: Promise<void> | null = null;
  const release = (): Promise<void> => {
    releasing ??= (async () => {
      clearInterval(refresh);
      unregister();
      untrack();
      let client: Redis;
      try {
        client = await connectRedis(baseUrl, { db: 0 });
      } catch {
        return; // the server is gone, and its data with it; an orphaned lock expires on its own
      }
      try {
        // Flush only while the lock is still ours: after an expiry another run may be using this index.
        if ((await client.get(lockKey(db))) === token) {
          await client.select(db);
          await client.flushdb();
          await client.select(0);
          await client.eval(RELEASE_LUA, 1, lockKey(db), token);
        }
      } finally {
        await endRedis(client);
      }
    })();
    return releasing;
  };
  const unregister = onCleanup(release);
  const untrack = track(infra, release);
  return { url: withUrlParts(baseUrl, { path: String(db) }), db, release };
}

/** A lock's value names its holder, host and pid, so a later run on the same host can free the lock of a dead one. */
export const namespaceToken = (pid = process.pid): string => `${hostname()}/${pid}/${randomBytes(8).toString('hex')}`;

/**
 * Free the namespaces that runs on this host killed outright still hold (SIGKILL runs no cleanup): their lock would
 * keep the index claimed, with the dead run's data in it, for up to LOCK_TTL_MS. Flushed and released only when the
 * lock still names that dead holder. Returns the indexes freed.
 */
export async function sweepStaleNamespaces(baseUrl: string, log?: (msg: string) => void): Promise<number[]> {
  return withRedis(baseUrl, async (client) => {
    const freed: number[] = [];
    for (let db = 1; db < 16; db++) {
      const token = await client.get(lockKey(db));
      const m = token ? /^(.+)\/(\d+)\/[0-9a-f]+$/.exec(token) : null;
      if (!m || m[1] !== hostname() || Number(m[2]) === process.pid || pidAlive(Number(m[2]))) continue;
      // The same check-and-act as release(): flush only while the dead holder's lock is still there.
      if ((await client.get(lockKey(db))) !== token) continue;
      await client.select(db);
      await client.flushdb();
      await client.select(0);
      if ((await client.eval(RELEASE_LUA, 1, lockKey(db), token!)) === 1) freed.push(db);
    }
    if (freed.length) log?.(`freed ${freed.length} Redis namespace(s) held by crashed runs`);
    return freed;
  }, { db: 0 });
}

async function claim(client: Redis, token: string, waitMs: number, baseUrl: string): Promise<number> {
  const indexes = await usableIndexes(client);
  const deadline = Date.now() + waitMs;
  const foreign = new Set<number>();
  let delayMs = 50;
  for (;;) {
    // Start at a random index so concurrent runs spread out instead of all racing for DB 1.
    const offset = Math.floor(Math.random() * indexes.length);
    for (let i = 0; i < indexes.length; i++) {
      const db = indexes[(offset + i) % indexes.length];
      if (foreign.has(db)) continue;
      if ((await client.set(lockKey(db), token, 'PX', LOCK_TTL_MS, 'NX')) !== 'OK') continue;
      if (await claimIfOurs(client, db)) return db;
      foreign.add(db);
      await client.eval(RELEASE_LUA, 1, lockKey(db), token);
    }
    if (Date.now() >= deadline) break;
    await sleep(delayMs);
    delayMs = Math.min(delayMs * 2, 500);
  }
  const taken = indexes.length - foreign.size;
  const foreignText = foreign.size ? `; ${foreign.size} hold data gauntlet did not write (DB ${[...foreign].join(', ')}), left alone` : '';
  throw new InfraError(
    `no free Redis namespace on ${redactUrl(baseUrl)} after ${waitMs} ms: ${taken} of the logical databases ${indexes[0]}..${indexes.at(-1)} are claimed by other gauntlet runs (keys gauntlet:ns:<db> in DB 0)${foreignText}.`,
    'wait for the other runs to finish, or set REDIS_URL to a Redis of its own (or stop the local one, so gauntlet starts a private redis-server)',
  );
}

/** With the lock held: flush the index unless it holds someone else's data. Ends selected on DB 0. */
async function claimIfOurs(client: Redis, db: number): Promise<boolean> {
  const known = (await client.sismember(KNOWN_KEY, String(db))) === 1;
  await client.select(db);
  try {
    if (!known && (await client.dbsize()) > 0) return false;
    await client.flushdb();
  } finally {
    await client.select(0);
  }
  if (!known) await client.sadd(KNOWN_KEY, String(db));
  return true;
}

/** Indexes 1..15, capped by the server's `databases` setting when it can be read. */
async function usableIndexes(client: Redis): Promise<number[]> {
  let count = 16;
  try {
    const reply = (await client.config('GET', 'databases')) as string[];
    if (reply?.[1]) count = Number(reply[1]);
  } catch {
    // CONFIG is often disabled on managed Redis: assume the default of 16
  }
  const indexes = Array.from({ length: Math.min(count, 16) - 1 }, (_, i) => i + 1);
  if (!indexes.length) throw new InfraError('this Redis has a single logical database; gauntlet needs databases 1..15 for namespaces', 'set REDIS_URL to a Redis with the default `databases 16`');
  return indexes;
}
