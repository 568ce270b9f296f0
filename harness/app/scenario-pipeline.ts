// The order a grade runs its scenarios in, one after another, with one overlap (issue 14): once a scenario's workload
// is over and its faults healed, the next one is provisioned and started (database, setup process, instances) beside
// its settle, final reads, checks and teardown. Every workload still runs alone: the next one waits until the
// previous scenario's teardown is over (scenario-runner.ts). Nothing is overlapped with a scenario that is followed
// by a benchmark-reference run (its workload is a measurement too), and the next scenario's progress is held back
// until its turn, so the lines read as before. The last scenario's healing is told to the grade (`onLastHealed`): a
// caller grading one submission after another starts the next grade there, the same overlap between grades.

import type { ChallengeDef, ScenarioDef } from '../scenario.ts';
import type { ScenarioResult } from '../types.ts';
import { discardPrepared, prepareScenario, runPreparedScenario, type PreparedScenario, type ScenarioRunOptions } from '../scenario-runner.ts';

export interface PlanItem {
  challenge: ChallengeDef;
  scenario: ScenarioDef;
}

export interface PipelineHooks {
  /**
   * The scenario's run options, or a result when it cannot run (its module does not compile). `progress` is the
   * scenario's gated progress; `onHealed` starts preparing the next scenario.
   */
  optionsFor(item: PlanItem, progress: (message: string, notice?: boolean) => void, onHealed?: () => void): Promise<ScenarioRunOptions | ScenarioResult>;
  /** Whether a benchmark-reference run may follow this scenario (nothing may overlap it then). */
  mayRunReference(item: PlanItem): boolean;
  /** What follows a scenario's run, before the next begins (e.g. the reference run). */
  after?(item: PlanItem, result: ScenarioResult, options: ScenarioRunOptions): Promise<void>;
  onStart(item: PlanItem, index: number): void;
  onProgress(item: PlanItem, message: string, notice?: boolean): void;
  onEnd(item: PlanItem, result: ScenarioResult): void;
  /**
   * The last scenario's workload is over and its faults healed: no workload of this plan is left. Not called when a
   * benchmark-reference run may follow it, nor when the last scenario ends without healing (an error, a module that
   * does not load).
   */
  onLastHealed?(): void;
  /** The scenario runner's steps (scenario-runner.ts unless a test gives its own). */
  steps?: { prepare(o: ScenarioRunOptions): Promise<PreparedScenario>; run(p: PreparedScenario, turnStarted?: number): Promise<ScenarioResult>; discard(p: PreparedScenario): Promise<void> };
}

const RUNNER = { prepare: prepareScenario, run: runPreparedScenario, discard: discardPrepared };

/** Progress held back until the scenario's start was announced, then passed through. */
function gatedProgress(item: PlanItem, hooks: PipelineHooks) {
  let open = false;
  const held: [string, boolean | undefined][] = [];
  return {
    progress: (message: string, notice?: boolean) => (open ? hooks.onProgress(item, message, notice) : held.push([message, notice])),
    open: () => {
      open = true;
      for (const [m, notice] of held.splice(0)) hooks.onProgress(item, m, notice);
    },
  };
}

type Staged = { options: ScenarioRunOptions; prepared: Promise<PreparedScenario> } | { result: ScenarioResult };

/** Runs every item in order and returns their results in that order. */
export async function runPlan(plan: PlanItem[], hooks: PipelineHooks): Promise<ScenarioResult[]> {
  const steps = hooks.steps ?? RUNNER;
  const results: ScenarioResult[] = [];
  const gates = plan.map((item) => gatedProgress(item, hooks));
  const staged = new Map<number, Promise<Staged>>();

  const stage = (i: number): Promise<Staged> => {
    let p = staged.get(i);
    if (p) return p;
    const item = plan[i];
    const overlap = !hooks.mayRunReference(item);
    const next = !overlap ? undefined : i + 1 < plan.length ? () => void stage(i + 1).catch(() => {}) : hooks.onLastHealed;
    p = hooks.optionsFor(item, gates[i].progress, next).then((o) => {
      if ('id' in o) return { result: o };
      // A preparation that fails ahead of its turn is awaited (and fails the grade) at its turn; until then it is
      // marked handled, or Node would end the process on an unhandled rejection.
      const prepared = steps.prepare(o);
      prepared.catch(() => {});
      return { options: o, prepared };
    });
    staged.set(i, p);
    return p;
  };

  try {
    for (let i = 0; i < plan.length; i++) {
      const item = plan[i];
      const turnStarted = Date.now();
      hooks.onStart(item, i);
      gates[i].open();
      const s = await stage(i);
      staged.delete(i);
      let result: ScenarioResult;
      if ('result' in s) result = s.result;
      else {
        result = await steps.run(await s.prepared, turnStarted);
        await hooks.after?.(item, result, s.options);
      }
      results.push(result);
      hooks.onEnd(item, result);
    }
  } finally {
    // The grade ended early (an InfraError, an interrupt): a scenario prepared ahead is torn down, never run.
    for (const p of staged.values()) {
      const s = await p.catch(() => null);
      const prepared = s && 'prepared' in s ? await s.prepared.catch(() => null) : null;
      if (prepared) await steps.discard(prepared);
    }
  }
  return results;
}
