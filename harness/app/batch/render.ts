// The batch report (batch-report.ts) for people: a terminal table in the house style of the other reporters
// (chalk, details dimmed) and Markdown for a pull request or a hiring channel. `--json` prints the object itself.

import chalk from 'chalk';
import type { BatchReport, RankRow, Verdict } from './batch-report.ts';
import type { LineRange, SimilarPair } from './similarity.ts';

const VERDICT_TEXT: Record<Verdict, string> = { pass: 'PASS', inconclusive: 'INCONCLUSIVE', fail: 'FAIL', reject: 'REJECT' };
const colourVerdict = (v: Verdict, text: string) => (v === 'pass' ? chalk.green(text) : v === 'inconclusive' ? chalk.yellow(text) : v === 'reject' ? chalk.red.bold(text) : chalk.red(text));
const score = (n: number | null, max: number) => (n === null ? '–' : `${n}/${max}`);
const fit = (s: string, w: number) => (s.length > w ? '…' + s.slice(s.length - w + 1) : s.padEnd(w));
const range = (r: LineRange) => `${r.file}:${r.from === r.to ? r.from : `${r.from}–${r.to}`}`;
const shown = (items: string[], max: number) => items.slice(0, max).join(', ') + (items.length > max ? ` (+${items.length - max} more)` : '');
const pairName = (id: string, label: string) => (id.startsWith('reference:') ? id : `${id} (${label})`);

function heading(r: BatchReport): string {
  const counts = (Object.keys(r.verdicts) as Verdict[]).filter((v) => r.verdicts[v]).map((v) => `${r.verdicts[v]} ${v}`);
  return `gauntlet · batch${r.tag ? ` ${r.tag}` : ''} · ${r.runs} runs${counts.length ? ` · ${counts.join(' · ')}` : ''}`;
}

function rankLines(rows: RankRow[]): string[] {
  const runW = Math.min(16, Math.max(3, ...rows.map((r) => r.runId.length)));
  const labelW = Math.min(34, Math.max(10, ...rows.map((r) => r.label.length)));
  const out = [chalk.bold(`${'#'.padStart(4)}  ${'verdict'.padEnd(12)}  ${'total'.padStart(5)}  ${'automated'.padEnd(9)}  ${'manual'.padEnd(7)}  ${'run'.padEnd(runW)}  ${'submission'.padEnd(labelW)}  machine`)];
  for (const r of rows) {
    const verdict = colourVerdict(r.verdict, VERDICT_TEXT[r.verdict].padEnd(12));
    out.push(`${String(r.rank).padStart(4)}  ${verdict}  ${String(r.total).padStart(5)}  ${score(r.automated, r.automatedMax).padEnd(9)}  ${score(r.manual, r.manualMax).padEnd(7)}  ${fit(r.runId, runW)}  ${fit(r.label, labelW)}  ${chalk.dim(r.machine ?? '–')}`);
    if (r.redFlags.length) out.push(chalk.red(`      red flags: ${r.redFlags.join(', ')}`));
    if (r.failedChecks.length) out.push(chalk.dim(`      failed: ${shown(r.failedChecks, 4)}`));
    if (r.inconclusive.length) out.push(chalk.yellow(`      inconclusive: ${shown(r.inconclusive, 3)}`));
  }
  return out;
}

function pairLines(p: SimilarPair): string[] {
  const out = [`  ${chalk.bold(`${String(p.similarity).padStart(3)} %`)}  ${pairName(p.a, p.aLabel)}  ↔  ${pairName(p.b, p.bLabel)}  ${chalk.dim(`jaccard ${p.jaccard} % · ${p.shared} shared of ${p.sizes[0]}/${p.sizes[1]} fingerprints`)}`];
  for (const g of p.regions) out.push(chalk.dim(`         ${range(g.a)}  ↔  ${range(g.b)}  (${g.fingerprints} fingerprints)`));
  return out;
}

export function renderBatchTerminal(r: BatchReport): string {
  const out: string[] = [chalk.bold(heading(r))];
  out.push(chalk.dim('ranked by verdict (pass, inconclusive, fail, reject), then total; equal verdict and total share a rank'));
  out.push('', ...rankLines(r.ranking));
  const s = r.similarity;
  out.push('', chalk.bold('Similar code') + chalk.dim(` — for a human to look at, never a verdict (shared fingerprints ≥ ${s.threshold} % of the smaller side; ${s.compared} runs, ${s.references} references compared)`));
  if (r.similar.length) for (const p of r.similar) out.push(...pairLines(p));
  else out.push(chalk.dim(`  no pair at or above ${s.threshold} %`));
  const small = r.tooSmall.filter((t) => t.kind === 'run');
  if (small.length) out.push(chalk.yellow(`  too small to compare: ${small.map((t) => `${t.label} (${t.id}, ${t.fingerprints} fingerprints)`).join(', ')}`));
  const smallRefs = r.tooSmall.filter((t) => t.kind === 'reference');
  if (smallRefs.length) out.push(chalk.dim(`  references too small to compare on their own (their code is in _shared): ${smallRefs.map((t) => t.id).join(', ')}`));
  if (r.notes.length) {
    out.push('', chalk.bold('Notes'));
    for (const n of r.notes) out.push(chalk.dim(`  · ${n}`));
  }
  return out.join('\n');
}

/** A table cell: no pipes or newlines. */
const cell = (s: unknown) => String(s ?? '').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const ICON: Record<Verdict, string> = { pass: '✅', inconclusive: '⚠️', fail: '❌', reject: '🚫' };

export function renderBatchMarkdown(r: BatchReport): string {
  const out: string[] = [`## ${heading(r)}`, ''];
  out.push('Ranked by verdict (pass, inconclusive, fail, reject), then total; equal verdict and total share a rank.', '');
  out.push('| # | Verdict | Total | Automated | Manual | Run | Submission | Machine | Red flags | Failed checks |', '| ---: | --- | ---: | ---: | ---: | --- | --- | --- | --- | --- |');
  for (const row of r.ranking) {
    const failed = [...row.failedChecks.map((c) => `\`${c}\``), ...row.inconclusive.map((c) => `\`${c}\` (inconclusive)`)];
    out.push(`| ${row.rank} | ${ICON[row.verdict]} ${row.verdict} | ${row.total} | ${score(row.automated, row.automatedMax)} | ${score(row.manual, row.manualMax)} | \`${cell(row.runId)}\` | ${cell(row.label)} | ${cell(row.machine ?? '–')} | ${cell(row.redFlags.join(', ') || '–')} | ${cell(failed.join(', ') || '–')} |`);
  }
  const s = r.similarity;
  out.push('', '### Similar code — for a human to look at, never a verdict', '');
  out.push(`Shared winnowed fingerprints as a share of the smaller side (k = ${s.k} tokens, window ${s.w}; identifiers, literals, comments, imports, type declarations and the starter code do not count); listed from ${s.threshold} %. ${s.compared} runs and ${s.references} references compared.`, '');
  if (r.similar.length) {
    out.push('| Similarity | Jaccard | A | B | Shared | Where (A ↔ B) |', '| ---: | ---: | --- | --- | ---: | --- |');
    for (const p of r.similar) out.push(`| ${p.similarity} % | ${p.jaccard} % | ${cell(pairName(p.a, p.aLabel))} | ${cell(pairName(p.b, p.bLabel))} | ${p.shared} | ${cell(p.regions.map((g) => `\`${range(g.a)}\` ↔ \`${range(g.b)}\``).join('<br>'))} |`);
  } else out.push(`_No pair at or above ${s.threshold} %._`);
  out.push('');
  const small = r.tooSmall.filter((t) => t.kind === 'run');
  if (small.length) out.push(`**Too small to compare:** ${small.map((t) => `${cell(t.label)} (\`${cell(t.id)}\`, ${t.fingerprints} fingerprints)`).join(', ')}`, '');
  const smallRefs = r.tooSmall.filter((t) => t.kind === 'reference');
  if (smallRefs.length) out.push(`References too small to compare on their own (their code is in \`_shared\`): ${smallRefs.map((t) => `\`${t.id}\``).join(', ')}`, '');
  if (r.notes.length) out.push('### Notes', '', ...r.notes.map((n) => `- ${cell(n)}`), '');
  return out.join('\n');
}
