// The server half of replica-pair.ts: initdb the primary's data folder, clone it (a cold copy) for the standby,
// and run one postgres server on a data folder — started on a port, probed until ready, stopped again — with
// embedded-postgres.ts's conventions (its binaries, `postgres`/`nobody` when root, detached, exit guard).

import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { appendFile, chown, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InfraError } from '../errors.ts';
import type { EmbeddedBinaries } from './embedded-postgres.ts';
import { guardAtExit } from './exit-guard.ts';
import { freePort, hasExited, runBounded, sleep, stopChild, tailFile } from './process-util.ts';

export type RunAs = { uid: number; gid: number } | null;

/** Settings both servers run with (the standby's must be ≥ the primary's for max_connections and friends). */
const COMMON_SETTINGS = [
  'listen_addresses=127.0.0.1', 'unix_socket_directories=', 'fsync=off', 'max_connections=200',
  'wal_level=replica', 'max_wal_senders=10', 'wal_keep_size=256MB', 'hot_standby=on',
  // Reconnect quickly once the WAL proxy heals (default 5 s), and notice a silent primary within 10 s.
  'wal_retrieve_retry_interval=100ms', 'wal_receiver_timeout=10s', 'wal_receiver_status_interval=1s',
];

export function serverEnv(): NodeJS.ProcessEnv {
  // Fixed English messages (we read the log), and no PG* variables of the caller leaking into the server.
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PG')) env[k] = v;
  return { ...env, LC_ALL: 'C', LC_MESSAGES: 'C', LANG: 'C' };
}

function failure(what: string, output: string, hint: string): InfraError {
  const tail = output.trim().split('\n').slice(-6).join('\n');
  return new InfraError(`replica pair: ${what}:\n${tail}\nFix: ${hint}`, hint);
}

const HINT = 'check that the embedded PostgreSQL binaries run (gauntlet doctor) and that the temp folder is writable';

/** initdb `dataDir` with superuser `postgres` and `password`; pg_hba's default replication lines for 127.0.0.1 use it too. */
export async function initData(bin: EmbeddedBinaries, dir: string, dataDir: string, password: string, runAs: RunAs): Promise<void> {
  const pwfile = path.join(dir, 'pwfile');
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (runAs) await chown(pwfile, runAs.uid, runAs.gid);
  const args = ['-D', dataDir, '-U', 'postgres', `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync',
    '--wal-segsize=1']; // 1 MB WAL segments: the standby's cold copy is 16 MB smaller
  const run = await runBounded(bin.initdb, args, { timeoutMs: 60_000, uid: runAs?.uid, gid: runAs?.gid, env: serverEnv(), cwd: dir });
  await rm(pwfile, { force: true });
  if (run.code !== 0) throw failure(`initdb failed (${run.error?.message ?? `exit ${run.code}`})`, `${run.stderr}\n${run.stdout}`, HINT);
}

/** Copy a stopped data folder (mode and owner kept: `cp -a` as the server's OS user). */
export async function cloneData(from: string, to: string, runAs: RunAs): Promise<void> {
  const run = await runBounded('cp', ['-a', from, to], { timeoutMs: 30_000, uid: runAs?.uid, gid: runAs?.gid });
  if (run.code !== 0) throw failure(`copying the data folder failed (${run.error?.message ?? `exit ${run.code}`})`, run.stderr, HINT);
}

/** Mark `dataDir` as a standby's: it starts in recovery and, once consistent, answers read-only queries. */
export async function markStandby(dataDir: string, runAs: RunAs): Promise<void> {
  const signal = path.join(dataDir, 'standby.signal');
  await writeFile(signal, '', { mode: 0o600 });
  if (runAs) await chown(signal, runAs.uid, runAs.gid);
}

/**
 * Where the standby streams from: `primary_conninfo` appended to its postgresql.auto.conf (0600, owned by the server:
 * it holds the password). Takes effect at the next start or configuration reload.
 */
export async function setPrimaryConninfo(dataDir: string, conninfo: string): Promise<void> {
  await appendFile(path.join(dataDir, 'postgresql.auto.conf'), `primary_conninfo = '${conninfo.replace(/'/g, "''")}'\n`);
}

export interface RunningServer {
  pid: number;
  port: number;
  /** Fast shutdown (SIGINT), escalating to SIGQUIT and SIGKILL. Idempotent. */
  stop(): Promise<void>;
}

export interface ServerSpec {
  bin: EmbeddedBinaries;
  runAs: RunAs;
  /** The temp folder: the server's log goes here. */
  dir: string;
  dataDir: string;
  /** A fixed port (a restarted standby keeps its URL); absent: a free one, retried if someone takes it first. */
  port?: number;
  /** Resolves true once the server on `port` is ready; polled every 50 ms. */
  ready: (port: number) => Promise<boolean>;
  timeoutMs: number;
  label: string;
}

/** Start postgres on `dataDir` and wait until `ready`; throws InfraError with the log's tail when it does not get there. */
export async function runServer(spec: ServerSpec): Promise<RunningServer> {
  const logFile = path.join(spec.dir, 'postgres.log');
  let lastProblem = '';
  for (let attempt = 0; attempt < (spec.port ? 1 : 3); attempt++) {
    const port = spec.port ?? (await freePort());
    const fd = openSync(logFile, 'a');
    const args = ['-D', spec.dataDir, '-p', String(port), ...COMMON_SETTINGS.flatMap((s) => ['-c', s])];
    // detached: a terminal Ctrl-C must not reach the server before our cleanup stops it in order.
    const child = spawn(spec.bin.postgres, args, {
      uid: spec.runAs?.uid, gid: spec.runAs?.gid, env: serverEnv(), cwd: spec.dir, detached: true, stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    let spawnError: Error | undefined;
    child.once('error', (err) => (spawnError = err));
    child.unref();
    const pid = child.pid ?? -1;
    const unguard = guardAtExit({ pid, signal: 'SIGQUIT' });
    const deadline = Date.now() + spec.timeoutMs;
    let ok = false;
    while (!ok && Date.now() < deadline && !hasExited(child) && !spawnError) {
      ok = await spec.ready(port).catch(() => false);
      if (!ok) await sleep(50);
    }
    if (ok) {
      let stopping: Promise<void> | null = null;
      const stop = (): Promise<void> => {
        stopping ??= stopChild(child, [['SIGINT', 5000], ['SIGQUIT', 3000], ['SIGKILL', 2000]]).then(() => void unguard());
        return stopping;
      };
      return { pid, port, stop };
    }
    await stopChild(child, [['SIGQUIT', 3000], ['SIGKILL', 2000]]);
    unguard();
    const log = tailFile(logFile);
    lastProblem = spawnError?.message ?? (hasExited(child) ? log.split('\n').slice(-6).join('\n') || 'no output' : `not ready within ${spec.timeoutMs} ms\n${log.split('\n').slice(-6).join('\n')}`);
    if (!/could not bind|address already in use/i.test(log)) break;
  }
  throw failure(`the ${spec.label} did not start`, lastProblem, HINT);
}
