// The throughput yardstick of a grade: a scenario whose params set `compareReference` (the load scenario on the
// standard and thorough profiles) is run once more, in the same grade on the same machine, with the challenge's
// fastest reference solution (ChallengeDef.benchmarkReference), and the submission's throughput is reported as a
// ratio of the reference's. It adds its metrics and decides nothing else. A figure measured before on this machine
// is taken instead of running the reference again when it stands for a measurement now (reference-figures.ts).

import path from 'node:path';
import type { ProfileName, ScenarioResult } from '../types.ts';
import type { ChallengeDef, ScenarioDef } from '../scenario.ts';
import type { LaunchSpec } from '../instances/instance-process.ts';
import { bundleInstance } from '../instances/bundle.ts';
import { runScenario, type ScenarioRunOptions } from '../scenario-runner.ts';
import { figureKey, MAX_BUSY, reusable, safely, type ReferenceFigures } from './reference-figures.ts';

/** Remembered figures, and how busy the machine was with other work as this grade began (none: always measure). */
export interface FigureMemory {
  figures: ReferenceFigures;
  busy: number;
}

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
  const key = memory ? await safely(() => figureKey({ reference, challenge: own.challenge.id, scenario: own.scenario.id, profile: own.profile, instances: own.instances, infra: own.infra })) : undefined;
  const remembered = key ? await safely(() => memory!.figures.get(key)) : undefined;
  const verdict = reusable(remembered, { at: Date.now(), busy: memory?.busy ?? 1 });
  if (remembered && verdict.ok) {
    own.progress(`the fastest reference's throughput on this machine: ${remembered.value}/s, measured ${remembered.measuredAt}`);
    return { throughput: remembered.value, measured: remembered.measuredAt };
  }
  own.progress(`measuring the fastest reference for comparison${memory && !verdict.ok ? ` (${verdict.why})` : ''}`);
  const throughput = await referenceThroughput(reference, own, moduleLaunch);
  // Kept only when measured on a machine quiet enough for a later grade to take it.
  if (key && throughput > 0 && memory!.busy <= MAX_BUSY) await safely(() => memory!.figures.put(key, { value: throughput, busy: memory!.busy, measuredAt: new Date().toISOString() }));
  return { throughput, measured: 'now' };
}

/** The reference's throughput on the same scenario and seed, in a run folder of its own (`reference/`); 0 when it could not be had. */
async function referenceThroughput(reference: string, own: ScenarioRunOptions, moduleLaunch: (bundle: string) => LaunchSpec): Promise<number> {
  const refBundle = path.join(own.runDir, own.challenge.id, 'reference-bundle', 'instance.bundle.mjs');
  const ref = (await bundleInstance(reference, own.challenge.routesModule, refBundle, undefined, undefined, [own.challenge.contract])).ok
    ? await runScenario({ ...own, onHealed: undefined, launch: moduleLaunch(refBundle), runDir: path.join(own.runDir, 'reference'), progress: () => {} })
    : null;
  return Number(ref?.metrics.loadThroughputPerS ?? ref?.metrics.throughputPerS ?? 0);
}
