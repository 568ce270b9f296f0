// The answer deadline on this machine (CONTRACT §8). A call answered after the answer deadline (10 s by default) is
// slow: scored under Database optimisation and, on a quiet machine, raising "Slow under contention". But where a
// challenge's callers must queue behind one lock by design (1000 users on the last seat), the plainest correct code —
// one transaction per call holding a row lock, `ChallengeDef.convoyReference` — answers its last caller after
// callers × the machine's cost of one turn under the lock: 7.5 s of the quick profile's 500 callers on this 2-core
// machine, 19 s of the standard's 1000, a second or two on a server. That length is the machine's, not the code's.
// So, for a scenario that had slow calls on a quiet machine, the grade runs that reference on the same scenario, seed
// and instances once it has ended (nothing else of it running), and the deadline becomes the larger of the answer
// deadline and CONVOY_SLACK × the reference's slowest answer. A call is slow only past it. The figure is remembered in
// the run store per machine, as the benchmark reference's throughput is (reference-figures.ts). Code slower than the
// plainest correct design by more than the slack (a lock held across a call to another service) stays slow.

import path from 'node:path';
import type { LaunchSpec } from '../instances/instance-process.ts';
import type { ChallengeDef } from '../scenario.ts';
import type { ScenarioResult } from '../types.ts';
import type { ScenarioRunOptions } from '../scenario-runner.ts';
import { readHistory } from '../history/history.ts';
import { busyTimingReason, CONVOY_SLACK } from '../machine-watch.ts';
import { rememberedOrMeasured, type FigureMemory } from './reference-figures.ts';
import { runReference } from './reference-run.ts';

/** A scenario of the grade, as the pipeline ran it. */
export interface RanScenario {
  challenge: ChallengeDef;
  result: ScenarioResult;
  options: ScenarioRunOptions;
  /** The module graded (the submission's). */
  file: string;
}

/** Whether the scenario's slow calls are to be judged against the convoy reference on this machine. */
export function wantsYardstick(r: Pick<RanScenario, 'challenge' | 'result'>): boolean {
  const m = r.result.metrics;
  return !!r.challenge.convoyReference && r.result.status !== 'error' && typeof m.slowCalls === 'number' && m.slowCalls > 0 && !busyTimingReason(m);
}

/** The deadline a call of this scenario is slow after, given the reference's slowest answer (ms) on this machine. */
export function machineDeadlineMs(answerDeadlineMs: number, referenceSlowestMs: number): number {
  return Math.max(answerDeadlineMs, Math.round(referenceSlowestMs * CONVOY_SLACK));
}

/** The calls of a history's workload (neither warm-up nor final reads) answered after `deadlineMs`. */
export function slowCallsAfter(ops: { phase?: string; startUs: number; endUs: number }[], deadlineMs: number): number {
  let n = 0;
  for (const op of ops) if (op.phase !== 'final' && op.phase !== 'warmup' && op.endUs >= 0 && op.endUs - op.startUs > deadlineMs * 1000) n++;
  return n;
}

/**
 * Judges every scenario that wants it against the convoy reference (measured now or remembered), rewriting its
 * `slowCalls` and adding `machineDeadlineMs`, `convoyReferenceSlowestMs`, `convoyReferenceMeasured` and
 * `slowCallsAfterAnswerDeadline`. Never throws: a reference that cannot be run leaves the answer deadline as it was.
 */
export async function applyConvoyYardstick(ran: RanScenario[], moduleLaunch: (bundle: string) => LaunchSpec, memory: FigureMemory | undefined, say: (message: string) => void): Promise<void> {
  for (const r of ran) {
    if (!wantsYardstick(r)) continue;
    const m = r.result.metrics;
    const where = `${r.challenge.id}/${r.result.id}`;
    const own = path.resolve(r.file) === path.resolve(r.challenge.convoyReference!);
    const figure = own ? { slowestMs: Number(m.maxLatencyMs), measured: 'now' } : await referenceSlowest(r, moduleLaunch, memory, say, where).catch(() => null);
    if (!figure || !(figure.slowestMs > 0)) continue;
    const answerDeadline = Number(m.answerDeadlineMs ?? r.options.callTimeoutMs);
    const deadline = machineDeadlineMs(answerDeadline, figure.slowestMs);
    m.convoyReferenceSlowestMs = figure.slowestMs;
    m.convoyReferenceMeasured = figure.measured;
    m.machineDeadlineMs = deadline;
    if (deadline === answerDeadline || !r.result.historyFile) continue;
    m.slowCallsAfterAnswerDeadline = m.slowCalls;
    m.slowCalls = slowCallsAfter(readHistory(r.result.historyFile), deadline);
  }
}

/** The convoy reference's slowest answer on this scenario and machine: remembered, or measured now; null when none could be had. */
async function referenceSlowest(r: RanScenario, moduleLaunch: (bundle: string) => LaunchSpec, memory: FigureMemory | undefined, say: (message: string) => void, where: string): Promise<{ slowestMs: number; measured: string } | null> {
  const reference = r.challenge.convoyReference!;
  const o = r.options;
  const slow = `${where}: ${r.result.metrics.slowCalls} call(s) answered after ${r.result.metrics.answerDeadlineMs} ms`;
  const design = `the plainest correct design (${path.basename(reference, '.ts')})`;
  const keyParts = { reference, challenge: r.challenge.id, scenario: r.result.id, profile: o.profile, instances: o.instances, infra: o.infra, measure: 'slowest-answer' as const };
  const { value, measured } = await rememberedOrMeasured(memory, keyParts, async () => {
    const ref = await runReference(reference, o, moduleLaunch, 'convoy-reference');
    if (!ref) return 0;
    // Only a run that passed on a quiet machine is a yardstick: a reference that failed, or was starved, says nothing.
    if (ref.status !== 'passed' || busyTimingReason(ref.metrics)) {
      say(`${where}: the reference's run could not serve as a yardstick (${ref.status !== 'passed' ? ref.status : busyTimingReason(ref.metrics)}); the answer deadline stands`);
      return 0;
    }
    return Number(ref.metrics.maxLatencyMs);
  }, {
    remembered: (f) => say(`${slow}; ${design} answers its slowest caller there in ${f.value} ms on this machine (measured ${f.measuredAt})`),
    measuring: (why) => say(`${slow}; timing ${design} on the same scenario, to judge them against this machine${why ? ` (${why})` : ''}`),
  });
  return value > 0 ? { slowestMs: value, measured } : null;
}
