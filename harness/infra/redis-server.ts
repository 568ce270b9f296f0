// A private redis-server from PATH, for machines with the binary but no running Redis: free port on
// 127.0.0.1, no persistence, its own temp folder; stopped and deleted on close, on cleanup or at exit.

import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { onCleanup } from '../cleanup.ts';
import { guardAtExit } from './exit-guard.ts';
import { findOnPath, freePort, hasExited, runBounded, sleep, stopChild, tailFile } from './process-util.ts';
import { probeRedis } from './redis-client.ts';

export const REDIS_DIR_PREFIX = 'gauntlet-redis-';
export const REDIS_PIDFILE = 'redis.pid';

export interface SpawnedRedis {
  url: string;
  port: number;
  pid: number;
  dir: string;
  version: string;
  /** Stops the server and deletes its folder. Idempotent. */
  stop(): Promise<void>;
}

/** The redis-server binary on PATH and its version, or null. */
export async function findRedisServer(env: NodeJS.ProcessEnv = process.env): Promise<{ path: string; version?: string } | null> {
  const bin = findOnPath('redis-server', { PATH: env.PATH ?? process.env.PATH });
  if (!bin) return null;
  const run = await runBounded(bin, ['--version'], { timeoutMs: 5000 });
  return { path: bin, version: /v=(\S+)/.exec(run.stdout)?.[1] };
}

/** Start redis-server on a free port; throws an Error saying why when it cannot. */
export async function spawnRedisServer(opts: { env?: NodeJS.ProcessEnv; log?: (msg: string) => void } = {}): Promise<SpawnedRedis> {
  // PATH comes from `env` when it sets one (tests simulate a machine without redis-server), else from ours.
  const bin = findOnPath('redis-server', { PATH: opts.env?.PATH ?? process.env.PATH });
  if (!bin) throw new Error('redis-server is not on PATH');
  opts.log?.('starting a private redis-server');
  const dir = await mkdtemp(path.join(tmpdir(), `${REDIS_DIR_PREFIX}${process.pid}-`));
  const logFile = path.join(dir, 'redis.log');
  let lastProblem = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const fd = openSync(logFile, 'w');
    const child = spawn(
      bin,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no',
        '--dir', dir, '--pidfile', path.join(dir, REDIS_PIDFILE)],
      // detached: a terminal Ctrl-C must reach our cleanup first, which stops the server in order.
      { cwd: dir, detached: true, stdio: ['ignore', fd, fd] },
    );
    closeSync(fd);
    let spawnError: Error | undefined;
    child.once('error', (err) => (spawnError = err));
    child.unref();
    const pid = child.pid ?? -1;
    const unguard = guardAtExit({ pid, signal: 'SIGKILL', dir });
    const url = `redis://127.0.0.1:${port}`;
    const deadline = Date.now() + 10_000;
    let version = '';
    while (Date.now() < deadline && !hasExited(child) && !spawnError) {
      const probe = await probeRedis(url, 500);
      if (probe.ok) {
        version = probe.version;
        break;
      }
      await sleep(50);
    }
    if (version) {
      let stopping: Promise<void> | null = null;
      const stop = (): Promise<void> => {
        stopping ??= (async () => {
          unregister();
          await stopChild(child, [['SIGTERM', 3000], ['SIGKILL', 2000]]);
          unguard();
          await rm(dir, { recursive: true, force: true, maxRetries: 3 });
        })();
        return stopping;
      };
      const unregister = onCleanup(stop);
      return { url, port, pid, dir, version, stop };
    }
    await stopChild(child, [['SIGKILL', 2000]]);
    unguard();
    const log = tailFile(logFile);
    lastProblem = spawnError ? spawnError.message : log.split('\n').slice(-4).join('\n') || 'no output';
    if (!/address already in use|could not create server tcp/i.test(log)) break;
  }
  await rm(dir, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
  throw new Error(`redis-server (${bin}) did not start: ${lastProblem}`);
}
