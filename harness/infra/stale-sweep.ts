// Removes what a crashed earlier run left behind: `gauntlet_<pid>_...` databases and roles, and embedded
// PostgreSQL / redis-server temp folders (and their servers), but only those whose owning pid is dead on this host.

import { readFileSync, readlinkSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { EMBEDDED_DIR_PREFIX } from './embedded-postgres.ts';
import { serverInfo, withPg } from './pg-admin.ts';
import { dropDatabaseAndRole } from './pg-drop.ts';
import { pidAlive, sleep } from './process-util.ts';
import { REDIS_DIR_PREFIX, REDIS_PIDFILE } from './redis-server.ts';

/** A grade's staged copy of a submission's node_modules: `gauntlet-deps-<pid>-…` (harness/instances/dependencies.ts). */
export const DEPS_DIR_PREFIX = 'gauntlet-deps-';
/** An instance's temp folder, its HOME and TMPDIR: `gauntlet-instance-<pid>-<index>-…` (harness/instances/instance-process.ts). */
export const INSTANCE_DIR_PREFIX = 'gauntlet-instance-';
/** A fleet worker's unpacked copy of a queued submission: `gauntlet-job-<pid>-…` (harness/app/fleet/worker.ts). */
export const JOB_DIR_PREFIX = 'gauntlet-job-';

export const SCENARIO_NAME_PATTERN = /^gauntlet_(\d+)_\d+_[a-z0-9]+$/;

/** The comment put on every scenario database and role: who created it, so a sweep only touches its own host's. */
export function ownerComment(label: string): string {
  return `gauntlet host=${hostname()} pid=${process.pid} label=${label.replace(/[^\w./:-]+/g, '_').slice(0, 100)}`;
}

export function parseOwnerComment(comment: string | null): { host: string; pid: number } | null {
  const m = /^gauntlet host=(\S+) pid=(\d+)/.exec(comment ?? '');
  return m ? { host: m[1], pid: Number(m[2]) } : null;
}

/** Whether a name + comment pair belongs to a dead run of this host. */
export function isStale(name: string, comment: string | null): boolean {
  const fromName = SCENARIO_NAME_PATTERN.exec(name);
  const owner = parseOwnerComment(comment);
  if (!fromName || !owner) return false;
  const pid = Number(fromName[1]);
  return owner.host === hostname() && owner.pid === pid && pid !== process.pid && !pidAlive(pid);
}

/** Drop stale scenario databases and roles on the server behind `adminUrl`; returns the names dropped. */
export async function sweepStaleDatabases(adminUrl: string, log?: (msg: string) => void): Promise<string[]> {
  return withPg(adminUrl, async (client) => {
    const info = await serverInfo(client);
    const { rows } = await client.query<{ name: string; comment: string | null }>(
      `SELECT datname AS name, shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname ~ '^gauntlet_[0-9]+_'
       UNION ALL
       SELECT rolname, shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname ~ '^gauntlet_[0-9]+_'`,
    );
    // A crash between CREATE ROLE and COMMENT ON DATABASE leaves one of the pair uncommented: judge by name.
    const stale = [...new Set(rows.filter((r) => isStale(r.name, r.comment)).map((r) => r.name))];
    const dropped: string[] = [];
    for (const name of stale) {
      try {
        await dropDatabaseAndRole(client, name, info.versionNum);
        dropped.push(name);
      } catch (err) {
        log?.(`could not drop stale scenario database ${name}: ${(err as Error).message}`);
      }
    }
    if (dropped.length) log?.(`removed ${dropped.length} scenario database(s) left by crashed runs`);
    return dropped;
  }, { connectTimeoutMs: 5000, queryTimeoutMs: 60_000 });
}

/** Stop and delete embedded PostgreSQL / redis-server folders, staged dependencies, instance folders and fleet job folders of dead runs; returns the folders removed. */
export async function sweepStaleTempDirs(log?: (msg: string) => void, base = tmpdir()): Promise<string[]> {
  const pattern = new RegExp(`^(${EMBEDDED_DIR_PREFIX}|${REDIS_DIR_PREFIX}|${DEPS_DIR_PREFIX}|${INSTANCE_DIR_PREFIX}|${JOB_DIR_PREFIX})(\\d+)-`);
  const removed: string[] = [];
  for (const entry of await readdir(base).catch(() => [] as string[])) {
    const m = pattern.exec(entry);
    if (!m || Number(m[2]) === process.pid || pidAlive(Number(m[2]))) continue;
    const dir = path.join(base, entry);
    const isPostgres = m[1] === EMBEDDED_DIR_PREFIX;
    const server = m[1] === DEPS_DIR_PREFIX || m[1] === INSTANCE_DIR_PREFIX || m[1] === JOB_DIR_PREFIX ? null : readPid(isPostgres ? path.join(dir, 'data', 'postmaster.pid') : path.join(dir, REDIS_PIDFILE));
    if (server && pidAlive(server)) {
      // Only kill what provably runs in that folder (the pid may have been reused by something else).
      const cwd = safeReadlink(`/proc/${server}/cwd`);
      const expected = isPostgres ? path.join(dir, 'data') : dir;
      if (cwd !== expected) continue;
      if (!(await kill(server, isPostgres ? 'SIGQUIT' : 'SIGKILL'))) continue;
    }
    await rm(dir, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
    removed.push(dir);
  }
  if (removed.length) log?.(`removed ${removed.length} server or dependency folder(s) left by crashed runs`);
  return removed;
}

function readPid(file: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').split('\n')[0], 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function safeReadlink(file: string): string | null {
  try {
    return readlinkSync(file);
  } catch {
    return null;
  }
}

async function kill(pid: number, signal: NodeJS.Signals): Promise<boolean> {
  for (const sig of [signal, 'SIGKILL'] as NodeJS.Signals[]) {
    try {
      process.kill(pid, sig);
    } catch {
      return true;
    }
    for (let i = 0; i < 30 && pidAlive(pid); i++) await sleep(100);
    if (!pidAlive(pid)) return true;
  }
  return !pidAlive(pid);
}
