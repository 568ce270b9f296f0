// The throughput yardstick of a grade: a scenario whose params set `compareReference` (the load scenario on the
// standard and thorough profiles) is run once more, in the same grade on the same machine, with the challenge's
// fastest reference solution (ChallengeDef.benchmarkReference), and the submission's throughput is reported as a
// ratio of the reference's. It adds two metrics and decides nothing else.

import path from 'node:path';
import type { ScenarioResult } from '../types.ts';
import type { LaunchSpec } from '../instances/instance-process.ts';
import { bundleInstance } from '../instances/bundle.ts';
import { runScenario, type ScenarioRunOptions } from '../scenario-runner.ts';

/**
 * Adds `referenceThroughputPerS` and `throughputRatio` to `result` (the submission's run with `own` options of
 * module `file`) when its scenario asks for the comparison. `moduleLaunch` launches a module bundle as the grade does.
 */
export async function compareWithReference(result: ScenarioResult, own: ScenarioRunOptions, file: string, moduleLaunch: (bundle: string) => LaunchSpec): Promise<void> {
  const reference = own.challenge.benchmarkReference;
  if (result.status === 'error' || !own.scenario.params[own.profile].compareReference || !reference || path.resolve(file) === reference) return;
  own.progress('measuring the fastest reference for comparison');
  const refThroughput = await referenceThroughput(reference, own, moduleLaunch);
  const ownThroughput = Number(result.metrics.loadThroughputPerS ?? result.metrics.throughputPerS);
  result.metrics.referenceThroughputPerS = refThroughput || null;
  result.metrics.throughputRatio = refThroughput ? Math.round((ownThroughput / refThroughput) * 100) / 100 : null;
}

/** The reference's throughput on the same scenario and seed, in a run folder of its own (`reference/`); 0 when it could not be had. */
async function referenceThroughput(reference: string, own: ScenarioRunOptions, moduleLaunch: (bundle: string) => LaunchSpec): Promise<number> {
  const refBundle = path.join(own.runDir, own.challenge.id, 'reference-bundle', 'instance.bundle.mjs');
  const ref = (await bundleInstance(reference, own.challenge.routesModule, refBundle, undefined, undefined, [own.challenge.contract])).ok
    ? await runScenario({ ...own, launch: moduleLaunch(refBundle), runDir: path.join(own.runDir, 'reference'), progress: () => {} })
    : null;
  return Number(ref?.metrics.loadThroughputPerS ?? ref?.metrics.throughputPerS ?? 0);
}
