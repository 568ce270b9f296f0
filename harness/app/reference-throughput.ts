// The throughput yardstick of a grade: a scenario whose params set `compareReference` (the load scenario on the
// standard and thorough profiles) is run once more, in the same grade on the same machine, with the challenge's
// fastest reference solution (ChallengeDef.benchmarkReference), and the submission's throughput is reported as a
// ratio of the reference's. It adds its metrics and decides nothing else. A figure measured before on this machine
// is taken instead of running the reference again when it stands for a measurement now (reference-figures.ts).

import path from 'node:path';
import type { ProfileName, ScenarioResult } from '../types.ts';
import type { ChallengeDef, ScenarioDef } from '../scenario.ts';
import type { LaunchSpec } from '../instances/instance-process.ts';
import type { ScenarioRunOptions } from '../scenario-runner.ts';
import { rememberedOrMeasured, type FigureMemory } from './reference-figures.ts';
import { runReference } from './reference-run.ts';

/**
 * Whether a run of the benchmark reference may follow this scenario in a grade of module `file` (its workload is a
 * measurement: nothing may be prepared beside it). True even when a remembered figure may be taken instead.
 */
export function mayRunReference(challenge: ChallengeDef, scenario: ScenarioDef, profile: ProfileName, file: string): boolean {
  const reference = challenge.benchmarkReference;
  return !!scenario.params[profile]?.compareReference && !!reference && path.resolve(file) !== reference;
}

/**
 * Adds `referenceThroughputPerS` and `throughputRatio` to `result` (the submission's run with `own` options of
 * module `file`) when its scenario asks for the comparison. `moduleLaunch` launches a module bundle as the grade does.
 */
export async function compareWithReference(result: ScenarioResult, own: ScenarioRunOptions, file: string, moduleLaunch: (bundle: string) => LaunchSpec, memory?: FigureMemory): Promise<void> {
  const reference = own.challenge.benchmarkReference;
  if (result.status === 'error' || !own.scenario.params[own.profile].compareReference || !reference || path.resolve(file) === reference) return;
  const { throughput: refThroughput, measured } = await referenceFigure(reference, own, moduleLaunch, memory);
  const ownThroughput = Number(result.metrics.loadThroughputPerS ?? result.metrics.throughputPerS);
  result.metrics.referenceThroughputPerS = refThroughput || null;
  result.metrics.throughputRatio = refThroughput ? Math.round((ownThroughput / refThroughput) * 100) / 100 : null;
  result.metrics.referenceMeasured = measured;
}

/** The figure to compare with, remembered or measured now, and when it was measured ("now" or an ISO time). */
async function referenceFigure(reference: string, own: ScenarioRunOptions, moduleLaunch: (bundle: string) => LaunchSpec, memory?: FigureMemory): Promise<{ throughput: number; measured: string }> {
  const keyParts = { reference, challenge: own.challenge.id, scenario: own.scenario.id, profile: own.profile, instances: own.instances, infra: own.infra };
  const { value, measured } = await rememberedOrMeasured(memory, keyParts, async () => {
    const ref = await runReference(reference, own, moduleLaunch, 'reference');
    return Number(ref?.metrics.loadThroughputPerS ?? ref?.metrics.throughputPerS ?? 0);
  }, {
    remembered: (f) => own.progress(`the fastest reference's throughput on this machine: ${f.value}/s, measured ${f.measuredAt}`),
    measuring: (why) => own.progress(`measuring the fastest reference for comparison${why ? ` (${why})` : ''}`),
  });
  return { throughput: value, measured };
}
