// The grade watches itself while a scenario's workload runs: the harness's own event-loop delay and the machine's
// load. When the harness was starved (it could not send, read or time calls as designed), a failure that waiting
// or speed could explain is the machine's fault, not the candidate's: the scenario is `inconclusive` (CONTRACT §8).
// On a busy machine (other programs taking the cores, cpu-share.ts), answer times are the machine's too: the rubric
// does not score them or raise a concern from them (`busyTimingReason`).

import os from 'node:os';
import type { CheckResult } from './types.ts';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { watchCpuShare } from './cpu-share.ts';

export interface MachineReport {
  /** Longest the harness's event loop was blocked, ms. */
  lagMaxMs: number;
  lagP99Ms: number;
  /** 1-minute load average per core at the end of the workload (the grade's own load included). */
  loadPerCore: number;
  /** Cores' worth of CPU that programs other than the grade used during the workload (cpu-share.ts); absent off Linux. */
  otherCpuCores?: number;
}

/** A harness that froze this long could not keep its own timing: its time-based verdicts do not hold. */
export const STARVED_LAG_MS = 1000;

export function watchMachine(): { stop(): MachineReport } {
  let h: IntervalHistogram | null = null;
  try {
    h = monitorEventLoopDelay({ resolution: 20 });
    h.enable();
  } catch {
    h = null;
  }
  const cpu = watchCpuShare();
  return {
    stop() {
      h?.disable();
      const ms = (ns: number) => Math.round(ns / 1e5) / 10;
      const report: MachineReport = { lagMaxMs: h ? ms(h.max) : 0, lagP99Ms: h ? ms(h.percentile(99)) : 0, loadPerCore: Math.round((os.loadavg()[0] / Math.max(1, os.cpus().length)) * 100) / 100 };
      const share = cpu.stop(); // reads what /proc it can; null where it cannot
      if (share) report.otherCpuCores = share.otherCores;
      return report;
    },
  };
}

/**
 * Cores' worth of CPU taken by other programs during the workload (cpu-share.ts) from which answer times are not
 * held against the candidate: a quarter of this 2-core machine's. Measured here: a grade alone, 0–0.39 (the high
 * ones over workloads under a second: a tenth of a second of CPU); three CPU-bound programs beside it, above 0.9.
 * The load average cannot tell this apart: a grade of subscription-reads alone ends scenarios at up to 2.15 per
 * core. A lock convoy waits asleep, so a real convoy on a quiet machine is still seen.
 */
export const BUSY_OTHER_CPU_CORES = 0.5;
/** ... and at least this much CPU time in all, so that a blip over a sub-second workload excuses nothing. */
export const BUSY_OTHER_CPU_SECONDS = 1;

/**
 * Why a scenario's answer times may be the machine's rather than the code's (other programs took the cores, or
 * the harness starved, while the workload ran), or null when they are the code's. A scenario recorded where the
 * share could not be measured (not Linux, or before it was) is excused only by starvation.
 */
export function busyTimingReason(metrics: Record<string, unknown>): string | null {
  const other = typeof metrics.otherCpuCores === 'number' ? metrics.otherCpuCores : 0;
  const lag = typeof metrics.harnessLagMaxMs === 'number' ? metrics.harnessLagMaxMs : 0;
  if (lag >= STARVED_LAG_MS) return `the harness itself was starved (its event loop froze for up to ${Math.round(lag)} ms)`;
  // A rate over a short workload is noise (the kernel's per-CPU and per-process clocks differ by some ticks): other
  // programs must also have taken a whole second of CPU. A late answer needs a workload of 10 s or more anyway.
  const windowS = typeof metrics.workloadMs === 'number' ? metrics.workloadMs / 1000 : Infinity;
  if (other >= BUSY_OTHER_CPU_CORES && other * windowS >= BUSY_OTHER_CPU_SECONDS) return `the machine was busy (other programs used ${other} cores' worth of CPU while the workload ran; from ${BUSY_OTHER_CPU_CORES}, answer times are the machine's)`;
  return null;
}

/** Why the machine, not the submission, may explain a failure; null when the harness ran as designed. */
export function starvation(report: MachineReport): string | null {
  if (report.lagMaxMs < STARVED_LAG_MS) return null;
  return `the grading machine was starved: gauntlet's own event loop froze for up to ${Math.round(report.lagMaxMs)} ms while the workload ran (load ${report.loadPerCore} per core), so the timing this scenario relies on did not hold. Grade again on a quieter machine (close other heavy programs, or run grades one at a time).`;
}

/**
 * The reason a failed scenario is `inconclusive` rather than `failed`, or null: the harness was starved and every
 * failed check is one that slowness can explain (none is a safety check: two winners, a double charge ...).
 */
export function inconclusiveReason(checks: CheckResult[], isSafety: (checkId: string) => boolean, report: MachineReport): string | null {
  const failed = checks.filter((c) => c.passed === false);
  if (!failed.length || checks.some((c) => c.passed === null)) return null;
  const starved = starvation(report);
  if (!starved || failed.some((c) => isSafety(c.id))) return null;
  return `${starved} Failed here: ${failed.map((c) => c.id).join(', ')}.`;
}

/** How much slower than the plainest correct design's slowest answer a call may be before it is slow (convoy-yardstick.ts). */
export const CONVOY_SLACK = 1.5;

/**
 * The deadline after which a scenario's calls counted slow (metric `slowCalls`), as the reports say it: the answer
 * deadline, or the deadline stretched on this machine to CONVOY_SLACK × the slowest answer of the plainest correct
 * design where callers queue by design (metric `machineDeadlineMs`, harness/app/convoy-yardstick.ts).
 */
export function slowDeadlineText(metrics: Record<string, unknown>): string {
  const answer = Number(metrics.answerDeadlineMs);
  const machine = typeof metrics.machineDeadlineMs === 'number' ? metrics.machineDeadlineMs : answer;
  if (!(machine > answer)) return `${answer} ms`;
  return `${machine} ms (the ${answer} ms answer deadline, stretched on this machine to ${CONVOY_SLACK}× the ${metrics.convoyReferenceSlowestMs} ms the plainest correct design, one row lock per caller, took for its slowest caller)`;
}
