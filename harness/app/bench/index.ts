// `gauntlet bench`: measures this machine (full grades: issue 14's three challenges, then every challenge; grade wall time and memory, burst fidelity, load-driver overhead,
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
import { BENCH_SECTIONS, type BenchSectionId } from './sections.ts';

export interface BenchOptions {
  /** Fewer repetitions and shorter runs: a smoke run. */
  quick?: boolean;
  /** Also time a grade with the thorough profile. */
  thorough?: boolean;
  /** Only these sections (ids of BENCH_SECTIONS); every section when absent. */
  only?: readonly BenchSectionId[];
  /** Progress lines (the CLI sends them to stderr). */
  log?(message: string): void;
}

const MEASURES: Record<BenchSectionId, (ctx: BenchContext) => Promise<BenchSection>> = {
  'full-grade': measureFullGrade,
  'grade-time': measureGradeTime,
  'burst-fidelity': measureBurstFidelity,
  'driver-throughput': measureDriverThroughput,
  'reference-load': measureReferenceLoad,
  containment: measureContainmentOverhead,
};

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
    for (const id of BENCH_SECTIONS) {
      if (o.only && !o.only.includes(id)) continue;
      const section = await MEASURES[id](ctx);
      if (id === 'grade-time') section.lines.push(line('infra-acquire', 'acquiring PostgreSQL and Redis (once per CLI grade)', Math.round(acquireMs), 'ms', 0, undefined, `${infra.postgres.source} PostgreSQL, ${infra.redis?.source ?? 'no'} Redis`));
      sections.push(section);
    }
    const misses = sections.flatMap((s) => s.lines.filter((l) => l.ok === false).map((l) => `${l.label} ${l.display} (target ${l.target?.text ?? '?'})`));
    return {
      schemaVersion: 1,
      tool: 'gauntlet-bench',
      startedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      options: { quick: !!o.quick, thorough: !!o.thorough, ...(o.only ? { only: [...o.only] } : {}) },
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
