// `gauntlet bench`: measures this machine (a full grade of every challenge, grade wall time and memory, burst fidelity, load-driver overhead,
// each seat reference under load) on one acquired infrastructure, and returns the figures with their targets.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { interrupted, onCleanup, onInterrupt } from '../../cleanup.ts';
import { acquireInfra, type Infra } from '../../infra/index.ts';
import { measureBurstFidelity } from './burst-fidelity.ts';
import { measureDriverThroughput } from './driver-throughput.ts';
import { measureGradeTime } from './grade-time.ts';
import { measureFullGrade } from './full-grade.ts';
import { loadAverage1m, machineFacts } from './machine.ts';
import { measureReferenceLoad } from './reference-load.ts';
import { measureContainmentOverhead } from './containment-overhead.ts';
import { renderBenchMarkdown } from './render.ts';
import { line, type BenchReport, type BenchSection } from './report.ts';
import type { BenchContext } from './support.ts';

export interface BenchOptions {
  /** Fewer repetitions and shorter runs: a smoke run. */
  quick?: boolean;
  /** Also time a grade with the thorough profile. */
  thorough?: boolean;
  /** Progress lines (the CLI sends them to stderr). */
  log?(message: string): void;
}

export async function runBench(o: BenchOptions = {}): Promise<BenchReport> {
  const started = Date.now();
  const loadAtStart = loadAverage1m();
  const log = o.log ?? (() => {});
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-bench-'));
  const removeTmp = () => fs.rmSync(tmpDir, { recursive: true, force: true });
  // Ctrl-C exits through the cleanup registry, past the finally below. Then the folder goes last, after the
  // interrupted grade has marked its run folder (hooks added while cleaning up run after those already there).
  const unregister = onCleanup(() => (interrupted() ? void onInterrupt(removeTmp) : removeTmp()));
  let infra: Infra | null = null;
  try {
    const acquireStarted = performance.now();
    infra = await acquireInfra({ log });
    const acquireMs = performance.now() - acquireStarted;
    const ctx: BenchContext = { infra, tmpDir, quick: !!o.quick, thorough: !!o.thorough, log };
    const sections: BenchSection[] = [];
    sections.push(await measureFullGrade(ctx));
    const gradeTime = await measureGradeTime(ctx);
    gradeTime.lines.push(line('infra-acquire', 'acquiring PostgreSQL and Redis (once per CLI grade)', Math.round(acquireMs), 'ms', 0, undefined, `${infra.postgres.source} PostgreSQL, ${infra.redis?.source ?? 'no'} Redis`));
    sections.push(gradeTime);
    sections.push(await measureBurstFidelity(ctx));
    sections.push(await measureDriverThroughput(ctx));
    sections.push(await measureReferenceLoad(ctx));
    sections.push(await measureContainmentOverhead(ctx));
    const misses = sections.flatMap((s) => s.lines.filter((l) => l.ok === false).map((l) => `${l.label} ${l.display} (target ${l.target?.text ?? '?'})`));
    return {
      schemaVersion: 1,
      tool: 'gauntlet-bench',
      startedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      options: { quick: !!o.quick, thorough: !!o.thorough },
      machine: machineFacts(infra, loadAtStart),
      sections,
      misses,
    };
  } finally {
    try {
      if (infra) await infra.close();
    } finally {
      removeTmp();
      unregister();
    }
  }
}

/** Write the figures as Markdown tables (for docs/benchmark.md). */
export function writeBenchMarkdown(file: string, report: BenchReport): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, renderBenchMarkdown(report));
}

export { renderBench, renderBenchMarkdown } from './render.ts';
export type { BenchReport } from './report.ts';
