// A primary + hot-standby pair of throwaway PostgreSQL servers (physical streaming replication), the building
// block of challenges about reads from a replica (issue 15, "subscription-reads"): the standby answers read-only
// queries a little behind the primary, and its replication stream runs through a fault proxy, so a caller can
// make the lag real (latency) or stop replication outright (blackhole) while both servers stay up.
//
// The standby is a cold copy of the primary's data folder taken right after initdb, before the primary ever
// started: a cleanly shut-down cluster, so no backup API, no pg_basebackup (the embedded package ships none),
// no backup_label — the standby starts from initdb's shutdown checkpoint and streams everything after it.
// Both servers use embedded-postgres.ts's binaries and conventions; everything is undone on close(), by the
// cleanup registry on an interruption, or by the exit guard (and the next run's stale sweep) after a crash.

import { randomBytes } from 'node:crypto';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { onCleanup } from '../cleanup.ts';
import { InfraError } from '../errors.ts';
import { startFaultProxy, type FaultProxy } from '../nemesis/fault-proxy.ts';
import { EMBEDDED_DIR_PREFIX, embeddedRunAs, findEmbeddedBinaries } from './embedded-postgres.ts';
import { guardAtExit } from './exit-guard.ts';
import { connectPg, endPg, withPg } from './pg-admin.ts';
import { sleep } from './process-util.ts';
import { cloneData, initData, markStandby, setPrimaryConninfo, runServer, type RunningServer, type RunAs } from './replica-pair-server.ts';

export interface PairServer {
  readonly host: string;
  readonly port: number;
  /** A superuser URL (password auth) for database `db` (default `postgres`). */
  url(db?: string): string;
}

export interface ReplicaPair {
  primary: PairServer;
  /** Read-only (hot standby); refuses writes with SQLSTATE 25006. */
  standby: PairServer;
  /** The fault proxy the standby's replication connection goes through (latency: lag; blackhole: replication stops). */
  walProxy: FaultProxy;
  /** WAL bytes the primary has written that the standby has not replayed yet (≥ 0). Throws while the standby is down. */
  lagBytes(): Promise<number>;
  /** Wait until the standby has replayed all the primary had written when called; throws after `timeoutMs`. */
  waitCaughtUp(timeoutMs: number): Promise<void>;
  /** Stop the standby (fast shutdown); its data folder stays. Idempotent. */
  stopStandby(): Promise<void>;
  /** Start it again on the same port; resolves once it accepts queries and (unless `streaming: false`) streams. */
  startStandby(opts?: { streaming?: boolean; timeoutMs?: number }): Promise<void>;
  /** Stop both servers and the proxy and delete both folders. Idempotent. */
  close(): Promise<void>;
}

export interface ReplicaPairOptions {
  /** How long each server may take to be ready (default 30 s). */
  timeoutMs?: number;
  log?: (msg: string) => void;
}

const HOST = '127.0.0.1';
const PROBE = { connectTimeoutMs: 1000, queryTimeoutMs: 2000 };
const QUERY = { connectTimeoutMs: 3000, queryTimeoutMs: 5000 };

export async function startReplicaPair(opts: ReplicaPairOptions = {}): Promise<ReplicaPair> {
  const [found, runAs] = await Promise.all([findEmbeddedBinaries(), embeddedRunAs()]);
  if (!found.ok) throw new InfraError(`replica pair: embedded PostgreSQL unavailable: ${found.problem}`, 'npm install --include=optional');
  const bin = found.binaries;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const password = randomBytes(18).toString('hex');
  const urlFor = (port: number) => (db = 'postgres') => `postgres://postgres:${password}@${HOST}:${port}/${encodeURIComponent(db)}`;

  // Two folders named like embedded-postgres's (`<prefix><pid>-…/data`): the stale sweep knows them.
  const dirs: string[] = [];
  const unguards: Array<() => void> = [];
  let primary: RunningServer | null = null;
  let standby: RunningServer | null = null;
  let proxy: FaultProxy | null = null;
  let closing: Promise<void> | null = null;
  // Every step is idempotent: a start that fails after close() began (an interruption) runs it once more.
  const teardown = async (): Promise<void> => {
    unregister();
    await standby?.stop();
    await primary?.stop();
    await proxy?.close();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    for (const unguard of unguards) unguard();
  };
  const close = (): Promise<void> => (closing ??= teardown());
  const unregister = onCleanup(close);
  const step = <T>(value: T): T => {
    if (closing) throw new InfraError('replica pair: closed while starting (interrupted)', 'start it again');
    return value;
  };

  try {
    const t0 = performance.now();
    const laps: string[] = [];
    const lap = (what: string): void => void laps.push(`${what} ${Math.round(performance.now() - t0)} ms`);
    opts.log?.('starting a PostgreSQL primary + streaming standby');
    const [primaryDir, standbyDir] = await Promise.all([0, 1].map(() => makeDir(runAs)));
    dirs.push(primaryDir, standbyDir);
    for (const dir of dirs) unguards.push(guardAtExit({ signal: 'SIGQUIT', dir }));
    const primaryData = path.join(primaryDir, 'data');
    const standbyData = path.join(standbyDir, 'data');
    step(await initData(bin, primaryDir, primaryData, password, runAs));
    lap('initdb done');
    step(await cloneData(primaryData, standbyData, runAs));
    lap('cloned');

    // The standby needs no primary to start: it is consistent at initdb's shutdown checkpoint. Both start at once;
    // it learns where to stream from (the proxy, once the primary has a port) by a configuration reload.
    await markStandby(standbyData, runAs);
    const startStandbyServer = async (port: number | undefined, streaming: boolean, ms: number): Promise<RunningServer> =>
      runServer({
        bin, runAs, dir: standbyDir, dataDir: standbyData, port, timeoutMs: ms, label: 'standby',
        ready: (p) => standbyReady(urlFor(p)(), streaming),
      });
    const [primaryStart, standbyStart] = await Promise.allSettled([
      runServer({
        bin, runAs, dir: primaryDir, dataDir: primaryData, timeoutMs, label: 'primary',
        ready: (port) => withPg(urlFor(port)(), async () => true, PROBE),
      }),
      startStandbyServer(undefined, false, timeoutMs),
    ]);
    if (primaryStart.status === 'fulfilled') primary = primaryStart.value;
    if (standbyStart.status === 'fulfilled') standby = standbyStart.value;
    if (primaryStart.status === 'rejected') throw primaryStart.reason;
    if (standbyStart.status === 'rejected') throw standbyStart.reason;
    step(null);
    const primaryPort = primaryStart.value.port;
    const standbyPort = standbyStart.value.port;
    lap('both servers up');
    proxy = await startFaultProxy({ upstreamHost: HOST, upstreamPort: primaryPort });
    step(null);
    const conninfo = `host=${HOST} port=${proxy.port} user=postgres password=${password} application_name=gauntlet_standby sslmode=disable gssencmode=disable connect_timeout=2`;
    await setPrimaryConninfo(standbyData, conninfo);
    await withPg(urlFor(standbyPort)(), (c) => c.query('SELECT pg_reload_conf()'), QUERY);
    const streamingBy = Date.now() + timeoutMs;
    while (!(await standbyReady(urlFor(standbyPort)(), true).catch(() => false))) {
      if (step(Date.now()) > streamingBy) throw new InfraError(`replica pair: the standby did not start streaming within ${timeoutMs} ms`, 'see its postgres.log');
      await sleep(25);
    }
    step(lap('standby streaming'));
    opts.log?.(`replica pair ready: ${laps.join(', ')}`);

    const primaryUrl = urlFor(primaryPort);
    const standbyUrl = urlFor(standbyPort);
    const replayLsn = async (): Promise<string> => {
      const lsn = await withPg(standbyUrl(), async (c) => (await c.query<{ l: string | null }>('SELECT pg_last_wal_replay_lsn()::text AS l')).rows[0].l, QUERY);
      if (!lsn) throw new Error('the standby reports no replay position (is it still in recovery?)');
      return lsn;
    };
    const pair: ReplicaPair = {
      primary: { host: HOST, port: primaryPort, url: primaryUrl },
      standby: { host: HOST, port: standbyPort, url: standbyUrl },
      walProxy: proxy,
      async lagBytes() {
        const replayed = await replayLsn(); // first: a lag measured this way is never less than the real one
        return withPg(primaryUrl(), async (c) => {
          const { rows } = await c.query<{ d: string }>('SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::text AS d', [replayed]);
          return Math.max(0, Number(rows[0].d));
        }, QUERY);
      },
      async waitCaughtUp(ms) {
        const deadline = Date.now() + ms;
        const target = await withPg(primaryUrl(), async (c) => (await c.query<{ l: string }>('SELECT pg_current_wal_lsn()::text AS l')).rows[0].l, QUERY);
        let behind = -1;
        let problem = '';
        const client = await connectPg(standbyUrl(), QUERY).catch((err: Error) => void (problem = err.message));
        try {
          while (client) {
            try {
              const { rows } = await client.query<{ d: string | null }>('SELECT pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn())::text AS d', [target]);
              behind = Number(rows[0].d ?? Number.NaN);
              if (behind <= 0) return;
            } catch (err) {
              problem = (err as Error).message;
              break;
            }
            if (Date.now() >= deadline) break;
            await sleep(25);
          }
        } finally {
          if (client) await endPg(client);
        }
        throw new Error(`the standby did not catch up within ${ms} ms (${problem || `${behind} bytes behind ${target}`})`);
      },
      async stopStandby() {
        await standby?.stop();
      },
      async startStandby(o = {}) {
        if (closing) throw new Error('the replica pair is closed');
        await standby?.stop();
        standby = await startStandbyServer(standbyPort, o.streaming ?? true, o.timeoutMs ?? timeoutMs);
      },
      close,
    };
    return pair;
  } catch (err) {
    await close();
    await teardown();
    throw err;
  }
}

async function makeDir(runAs: RunAs): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), `${EMBEDDED_DIR_PREFIX}${process.pid}-`));
  if (runAs) await chown(dir, runAs.uid, runAs.gid);
  return dir;
}

/** Accepting connections, in recovery and, with `streaming`, its WAL receiver streaming. */
async function standbyReady(url: string, streaming: boolean): Promise<boolean> {
  return withPg(url, async (c) => {
    const { rows } = await c.query<{ r: boolean; s: string | null }>(
      'SELECT pg_is_in_recovery() AS r, (SELECT status FROM pg_stat_wal_receiver) AS s',
    );
    return rows[0].r && (!streaming || rows[0].s === 'streaming');
  }, PROBE);
}
