// Helpers for the infra tests (not a test file): dead pids, a process's children, polling with a deadline,
// a listing of this process's scenario databases and roles on the local server, and a role that holds connection slots.

import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { readdirSync, readFileSync } from 'node:fs';
import { LOCAL_POSTGRES_URL } from './postgres-source.ts';
import { withPg } from './pg-admin.ts';
import { pidAlive, sleep } from './process-util.ts';

/** A pid that existed a moment ago and is now dead (a finished child). */
export function deadPid(): number {
  const run = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const pid = Number(run.stdout);
  if (pidAlive(pid)) throw new Error('expected the finished child to be gone');
  return pid;
}

/** Pids whose parent is `pid` (Linux /proc). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/** The parent pid of `pid` (Linux /proc). */
export function parentPid(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(stepMs);
  }
  return check();
}

/** Databases and roles on the local server whose names carry `pid` (default: this test process). */
export async function leftovers(pid = process.pid, url = LOCAL_POSTGRES_URL): Promise<string[]> {
  return withPg(url, async (c) => {
    const { rows } = await c.query<{ name: string }>(
      `SELECT datname AS name FROM pg_database WHERE datname LIKE $1 UNION ALL SELECT rolname FROM pg_roles WHERE rolname LIKE $1`,
      [`gauntlet\\_${pid}\\_%`],
    );
    return rows.map((r) => r.name);
  });
}

/** Another program holding PostgreSQL's connection slots, as a login role of a test's own (slotHog). */
export interface SlotHog {
  name: string;
  /** Open connections as the role until only `free` slots that any role may use are left; how many it opened. */
  fillLeaving(free: number): Promise<number>;
  /** Close every connection it opened. */
  release(): Promise<void>;
  /** Release, then drop the role. */
  drop(): Promise<void>;
}

/**
 * A role `<prefix><pid>` (never gauntlet_*, which the stale sweep takes for a crashed grade's) that holds connection
 * slots on demand: created now, after dropping those an earlier run of the test left when it was killed (their pid
 * is gone).
 */
export async function slotHog(prefix: string, url = LOCAL_POSTGRES_URL): Promise<SlotHog> {
  const name = `${prefix}${process.pid}`;
  await withPg(url, async (c) => {
    const { rows } = await c.query<{ r: string }>(`SELECT rolname AS r FROM pg_roles WHERE rolname LIKE $1`, [`${prefix.replace(/_/g, '\\_')}%`]);
    for (const { r } of rows) {
      const pid = Number(r.slice(prefix.length));
      if (Number.isInteger(pid) && pid > 0 && !pidAlive(pid)) await c.query(`DROP ROLE IF EXISTS "${r}"`).catch(() => undefined);
    }
    await c.query(`CREATE ROLE "${name}" LOGIN`);
  });
  const clients: pg.Client[] = [];
  const release = async (): Promise<void> => {
    await Promise.all(clients.splice(0).map((c) => c.end().catch(() => undefined)));
  };
  return {
    name,
    async fillLeaving(free) {
      // Other programs' connections come and go (a test before this one still closing its pools): count, fill, and
      // count again until what is left is `free`, so that slots freed after the first count are taken too.
      const as = new URL(url);
      as.username = name;
      const opened = clients.length;
      for (let round = 0; round < 10; round++) {
        const n = await withPg(url, async (c) => {
          const { rows } = await c.query<{ n: string }>(
            `SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int
                    - (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend') AS n`,
          );
          // The counting connection itself is gone once withPg returns.
          return Number(rows[0].n) + 1 - free;
        });
        if (n <= 0) break;
        for (let i = 0; i < n; i++) {
          const c = new pg.Client({ connectionString: as.toString() });
          c.on('error', () => {});
          // Refused: someone else took the slot meanwhile, and the server is as full as this asks.
          if (!(await c.connect().then(() => true, () => false))) return clients.length - opened;
          clients.push(c);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      return clients.length - opened;
    },
    release,
    async drop() {
      await release();
      await withPg(url, (c) => c.query(`DROP ROLE IF EXISTS "${name}"`));
    },
  };
}
