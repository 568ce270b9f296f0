// What the HTML report draws, computed from a result and each scenario's history file (JSONL): the ops for the
// timeline (downsampled deterministically when large, always keeping indeterminate, ok and counterexample ops),
// and a latency histogram over every completed op.

import fs from 'node:fs';
import type { Op, ScenarioResult } from '../../types.ts';
import type { GradeResult } from '../../../rubric/result.ts';
import { readHistory } from '../../history/history.ts';
import { flattenCounterexample } from './counterexample.ts';

export interface HistogramBin {
  fromMs: number;
  toMs: number;
  ok: number;
  fail: number;
  info: number;
}

export interface ScenarioView {
  challenge: string;
  scenario: string;
  /** Ops drawn on the timeline (a sample when the history is large). */
  ops: Op[];
  totalOps: number;
  /** Op indexes named by failed checks' counterexamples. */
  highlighted: number[];
  instances: number[];
  fromUs: number;
  toUs: number;
  histogram: HistogramBin[];
  p50Ms?: number;
  p99Ms?: number;
  /** Why there is no timeline (history file missing or unreadable). */
  missing?: string;
}

export const DEFAULT_MAX_TIMELINE_OPS = 2500;

/**
 * Every op when there are few; otherwise the highlighted (counterexample) ops, then indeterminate ones, then
 * ok ones, then an even sample of the rest, up to `max` in all. Deterministic, in history order.
 */
export function downsample(ops: Op[], max: number, keep: Set<number>): Op[] {
  if (ops.length <= max) return ops;
  const chosen = new Set<number>();
  const take = (xs: Op[], room: number) => {
    for (const o of evenSample(xs, Math.max(0, Math.min(xs.length, room)))) chosen.add(o.index);
  };
  take(ops.filter((o) => keep.has(o.index)), max);
  take(ops.filter((o) => !chosen.has(o.index) && o.type === 'info'), Math.ceil((max - chosen.size) / 2));
  take(ops.filter((o) => !chosen.has(o.index) && o.type === 'ok'), Math.ceil((max - chosen.size) / 2));
  take(ops.filter((o) => !chosen.has(o.index)), max - chosen.size);
  return ops.filter((o) => chosen.has(o.index));
}

function evenSample<T>(xs: T[], n: number): T[] {
  if (n >= xs.length) return xs;
  if (n <= 0) return [];
  const step = xs.length / n;
  return Array.from({ length: n }, (_, i) => xs[Math.floor(i * step)]);
}

/** Log-spaced bins (×√2) covering every completed op's latency, stacked by outcome. */
export function latencyHistogram(ops: Op[]): HistogramBin[] {
  const done = ops.filter((o) => o.endUs >= 0 && o.endUs >= o.startUs);
  if (!done.length) return [];
  const ms = done.map((o) => Math.max(0.001, (o.endUs - o.startUs) / 1000));
  const lo = Math.floor(Math.log2(Math.min(...ms)) * 2) / 2;
  const hi = Math.ceil(Math.log2(Math.max(...ms)) * 2) / 2 + 0.5;
  const bins: HistogramBin[] = [];
  for (let e = lo; e < hi; e += 0.5) bins.push({ fromMs: 2 ** e, toMs: 2 ** (e + 0.5), ok: 0, fail: 0, info: 0 });
  done.forEach((o, i) => {
    const k = Math.min(bins.length - 1, Math.max(0, Math.floor((Math.log2(ms[i]) - lo) * 2)));
    bins[k][o.type]++;
  });
  return bins;
}

export function scenarioView(challenge: string, s: ScenarioResult, maxOps = DEFAULT_MAX_TIMELINE_OPS): ScenarioView {
  const highlighted = [...new Set(s.checks.filter((c) => c.passed === false).flatMap((c) => flattenCounterexample(c.counterexample).opIndexes))];
  const empty: ScenarioView = { challenge, scenario: s.id, ops: [], totalOps: 0, highlighted, instances: [], fromUs: 0, toUs: 1, histogram: [] };
  if (!s.historyFile) return { ...empty, missing: 'no history was recorded for this scenario' };
  let ops: Op[];
  try {
    ops = fs.existsSync(s.historyFile) ? readHistory(s.historyFile) : [];
    if (!fs.existsSync(s.historyFile)) return { ...empty, missing: `the history file is gone: ${s.historyFile}` };
  } catch (err) {
    return { ...empty, missing: `the history file could not be read: ${(err as Error).message}` };
  }
  if (!ops.length) return { ...empty, missing: s.skipped ? 'skipped: nothing was called' : 'no calls were recorded' };
  const fromUs = Math.min(...ops.map((o) => o.startUs), ...(s.faults ?? []).map((f) => f.startUs));
  const toUs = Math.max(...ops.map((o) => (o.endUs >= 0 ? o.endUs : o.startUs)), ...(s.faults ?? []).map((f) => f.endUs), fromUs + 1);
  return {
    challenge,
    scenario: s.id,
    ops: downsample(ops, maxOps, new Set(highlighted)),
    totalOps: ops.length,
    highlighted,
    instances: [...new Set(ops.map((o) => o.instance))].sort((a, b) => a - b),
    fromUs,
    toUs,
    histogram: latencyHistogram(ops),
    p50Ms: s.metrics.p50Ms,
    p99Ms: s.metrics.p99Ms,
  };
}

export function loadReportData(r: GradeResult, maxOps = DEFAULT_MAX_TIMELINE_OPS): Map<string, ScenarioView> {
  const views = new Map<string, ScenarioView>();
  for (const ch of r.challenges) for (const s of ch.scenarios) views.set(`${ch.id}/${s.id}`, scenarioView(ch.id, s, maxOps));
  return views;
}
