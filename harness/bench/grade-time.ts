// 1. Wall time of grade() for the seat challenge per profile (the conditional-update reference, on the bench's
// already acquired infrastructure), with a per-scenario breakdown and the harness process's peak RSS.

import { grade } from '../index.ts';
import type { GradeResult, ProfileName } from '../types.ts';
import { atMost, failedLine, line, type BenchLine, type BenchSection, type Target } from './report.ts';
import { createStepTimer, STEPS, type Step } from './grade-steps.ts';
import { bounded, maxRssMb, median, problems, referenceFile, round, SEAT, submissionFor, withRssPeak, type BenchContext } from './support.ts';

const TARGETS: Partial<Record<ProfileName, Target>> = { standard: atMost(20, 's') };
const BUDGET_MS: Record<ProfileName, number> = { quick: 120_000, standard: 240_000, thorough: 900_000 };

interface Run {
  wallMs: number;
  verdict: GradeResult['verdict'];
  peakRssMb: number;
  scenarioMs: Record<string, number>;
  problems: string[];
  steps: Record<Step, number>;
}

export async function measureGradeTime(ctx: BenchContext): Promise<BenchSection> {
  const profiles: ProfileName[] = ctx.thorough ? ['quick', 'standard', 'thorough'] : ['quick', 'standard'];
  const submission = submissionFor(ctx.tmpDir, referenceFile('conditional-update'));
  const lines: BenchLine[] = [];
  for (const profile of profiles) {
    const reps = ctx.quick || profile === 'thorough' ? 1 : 2;
    const runs: Run[] = [];
    try {
      for (let rep = 0; rep < reps; rep++) {
        const seed = rep + 1;
        ctx.log(`bench: grade ${SEAT} --profile ${profile} (run ${rep + 1}/${reps}, seed ${seed})`);
        const started = performance.now();
        const timer = createStepTimer();
        const { result, peakRssMb } = await withRssPeak(() =>
          bounded(grade({ submission, challenges: [SEAT], profile, seed, infra: ctx.infra, outDir: ctx.tmpDir, onProgress: timer.onProgress }), BUDGET_MS[profile], `grade --profile ${profile}`),
        );
        const ended = performance.now();
        const wallMs = ended - started;
        const scenarioMs = Object.fromEntries((result.challenges[0]?.scenarios ?? []).map((s) => [s.id, s.durationMs ?? 0]));
        runs.push({ wallMs, verdict: result.verdict, peakRssMb, scenarioMs, problems: problems(result), steps: timer.totals(result, ended) });
        ctx.log(`bench:   ${(wallMs / 1000).toFixed(1)} s, verdict ${result.verdict}${problems(result).length ? ` (${problems(result).join('; ')})` : ''}`);
      }
      const walls = runs.map((r) => r.wallMs / 1000);
      const breakdown = Object.keys(runs[0].scenarioMs)
        .map((id) => `${id} ${(median(runs.map((r) => r.scenarioMs[id] ?? 0)) / 1000).toFixed(1)}`)
        .join(', ');
      const verdicts = [...new Set(runs.map((r) => r.verdict))].join('/');
      const failures = [...new Set(runs.flatMap((r) => r.problems))];
      const detail = `${reps > 1 ? `median of ${walls.map((w) => w.toFixed(1)).join(', ')} s; ` : ''}verdict ${verdicts}${failures.length ? ` (${failures.join('; ')})` : ''}; scenarios (s): ${breakdown}`;
      lines.push(line(`grade-${profile}`, `grade, profile ${profile}`, round(median(walls)), 's', 1, TARGETS[profile], detail));
      const steps = Object.fromEntries(STEPS.map((k) => [k, median(runs.map((r) => r.steps[k])) / 1000])) as Record<Step, number>;
      const stepText = STEPS.filter((k) => steps[k] >= 0.05).map((k) => `${k} ${steps[k].toFixed(1)}`).join(', ');
      lines.push(line(`outside-workload-${profile}`, 'of which outside the workloads', round(median(walls) - steps.workload), 's', 1, undefined, `summed over the scenarios (s): ${stepText}`));
      lines.push(line(`rss-${profile}`, `peak RSS of the harness during it`, Math.round(Math.max(...runs.map((r) => r.peakRssMb))), 'MB', 0, undefined, 'process.memoryUsage().rss, sampled every 50 ms'));
    } catch (err) {
      lines.push(failedLine(`grade-${profile}`, `grade, profile ${profile}`, err, TARGETS[profile]));
    }
  }
  lines.push(line('max-rss', 'peak RSS of the harness, lifetime so far', Math.round(maxRssMb()), 'MB', 0, undefined, 'process.resourceUsage().maxRSS'));
  return {
    id: 'grade-time',
    title: `grade() wall time (${SEAT}, conditional-update reference, 4 instances, 5 scenarios)`,
    lines,
    notes: [
      'Measured around the programmatic grade() with infrastructure already acquired; the CLI adds the acquire time below and about 1 s of tsx start-up.',
    ],
  };
}
