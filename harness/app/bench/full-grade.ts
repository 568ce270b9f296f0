// 0. What a candidate waits for: grade() of every challenge at once (examples/reference-submission, a reference per
// challenge), per profile, with the share of the wall time spent outside the workloads (the fixed cost: databases,
// setup processes, instance starts, settles and final reads, teardown), the harness's own CPU time and its peak RSS.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { grade } from '../grade.ts';
import { challenges } from '../../../challenges/index.ts';
import type { ProfileName } from '../../types.ts';
import { atMost, failedLine, line, type BenchLine, type BenchSection, type Target } from './report.ts';
import { createStepTimer, STEPS } from './grade-steps.ts';
import { bounded, problems, round, withRssPeak, type BenchContext } from './support.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SUBMISSION = path.join(root, 'examples', 'reference-submission');

/** Issue 14's targets: every challenge in 20 s quick and 60 s standard on two cores; fixed cost at most a quarter. */
const WALL: Partial<Record<ProfileName, Target>> = { quick: atMost(20, 's'), standard: atMost(60, 's') };
const FIXED_SHARE: Partial<Record<ProfileName, Target>> = { standard: atMost(25, '%') };
const BUDGET_MS: Record<ProfileName, number> = { quick: 600_000, standard: 900_000, thorough: 1_800_000 };

async function timeFullGrade(ctx: BenchContext, profile: ProfileName): Promise<BenchLine[]> {
  ctx.log(`bench: grade examples/reference-submission (all ${challenges.length} challenges) --profile ${profile}, seed 1`);
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const timer = createStepTimer();
  const { result, peakRssMb } = await withRssPeak(() =>
    bounded(grade({ submission: SUBMISSION, profile, seed: 1, infra: ctx.infra, outDir: ctx.tmpDir, onProgress: timer.onProgress }), BUDGET_MS[profile], `full grade --profile ${profile}`),
  );
  const ended = performance.now();
  const cpu = process.cpuUsage(cpuBefore);
  const wallS = (ended - started) / 1000;
  const steps = timer.totals(result, ended);
  const failures = problems(result);
  const perChallenge = result.challenges.map((c) => `${c.id} ${(c.scenarios.reduce((t, s) => t + (s.durationMs ?? 0), 0) / 1000).toFixed(1)}`).join(', ');
  const scenarios = result.challenges.reduce((n, c) => n + c.scenarios.length, 0);
  ctx.log(`bench:   ${wallS.toFixed(1)} s, verdict ${result.verdict}${failures.length ? ` (${failures.join('; ')})` : ''}`);
  const outsideS = wallS - steps.workload / 1000;
  const split = STEPS.filter((k) => k !== 'workload' && steps[k] >= 50).map((k) => `${k} ${(steps[k] / 1000).toFixed(1)}`).join(', ');
  return [
    line(`full-grade-${profile}`, `every challenge, profile ${profile}`, round(wallS), 's', 1, WALL[profile], `${scenarios} scenarios; verdict ${result.verdict}${failures.length ? ` (${failures.join('; ')})` : ''}; per challenge, scenarios summed (s): ${perChallenge}`),
    line(`full-grade-fixed-${profile}`, 'of which outside the workloads', round((outsideS / wallS) * 100, 0), '%', 0, FIXED_SHARE[profile], `${outsideS.toFixed(1)} s of ${wallS.toFixed(1)} s; summed over the scenarios (s): ${split}; workload ${(steps.workload / 1000).toFixed(1)}`),
    line(`full-grade-cpu-${profile}`, 'CPU time of the harness process during it', round((cpu.user + cpu.system) / 1e6), 's', 1, undefined, `user ${(cpu.user / 1e6).toFixed(1)} s, system ${(cpu.system / 1e6).toFixed(1)} s: ${(((cpu.user + cpu.system) / 1e6 / wallS) * 100).toFixed(0)} % of one core over the wall time (the recording proxies, the load client, the checks; the instances and the databases are other processes)`),
    line(`full-grade-rss-${profile}`, 'peak RSS of the harness during it', Math.round(peakRssMb), 'MB', 0, undefined, 'process.memoryUsage().rss, sampled every 50 ms'),
  ];
}

export async function measureFullGrade(ctx: BenchContext): Promise<BenchSection> {
  const profiles: ProfileName[] = ctx.quick ? ['quick'] : ['quick', 'standard'];
  const lines: BenchLine[] = [];
  for (const profile of profiles) {
    try {
      lines.push(...(await timeFullGrade(ctx, profile)));
    } catch (err) {
      lines.push(failedLine(`full-grade-${profile}`, `every challenge, profile ${profile}`, err, WALL[profile]));
    }
  }
  return {
    id: 'full-grade',
    title: `a full grade: every challenge (${challenges.map((c) => c.id).join(', ')}), examples/reference-submission, 4 instances`,
    lines,
    notes: [
      'What a candidate waits for, minus acquiring PostgreSQL and Redis and the CLI start-up (about 1 s): grade() on the bench\'s infrastructure, seed 1.',
      '"Outside the workloads" is everything but the scenarios\' own calls: creating databases, the setup processes, starting instances, the settles and waits for the system to go quiet, final reads and checks, teardown, bundling and scoring.',
    ],
  };
}
