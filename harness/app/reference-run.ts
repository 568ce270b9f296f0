// Runs one of a challenge's reference solutions on a scenario of the grade, the same way the grade ran the
// submission (same seed, instances, profile and infrastructure), in a run folder of its own. The yardsticks that
// judge a submission against the machine use it: the benchmark reference's throughput (reference-throughput.ts) and
// the convoy reference's slowest answer (convoy-yardstick.ts).

import path from 'node:path';
import type { LaunchSpec } from '../instances/instance-process.ts';
import type { ScenarioResult } from '../types.ts';
import { bundleInstance } from '../instances/bundle.ts';
import { runScenario, type ScenarioRunOptions } from '../scenario-runner.ts';

/**
 * The reference module `reference` run with the scenario options `own`, bundled into `<runDir>/<challenge>/<folder>-bundle`
 * and run in `<runDir>/<folder>`; null when it could not be bundled. `moduleLaunch` launches a bundle as the grade does.
 */
export async function runReference(reference: string, own: ScenarioRunOptions, moduleLaunch: (bundle: string) => LaunchSpec, folder: string): Promise<ScenarioResult | null> {
  const bundle = path.join(own.runDir, own.challenge.id, `${folder}-bundle`, 'instance.bundle.mjs');
  if (!(await bundleInstance(reference, own.challenge.routesModule, bundle, undefined, undefined, [own.challenge.contract])).ok) return null;
  return runScenario({ ...own, onHealed: undefined, launch: moduleLaunch(bundle), runDir: path.join(own.runDir, folder), progress: () => {} });
}
