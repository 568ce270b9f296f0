// 5. What owning the wire costs: the conditional-update reference under the `load` scenario (standard profile),
// contained (a network namespace per instance, bridged over Unix sockets) with every statement and Redis command
// recorded, side by side with open and unrecorded, alternating so both see the same machine. Targets: throughput
// within 5 %, and at most 0.3 s more to start a scenario (database, setup, instances).

import { grade } from '../grade.ts';
import type { ScenarioMetrics } from '../../types.ts';
import { containment } from '../../instances/netns.ts';
import { instanceUser } from '../../instances/instance-process.ts';
import { atLeast, atMost, failedLine, line, type BenchLine, type BenchSection } from './report.ts';
import { createStepTimer } from './grade-steps.ts';
import { bounded, median, referenceFile, round, SEAT, submissionFor, type BenchContext } from './support.ts';

interface Sample {
  throughput: number;
  startS: number;
}

async function sample(ctx: BenchContext, submission: string, on: boolean, seed: number): Promise<Sample> {
  const timer = createStepTimer();
  const result = await bounded(
    grade({ submission, challenges: [SEAT], scenarios: ['load'], profile: 'standard', seed, infra: ctx.infra, outDir: ctx.tmpDir, onProgress: timer.onProgress, contain: on, capture: on, sourceEvidence: false }),
    120_000,
    `the load scenario (${on ? 'contained, recorded' : 'open, unrecorded'})`,
  );
  const t = timer.totals(result, performance.now());
  const scenario = result.challenges[0]?.scenarios[0];
  const m = scenario?.metrics as ScenarioMetrics | undefined;
  if (!scenario || m?.loadThroughputPerS === undefined) throw new Error(`${scenario?.status ?? 'no result'}: ${scenario?.error ?? 'no load metrics'}`);
  return { throughput: Number(m.loadThroughputPerS), startS: (t.database + t.setup + t.instances) / 1000 };
}

export async function measureContainmentOverhead(ctx: BenchContext): Promise<BenchSection> {
  const title = 'owning the wire: contained and recorded vs open and unrecorded (conditional-update, load, standard)';
  const here = containment(await instanceUser());
  if (here.network !== 'contained') {
    return { id: 'containment', title, lines: [line('containment-ratio', 'throughput ratio', null, '', 2, atLeast(0.95, ''), `not measured: ${here.reason}`)] };
  }
  const submission = submissionFor(ctx.tmpDir, referenceFile('conditional-update'));
  const reps = ctx.quick ? 1 : 3;
  const on: Sample[] = [];
  const off: Sample[] = [];
  const lines: BenchLine[] = [];
  try {
    for (let rep = 0; rep < reps; rep++) {
      // Alternate which goes first, so a machine that warms up or slows down favours neither.
      for (const contained of rep % 2 ? [false, true] : [true, false]) {
        ctx.log(`bench: load, ${contained ? 'contained + recorded' : 'open + unrecorded'} (run ${rep + 1}/${reps})`);
        (contained ? on : off).push(await sample(ctx, submission, contained, rep + 1));
      }
    }
    const tOn = median(on.map((s) => s.throughput));
    const tOff = median(off.map((s) => s.throughput));
    const detail = (xs: Sample[]) => `median of ${xs.map((s) => Math.round(s.throughput)).join(', ')} req/s`;
    lines.push(line('containment-throughput-on', 'load throughput, contained + recorded', Math.round(tOn), 'req/s', 0, undefined, detail(on)));
    lines.push(line('containment-throughput-off', 'load throughput, open + unrecorded', Math.round(tOff), 'req/s', 0, undefined, detail(off)));
    lines.push(line('containment-ratio', 'throughput ratio (contained / open)', round(tOn / tOff, 2), '', 2, atLeast(0.95, '')));
    const added = median(on.map((s) => s.startS)) - median(off.map((s) => s.startS));
    lines.push(line('containment-start', 'added to start a scenario (database, setup, 4 instances)', round(added, 2), 's', 2, atMost(0.3, 's'), `start ${round(median(on.map((s) => s.startS)), 2)} s contained vs ${round(median(off.map((s) => s.startS)), 2)} s open`));
  } catch (err) {
    lines.push(failedLine('containment-ratio', 'throughput ratio (contained / open)', err, atLeast(0.95, '')));
  }
  return { id: 'containment', title, lines, notes: [`contained: ${here.strategy === 'netns' ? 'unshare --net' : 'unshare --user --net'}; recorded: sql.jsonl and redis.jsonl of every scenario`] };
}
