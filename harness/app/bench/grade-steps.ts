// Where a grade's wall time goes, summed over its scenarios (bundle, database, setup, instances, workload, final
// reads + checks, teardown), from grade()'s progress events and each scenario's workloadMs metric.

import fs from 'node:fs';
import type { ProgressEvent } from '../grade.ts';
import type { GradeResult } from '../../../rubric/result.ts';

export const STEPS = ['bundle', 'database', 'setup', 'instances', 'workload', 'final reads + checks', 'teardown', 'reference', 'scoring'] as const;
export type Step = (typeof STEPS)[number];

interface Marks {
  startMs: number;
  endMs?: number;
  database?: number;
  setup?: number;
  instances?: number;
  heal?: number;
  cleanup?: number;
  reference?: number;
}

export function createStepTimer() {
  const gradeStartMs = performance.now();
  const marks = new Map<string, Marks>();
  let firstStartMs: number | null = null;
  let lastEndMs: number | null = null;
  return {
    onProgress(e: ProgressEvent): void {
      const now = performance.now();
      if (e.kind === 'infra') return;
      // Keyed by challenge and scenario: a full grade runs every challenge's scenarios.
      const key = `${e.challenge}/${e.scenario}`;
      if (e.kind === 'scenario-start') {
        firstStartMs ??= now;
        marks.set(key, { startMs: now });
        return;
      }
      const m = marks.get(key);
      if (!m) return;
      if (e.kind === 'scenario-end') {
        m.endMs = lastEndMs = now;
        return;
      }
      // A teardown finishing in the background may report after its scenario ended: that is not this scenario's time.
      if (m.endMs !== undefined) return;
      const msg = e.message;
      if (msg === 'creating database') m.database ??= now;
      else if (msg === 'running setup') m.setup ??= now;
      else if (/^starting \d+ instances$/.test(msg)) m.instances ??= now;
      else if (msg === 'healing and settling') m.heal ??= now;
      else if (msg === 'cleaning up') m.cleanup ??= now;
      else if (/fastest reference/.test(msg)) m.reference ??= now;
    },

    /** Milliseconds per step for this grade (call once grade() has returned). */
    totals(result: GradeResult, gradeEndMs: number): Record<Step, number> {
      const t = Object.fromEntries(STEPS.map((s) => [s, 0])) as Record<Step, number>;
      t.bundle = (firstStartMs ?? gradeEndMs) - gradeStartMs;
      t.scoring = gradeEndMs - (lastEndMs ?? gradeEndMs);
      for (const [challenge, s] of result.challenges.flatMap((c) => c.scenarios.map((x) => [c.id, x] as const))) {
        const m = marks.get(`${challenge}/${s.id}`);
        if (!m?.endMs || !m.database || !m.setup || !m.instances || !m.cleanup) continue;
        // The workload's own time (metric workloadMs); the step before it ends where the workload began. A scenario
        // prepared beside the previous one reports its first steps at its start: they cost it (almost) nothing.
        const healMs = m.heal ?? m.cleanup;
        const workloadMs = typeof s.metrics.workloadMs === 'number' ? s.metrics.workloadMs : legacyWorkloadMs(s.historyFile, m, healMs);
        const workloadStart = Math.max(m.instances, healMs - workloadMs);
        t.database += m.setup - m.startMs;
        t.setup += m.instances - m.setup;
        t.instances += workloadStart - m.instances;
        t.workload += healMs - workloadStart;
        t['final reads + checks'] += m.heal ? m.cleanup - m.heal : 0;
        t.teardown += (m.reference ?? m.endMs) - m.cleanup;
        t.reference += m.reference ? m.endMs - m.reference : 0;
      }
      return t;
    },
  };
}

/** Before the workloadMs metric: from the history's first call (µs since the scenario's run began). */
function legacyWorkloadMs(historyFile: string | undefined, m: Marks, healMs: number): number {
  const firstCallUs = historyFile ? firstInvokeUs(historyFile) : null;
  return firstCallUs === null ? 0 : healMs - (m.startMs + firstCallUs / 1000);
}

/** The history time (µs since the scenario started) of its first call, or null when there was none. */
function firstInvokeUs(file: string): number | null {
  if (!fs.existsSync(file)) return null;
  const text = fs.readFileSync(file, 'utf8');
  for (let at = 0; at < text.length; ) {
    const end = text.indexOf('\n', at);
    const lineText = text.slice(at, end < 0 ? text.length : end);
    at = end < 0 ? text.length : end + 1;
    if (!lineText.includes('"event":"invoke"')) continue;
    const e = JSON.parse(lineText) as { event: string; timeUs: number };
    if (e.event === 'invoke') return e.timeUs;
  }
  return null;
}
