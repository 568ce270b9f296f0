// The Markdown report (`--report md`): a summary fit for a pull request comment or a GitHub job summary
// ($GITHUB_STEP_SUMMARY): verdict and score, score by section, red flags, concerns, a table per challenge,
// each failed check with why, hint and counterexample, and the rubric folded away.

import type { GradeResult } from '../../../rubric/result.ts';
import { challenges as registry } from '../../../challenges/index.ts';
import { sectionTotals } from '../../../rubric/score.ts';
import { flattenCounterexample } from './counterexample.ts';

/** A table cell: no pipes or newlines. */
const cell = (s: unknown) => String(s ?? '').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const icon = { pass: '✅', fail: '❌', reject: '🚫', inconclusive: '⚠️' } as const;

export function renderMarkdown(r: GradeResult): string {
  const out: string[] = [];
  out.push(`## ${icon[r.verdict]} gauntlet: ${r.verdict.toUpperCase()} — ${r.score.total}/100`);
  out.push('');
  out.push(`automated **${r.score.automated}/${r.score.automatedMax}** · manual ${r.score.manual === null ? `not scored yet (${r.score.manualMax} points await an interviewer)` : `**${r.score.manual}/${r.score.manualMax}**`} · \`${cell(r.submission)}\` · profile ${r.profile} · seed ${r.seed} · ${r.instances ?? '?'} instances${r.minScore !== undefined ? ` · gate --min-score ${r.minScore}` : ''}`);
  out.push('');
  out.push('| Section | Score |', '| --- | ---: |');
  for (const s of sectionTotals(r.rubric)) out.push(`| ${cell(s.section)} | ${s.awarded}/${s.points}${s.pending ? ` (${s.pending} manual pending)` : ''} |`);
  out.push('');
  if (r.redFlags.length) {
    out.push('### 🚩 Red flags (immediate rejection)', '');
    for (const f of r.redFlags) out.push(`- **${f.id}** (\`${f.check}\`): ${cell(f.evidence)}`);
    out.push('');
  }
  if (r.concerns?.length) {
    out.push('### ⚠️ Major concerns', '');
    for (const c of r.concerns) {
      // The first line of each entry in the list; the call and statements that show it in a code block.
      out.push(`- **${c.title}**: ${c.evidence.map((e) => cell(e.split('\n')[0])).join('; ')}`);
      const detail = c.evidence.flatMap((e) => e.split('\n').slice(1));
      if (detail.length) out.push('  ```', ...detail.map((l) => `  ${l}`), '  ```');
    }
    out.push('');
  }
  for (const ch of r.challenges) {
    out.push(`### ${ch.id} — ${ch.status}`, '');
    if (ch.status === 'not-attempted') {
      out.push('_not attempted (no module found): scored 0_', '');
      continue;
    }
    if (ch.error) out.push(`> ${cell(ch.error)}`, '');
    out.push('| Scenario | Status | Checks | Calls | p50 | p99 | Notes |', '| --- | --- | ---: | ---: | ---: | ---: | --- |');
    for (const s of ch.scenarios) {
      const passed = s.checks.filter((c) => c.passed === true).length;
      const status = s.skipped ? '⏭️ skipped' : s.status === 'passed' ? '✅ passed' : s.status === 'failed' ? '❌ failed' : s.status === 'inconclusive' ? '❔ inconclusive' : '⚠️ error';
      const notes = [s.skipped, s.error?.split('\n')[0], s.inconclusive, s.metrics.throughputRatio != null ? `${s.metrics.throughputRatio}× reference throughput` : undefined].filter(Boolean).join('; ');
      out.push(`| ${s.id} | ${status} | ${passed}/${s.checks.length} | ${s.metrics.operations} | ${s.metrics.p50Ms} ms | ${s.metrics.p99Ms} ms | ${cell(notes)} |`);
    }
    out.push('');
    const info = registry.find((c) => c.id === ch.id);
    for (const s of ch.scenarios) {
      for (const c of s.checks.filter((k) => k.passed !== true)) {
        out.push(`#### ${c.passed === false ? '❌' : '❔'} \`${c.id}\` in ${s.id}`, '', cell(c.message), '');
        const ci = info?.checks.find((x) => x.id === c.id);
        if (ci && c.passed === false) out.push(`> **Why it matters:** ${ci.why}  `, `> **Hint:** ${ci.hint}`, '');
        const flat = flattenCounterexample(c.counterexample, 4, 8);
        if (flat.groups.length) {
          out.push('<details><summary>counterexample</summary>', '');
          for (const g of flat.groups) {
            if (g.reason || g.facts.length) out.push(`- ${cell([g.reason, ...g.facts].filter(Boolean).join(' · '))}`, '');
            if (g.ops.length) {
              out.push('| role | op | process | instance | call | outcome | start ms | end ms |', '| --- | ---: | --- | ---: | --- | --- | ---: | ---: |');
              for (const o of g.ops) out.push(`| ${cell(o.role)} | ${o.op} | ${cell(o.process)} | ${o.instance} | \`${cell(`${o.f} ${o.args}`)}\` | ${cell(o.outcome)} | ${o.startMs} | ${o.endMs} |`);
              out.push('');
            }
          }
          if (flat.truncated) out.push(`_… and ${flat.truncated} more in result.json_`, '');
          out.push('</details>', '');
        }
      }
    }
  }
  out.push('<details><summary>Rubric</summary>', '', '| Section | Item | Source | Awarded | How |', '| --- | --- | --- | ---: | --- |');
  for (const l of r.rubric) out.push(`| ${cell(l.section)} | ${cell(l.item)} | ${l.source} | ${l.awarded === null ? '–' : l.awarded}/${l.points} | ${cell(l.detail ?? l.evidence.join(', '))} |`);
  out.push('', '</details>', '');
  out.push(`Reproduce: \`gauntlet grade ${r.submission} --seed ${r.seed} --profile ${r.profile}${r.instances && r.instances !== 4 ? ` --instances ${r.instances}` : ''}\``);
  return out.join('\n') + '\n';
}
