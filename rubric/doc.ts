// Renders the rubric as Markdown (docs/rubric.md is this output; a test keeps them in step): every item with its
// points, how it is earned, the guide of its manual part, and its follow-up questions.
// Regenerate after changing the rubric: npx tsx rubric/doc.ts --write

import fs from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { RED_FLAGS, RUBRIC, SECTIONS, autoPoints } from './rubric.ts';
import { CONCERNS } from './concerns.ts';
import { THROUGHPUT_FLOOR, THROUGHPUT_FULL } from './measures.ts';
import { INJECTION_FLAG_CHECK } from './score.ts';

const MEASURES: Record<string, string> = {
  'throughput-ratio': `throughput under the load scenario as a share of the fastest reference, measured in the same run or remembered from an earlier grade on this machine begun as quiet (metric referenceMeasured; full marks from ${THROUGHPUT_FULL}×, none at ${THROUGHPUT_FLOOR}×; standard and thorough profiles; nothing if the scenario failed)`,
  'answer-latency': 'share of the workload\'s calls answered within the answer deadline (10 s), over the scenarios that passed: a correct but slow solution (a lock convoy) loses these points, never a check; a scenario that ran while the machine was busy (other programs took half a core or more, and 1 s of CPU or more in all; or the harness starved) is left out, its answer times being the machine\'s (CONTRACT §8)',
  'schema-keys': 'share of the candidate\'s tables with a primary key or unique constraint (from the catalog, after the run)',
  'schema-indexes': 'share of the distinct statements the code sent with a predicate on a table (recorded on the wire) that an index can serve: each EXPLAINed with its recorded parameters against the final database, sequential scans disabled, so a Seq Scan left in the plan means no index can serve it. A statement sent only once the grader began reading the final state (its final reads and a settle\'s polls, never during the workload: an occasional listing such as the dead letters, over a few hundred rows) is named in the detail but not counted, and raises no concern',
  'clean-sessions': 'no session left idle in a transaction, no advisory lock and no Redis lock key without expiry after the run',
  'strict-types': '`tsc --strict` errors and explicit `any` in the submission (−0.2 per error, −0.1 per any; plain JavaScript earns 0)',
  'no-hardcoded-config': 'no credentials or connection/service URLs written in the code',
  'parameterised-sql': 'no caller input in SQL text: the hostile strings the scenarios send never appear in a statement outside a string literal (wire, real PostgreSQL parser), and no input flows into a SQL template or concatenation in the code (AST)',
  'structured-logging': 'lines logged through `ctx.log` during the run (half when the code calls it but nothing was logged)',
  'own-tests': 'the candidate ships tests (more when they exercise concurrency and failures)',
};

export function rubricMarkdown(): string {
  const out: string[] = ['# The rubric', '', '<!-- Generated from rubric/rubric.ts: npx tsx rubric/doc.ts --write (a test keeps this file in step). -->', ''];
  out.push('100 points in five sections. An item is **auto** (earned from check results and measured evidence, with partial credit), **manual** (an interviewer scores it 0–5 on its guide; the score is scaled to the item\'s manual points) or **mixed** (both, as two lines of the JSON `rubric`). How automatic points are computed, and what "not measured" does, is in [interviewers.md](interviewers.md#how-the-automatic-points-are-computed).', '');
  out.push('| Section | Item | Points | Auto | Manual |', '| --- | --- | ---: | ---: | ---: |');
  for (const i of RUBRIC) out.push(`| ${i.section} | ${i.item} (\`${i.id}\`) | ${i.points} | ${autoPoints(i) || '–'} | ${i.manual ?? '–'} |`);
  out.push(`| | **Total** | **${RUBRIC.reduce((s, i) => s + i.points, 0)}** | **${RUBRIC.reduce((s, i) => s + autoPoints(i), 0)}** | **${RUBRIC.reduce((s, i) => s + (i.manual ?? 0), 0)}** |`, '');
  for (const s of SECTIONS) {
    out.push(`## ${s.title} (${s.points})`, '');
    for (const i of RUBRIC.filter((x) => x.section === s.title)) {
      out.push(`### ${i.item} — ${i.points} points (\`${i.id}\`)`, '', i.about, '');
      for (const p of i.auto ?? []) out.push('checks' in p ? `- **${p.points} auto**: share of these checks passed: ${p.checks.map((c) => `\`${c}\``).join(', ')}` : `- **${p.points} auto**: ${MEASURES[p.measure]}`);
      if (i.manual) {
        out.push(`- **${i.manual} manual**, scored 0–5:`);
        for (const k of [0, 3, 5] as const) out.push(`  - **${k}**: ${i.guide![k]}`);
      }
      out.push('', 'Follow-up questions:', '', ...i.questions.map((q) => `1. ${q}`), '');
    }
  }
  out.push('## Red flags (immediate rejection)', '', '| Flag | Raised by |', '| --- | --- |');
  for (const f of RED_FLAGS) out.push(`| \`${f.id}\` | ${f.checks.map((c) => `\`${c}\``).join(', ')} failed${f.id === 'security-vulnerability' ? `; or (check \`${INJECTION_FLAG_CHECK}\`) one of the scenario's hostile strings was found in SQL text the code sent, outside any string literal (observed on the wire, decided by the PostgreSQL parser)` : ''} |`);
  out.push('', '## Major concerns (warnings with evidence)', '');
  out.push('Each concern quotes what was observed: statements from the recorded wire (`sql.jsonl`; instance, connection, time, parameters and answer, and the call that sent them when its telling arguments identify it), the catalog or EXPLAIN after the run, or `file:line` from the TypeScript AST. A concern never changes the score or the verdict on its own; the same evidence feeds the measured items above.', '');
  out.push('| Concern | Why it matters | Evidence |', '| --- | --- | --- |');
  for (const c of CONCERNS) out.push(`| \`${c.id}\` ${c.title} | ${c.why} | ${c.evidence} |`);
  return out.join('\n') + '\n';
}

export const RUBRIC_DOC = fileURLToPath(new URL('../docs/rubric.md', import.meta.url));

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv.includes('--write')) {
  fs.writeFileSync(RUBRIC_DOC, rubricMarkdown());
  process.stdout.write(`wrote ${RUBRIC_DOC}\n`);
}
