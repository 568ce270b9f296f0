// 2. Last-seat burst fidelity over a few seeds: how many of the callers the instances really had in flight at
// once (sum of per-instance peaks) and how far apart the first and last request write were (release skew).

import { grade } from '../grade.ts';
import type { ScenarioMetrics } from '../../types.ts';
import { atLeast, atMost, failedLine, line, type BenchLine, type BenchSection } from './report.ts';
import { writeFloorMs } from './write-floor.ts';
import { bounded, median, problems, referenceFile, round, SEAT, submissionFor, type BenchContext } from './support.ts';

const IN_FLIGHT_TARGET = atLeast(90, '%');
/** Issue 14: the release skew at most twice this machine's write floor (the same writes to a server doing nothing). */
const SKEW_FLOOR_FACTOR = 2;

interface Sample {
  seed: number;
  callers: number;
  maxInFlight: number;
  inFlightPct: number;
  skewMs: number;
  connectMs: number;
  /** How the release loop ran: `realtime`, `high` (nice) or `normal` (release-priority.ts). */
  priority: string;
  /** The instances were reached through Unix sockets (contained) rather than loopback TCP. */
  unix: boolean;
  status: string;
}

export async function measureBurstFidelity(ctx: BenchContext): Promise<BenchSection> {
  const seeds = ctx.quick ? [1, 2] : [1, 2, 3, 4, 5];
  const submission = submissionFor(ctx.tmpDir, referenceFile('conditional-update'));
  const samples: Sample[] = [];
  const lines: BenchLine[] = [];
  try {
    for (const seed of seeds) {
      ctx.log(`bench: last-seat burst, seed ${seed}`);
      const result = await bounded(
        grade({ submission, challenges: [SEAT], scenarios: ['last-seat'], profile: 'standard', seed, infra: ctx.infra, outDir: ctx.tmpDir }),
        120_000,
        'the last-seat scenario',
      );
      const scenario = result.challenges[0]?.scenarios[0];
      if (!scenario) throw new Error(`last-seat did not run: ${result.challenges[0]?.error ?? 'no scenario result'}`);
      const m = scenario.metrics as ScenarioMetrics;
      const callers = Number(m.callers ?? 0);
      if (!callers) throw new Error(`last-seat recorded no burst (${scenario.status}: ${scenario.error ?? ''})`);
      const sample: Sample = {
        seed,
        callers,
        maxInFlight: m.maxInFlight,
        inFlightPct: (m.maxInFlight / callers) * 100,
        skewMs: Number(m.releaseSkewMs ?? 0),
        connectMs: Number(m.connectMs ?? 0),
        priority: String(m.releasePriority ?? 'normal'),
        unix: result.sandbox?.network === 'contained',
        status: scenario.status === 'passed' ? 'passed' : `${scenario.status} (${problems(result).join('; ')})`,
      };
      samples.push(sample);
      ctx.log(`bench:   ${sample.maxInFlight}/${callers} in flight, skew ${sample.skewMs} ms, ${sample.status}`);
    }
    const pcts = samples.map((s) => s.inFlightPct);
    const skews = samples.map((s) => s.skewMs);
    const perSeed = (f: (s: Sample) => string) => `per seed: ${samples.map(f).join(', ')}`;
    const statuses = [...new Set(samples.map((s) => s.status))].join('/');
    lines.push(line('callers', 'callers per burst', samples[0].callers, '', 0, undefined, `standard profile, ${samples.length} seeds (${seeds.join(', ')}), scenario ${statuses}`));
    lines.push(line('in-flight-median', 'peak in flight / callers, median', round(median(pcts)), '%', 1, IN_FLIGHT_TARGET, perSeed((s) => String(s.maxInFlight))));
    lines.push(line('in-flight-worst', 'peak in flight / callers, worst', round(Math.min(...pcts)), '%', 1, IN_FLIGHT_TARGET));
    // The floor first: the skew's target is stated against it, over the transport the bursts used.
    const unix = samples.every((s) => s.unix);
    const floorMs = await bounded(writeFloorMs(samples[0].callers, unix ? 'unix' : 'tcp'), 30_000, 'the write-floor measurement');
    const skewTarget = atMost(round(SKEW_FLOOR_FACTOR * floorMs, 1), 'ms');
    skewTarget.text = `≤ ${SKEW_FLOOR_FACTOR}× floor (${skewTarget.value} ms)`;
    const priorities = [...new Set(samples.map((s) => s.priority))].join('/');
    lines.push(line('skew-median', 'release skew, median', round(median(skews), 2), 'ms', 1, skewTarget, `${perSeed((s) => s.skewMs.toFixed(1))}; release loop at ${priorities} priority`));
    lines.push(line('skew-worst', 'release skew, worst', round(Math.max(...skews), 2), 'ms', 1, skewTarget));
    lines.push(line('write-floor', 'floor: the same number of 1-byte writes, idle server', round(floorMs, 1), 'ms', 1, undefined, `${unix ? 'Unix sockets (the instances are contained)' : 'loopback TCP'} to a server that does nothing: the least a release can take here`));
    lines.push(line('connect-median', 'connection set-up before release, median', round(median(samples.map((s) => s.connectMs)), 0), 'ms', 0, undefined, 'opening every connection, not part of the skew'));
  } catch (err) {
    lines.push(failedLine('in-flight-median', 'peak in flight / callers', err, IN_FLIGHT_TARGET), failedLine('skew-median', 'release skew', err, atMost(SKEW_FLOOR_FACTOR, '× floor')));
  }
  return {
    id: 'burst-fidelity',
    title: 'last-seat burst fidelity (standard profile, 4 instances, conditional-update reference)',
    lines,
    notes: ['Peak in flight is the sum of each instance\'s own peak of concurrent requests (the adapter counts them); release skew is the time between the first and the last request\'s final byte being written. The release loop runs at real-time priority where the harness may take it (root or CAP_SYS_NICE; harness/generator/release-priority.ts).'],
  };
}
