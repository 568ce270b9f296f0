// The benchmark's result as a plain value (the `bench --json` document): machine facts, then sections of
// lines, each a figure with its unit, the target where there is one, and whether the figure meets it.

export interface MachineFacts {
  cores: number;
  cpuModel: string;
  memoryGb: number;
  node: string;
  os: string;
  /** e.g. `local (PostgreSQL 15.20)`. */
  postgres: string;
  redis: string;
  /** 1-minute load average when the bench started and when it ended: other work on the machine skews every figure. */
  loadAverage: { start: number; end: number };
}

export interface Target {
  op: '<=' | '>=';
  value: number;
  /** As printed, e.g. `≤ 20 s`. */
  text: string;
}

export interface BenchLine {
  id: string;
  label: string;
  /** null when the measurement could not be taken (see `detail`). */
  value: number | null;
  unit: string;
  /** The figure as printed, e.g. `18.4 s`. */
  display: string;
  target?: Target;
  /** true / false against the target; null without a target or without a figure. */
  ok: boolean | null;
  /** Runs, spread, breakdown: whatever helps read the figure. */
  detail?: string;
  /** Further figures of the same measurement (e.g. p50Ms, p99Ms next to a throughput). */
  extra?: Record<string, number>;
}

export interface BenchSection {
  id: string;
  title: string;
  lines: BenchLine[];
  notes?: string[];
}

export interface BenchReport {
  schemaVersion: 1;
  tool: 'gauntlet-bench';
  startedAt: string;
  durationMs: number;
  options: { quick: boolean; thorough: boolean; only?: string[] };
  machine: MachineFacts;
  sections: BenchSection[];
  /** Labels of the lines that miss their target. */
  misses: string[];
}

/** A line with a figure, judged against its target when it has one. */
export function line(id: string, label: string, value: number | null, unit: string, digits: number, target?: Target, detail?: string): BenchLine {
  const display = value === null ? 'n/a' : `${value.toFixed(digits)}${unit ? (unit === '%' ? '' : ' ') + unit : ''}`;
  const ok = value === null || !target ? null : target.op === '<=' ? value <= target.value : value >= target.value;
  return { id, label, value, unit, display, ...(target ? { target } : {}), ok, ...(detail ? { detail } : {}) };
}

/** A measurement that could not be taken: no figure, and a miss when it had a target. */
export function failedLine(id: string, label: string, error: unknown, target?: Target): BenchLine {
  return { id, label, value: null, unit: '', display: 'n/a', ...(target ? { target } : {}), ok: target ? false : null, detail: `failed: ${(error as Error)?.message ?? String(error)}` };
}

const withUnit = (value: number, unit: string): string => `${value}${unit === '%' || unit === '' ? '' : ' '}${unit}`;
export const atMost = (value: number, unit: string): Target => ({ op: '<=', value, text: `≤ ${withUnit(value, unit)}` });
export const atLeast = (value: number, unit: string): Target => ({ op: '>=', value, text: `≥ ${withUnit(value, unit)}` });
