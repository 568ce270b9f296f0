// Steps 3 and 4 of a scenario run: the workload (the scenario's `run`, with its faults, within its budget, the
// machine watched meanwhile), then the settle (heal every fault, let things go quiet, restart dead instances)
// and the final reads.

import fs from 'node:fs';
import path from 'node:path';
import type { CheckInput, NemesisHandle, ScenarioContext } from '../scenario.ts';
import type { ScenarioResult } from '../types.ts';
import type { Provisioned } from './provision.ts';
import { resultOf, type ScenarioState } from './state.ts';
import { createClient } from '../generator/client.ts';
import { createNemesis } from '../nemesis/index.ts';
import { watchMachine, type MachineReport } from '../machine-watch.ts';

export interface Workload {
  ctx: ScenarioContext;
  nemesis: NemesisHandle;
  /** History time the workload began and ended (µs). */
  fromUs: number;
  toUs: number;
  /** How the machine fared meanwhile (a starved harness makes a liveness failure inconclusive). */
  machine: MachineReport;
}

export interface Settled {
  final: unknown;
  ledger?: CheckInput['ledger'];
}

/** The scenario's `run` with its faults; a workload past its budget ends the scenario as `error`. */
export async function runWorkload(s: ScenarioState, p: Provisioned): Promise<({ ok: true } & Workload) | { ok: false; result: ScenarioResult }> {
  const nemesis = createNemesis({
    proxy: p.proxy, redisProxy: p.redisProxy ?? undefined, redisUsed: p.redisUsed, redisNamespaceUrl: p.ns?.url,
    replica: p.replica ?? undefined, adminUrl: p.db.adminUrl, role: p.db.role, nowUs: () => s.history.nowUs(), rng: s.rng.fork('nemesis'),
  });
  s.teardown.unshift(() => nemesis.healAll());
  if (p.replica) sampleReplicaLag(s, p.replica.pair);
  const abort = new AbortController();
  const ctx = scenarioContext(s, p, nemesis, abort.signal);
  const fromUs = s.history.nowUs();
  const machine = watchMachine();
  try {
    await withBudget(s.o.scenario.run(ctx), s.o.scenarioTimeoutMs, abort);
  } catch (err) {
    machine.stop();
    return { ok: false, result: resultOf(s, 'error', [], { error: `the scenario did not finish: ${(err as Error).message}` }) };
  }
  const toUs = s.history.nowUs();
  return { ok: true, ctx, nemesis, fromUs, toUs, machine: machine.stop() };
}

function scenarioContext(s: ScenarioState, p: Provisioned, nemesis: NemesisHandle, signal: AbortSignal): ScenarioContext {
  const { o, history } = s;
  const client = createClient(history, p.cluster, { callTimeoutMs: o.callTimeoutMs, hardLimitMs: o.callHardLimitMs });
  return {
    challenge: o.challenge.id,
    scenario: o.scenario.id,
    seed: o.seed,
    rng: s.rng.fork('workload'),
    profile: o.profile,
    params: s.params,
    data: s.data,
    cluster: p.cluster,
    client,
    nemesis,
    services: p.services,
    history: () => history.ops,
    nowUs: () => history.nowUs(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
    progress: o.progress,
    metric: (name, value) => {
      s.extra[name] = value;
    },
    ...(p.queries ? { wire: p.queries } : {}),
    ...(p.replica ? { replica: { lagBytes: () => p.replica!.pair.lagBytes(), waitCaughtUp: (ms: number) => p.replica!.pair.waitCaughtUp(ms) } } : {}),
    capabilities: p.cluster.capabilities(),
    webhookSecret: p.webhookSecret,
    signal,
  };
}

/**
 * How far the standby is behind, every 250 ms until teardown: replica-lag.jsonl ({t µs, bytes}, null while it is
 * down) and the scenario's `replicaLagMaxBytes`.
 */
function sampleReplicaLag(s: ScenarioState, pair: { lagBytes(): Promise<number> }): void {
  const file = path.join(s.dir, 'replica-lag.jsonl');
  const samples: { t: number; bytes: number | null }[] = (s.replicaLag = []);
  let max = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async (): Promise<void> => {
    const t = s.history.nowUs();
    const bytes = await pair.lagBytes().catch(() => null);
    samples.push({ t, bytes });
    if (bytes !== null) s.extra.replicaLagMaxBytes = max = Math.max(max, bytes);
    if (!stopped) timer = setTimeout(() => void tick(), 250);
  };
  void tick();
  s.teardown.unshift(async () => {
    stopped = true;
    clearTimeout(timer);
    fs.writeFileSync(file, samples.map((x) => `${JSON.stringify(x)}\n`).join(''));
  });
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

/** Heal everything, settle, restart dead instances, then the scenario's final reads (and the services' ledger). */
export async function settle(s: ScenarioState, p: Provisioned, w: Workload): Promise<Settled> {
  const { o } = s;
  const { services } = p;
  await w.nemesis.healAll();
  await services?.healAll();
  o.progress('healing and settling');
  // Nothing from here on is timed: the grade may start preparing the next scenario (scenario-runner.ts).
  o.onHealed?.();
  // A replica healed is not a replica caught up: final reads judge the data, not the stream's backlog.
  if (p.replica) await p.replica.pair.waitCaughtUp(30_000);
  // With mock services the quiet wait below is the settle (nothing changed and nothing in flight for its quiet
  // period, after the restarts); without, a fixed settle period.
  if (!services) await w.ctx.sleep(o.settleMs);
  await p.cluster.restartDead();
  if (services) {
    // Quiescence (CONTRACT §8): no ledger change and no call in flight for a settle period, bounded.
    const quiet = await services.waitQuiet();
    s.extra.servicesSettleMs = quiet.waitedMs;
    s.extra.servicesQuiet = quiet.quiet ? 1 : 0;
  }
  const final = await o.scenario.finalReads(w.ctx);
  const ledger = services?.ledger.snapshot();
  if (services) fs.writeFileSync(path.join(s.dir, 'services-ledger.json'), JSON.stringify({ ledger, windows: services.windows }));
  return { final, ledger };
}
