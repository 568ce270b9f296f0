// 4. Each seat reference under the `load` scenario (standard profile, 4 instances): reserve calls answered per
// second and their p50/p99 latency, as the grade's own metrics report them. No targets: a comparison.

import { grade } from '../grade.ts';
import type { ScenarioMetrics } from '../../types.ts';
import { failedLine, line, type BenchLine, type BenchSection } from './report.ts';
import { findChallenge } from '../../../challenges/index.ts';
import { createStepTimer } from './grade-steps.ts';
import { bounded, problems, seatReferences, SEAT, submissionFor, type BenchContext } from './support.ts';

export async function measureReferenceLoad(ctx: BenchContext): Promise<BenchSection> {
  const lines: BenchLine[] = [];
  for (const ref of seatReferences()) {
    try {
      ctx.log(`bench: load scenario, reference ${ref.name}`);
      const submission = submissionFor(ctx.tmpDir, ref.file);
      const started = performance.now();
      const timer = createStepTimer();
      const result = await bounded(
        grade({ submission, challenges: [SEAT], scenarios: ['load'], profile: 'standard', seed: 1, infra: ctx.infra, outDir: ctx.tmpDir, onProgress: timer.onProgress }),
        120_000,
        `the load scenario for ${ref.name}`,
      );
      const ended = performance.now();
      const referenceS = timer.totals(result, ended).reference / 1000;
      const gradeS = (ended - started) / 1000;
      const scenario = result.challenges[0]?.scenarios[0];
      if (!scenario) throw new Error(result.challenges[0]?.error ?? 'no scenario result');
      const m = scenario.metrics as ScenarioMetrics;
      if (m.loadThroughputPerS === undefined) throw new Error(`${scenario.status}: ${scenario.error ?? 'no load metrics'}`);
      const won = m.ok;
      const p50Ms = Number(m.loadP50Ms);
      const p99Ms = Number(m.loadP99Ms);
      const status = scenario.status === 'passed' ? 'passed' : `${scenario.status} (${problems(result).join('; ')})`;
      const ratio = m.throughputRatio !== undefined && m.throughputRatio !== null ? `; ${m.throughputRatio} × the benchmark reference in the same grade` : '';
      const timing = `grade ${gradeS.toFixed(1)} s${referenceS >= 0.05 ? `, of which ${referenceS.toFixed(1)} s running the benchmark reference for the ratio` : ''}`;
      const detail = `${m.loadRequests} answered, ${won} won a seat, error rate ${m.errorRate}${ratio}; scenario ${status}; ${timing}`;
      const l = line(`load-${ref.name}`, ref.name, Number(m.loadThroughputPerS), 'req/s', 0, undefined, detail);
      lines.push({ ...l, display: `${l.display}, p50 ${p50Ms.toFixed(1)} ms, p99 ${p99Ms.toFixed(1)} ms`, extra: { p50Ms, p99Ms } });
      ctx.log(`bench:   ${m.loadThroughputPerS} req/s, p50 ${m.loadP50Ms} ms, p99 ${m.loadP99Ms} ms`);
    } catch (err) {
      lines.push(failedLine(`load-${ref.name}`, ref.name, err));
    }
  }
  const p = findChallenge(SEAT)?.scenarios.find((s) => s.id === 'load')?.params.standard ?? {};
  return {
    id: 'reference-load',
    title: `each ${SEAT} reference under the load scenario (standard: 4 instances × ${p.connectionsPerInstance} connections, ${p.durationMs / 1000} s, ${p.seats} seats, seed 1)`,
    lines,
    notes: ['req/s counts every answered reserve call (most are SEAT_TAKEN once the seats fill up); latency is per call, in µs precision, through the scenario\'s fault proxy (no fault active).'],
  };
}
