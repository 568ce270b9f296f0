// Where Redis comes from: REDIS_URL, else a local server on 127.0.0.1:6379, else a private redis-server from
// PATH. Redis is optional: when none can be had the result says why and what to do, and grading continues.

import type { RedisSource } from './types.ts';
import { redactUrl } from './url-util.ts';
import { probeRedis, redisHostPort } from './redis-client.ts';
import { spawnRedisServer } from './redis-server.ts';
import { errorText } from './process-util.ts';

export const LOCAL_REDIS_URL = 'redis://127.0.0.1:6379';
export const INSTALL_REDIS_FIX =
  'install redis-server (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) so gauntlet can use or start it, or set REDIS_URL to a reachable Redis';

export interface AcquireRedisOptions {
  env?: NodeJS.ProcessEnv;
  log?: (msg: string) => void;
  /** Skip REDIS_URL and the local server and start a private redis-server (tests, isolation). */
  preferSpawned?: boolean;
  /** Probe timeout for the local server. */
  localTimeoutMs?: number;
}

export interface RedisResolution {
  redis: RedisSource | null;
  problem?: string;
}

export async function acquireRedis(opts: AcquireRedisOptions = {}): Promise<RedisResolution> {
  const env = opts.env ?? process.env;
  const tried: string[] = [];
  const envUrl = env.REDIS_URL?.trim();
  if (envUrl && !opts.preferSpawned) {
    const probe = await probeRedis(envUrl, 2000);
    if (probe.ok) return { redis: external(envUrl, 'env', probe.version) };
    // An explicit setting that does not work is reported, not silently replaced by another server.
    return {
      redis: null,
      problem: `REDIS_URL (${redactUrl(envUrl)}) did not answer PING: ${probe.reason}. Fix REDIS_URL, or unset it to let gauntlet use a local Redis or start redis-server itself.`,
    };
  }
  if (!opts.preferSpawned) {
    const probe = await probeRedis(LOCAL_REDIS_URL, opts.localTimeoutMs ?? 1000);
    if (probe.ok) return { redis: external(LOCAL_REDIS_URL, 'local', probe.version) };
    tried.push(`REDIS_URL is not set; ${LOCAL_REDIS_URL} did not answer (${probe.reason})`);
  }
  try {
    const server = await spawnRedisServer({ env, log: opts.log });
    return {
      redis: { url: server.url, source: 'spawned', version: server.version, host: '127.0.0.1', port: server.port, close: server.stop },
    };
  } catch (err) {
    tried.push(errorText(err));
  }
  return { redis: null, problem: `no Redis: ${tried.join('; ')}. Fix: ${INSTALL_REDIS_FIX}.` };
}

function external(url: string, source: 'env' | 'local', version: string): RedisSource {
  const { host, port } = redisHostPort(url);
  return { url, source, version, host, port, close: async () => undefined };
}
