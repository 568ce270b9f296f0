// 1. Wall time of grade() for the seat challenge per profile (the conditional-update reference, on the bench's
// already acquired infrastructure), with a per-scenario and per-step breakdown and the harness's peak RSS.

import { grade } from '../grade.ts';
import type { ProfileName } from '../../types.ts';
import type { GradeResult } from '../../../rubric/result.ts';
import { atMost, failedLine, line, type BenchLine, type BenchSection, type Target } from './report.ts';
import { createStepTimer, STEPS, type Step } from './grade-steps.ts';
import { bounded, maxRssMb, median, problems, referenceFile, round, SEAT, submissionFor, withRssPeak, type BenchContext } from './support.ts';

const TARGETS: Partial<Record<ProfileName, Target>> = { standard: atMost(20, 's') };
const BUDGET_MS: Record<ProfileName, number> = { quick: 120_000, standard: 240_000, thorough: 900_000 };
/** Graded like a candidate's module: not the challenge's benchmark reference, so `load` also runs that one. */
const CANDIDATE_LIKE = 'optimistic-version';

interface Run {
  wallMs: number;
  verdict: GradeResult['verdict'];
  peakRssMb: number;
  scenarioMs: Record<string, number>;
  problems: string[];
  steps: Record<Step, number>;
}

async function timeGrades(ctx: BenchContext, reference: string, profile: ProfileName, reps: number): Promise<Run[]> {
  const submission = submissionFor(ctx.tmpDir, referenceFile(reference));
  const runs: Run[] = [];
  for (let rep = 0; rep < reps; rep++) {
    const seed = rep + 1;
    ctx.log(`bench: grade ${SEAT} (${reference}) --profile ${profile} (run ${rep + 1}/${reps}, seed ${seed})`);
    const started = performance.now();
    const timer = createStepTimer();
    const { result, peakRssMb } = await withRssPeak(() =>
      bounded(grade({ submission, challenges: [SEAT], profile, seed, infra: ctx.infra, outDir: ctx.tmpDir, onProgress: timer.onProgress }), BUDGET_MS[profile], `grade --profile ${profile}`),
    );
    const ended = performance.now();
    const scenarioMs = Object.fromEntries((result.challenges[0]?.scenarios ?? []).map((s) => [s.id, s.durationMs ?? 0]));
    runs.push({ wallMs: ended - started, verdict: result.verdict, peakRssMb, scenarioMs, problems: problems(result), steps: timer.totals(result, ended) });
    ctx.log(`bench:   ${((ended - started) / 1000).toFixed(1)} s, verdict ${result.verdict}${problems(result).length ? ` (${problems(result).join('; ')})` : ''}`);
  }
  return runs;
}

function wallLine(id: string, label: string, runs: Run[], target?: Target): BenchLine {
  const walls = runs.map((r) => r.wallMs / 1000);
  const breakdown = Object.keys(runs[0].scenarioMs)
    .map((s) => `${s} ${(median(runs.map((r) => r.scenarioMs[s] ?? 0)) / 1000).toFixed(1)}`)
    .join(', ');
  const verdicts = [...new Set(runs.map((r) => r.verdict))].join('/');
  const failures = [...new Set(runs.flatMap((r) => r.problems))];
  const detail = `${runs.length > 1 ? `median of ${walls.map((w) => w.toFixed(1)).join(', ')} s; ` : ''}verdict ${verdicts}${failures.length ? ` (${failures.join('; ')})` : ''}; scenarios (s): ${breakdown}`;
  return line(id, label, round(median(walls)), 's', 1, target, detail);
}

function stepsLine(id: string, runs: Run[]): BenchLine {
  const steps = Object.fromEntries(STEPS.map((k) => [k, median(runs.map((r) => r.steps[k])) / 1000])) as Record<Step, number>;
  const text = STEPS.filter((k) => steps[k] >= 0.05).map((k) => `${k} ${steps[k].toFixed(1)}`).join(', ');
  return line(id, 'of which outside the workloads', round(median(runs.map((r) => r.wallMs / 1000)) - steps.workload), 's', 1, undefined, `summed over the scenarios (s): ${text}`);
}

export async function measureGradeTime(ctx: BenchContext): Promise<BenchSection> {
  const profiles: ProfileName[] = ctx.thorough ? ['quick', 'standard', 'thorough'] : ['quick', 'standard'];
  const lines: BenchLine[] = [];
  for (const profile of profiles) {
    try {
      const runs = await timeGrades(ctx, 'conditional-update', profile, ctx.quick || profile === 'thorough' ? 1 : 2);
      lines.push(wallLine(`grade-${profile}`, `grade, profile ${profile}`, runs, TARGETS[profile]));
      lines.push(stepsLine(`outside-workload-${profile}`, runs));
      lines.push(line(`rss-${profile}`, 'peak RSS of the harness during it', Math.round(Math.max(...runs.map((r) => r.peakRssMb))), 'MB', 0, undefined, 'process.memoryUsage().rss, sampled every 50 ms'));
    } catch (err) {
      lines.push(failedLine(`grade-${profile}`, `grade, profile ${profile}`, err, TARGETS[profile]));
    }
  }
  const label = `grade, profile standard, ${CANDIDATE_LIKE} (as a candidate's)`;
  try {
    const runs = await timeGrades(ctx, CANDIDATE_LIKE, 'standard', 1);
    lines.push(wallLine('grade-standard-candidate', label, runs, TARGETS.standard));
    lines.push(stepsLine('outside-workload-standard-candidate', runs));
  } catch (err) {
    lines.push(failedLine('grade-standard-candidate', label, err, TARGETS.standard));
  }
  lines.push(line('max-rss', 'peak RSS of the harness, lifetime so far', Math.round(maxRssMb()), 'MB', 0, undefined, 'process.resourceUsage().maxRSS'));
  return {
    id: 'grade-time',
    title: `grade() wall time (${SEAT}, conditional-update reference, 4 instances, 5 scenarios)`,
    lines,
    notes: [
      'Measured around the programmatic grade() with infrastructure already acquired; the CLI adds the acquire time below and about 1 s of tsx start-up.',
      `Any module other than the challenge's benchmark reference (conditional-update) also gets the benchmark reference run through \`load\` in the standard profile, for its throughput ratio: the ${CANDIDATE_LIKE} line is what a candidate's standard grade costs.`,
    ],
  };
}
