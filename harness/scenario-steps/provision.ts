// Step 1 of a scenario run: everything the instances will talk to, each piece's cleanup registered as soon as it
// exists — a fresh database and Redis namespace, the Redis proxy and the PostgreSQL fault proxy (recording
// redis.jsonl and sql.jsonl and feeding the wire tap the application observes with), a tagged way in per process, the scenario files,
// the mock services, and the cluster of instances (not started yet).

import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ScenarioState } from './state.ts';
import { Cluster } from '../instances/cluster.ts';
import { createScenarioDatabase, createRedisNamespace, type RedisNamespace, type ScenarioDatabase } from '../infra/index.ts';
import { startFaultProxy, type FaultProxy } from '../nemesis/index.ts';
import { resolveServicesSpec, serviceEnv, startMockServices, type MockServices } from '../services/index.ts';
import type { Containment } from '../instances/netns.ts';
import { relayEndpoint, type WireEndpoint } from '../instances/wire-gate.ts';
import { openJsonlLog, openSqlLog } from '../wire/sql-log.ts';
import type { SqlRecord } from '../wire/pg-wire.ts';
import type { WireTap } from '../evidence-types.ts';
import { startRedisProxy, type RedisProxy, type RedisRecord } from '../wire/redis-proxy.ts';
import { QueryLog } from '../wire/query-log.ts';
import { InfraError } from '../errors.ts';
import type { ReplicaPair } from '../infra/replica-pair.ts';
import { reserveConnectionSlots, scenarioConnections, type SlotReservation } from '../infra/connection-slots.ts';

export interface Provisioned {
  db: ScenarioDatabase;
  ns: RedisNamespace | null;
  /** The fault proxy in front of the scenario's database. */
  proxy: FaultProxy;
  /** The scenario's Redis, when there is one: reached only through this proxy. */
  redisProxy: RedisProxy | null;
  services: MockServices | undefined;
  cluster: Cluster;
  /** The rubric's view of the wire (rubric/evidence/wire): fed the same records, analysed before teardown. */
  wireTap: WireTap | null;
  webhookSecret: string;
  /** Whether the submission sent Redis commands of its own (not a client's handshake): only then are Redis faults worth injecting. */
  redisUsed(): boolean;
  /** Challenges with a replica: the pair, and the fault proxy in front of its standby (REPLICA_URL points at it). */
  replica: { pair: ReplicaPair; proxy: FaultProxy } | null;
  /** Challenges with a replica: every statement sent to either server, for the checks that count them. */
  queries: QueryLog | null;
  /** The scenario's share of the server's connection slots and the server's slot facts. */
  slots: SlotReservation;
}

/** What a Redis client sends on its own when it connects (ioredis, node-redis): not the submission's use of Redis. */
const REDIS_HANDSHAKE = new Set(['AUTH', 'HELLO', 'SELECT', 'CLIENT', 'INFO', 'PING', 'READONLY', 'QUIT', 'COMMAND']);

export async function provision(s: ScenarioState): Promise<Provisioned> {
  const { o } = s;
  const pair = o.challenge.replica ? await replicaPairOf(s) : null;
  const slots = await reserveSlots(s, pair ? pair.primary.url() : o.infra.postgres.adminUrl);
  o.progress('creating database');
  const db = await createScenarioDatabase(o.infra, `${o.challenge.id}-${o.scenario.id}`, pair ? { adminUrl: pair.primary.url(), host: pair.primary.host, port: pair.primary.port } : undefined);
  if (!o.keep) s.teardown.push(() => db.drop());
  // The standby must know the new database and its role before anything connects to it there.
  if (pair) await pair.waitCaughtUp(20_000);
  const queries = pair ? new QueryLog() : null;
  const ns = await createRedisNamespace(o.infra);
  if (ns) s.teardown.push(() => ns.release());
  const wireTap = o.capture !== false ? (o.observers?.wireTap?.() ?? null) : null;
  const { redisProxy, redisUsed } = await startRedis(s, ns, wireTap);
  const proxy = await startDatabaseProxy(s, db, wireTap, queries);
  const replica = pair ? { pair, proxy: await startReplicaProxy(s, pair, queries!) } : null;
  const containment = o.containment ?? { network: 'open', reason: 'no containment requested' };
  const ways = await tagWaysIn(s, containment, db, proxy, redisProxy, replica?.proxy ?? null);
  const webhookSecret = webhookSecretOf(s);
  const scenarioFile = writeScenarioFiles(s);
  const services = await startServices(s);
  const cluster = createCluster(s, { containment, proxy, redisProxy, replicaProxy: replica?.proxy ?? null, services, webhookSecret, scenarioFile, ...ways });
  return { db, ns, proxy, redisProxy, services, cluster, wireTap, webhookSecret, redisUsed, replica, queries, slots };
}

/**
 * The scenario's share of the server's connection slots (connection-slots.ts), before anything is created: other
 * gauntlet grades on the same server take turns with this one. Released last, once the instances are gone.
 */
async function reserveSlots(s: ScenarioState, adminUrl: string): Promise<SlotReservation> {
  const slots = await reserveConnectionSlots(adminUrl, { connections: scenarioConnections(s.o.instances), progress: (m) => s.o.progress(m, true) });
  s.teardown.push(() => slots.release());
  if (slots.waitedMs >= 1000) s.extra.connectionSlotWaitMs = slots.waitedMs;
  if (slots.unheld && slots.waitedMs >= 1000) s.o.progress(slots.unheld, true);
  return slots;
}

/** The grade's replica pair (started by the first scenario that needs it, a few seconds; the same one after). */
async function replicaPairOf(s: ScenarioState): Promise<ReplicaPair> {
  if (!s.o.infra.replicaPair) throw new InfraError(`${s.o.challenge.id} needs a PostgreSQL replica pair, which this infrastructure cannot start`, 'grade it with gauntlet grade (which starts one from the embedded PostgreSQL binaries)');
  s.o.progress('replica pair (primary + streaming standby)');
  try {
    return await s.o.infra.replicaPair();
  } catch (err) {
    throw err instanceof InfraError ? err : new InfraError(`could not start the PostgreSQL replica pair: ${(err as Error).message}`, 'run gauntlet doctor; the pair uses the embedded PostgreSQL binaries (npm install --include=optional)');
  }
}

/**
 * The scenario's Redis, reached only through its own proxy: a password of its own, its logical database as
 * database 0, nothing beyond it, every command recorded (redis.jsonl) and open to faults.
 */
async function startRedis(s: ScenarioState, ns: RedisNamespace | null, wireTap: WireTap | null): Promise<{ redisProxy: RedisProxy | null; redisUsed(): boolean }> {
  const { o, history } = s;
  const redisLog = ns && o.capture !== false ? openJsonlLog<RedisRecord>(path.join(s.dir, 'redis.jsonl')) : null;
  // Commands of the submission's own (not the client's handshake): only then are Redis faults worth injecting.
  let redisCommands = 0;
  const recordRedis = (r: RedisRecord) => {
    wireTap?.redis(r);
    if (r.kind === 'command' && r.tag !== 'setup' && !REDIS_HANDSHAKE.has(r.args?.[0] ?? '')) redisCommands++;
    redisLog?.record(r);
  };
  const redisProxy = ns && o.infra.redis ? await startRedisProxy({ upstreamUrl: o.infra.redis.url, db: ns.db, password: randomBytes(18).toString('hex'), record: recordRedis, nowUs: () => history.nowUs() }) : null;
  if (redisProxy) s.teardown.push(() => redisProxy.close());
  if (redisLog) s.teardown.push(() => redisLog.close());
  return { redisProxy, redisUsed: () => redisCommands > 0 };
}

/** The fault proxy in front of PostgreSQL; every statement the instances send is decoded on the way through (sql.jsonl, CONTRACT §7). */
async function startDatabaseProxy(s: ScenarioState, db: ScenarioDatabase, wireTap: WireTap | null, queries: QueryLog | null): Promise<FaultProxy> {
  const sqlLog = s.o.capture !== false ? openSqlLog(path.join(s.dir, 'sql.jsonl')) : null;
  if (sqlLog) s.teardown.push(() => sqlLog.close());
  const toQueries = queries?.recorder('primary');
  const recordSql = sqlLog && wireTap
    ? (r: SqlRecord) => (sqlLog.record(r), wireTap.sql(r), toQueries?.(r))
    : toQueries ?? null;
  const proxy = await startFaultProxy({ upstreamHost: db.host, upstreamPort: db.port, ...(recordSql ? { record: recordSql } : {}), nowUs: () => s.history.nowUs() });
  s.teardown.unshift(() => proxy.close());
  return proxy;
}

/**
 * The proxy in front of the standby: the replica's faults (a stopped server's connections) and its own record,
 * sql-replica.jsonl, always decoded (the checks count its statements).
 */
async function startReplicaProxy(s: ScenarioState, pair: ReplicaPair, queries: QueryLog): Promise<FaultProxy> {
  const sqlLog = s.o.capture !== false ? openSqlLog(path.join(s.dir, 'sql-replica.jsonl')) : null;
  if (sqlLog) s.teardown.push(() => sqlLog.close());
  const toQueries = queries.recorder('replica');
  const record = sqlLog ? (r: SqlRecord) => (sqlLog.record(r), toQueries(r)) : toQueries;
  const proxy = await startFaultProxy({ upstreamHost: pair.standby.host, upstreamPort: pair.standby.port, record, nowUs: () => s.history.nowUs() });
  s.teardown.unshift(() => proxy.close());
  return proxy;
}

interface WaysIn {
  viaProxy: URL;
  pgUrlFor(index: number): string;
  /** REPLICA_URL per process ('' without a replica). */
  replicaUrlFor(index: number): string;
  redisUrls: Map<number, string>;
}

/**
 * Open network: each process gets a tagged port of its own on the proxy, so its statements are known as its own
 * (setup, the instances, restarts, the fresh instances for final reads). Contained: its own Unix socket (opened by
 * the cluster through `endpoints`), so nothing is listened on here.
 */
async function tagWaysIn(s: ScenarioState, containment: Containment, db: ScenarioDatabase, proxy: FaultProxy, redisProxy: RedisProxy | null, replicaProxy: FaultProxy | null): Promise<WaysIn> {
  const viaProxy = new URL(db.url);
  viaProxy.hostname = proxy.host;
  viaProxy.port = String(proxy.port);
  const open = containment.network === 'open';
  const pgPorts = open ? await tagged(s, proxy) : new Map<number, { port?: number }>();
  const redisUrls = new Map<number, string>();
  if (open && redisProxy) for (const [index, l] of await tagged(s, redisProxy)) redisUrls.set(index, l.url!);
  const pgUrlFor = (index: number) => {
    const u = new URL(viaProxy);
    if (pgPorts.has(index)) u.port = String(pgPorts.get(index)!.port);
    return u.toString();
  };
  const replicaPorts = open && replicaProxy ? await tagged(s, replicaProxy) : new Map<number, { port?: number }>();
  const replicaUrlFor = (index: number) => {
    if (!replicaProxy) return '';
    const u = new URL(db.url);
    u.hostname = replicaProxy.host;
    u.port = String(replicaPorts.get(index)?.port ?? replicaProxy.port);
    return u.toString();
  };
  return { viaProxy, pgUrlFor, replicaUrlFor, redisUrls };
}

/** A tagged TCP listener per process on a proxy: setup (-1), each instance, and room for restarts and fresh ones. */
async function tagged<L extends { port?: number; url?: string }>(s: ScenarioState, proxy: { listen(o: { tag: string; host: string; port: number }): Promise<L> }): Promise<Map<number, L>> {
  const out = new Map<number, L>();
  for (let index = -1; index < s.o.instances + 3; index++) out.set(index, await proxy.listen({ tag: index < 0 ? 'setup' : String(index), host: '127.0.0.1', port: 0 }));
  return out;
}

/** The payment provider's signing secret: per scenario, derived from the seed so a run reproduces. */
function webhookSecretOf(s: ScenarioState): string {
  const secretRng = s.rng.fork('webhook-secret');
  return `whsec_${Array.from({ length: 32 }, () => Math.floor(secretRng.next() * 16).toString(16)).join('')}`;
}

/** The whole plan stays with the harness (scenario.json); instances get only the contract's part of it. Returns that part's file. */
function writeScenarioFiles(s: ScenarioState): string {
  fs.writeFileSync(path.join(s.dir, 'scenario.json'), JSON.stringify(s.data));
  const scenarioFile = path.join(s.dir, 'candidate-scenario.json');
  fs.writeFileSync(scenarioFile, JSON.stringify(s.o.challenge.candidateView(s.data)));
  return scenarioFile;
}

async function startServices(s: ScenarioState): Promise<MockServices | undefined> {
  const { o } = s;
  const services = o.scenario.services
    ? await startMockServices({ rng: s.rng.fork('services'), nowUs: () => s.history.nowUs(), instances: o.instances, options: resolveServicesSpec(o.scenario.services, s.data, s.params) })
    : undefined;
  if (services) s.teardown.push(() => services.close());
  return services;
}

interface ClusterWiring extends WaysIn {
  containment: Containment;
  proxy: FaultProxy;
  redisProxy: RedisProxy | null;
  replicaProxy: FaultProxy | null;
  services: MockServices | undefined;
  webhookSecret: string;
  scenarioFile: string;
}

function createCluster(s: ScenarioState, w: ClusterWiring): Cluster {
  const { o, history } = s;
  const { proxy, redisProxy, services } = w;
  const cluster = new Cluster({
    launch: o.launch,
    size: o.instances,
    env: {
      DATABASE_URL: w.viaProxy.toString(),
      REDIS_URL: redisProxy?.url ?? '',
      REPLICA_URL: w.replicaUrlFor(Number.NaN),
      GAUNTLET_REDIS_PROBLEM: o.infra.redisProblem ?? '',
      ...serviceEnv(),
      WEBHOOK_SECRET: w.webhookSecret,
      GAUNTLET_SCENARIO: w.scenarioFile,
    },
    envFor: (i) => {
      const urls = services?.urlsFor(i);
      return { DATABASE_URL: w.pgUrlFor(i), REPLICA_URL: w.replicaUrlFor(i), ...(w.redisUrls.has(i) ? { REDIS_URL: w.redisUrls.get(i)! } : {}), ...(urls ? serviceEnv(urls) : {}) };
    },
    runDir: s.dir,
    startTimeoutMs: o.startTimeoutMs,
    nowUs: () => history.nowUs(),
    network: {
      containment: w.containment,
      // What a contained instance may reach: its database proxy, its Redis, its own mock-service ports.
      endpoints: (index) => {
        // Named as PostgreSQL names its sockets, so the runtime's own pool connects to it directly (no bridge hop).
        const list: WireEndpoint[] = [{ name: 'pg', fileName: `.s.PGSQL.${proxy.port}`, port: proxy.port, open: (socketPath, tag) => proxy.listen({ tag, path: socketPath }).then((l) => () => l.close()) }];
        const replicaProxy = w.replicaProxy;
        if (replicaProxy) list.push({ name: 'pg-replica', fileName: `.s.PGSQL.${replicaProxy.port}`, port: replicaProxy.port, open: (socketPath, tag) => replicaProxy.listen({ tag, path: socketPath }).then((l) => () => l.close()) });
        if (redisProxy) list.push({ name: 'redis', port: redisProxy.port, open: (socketPath, tag) => redisProxy.listen({ tag, path: socketPath }).then((l) => () => l.close()) });
        if (services) for (const [name, url] of Object.entries(services.urlsFor(index))) list.push(endpointOf(name, url));
        return list;
      },
    },
  });
  s.teardown.unshift(() => cluster.stopAll());
  return cluster;
}

function endpointOf(name: string, url: string): WireEndpoint {
  const u = new URL(url);
  return relayEndpoint(name, u.hostname, Number(u.port));
}
