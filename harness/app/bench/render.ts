// The benchmark report as text: a terminal table (figure, target, ✓/✗, detail per line) and the same as
// Markdown tables for docs. Pure functions of the report value.

import chalk from 'chalk';
import type { BenchLine, BenchReport } from './report.ts';

const mark = (l: BenchLine): string => (l.ok === true ? '✓' : l.ok === false ? '✗' : ' ');

function machineLines(r: BenchReport): string[] {
  const m = r.machine;
  return [
    `machine: ${m.cores} cores (${m.cpuModel}), ${m.memoryGb} GB memory, Node ${m.node}, ${m.os}`,
    `PostgreSQL: ${m.postgres} · Redis: ${m.redis}`,
    `load average (1 min): ${m.loadAverage.start} before the bench${m.loadAverage.start > m.cores / 2 ? ' (the machine was busy: figures are pessimistic)' : ''}, ${m.loadAverage.end} at its end (its own work included)`,
  ];
}

function summary(r: BenchReport): string {
  const judged = r.sections.flatMap((s) => s.lines).filter((l) => l.target);
  const met = judged.filter((l) => l.ok === true).length;
  return `${met} of ${judged.length} targets met${r.misses.length ? `; missed: ${r.misses.join('; ')}` : ''}`;
}

export function renderBench(r: BenchReport): string {
  const out = [
    chalk.bold(`gauntlet bench${r.options.quick ? ' --quick' : ''}${r.options.thorough ? ' --thorough' : ''}`) + chalk.dim(`  ${r.startedAt}, took ${(r.durationMs / 60_000).toFixed(1)} min`),
    ...machineLines(r).map((s) => chalk.dim(s)),
  ];
  r.sections.forEach((s, i) => {
    out.push('', chalk.bold(`${i + 1}. ${s.title}`));
    const labelW = Math.max(...s.lines.map((l) => l.label.length));
    const figureW = Math.max(...s.lines.map((l) => l.display.length));
    const targetW = Math.max(0, ...s.lines.map((l) => l.target?.text.length ?? 0));
    for (const l of s.lines) {
      const m = mark(l);
      const colored = l.ok === true ? chalk.green(m) : l.ok === false ? chalk.red(m) : m;
      const figure = l.display.padStart(figureW);
      out.push(`  ${colored} ${l.label.padEnd(labelW)}  ${l.ok === false ? chalk.red(figure) : chalk.bold(figure)}  ${(l.target?.text ?? '').padEnd(targetW)}  ${chalk.dim(l.detail ?? '')}`.trimEnd());
    }
    for (const n of s.notes ?? []) out.push(chalk.dim(`    ${n}`));
  });
  out.push('', (r.misses.length ? chalk.yellow : chalk.green)(summary(r)));
  return out.join('\n');
}

const cell = (s: string) => s.replace(/\|/g, '\\|');

export function renderBenchMarkdown(r: BenchReport): string {
  const out = [
    `Measured ${r.startedAt} with \`npm run bench${r.options.quick ? ' -- --quick' : r.options.thorough ? ' -- --thorough' : ''}\` (took ${(r.durationMs / 60_000).toFixed(1)} min).`,
    '',
    ...machineLines(r).map((s) => `- ${s}`),
  ];
  r.sections.forEach((s, i) => {
    out.push('', `### ${i + 1}. ${s.title}`, '', '| | Measurement | Figure | Target | Detail |', '| --- | --- | --- | --- | --- |');
    for (const l of s.lines) out.push(`| ${mark(l).trim()} | ${cell(l.label)} | ${cell(l.display)} | ${cell(l.target?.text ?? '')} | ${cell(l.detail ?? '')} |`);
    if (s.notes?.length) out.push('', ...s.notes.map((n) => `- ${n}`));
  });
  out.push('', `**${summary(r)}**`);
  return out.join('\n') + '\n';
}
