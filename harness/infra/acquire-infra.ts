// acquireInfra: resolve PostgreSQL (required) and Redis (optional) in parallel, sweep what crashed runs left
// behind, and return one Infra whose close() undoes everything this run created, in order.

import type { Infra } from './types.ts';
import { undoAll } from './infra-registry.ts';
import { acquirePostgres } from './postgres-source.ts';
import { errorText } from './process-util.ts';
import { acquireRedis, type RedisResolution } from './redis-source.ts';
import { sweepStaleDatabases, sweepStaleTempDirs } from './stale-sweep.ts';
import { sweepStaleNamespaces } from './redis-namespace.ts';
import { startReplicaPair, type ReplicaPair } from './replica-pair.ts';

export interface AcquireInfraOptions {
  /** Progress lines (the CLI sends them to stderr). */
  log?: (msg: string) => void;
  /** Use embedded PostgreSQL even if DATABASE_URL is set or a local server runs. */
  preferEmbedded?: boolean;
  /** Start a private redis-server even if REDIS_URL is set or a local Redis runs. */
  preferSpawnedRedis?: boolean;
  /** Where DATABASE_URL, REDIS_URL (and PATH, for redis-server, when it sets one) are read from (default process.env). */
  env?: NodeJS.ProcessEnv;
}

export async function acquireInfra(opts: AcquireInfraOptions = {}): Promise<Infra> {
  const log = opts.log;
  await sweepStaleTempDirs(log).catch((err) => log?.(`stale server sweep failed: ${errorText(err)}`));
  const [pgResult, redisResult] = await Promise.allSettled([
    acquirePostgres({ env: opts.env, log, preferEmbedded: opts.preferEmbedded }),
    acquireRedis({ env: opts.env, log, preferSpawned: opts.preferSpawnedRedis }),
  ]);
  if (pgResult.status === 'rejected') {
    if (redisResult.status === 'fulfilled') await redisResult.value.redis?.close();
    throw pgResult.reason;
  }
  const postgres = pgResult.value;
  const redisRes: RedisResolution =
    redisResult.status === 'fulfilled' ? redisResult.value : { redis: null, problem: `Redis lookup failed: ${errorText(redisResult.reason)}` };
  if (postgres.source !== 'embedded') {
    await sweepStaleDatabases(postgres.adminUrl, log).catch((err) => log?.(`stale database sweep failed: ${errorText(err)}`));
  }
  if (redisRes.redis) await sweepStaleNamespaces(redisRes.redis.url, log).catch((err) => log?.(`stale Redis namespace sweep failed: ${errorText(err)}`));

  let closing: Promise<void> | null = null;
  let pair: Promise<ReplicaPair> | null = null;
  const infra: Infra = {
    postgres,
    redis: redisRes.redis,
    ...(redisRes.problem ? { redisProblem: redisRes.problem } : {}),
    replicaPair: () => {
      if (closing) return Promise.reject(new Error('the infrastructure is closed'));
      pair ??= startReplicaPair({ log });
      pair.catch(() => (pair = null)); // a failed start may be tried again
      return pair;
    },
    close: () => {
      closing ??= (async () => {
        const errors = await undoAll(infra);
        if (pair) await pair.then((p) => p.close(), () => undefined).catch((err) => errors.push(err as Error));
        await Promise.allSettled([infra.redis?.close(), postgres.close()]).then((results) => {
          for (const r of results) if (r.status === 'rejected') errors.push(r.reason as Error);
        });
        if (errors.length) throw new Error(`closing infra: ${errors.map(errorText).join('; ')}`);
      })();
      return closing;
    },
  };
  return infra;
}
