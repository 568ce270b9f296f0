// What the steps of one scenario run share (scenario-runner.ts: provision → start → workload → settle → analyse →
// teardown): the options, the scenario's folder, seeded randomness, params and data, its history, the cleanup
// gathered so far and the metrics reported along the way. Also how a step words the result that ends a run, and
// the teardown that always runs last.

import fs from 'node:fs';
import path from 'node:path';
import type { ScenarioData } from '../scenario.ts';
import type { CheckResult, ScenarioResult } from '../types.ts';
import type { ScenarioRunOptions } from '../scenario-runner.ts';
import { createRng, type Rng } from '../seed.ts';
import { History } from '../history/history.ts';
import { fail } from '../checkers/verdict.ts';

export interface ScenarioState {
  readonly o: ScenarioRunOptions;
  /** Date.now() when the run began (its preparation). */
  readonly started: number;
  /**
   * Date.now() when the grade turned to this scenario, when it was prepared ahead beside the previous one: a result's
   * durationMs counts from the later of this and `started`, so the scenarios' durations add up to the grade's time.
   */
  turnStarted?: number;
  /** The scenario's folder in the run folder (history, sql.jsonl, logs, …). */
  readonly dir: string;
  /** This scenario's seeded stream; each use forks its own. */
  readonly rng: Rng;
  readonly params: Record<string, number>;
  readonly data: ScenarioData;
  readonly historyFile: string;
  readonly history: History;
  /**
   * Cleanup, in the order it runs at the end, whatever happened: a step adds each resource's as soon as it has it
   * (unshift: before those already there, so instances stop before the proxies and databases go).
   */
  readonly teardown: (() => Promise<unknown>)[];
  /** Metrics reported along the way (the scenario's ctx.metric, the settle), merged into the result's. */
  readonly extra: Record<string, number | string | null>;
  /** Challenges with a replica: the standby's lag sampled along the way (the result's `replicaLag`). */
  replicaLag?: { t: number; bytes: number | null }[];
}

const NO_METRICS = { operations: 0, ok: 0, fail: 0, indeterminate: 0, p50Ms: 0, p99Ms: 0, throughputPerS: 0, maxInFlight: 0 };

/** The scenario's folder, randomness, data and history; nothing to tear down yet. */
export function openScenario(o: ScenarioRunOptions): ScenarioState {
  const started = Date.now();
  const { challenge, scenario } = o;
  const dir = path.join(o.runDir, challenge.id, scenario.id);
  fs.mkdirSync(dir, { recursive: true });
  const rng = createRng(o.seed).fork(`${challenge.id}/${scenario.id}`);
  const params = { ...scenario.params[o.profile] };
  const data = scenario.data(rng.fork('data'), params);
  const historyFile = path.join(dir, 'history.jsonl');
  return { o, started, dir, rng, params, data, historyFile, history: new History(historyFile), teardown: [], extra: {} };
}

/** A result with no metrics yet (an analysed run replaces them), timed from the start of the run. */
export function resultOf(s: ScenarioState, status: ScenarioResult['status'], checks: CheckResult[], more: Partial<ScenarioResult> = {}): ScenarioResult {
  return {
    id: s.o.scenario.id,
    status,
    checks,
    metrics: { ...NO_METRICS },
    durationMs: Date.now() - Math.max(s.started, s.turnStarted ?? 0),
    historyFile: s.historyFile,
    ...more,
  };
}

/** `loads` failed at setup or start: a module that cannot be imported says so, whichever instance imported it first. */
export function notLoaded(s: ScenarioState, outcome: { stage: string; message: string }, otherwise: string, prefixError: boolean): ScenarioResult {
  const what = outcome.stage === 'import' ? 'the module does not load' : otherwise;
  return resultOf(s, 'error', [fail('loads', `${what}: ${firstLine(outcome.message)}`, { stage: outcome.stage, error: outcome.message })], { error: prefixError ? `${what}: ${outcome.message}` : outcome.message });
}

/** Every cleanup step in order (a failing one is reported and the rest still run), then the history is closed. */
export async function tearDown(s: ScenarioState): Promise<void> {
  s.o.progress('cleaning up');
  for (const step of s.teardown) {
    try {
      await step();
    } catch (err) {
      s.o.progress(`cleanup: ${(err as Error).message}`);
    }
  }
  await s.history.close();
}

function firstLine(text: string): string {
  return text.split('\n')[0];
}
