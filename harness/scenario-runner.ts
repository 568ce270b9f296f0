// Runs one scenario end to end: a fresh database and Redis namespace, a fault proxy in front of PostgreSQL,
// the candidate's setup, N instances, the workload with its faults, healing, settling, final reads, then the
// checkers over the history. Always tears everything down, whatever happened.

import fs from 'node:fs';
import path from 'node:path';
import type { ChallengeDef, CheckInput, ScenarioContext, ScenarioDef } from './scenario.ts';
import type { CheckResult, InstanceEvent, Op, ProfileName, ScenarioResult, FaultWindow } from './types.ts';
import { createRng } from './seed.ts';
import { History } from './history/history.ts';
import { createClient } from './generator/client.ts';
import { Cluster } from './instances/cluster.ts';
import type { LaunchSpec } from './instances/instance-process.ts';
import { createScenarioDatabase, createRedisNamespace, type Infra } from './infra/index.ts';
import { createNemesis, startFaultProxy } from './nemesis/index.ts';
import { latencySummary } from './history/latency.ts';
import { pass, fail, unknown } from './checkers/verdict.ts';
import { InfraError } from './errors.ts';
import { probePostgres } from './infra/pg-admin.ts';
import { resolveServicesSpec, startMockServices } from './services/index.ts';
import { inspectScenario } from '../rubric/evidence/database.ts';
import { inconclusiveReason, watchMachine } from './machine-watch.ts';
import type { Containment } from './instances/netns.ts';
import { relayEndpoint, type WireEndpoint } from './instances/wire-gate.ts';
import { openJsonlLog, openSqlLog } from './wire/sql-log.ts';
import type { SqlRecord } from './wire/pg-wire.ts';
import { createWireTap } from '../rubric/evidence/wire/index.ts';
import { startRedisProxy, type RedisRecord } from './wire/redis-proxy.ts';
import { randomBytes } from 'node:crypto';

export interface ScenarioRunOptions {
  infra: Infra;
  challenge: ChallengeDef;
  scenario: ScenarioDef;
  launch: LaunchSpec;
  /** Record every statement and Redis command (sql.jsonl, redis.jsonl); default true (off only to measure its cost). */
  capture?: boolean;
  /** How instances are kept off the network (instances/netns.ts); open when not given. */
  containment?: Containment;
  runDir: string;
  seed: number;
  profile: ProfileName;
  instances: number;
  keep: boolean;
  /** Answer deadline: slower calls are measured as slow; a call is given up only when hung or at the hard limit. */
  callTimeoutMs: number;
  /** Hard limit on one call without a deadline of its own. */
  callHardLimitMs: number;
  startTimeoutMs: number;
  /** Quiet period before final reads. */
  settleMs: number;
  /** Hard budget for the workload; past it the scenario ends as `error`. */
  scenarioTimeoutMs: number;
  progress(message: string): void;
  signal?: AbortSignal;
}

const NO_METRICS = { operations: 0, ok: 0, fail: 0, indeterminate: 0, p50Ms: 0, p99Ms: 0, throughputPerS: 0, maxInFlight: 0 };

/** What a Redis client sends on its own when it connects (ioredis, node-redis): not the submission's use of Redis. */
const REDIS_HANDSHAKE = new Set(['AUTH', 'HELLO', 'SELECT', 'CLIENT', 'INFO', 'PING', 'READONLY', 'QUIT', 'COMMAND']);

/** Connection errors an instance can die of when the harness itself broke its database connections (CONTRACT §8). */
const DB_CONNECTION_ERROR = /ECONNRESET|EPIPE|57P01|57P02|57P03|Connection terminated|terminating connection|Client has encountered a connection error|server closed the connection|Connection is closed|Socket closed unexpectedly/i;

/**
 * Runs the scenario, then makes sure PostgreSQL is still there: a server that stopped during the run makes its
 * results meaningless, so the run ends as an InfraError (exit 3), not as the candidate's failure (or pass).
 */
export async function runScenario(o: ScenarioRunOptions): Promise<ScenarioResult> {
  const result = await runScenarioSteps(o);
  await assertPostgresUp(o.infra, `${o.challenge.id}/${o.scenario.id}`);
  return result;
}

async function assertPostgresUp(infra: Infra, scenario: string): Promise<void> {
  const probe = await probePostgres(infra.postgres.adminUrl, 3000);
  if (probe.ok) return;
  const source = { env: 'PostgreSQL from DATABASE_URL', local: 'local PostgreSQL', embedded: 'embedded PostgreSQL' }[infra.postgres.source];
  const where = `${source} at ${infra.postgres.host}:${infra.postgres.port}`;
  throw new InfraError(
    `PostgreSQL stopped during the run: the ${where} no longer answers (${probe.reason}). Scenario ${scenario} and what came after cannot be graded; this is not the submission's failure.`,
    'make sure the PostgreSQL server stays up for the whole run (or let gauntlet use its embedded one), then grade again',
  );
}

async function runScenarioSteps(o: ScenarioRunOptions): Promise<ScenarioResult> {
  const started = Date.now();
  const { challenge, scenario } = o;
  const dir = path.join(o.runDir, challenge.id, scenario.id);
  fs.mkdirSync(dir, { recursive: true });
  const rng = createRng(o.seed).fork(`${challenge.id}/${scenario.id}`);
  const params = { ...scenario.params[o.profile] };
  const data = scenario.data(rng.fork('data'), params);
  const historyFile = path.join(dir, 'history.jsonl');
  const history = new History(historyFile);
  const teardown: (() => Promise<unknown>)[] = [];
  const extra: Record<string, number | string | null> = {};
  const base = (status: ScenarioResult['status'], checks: CheckResult[], more: Partial<ScenarioResult> = {}): ScenarioResult => ({
    id: scenario.id,
    status,
    checks,
    metrics: { ...NO_METRICS },
    durationMs: Date.now() - started,
    historyFile,
    ...more,
  });
  /** `loads` failed at setup or start: a module that cannot be imported says so, whichever instance imported it first. */
  const notLoaded = (outcome: { stage: string; message: string }, otherwise: string, prefixError: boolean): ScenarioResult => {
    const what = outcome.stage === 'import' ? 'the module does not load' : otherwise;
    return base('error', [fail('loads', `${what}: ${firstLine(outcome.message)}`, { stage: outcome.stage, error: outcome.message })], { error: prefixError ? `${what}: ${outcome.message}` : outcome.message });
  };

  try {
    o.progress('creating database');
    const db = await createScenarioDatabase(o.infra, `${challenge.id}-${scenario.id}`);
    if (!o.keep) teardown.push(() => db.drop());
    const ns = await createRedisNamespace(o.infra);
    if (ns) teardown.push(() => ns.release());
    // The scenario's Redis, reached only through its own proxy: a password of its own, its logical database as
    // database 0, nothing beyond it, every command recorded (redis.jsonl) and open to faults.
    const capture = o.capture !== false;
    const redisLog = ns && capture ? openJsonlLog<RedisRecord>(path.join(dir, 'redis.jsonl')) : null;
    // Commands of the submission's own (not the client's handshake): only then are Redis faults worth injecting.
    let redisCommands = 0;
    // The rubric's view of the wire (rubric/evidence/wire): fed the same records, analysed before teardown.
    const wireTap = capture ? createWireTap() : null;
    const recordRedis = (r: RedisRecord) => {
      wireTap?.redis(r);
      if (r.kind === 'command' && r.tag !== 'setup' && !REDIS_HANDSHAKE.has(r.args?.[0] ?? '')) redisCommands++;
      redisLog?.record(r);
    };
    const redisProxy = ns && o.infra.redis ? await startRedisProxy({ upstreamUrl: o.infra.redis.url, db: ns.db, password: randomBytes(18).toString('hex'), record: recordRedis, nowUs: () => history.nowUs() }) : null;
    if (redisProxy) teardown.push(() => redisProxy.close());
    if (redisLog) teardown.push(() => redisLog.close());
    // Every statement the instances send, decoded on the way through the fault proxy (sql.jsonl, CONTRACT §7).
    const sqlLog = o.capture !== false ? openSqlLog(path.join(dir, 'sql.jsonl')) : null;
    if (sqlLog) teardown.push(() => sqlLog.close());
    const recordSql = sqlLog && wireTap ? (r: SqlRecord) => (sqlLog.record(r), wireTap.sql(r)) : null;
    const proxy = await startFaultProxy({ upstreamHost: db.host, upstreamPort: db.port, ...(recordSql ? { record: recordSql } : {}), nowUs: () => history.nowUs() });
    teardown.unshift(() => proxy.close());
    const viaProxy = new URL(db.url);
    viaProxy.hostname = proxy.host;
    viaProxy.port = String(proxy.port);
    const containment = o.containment ?? { network: 'open', reason: 'no containment requested' };
    // Open network: each process gets a tagged port of its own on the proxy, so its statements are known as its
    // own (setup, the instances, restarts, the fresh instances for final reads). Contained: its own Unix socket.
    const pgPorts = new Map<number, number>();
    if (containment.network === 'open') {
      for (let index = -1; index < o.instances + 3; index++) {
        const l = await proxy.listen({ tag: index < 0 ? 'setup' : String(index), host: '127.0.0.1', port: 0 });
        pgPorts.set(index, l.port!);
      }
    }
    const redisUrls = new Map<number, string>();
    if (containment.network === 'open' && redisProxy) {
      for (let index = -1; index < o.instances + 3; index++) {
        const l = await redisProxy.listen({ tag: index < 0 ? 'setup' : String(index), host: '127.0.0.1', port: 0 });
        redisUrls.set(index, l.url!);
      }
    }
    const pgUrlFor = (index: number) => {
      const u = new URL(viaProxy);
      if (pgPorts.has(index)) u.port = String(pgPorts.get(index));
      return u.toString();
    };
    // The payment provider's signing secret: per scenario, derived from the seed so a run reproduces.
    const secretRng = rng.fork('webhook-secret');
    const webhookSecret = `whsec_${Array.from({ length: 32 }, () => Math.floor(secretRng.next() * 16).toString(16)).join('')}`;
    // The whole plan stays with the harness (scenario.json); instances get only the contract's part of it.
    fs.writeFileSync(path.join(dir, 'scenario.json'), JSON.stringify(data));
    const scenarioFile = path.join(dir, 'candidate-scenario.json');
    fs.writeFileSync(scenarioFile, JSON.stringify(challenge.candidateView(data)));
    const services = scenario.services
      ? await startMockServices({ rng: rng.fork('services'), nowUs: () => history.nowUs(), instances: o.instances, options: resolveServicesSpec(scenario.services, data, params) })
      : undefined;
    if (services) teardown.push(() => services.close());
    const cluster = new Cluster({
      launch: o.launch,
      size: o.instances,
      env: {
        DATABASE_URL: viaProxy.toString(),
        REDIS_URL: redisProxy?.url ?? '',
        GAUNTLET_REDIS_PROBLEM: o.infra.redisProblem ?? '',
        PAYMENTS_URL: '',
        NOTIFICATIONS_URL: '',
        INVENTORY_URL: '',
        WEBHOOK_SECRET: webhookSecret,
        GAUNTLET_SCENARIO: scenarioFile,
      },
      envFor: (i) => {
        const urls = services?.urlsFor(i);
        return { DATABASE_URL: pgUrlFor(i), ...(redisUrls.has(i) ? { REDIS_URL: redisUrls.get(i)! } : {}), ...(urls ? { PAYMENTS_URL: urls.payments, NOTIFICATIONS_URL: urls.notifications, INVENTORY_URL: urls.inventory } : {}) };
      },
      runDir: dir,
      startTimeoutMs: o.startTimeoutMs,
      nowUs: () => history.nowUs(),
      network: {
        containment,
        // What a contained instance may reach: its database proxy, its Redis, its own mock-service ports.
        endpoints: (index) => {
          // Named as PostgreSQL names its sockets, so the runtime's own pool connects to it directly (no bridge hop).
          const list: WireEndpoint[] = [{ name: 'pg', fileName: `.s.PGSQL.${proxy.port}`, port: proxy.port, open: (socketPath, tag) => proxy.listen({ tag, path: socketPath }).then((l) => () => l.close()) }];
          if (redisProxy) list.push({ name: 'redis', port: redisProxy.port, open: (socketPath, tag) => redisProxy.listen({ tag, path: socketPath }).then((l) => () => l.close()) });
          if (services) for (const [name, url] of Object.entries(services.urlsFor(index))) list.push(endpointOf(name, url));
          return list;
        },
      },
    });
    teardown.unshift(() => cluster.stopAll());

    o.progress('running setup');
    // The instances boot while setup runs; they load the module once it is done.
    cluster.prestart();
    const setup = await cluster.runSetup();
    // The setup instance is the first to import the module: a module that cannot be imported is said so.
    if (!setup.ok) return notLoaded(setup, 'setup(ctx) failed', true);
    o.progress(`starting ${o.instances} instances`);
    const start = await cluster.start();
    if (!start.ok) return notLoaded(start, 'create(ctx) failed', false);

    const absent = challenge.requiredMethods.filter((m) => !cluster.has(m));
    if (absent.length) {
      const msg = `create(ctx) returned a service without ${absent.map((m) => `${m}()`).join(', ')} (required by the contract; it has: ${cluster.capabilities().join(', ') || 'no methods'})`;
      return base('error', [fail('loads', msg, { missing: absent, has: cluster.capabilities() })], { error: msg });
    }
    const missing = (scenario.requires ?? []).filter((m) => !cluster.has(m));
    if (missing.length) {
      return { ...base('passed', []), skipped: `not implemented: ${missing.join(', ')} (optional; this scenario's checks score 0)` };
    }

    const nemesis = createNemesis({ proxy, redisProxy: redisProxy ?? undefined, redisUsed: () => redisCommands > 0, adminUrl: db.adminUrl, role: db.role, nowUs: () => history.nowUs(), rng: rng.fork('nemesis') });
    teardown.unshift(() => nemesis.healAll());
    const client = createClient(history, cluster, { callTimeoutMs: o.callTimeoutMs, hardLimitMs: o.callHardLimitMs });
    const abort = new AbortController();
    const ctx: ScenarioContext = {
      challenge: challenge.id,
      scenario: scenario.id,
      seed: o.seed,
      rng: rng.fork('workload'),
      profile: o.profile,
      params,
      data,
      cluster,
      client,
      nemesis,
      services,
      history: () => history.ops,
      nowUs: () => history.nowUs(),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
      progress: o.progress,
      metric: (name, value) => {
        extra[name] = value;
      },
      capabilities: cluster.capabilities(),
      webhookSecret,
      signal: abort.signal,
    };

    const workloadStartUs = history.nowUs();
    const machine = watchMachine();
    try {
      await withBudget(scenario.run(ctx), o.scenarioTimeoutMs, abort);
    } catch (err) {
      machine.stop();
      return base('error', [], { error: `the scenario did not finish: ${(err as Error).message}` });
    }
    const workloadEndUs = history.nowUs();
    const machineReport = machine.stop();
    await nemesis.healAll();
    await services?.healAll();
    o.progress('healing and settling');
    // With mock services the quiet wait below is the settle (nothing changed and nothing in flight for its quiet
    // period, after the restarts); without, a fixed settle period.
    if (!services) await ctx.sleep(o.settleMs);
    await cluster.restartDead();
    if (services) {
      // Quiescence (CONTRACT §8): no ledger change and no call in flight for a settle period, bounded.
      const quiet = await services.waitQuiet();
      extra.servicesSettleMs = quiet.waitedMs;
      extra.servicesQuiet = quiet.quiet ? 1 : 0;
    }
    const final = await scenario.finalReads(ctx);
    const ledger = services?.ledger.snapshot();
    if (services) fs.writeFileSync(path.join(dir, 'services-ledger.json'), JSON.stringify({ ledger, windows: services.windows }));

    if (history.ops.some((op) => op.code === 'GAUNTLET_NO_REDIS')) {
      const msg = `this submission uses Redis, but no Redis server is available here (${o.infra.redisProblem ?? 'none found'}). Install redis-server (Debian: apt-get install redis-server) or set REDIS_URL, then grade again. This is not held against the submission.`;
      return base('error', [], { error: msg, environmentError: true });
    }

    const faults = nemesis.windows.map((w) => ({ ...w }));
    // Only database faults excuse a crash: dying of a mock service's reset is the candidate's own error handling.
    classifyCrashes(cluster.events, faults);
    if (services) faults.push(...services.windows.map((w) => ({ ...w })));
    const input: CheckInput = { ops: history.ops, final, faults, instanceEvents: cluster.events, params, data, ...(ledger ? { ledger } : {}) };
    const checks: CheckResult[] = [pass('loads', `the module loaded and create(ctx) resolved on all ${o.instances} instances`)];
    for (const checker of scenario.checkers) checks.push(safeCheck(checker.id, () => checker.check(input)));
    checks.push(noCrash(cluster.events));

    const metrics = computeMetrics(history.ops, workloadStartUs, workloadEndUs, o.callTimeoutMs);
    Object.assign(metrics, extra, scenario.metrics?.(history.ops, params) ?? {});
    if (typeof extra.maxInFlight === 'number') metrics.maxInFlight = extra.maxInFlight;
    metrics.ctxLogLines = cluster.logCount;
    metrics.harnessLagMaxMs = machineReport.lagMaxMs;
    metrics.loadPerCore = machineReport.loadPerCore;
    let status: ScenarioResult['status'] = checks.some((c) => c.passed === null) ? 'error' : checks.every((c) => c.passed) ? 'passed' : 'failed';
    // A starved harness cannot keep the timing its liveness verdicts rely on; a safety violation stands regardless.
    const inconclusive = status === 'failed' ? inconclusiveReason(checks, (id) => isSafety(challenge, id), machineReport) : null;
    if (inconclusive) status = 'inconclusive';
    // Rubric evidence (schema, sessions left in a transaction, Redis keys without TTL), before teardown drops it.
    const inspection = await inspectScenario({ adminUrl: db.adminUrl, role: db.role, redisUrl: ns?.url });
    o.progress('reading the wire');
    const wireStarted = Date.now();
    const wire = wireTap ? await wireTap.analyse({ ops: history.ops, attempts: services?.ledger.attempts, probes: challenge.injectionProbes, adminUrl: db.adminUrl, role: db.role }) : undefined;
    if (wire) metrics.wireAnalysisMs = Date.now() - wireStarted;
    return { ...base(status, checks), metrics, faults, inspection, ...(wire ? { wire } : {}), ...(inconclusive ? { inconclusive } : {}) };
  } catch (err) {
    if (err instanceof InfraError) throw err;
    return base('error', [], { error: `gauntlet could not run this scenario: ${(err as Error).message}` });
  } finally {
    o.progress('cleaning up');
    for (const step of teardown) {
      try {
        await step();
      } catch (err) {
        o.progress(`cleanup: ${(err as Error).message}`);
      }
    }
    await history.close();
  }
}

function endpointOf(name: string, url: string): WireEndpoint {
  const u = new URL(url);
  return relayEndpoint(name, u.hostname, Number(u.port));
}

function firstLine(s: string): string {
  return s.split('\n')[0];
}

function withBudget(p: Promise<void>, ms: number, abort: AbortController): Promise<void> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<void>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        reject(new Error(`the workload took longer than ${ms} ms`));
      }, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A checker that throws yields "unknown", never a pass. */
function safeCheck(id: string, run: () => CheckResult): CheckResult {
  try {
    return run();
  } catch (err) {
    return unknown(id, `the checker could not decide (a gauntlet bug): ${(err as Error).message}`);
  }
}

/**
 * An instance that died of a database connection error while the harness was breaking connections died of a
 * dropped connection it did not handle (the context's own pool never crashes a process: its clients have
 * listeners). It is counted — surviving a dropped connection is what the fault scenarios test — and the failure
 * says what to add.
 */
function classifyCrashes(events: InstanceEvent[], faults: FaultWindow[]): void {
  for (const e of events) {
    if (e.kind !== 'exited') continue;
    const nearFault = faults.some((w) => w.fault !== 'db-latency' && w.fault !== 'redis-latency' && e.atUs >= w.startUs - 500_000 && e.atUs <= w.endUs + 2_000_000);
    if (nearFault && DB_CONNECTION_ERROR.test(`${e.errorCode ?? ''} ${e.detail ?? ''}`)) e.faultInduced = true;
  }
}

function noCrash(events: InstanceEvent[]): CheckResult {
  const crashes = events.filter((e) => e.kind === 'exited');
  if (!crashes.length) return pass('no-crash', 'no instance died on its own');
  const c = crashes[0];
  const dropped = c.faultInduced
    ? ` — an injected fault dropped a database connection and nothing handled it: give every pool (pool.on('error')) and every client you check out (client.on('error')) an 'error' listener, or the dropped connection crashes the process (node-postgres emits 'error' on it)`
    : '';
  return fail('no-crash', `instance ${c.instance} died on its own at ${Math.round(c.atUs / 1000)} ms: ${c.detail}${dropped}${crashes.length > 1 ? ` (${crashes.length} deaths in all)` : ''}`, crashes.slice(0, 5), crashes.length);
}

/** Checks no starved machine can explain (ChallengeDef.checks[].safety); `no-crash` is one. */
function isSafety(challenge: ChallengeDef, id: string): boolean {
  return id === 'no-crash' || !!challenge.checks.find((c) => c.id === id)?.safety;
}

function computeMetrics(ops: Op[], fromUs: number, toUs: number, answerDeadlineMs: number) {
  // The workload itself: not the final reads, not the pool warm-up before a burst.
  const work = ops.filter((op) => op.phase !== 'final' && op.phase !== 'warmup');
  const latenciesUs = work.filter((op) => op.endUs >= 0).map((op) => op.endUs - op.startUs);
  const lat = latencySummary(latenciesUs);
  let maxInFlight = 0;
  const edges: [number, number][] = [];
  for (const op of work) edges.push([op.startUs, 1], [op.endUs < 0 ? toUs : op.endUs, -1]);
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cur = 0;
  for (const [, d] of edges) {
    cur += d;
    if (cur > maxInFlight) maxInFlight = cur;
  }
  const seconds = Math.max(1e-3, (toUs - fromUs) / 1e6);
  return {
    operations: work.length,
    ok: work.filter((o) => o.type === 'ok').length,
    fail: work.filter((o) => o.type === 'fail').length,
    indeterminate: work.filter((o) => o.type === 'info').length,
    p50Ms: lat.p50Ms,
    p99Ms: lat.p99Ms,
    throughputPerS: Math.round((work.length / seconds) * 10) / 10,
    maxInFlight,
    // Slowness is measured and scored apart from correctness (CONTRACT §8): answers after the deadline still count.
    maxLatencyMs: Math.round(latenciesUs.reduce((m, l) => Math.max(m, l), 0) / 1000),
    slowCalls: latenciesUs.filter((l) => l > answerDeadlineMs * 1000).length,
    answerDeadlineMs,
  } as ScenarioResult['metrics'];
}

