// `gauntlet compare`: several stored runs side by side (candidates, or a candidate and the references): verdict
// and score, score by section, each rubric line, each check's pass count, and the key metrics per scenario; the
// machine that graded each run, and a note when they differ (timing figures do not compare across machines).

import chalk from 'chalk';
import type { GradeResult } from '../../../rubric/result.ts';
import { sectionTotals } from '../../../rubric/score.ts';

export interface CompareRow {
  group: string;
  label: string;
  values: (string | number | null)[];
}

const short = (p: string) => p.split('/').filter(Boolean).slice(-2).join('/');

export function compareRows(results: GradeResult[]): CompareRow[] {
  const rows: CompareRow[] = [];
  const push = (group: string, label: string, f: (r: GradeResult) => string | number | null) => rows.push({ group, label, values: results.map(f) });
  push('run', 'submission', (r) => short(r.submission));
  push('run', 'profile · seed', (r) => `${r.profile} · ${r.seed}`);
  push('run', 'machine', (r) => (r.machine ? `${r.machine.host} (${r.machine.id})` : null));
  push('run', 'verdict', (r) => r.verdict);
  push('run', 'total', (r) => r.score.total);
  push('run', 'automated', (r) => `${r.score.automated}/${r.score.automatedMax}`);
  push('run', 'manual', (r) => (r.score.manual === null ? '–' : `${r.score.manual}/${r.score.manualMax}`));
  push('run', 'red flags', (r) => r.redFlags.map((f) => f.id).join(', ') || '–');
  push('run', 'concerns', (r) => (r.concerns ?? []).map((c) => c.id).join(', ') || '–');
  const sections = [...new Set(results.flatMap((r) => r.rubric.map((l) => l.section)))];
  for (const s of sections) push('section', s, (r) => {
    const t = sectionTotals(r.rubric).find((x) => x.section === s);
    return t ? `${t.awarded}/${t.points}` : null;
  });
  const lines = [...new Map(results.flatMap((r) => r.rubric.map((l) => [`${l.item} (${l.source})`, l] as const))).keys()];
  for (const key of lines) push('rubric', key, (r) => {
    const l = r.rubric.find((x) => `${x.item} (${x.source})` === key);
    return l ? `${l.awarded === null ? '–' : l.awarded}/${l.points}` : null;
  });
  const checks = [...new Set(results.flatMap((r) => r.challenges.flatMap((c) => c.scenarios.flatMap((s) => s.checks.map((k) => `${c.id}: ${k.id}`)))))];
  for (const key of checks) push('checks', key, (r) => {
    const found = r.challenges.flatMap((c) => c.scenarios.flatMap((s) => s.checks.filter((k) => `${c.id}: ${k.id}` === key)));
    return found.length ? `${found.filter((k) => k.passed === true).length}/${found.length}` : null;
  });
  const scenarios = [...new Set(results.flatMap((r) => r.challenges.flatMap((c) => c.scenarios.map((s) => `${c.id}/${s.id}`))))];
  for (const key of scenarios) {
    const find = (r: GradeResult) => r.challenges.flatMap((c) => c.scenarios.filter((s) => `${c.id}/${s.id}` === key))[0];
    push('metrics', `${key} status`, (r) => find(r)?.status ?? null);
    push('metrics', `${key} p99 ms`, (r) => find(r)?.metrics.p99Ms ?? null);
    push('metrics', `${key} throughput/s`, (r) => {
      const s = find(r);
      return s ? Number(s.metrics.loadThroughputPerS ?? s.metrics.throughputPerS) : null;
    });
  }
  return rows;
}

/** Plain notes on reading the comparison: runs graded on different machines have timing figures that do not compare. */
export function compareNotes(results: GradeResult[]): string[] {
  const notes: string[] = [];
  const machines = new Set(results.flatMap((r) => (r.machine ? [r.machine.id] : [])));
  if (machines.size > 1) notes.push(`these runs were graded on ${machines.size} different machines: timing figures (throughput, latency) are not comparable across machines; verdicts, checks and scores are`);
  return notes;
}

export function renderCompare(results: GradeResult[], runIds: string[]): string {
  const rows = compareRows(results);
  const labelW = Math.min(46, Math.max(...rows.map((r) => r.label.length)) + 2);
  const fmt = (v: string | number | null) => (v === null ? '·' : String(v));
  const colW = Math.min(40, Math.max(14, ...runIds.map((id) => id.length), ...rows.flatMap((r) => r.values.map((v) => fmt(v).length)))) + 2;
  const out: string[] = [chalk.bold(''.padEnd(labelW) + runIds.map((id) => id.slice(0, colW - 2).padEnd(colW)).join(''))];
  let group = '';
  for (const row of rows) {
    if (row.group !== group) {
      group = row.group;
      out.push(chalk.dim(`— ${group}`));
    }
    const differs = new Set(row.values.map(fmt)).size > 1;
    const cells = row.values.map((v) => fmt(v).slice(0, colW - 2).padEnd(colW)).join('');
    out.push(`${row.label.slice(0, labelW - 1).padEnd(labelW)}${differs ? chalk.yellow(cells) : cells}`);
  }
  out.push(chalk.dim('\nyellow: the runs differ on that line · ·: not in that run'));
  for (const note of compareNotes(results)) out.push(`note: ${note}`);
  return out.join('\n');
}
