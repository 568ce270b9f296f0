// Short-lived Redis connections for the infra layer: fail fast (no reconnect loop, no offline queue), every
// connect and command under a timeout, an 'error' listener always attached; plus a PING/INFO probe.

import { Redis } from 'ioredis';
import { errorText, withTimeout } from './process-util.ts';

export interface RedisConnectOptions {
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
  /** Logical database to select, overriding the URL's path. */
  db?: number;
}

export async function connectRedis(url: string, opts: RedisConnectOptions = {}): Promise<Redis> {
  const connectTimeoutMs = opts.connectTimeoutMs ?? 2000;
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: connectTimeoutMs,
    commandTimeout: opts.commandTimeoutMs ?? 5000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    reconnectOnError: () => false,
    enableOfflineQueue: true,
    connectionName: 'gauntlet-infra',
    ...(opts.db === undefined ? {} : { db: opts.db }),
  });
  let lastError: Error | undefined;
  client.on('error', (err: Error) => {
    // Surfaced through the rejected command; without a listener ioredis would log or crash.
    lastError = err;
  });
  try {
    await withTimeout(client.connect(), connectTimeoutMs + 1000, `timed out after ${connectTimeoutMs} ms`);
    return client;
  } catch (err) {
    client.disconnect();
    // connect() rejects with a bare "Connection is closed."; the 'error' event carried the cause (ECONNREFUSED ...).
    throw lastError ?? err;
  }
}

/** Close without waiting on a dead server. */
export async function endRedis(client: Redis): Promise<void> {
  await withTimeout(client.quit(), 1000, 'quit timed out').catch(() => undefined);
  client.disconnect();
}

export async function withRedis<T>(url: string, fn: (client: Redis) => Promise<T>, opts: RedisConnectOptions = {}): Promise<T> {
  const client = await connectRedis(url, opts);
  try {
    return await fn(client);
  } finally {
    await endRedis(client);
  }
}

export type RedisProbe = { ok: true; version: string } | { ok: false; reason: string };

/** PING and read the server version within `timeoutMs`; never throws. */
export async function probeRedis(url: string, timeoutMs: number): Promise<RedisProbe> {
  try {
    const version = await withTimeout(
      withRedis(
        url,
        async (client) => {
          const pong = await client.ping();
          if (pong !== 'PONG') throw new Error(`PING answered ${JSON.stringify(pong)}`);
          const info = await client.info('server');
          return /redis_version:([^\r\n]+)/.exec(info)?.[1]?.trim() ?? 'unknown';
        },
        { connectTimeoutMs: timeoutMs, commandTimeoutMs: timeoutMs },
      ),
      timeoutMs + 1500,
      `no answer within ${timeoutMs} ms`,
    );
    return { ok: true, version };
  } catch (err) {
    return { ok: false, reason: errorText(err) };
  }
}

/** A URL's host and port (defaults as Redis clients apply them). */
export function redisHostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname || '127.0.0.1', port: u.port ? Number(u.port) : 6379 };
}
