// Step 5 of a scenario run: what the run showed. The checkers over the history (crashes classified against the
// fault windows first), the metrics, the status (inconclusive when a starved machine explains a liveness
// failure), then what the application observes (ScenarioObservers) read before teardown drops it: the database and Redis, and the wire.

import type { ChallengeDef, CheckInput } from '../scenario.ts';
import type { CheckResult, FaultWindow, InstanceEvent, Op, ScenarioResult } from '../types.ts';
import type { Provisioned } from './provision.ts';
import type { Settled, Workload } from './workload.ts';
import { resultOf, type ScenarioState } from './state.ts';
import { latencySummary } from '../history/latency.ts';
import { pass, fail, unknown } from '../checkers/verdict.ts';
import { inconclusiveReason } from '../machine-watch.ts';
import { PIPELINE_CHECKS } from '../pipeline-checks.ts';

/** Connection errors an instance can die of when the harness itself broke its database connections (CONTRACT §8). */
const DB_CONNECTION_ERROR = /ECONNRESET|EPIPE|57P01|57P02|57P03|Connection terminated|terminating connection|Client has encountered a connection error|server closed the connection|Connection is closed|Socket closed unexpectedly/i;

export async function analyse(s: ScenarioState, p: Provisioned, w: Workload, settled: Settled): Promise<ScenarioResult> {
  const noRedis = redisMissing(s);
  if (noRedis) return noRedis;
  const faults = faultWindows(p, w);
  const checks = runCheckers(s, p, faults, settled);
  const metrics = scenarioMetrics(s, p, w);
  let status: ScenarioResult['status'] = checks.some((c) => c.passed === null) ? 'error' : checks.every((c) => c.passed) ? 'passed' : 'failed';
  // A starved harness cannot keep the timing its liveness verdicts rely on; a safety violation stands regardless.
  const inconclusive = status === 'failed' ? inconclusiveReason(checks, (id) => isSafety(s.o.challenge, id), w.machine) : null;
  if (inconclusive) status = 'inconclusive';
  // Rubric evidence (schema, sessions left in a transaction, Redis keys without TTL), before teardown drops it.
  const inspection = await s.o.observers?.inspect?.({ adminUrl: p.db.adminUrl, role: p.db.role, redisUrl: p.ns?.url });
  const wire = await readWire(s, p, metrics);
  return { ...resultOf(s, status, checks), metrics, faults, ...(inspection ? { inspection } : {}), ...(wire ? { wire } : {}), ...(inconclusive ? { inconclusive } : {}), ...(s.replicaLag?.length ? { replicaLag: [...s.replicaLag] } : {}) };
}

/** The submission used Redis where there is none: the environment's problem, not held against the submission. */
function redisMissing(s: ScenarioState): ScenarioResult | null {
  if (!s.history.ops.some((op) => op.code === 'GAUNTLET_NO_REDIS')) return null;
  const msg = `this submission uses Redis, but no Redis server is available here (${s.o.infra.redisProblem ?? 'none found'}). Install redis-server (Debian: apt-get install redis-server) or set REDIS_URL, then grade again. This is not held against the submission.`;
  return resultOf(s, 'error', [], { error: msg, environmentError: true });
}

/** Every fault window of the run; crashes are classified against the database's only. */
function faultWindows(p: Provisioned, w: Workload): FaultWindow[] {
  const faults = w.nemesis.windows.map((f) => ({ ...f }));
  // Only database faults excuse a crash: dying of a mock service's reset is the candidate's own error handling.
  classifyCrashes(p.cluster.events, faults);
  if (p.services) faults.push(...p.services.windows.map((f) => ({ ...f })));
  return faults;
}

function runCheckers(s: ScenarioState, p: Provisioned, faults: FaultWindow[], settled: Settled): CheckResult[] {
  const { o, history, params, data } = s;
  const { final, ledger } = settled;
  const input: CheckInput = { ops: history.ops, final, faults, instanceEvents: p.cluster.events, params, data, ...(ledger ? { ledger } : {}) };
  const checks: CheckResult[] = [pass('loads', `the module loaded and create(ctx) resolved on all ${o.instances} instances`)];
  for (const checker of o.scenario.checkers) checks.push(safeCheck(checker.id, () => checker.check(input)));
  checks.push(noCrash(p.cluster.events));
  return checks;
}

function scenarioMetrics(s: ScenarioState, p: Provisioned, w: Workload): ScenarioResult['metrics'] {
  const { o, history, extra } = s;
  const metrics = computeMetrics(history.ops, w.fromUs, w.toUs, o.callTimeoutMs);
  Object.assign(metrics, extra, o.scenario.metrics?.(history.ops, s.params) ?? {});
  if (typeof extra.maxInFlight === 'number') metrics.maxInFlight = extra.maxInFlight;
  metrics.ctxLogLines = p.cluster.logCount;
  // HTTP mode counts JSON lines of stdout and stderr instead of ctx.log calls: the rubric's detail says so.
  if (o.launch.kind === 'http') metrics.httpMode = 1;
  // The workload's own time (the scenario's run, faults included), apart from the fixed cost around it.
  metrics.workloadMs = Math.round((w.toUs - w.fromUs) / 1000);
  metrics.harnessLagMaxMs = w.machine.lagMaxMs;
  metrics.loadPerCore = w.machine.loadPerCore;
  if (w.machine.otherCpuCores !== undefined) metrics.otherCpuCores = w.machine.otherCpuCores;
  return metrics;
}

/** The rubric's reading of the recorded wire (its time goes into the metrics); none when nothing was recorded. */
async function readWire(s: ScenarioState, p: Provisioned, metrics: ScenarioResult['metrics']): Promise<ScenarioResult['wire']> {
  s.o.progress('reading the wire');
  const wireStarted = Date.now();
  const wire = p.wireTap ? await p.wireTap.analyse({ ops: s.history.ops, attempts: p.services?.ledger.attempts, probes: s.o.challenge.injectionProbes, adminUrl: p.db.adminUrl, role: p.db.role }) : undefined;
  if (wire) metrics.wireAnalysisMs = Date.now() - wireStarted;
  return wire;
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
export function isSafety(challenge: ChallengeDef, id: string): boolean {
  // The pipeline's own checks (no-crash) declare theirs too, whether or not the registry appended them to this def.
  return !![...challenge.checks, ...PIPELINE_CHECKS].find((c) => c.id === id)?.safety;
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
