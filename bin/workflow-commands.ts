// The interviewer's and the reviewer's commands over the run store: history (the stored runs), show (re-render
// any report of a run), score (manual rubric items, interactive or from a file), questions (the question bank,
// ordered by what a run showed) and compare (runs side by side). Each parses, calls, prints, sets exitCode.
// --store names a SQLite file or a PostgreSQL URL (harness/app/store/index.ts); reading commands create neither.

import fs from 'node:fs';
import path from 'node:path';
import chalk from 'chalk';
import type { Command, Option as OptionClass } from 'commander';
import { UsageError } from '../harness/errors.ts';
import type { GradeResult } from '../rubric/result.ts';
import { NoRunStoreError, openStore, type RunStore } from '../harness/app/store/index.ts';
import { DEFAULTS, LIMITS, type Range } from '../harness/app/defaults.ts';
import { REPORT_FILES, reporters, writeAtomic, writeReports, type FileReport, type ReportFormat } from '../harness/app/reporters/index.ts';
import { renderTerminal } from '../harness/app/reporters/terminal.ts';
import { renderCompare, compareNotes, compareRows } from '../harness/app/reporters/compare.ts';
import { rescore } from '../rubric/score.ts';
import { mergeManual, parseManualScores, type ManualScoring } from '../rubric/manual.ts';
import { orderTopics } from '../rubric/questions.ts';
import { readHistory } from '../harness/history/history.ts';
import { readSqlLog, renderOpStatements, statementsOf } from '../harness/wire/correlate.ts';

interface Helpers {
  intArg(name: string, range: Range): (v: string) => number;
  Option: typeof OptionClass;
}

const STORE_HELP = `the run store to read: a SQLite file, or a PostgreSQL URL (postgres://…) for a store shared by a fleet (default ${DEFAULTS.store})`;

/** Open a store that must already exist (reading commands never create one: a NoRunStoreError says so). */
export function openExistingStore(spec: string = DEFAULTS.store): Promise<RunStore> {
  return openStore(spec, { mustExist: true });
}

async function loadRun(store: RunStore, ref: string): Promise<GradeResult> {
  const id = await store.resolveRun(ref);
  const r = await store.getResult(id);
  if (!r) throw new UsageError(`run ${id} has no stored result`);
  return r;
}

export function readManualFile(file: string): { scoring: ManualScoring; removed: string[] } {
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read manual scores from ${file}: ${(err as Error).message}`, 'expected JSON like { "scores": { "technology-choices": 4 } } (see docs/interviewers.md)');
  }
  return parseManualScores(doc, file);
}

/** Store a re-scored result and bring the run folder's result.json and reports up to date. */
export async function persistScoring(store: RunStore, r: GradeResult): Promise<string[]> {
  await store.updateResult(r);
  const touched: string[] = [];
  if (r.runDir && fs.existsSync(r.runDir)) {
    writeAtomic(path.join(r.runDir, 'result.json'), JSON.stringify(r, null, 2));
    touched.push(path.join(r.runDir, 'result.json'));
    const formats = Object.keys(r.reports ?? {}) as FileReport[];
    if (formats.length) touched.push(...Object.values(writeReports(r, formats, r.runDir)));
  }
  return touched;
}

function manualSummary(r: GradeResult): string {
  const lines = r.rubric.filter((l) => l.source === 'manual').map((l) => `  ${l.awarded === null ? chalk.dim('–'.padStart(4)) : String(l.awarded).padStart(4)}/${l.points}  ${l.item}${l.awarded !== null && l.detail ? chalk.dim(`  ${l.detail}`) : ''}`);
  return [...lines, '', `${r.verdict.toUpperCase()}  automated ${r.score.automated}/${r.score.automatedMax} · manual ${r.score.manual ?? '–'}/${r.score.manualMax} · total ${r.score.total}/100`].join('\n');
}

export function registerWorkflowCommands(program: Command, { intArg, Option }: Helpers): void {
  program
    .command('history')
    .description('list the runs recorded in the run store, newest first')
    .option('--submission <dir>', 'only runs of this submission folder')
    .option('--batch <tag>', 'only runs recorded under this batch tag (grade --batch, a queue batch)')
    .option('--limit <n>', `how many runs (default ${DEFAULTS.historyLimit})`, intArg('--limit', LIMITS.historyLimit), DEFAULTS.historyLimit)
    .option('--store <file|url>', STORE_HELP, DEFAULTS.store)
    .option('--json', 'as JSON')
    .action(async (opts) => {
      let store: RunStore;
      try {
        store = await openExistingStore(opts.store);
      } catch (err) {
        if (!(err instanceof NoRunStoreError)) throw err;
        if (opts.json) process.stdout.write('[]\n');
        else process.stdout.write(`no runs recorded in ${err.location} yet: gauntlet grade <submission> records each run there\n`);
        return;
      }
      try {
        const runs = await store.listRuns({ submission: opts.submission, limit: opts.limit, batch: opts.batch });
        if (opts.json) {
          process.stdout.write(JSON.stringify(runs, null, 2) + '\n');
          return;
        }
        if (!runs.length) {
          process.stdout.write('no runs match\n');
          return;
        }
        // The batch and machine columns only when some listed run has one (runs of one machine, outside a fleet, do not).
        const width = (f: (r: (typeof runs)[number]) => string | null, min: number) => (runs.some((r) => f(r)) ? Math.min(24, Math.max(min, ...runs.map((r) => (f(r) ?? '').length))) : 0);
        const host = (r: (typeof runs)[number]) => r.machine?.host ?? null;
        const batchW = width((r) => r.batch, 5);
        const hostW = width(host, 7);
        const extra = (batch: string, machine: string) => `${batchW ? `${batch.slice(0, batchW).padEnd(batchW)} ` : ''}${hostW ? `${machine.slice(0, hostW).padEnd(hostW)} ` : ''}`;
        const out = [chalk.bold(`${'run'.padEnd(32)} ${'recorded'.padEnd(17)} ${'verdict'.padEnd(7)} ${'score'.padEnd(16)} ${'profile'.padEnd(9)} ${extra('batch', 'machine')}submission`)];
        for (const r of runs) {
          const verdict = r.verdict === 'pass' ? chalk.green(r.verdict.padEnd(7)) : chalk.red(r.verdict.padEnd(7));
          const score = `${r.scoreTotal} (${r.scoreAutomated}${r.scoreManual === null ? '' : ` + ${r.scoreManual}`})`;
          out.push(`${r.id.padEnd(32)} ${r.recordedAt.replace('T', ' ').slice(0, 16).padEnd(17)} ${verdict} ${score.padEnd(16)} ${r.profile.padEnd(9)} ${extra(r.batch ?? '–', host(r) ?? '–')}${r.submissionPath} ${chalk.dim(`#${r.contentHash.slice(0, 8)} seed ${r.seed}${r.redFlags.length ? ` · ${r.redFlags.join(', ')}` : ''}`)}`);
        }
        out.push(chalk.dim(`\n${runs.length} run(s) from ${store.location}. Name a run by its id, a unique prefix, or last / last~1 …`));
        process.stdout.write(out.join('\n') + '\n');
      } finally {
        await store.close();
      }
    });

  program
    .command('show')
    .description('re-render a stored run: the terminal summary, or any report (json, md, junit, html)')
    .argument('<run>', 'run id, a unique prefix of it, or last / last~N')
    .addOption(new Option('--report <format>', 'what to render').choices(['terminal', 'json', 'md', 'junit', 'html']).default('terminal'))
    .option('--out <file>', 'write to this file instead of stdout (html goes to the run folder by default)')
    .option('--teach', 'with the terminal summary: why each failed check matters, and a hint')
    .option('--sql <scenario:op>', 'the SQL statements one operation sent, as the fault proxy recorded them (e.g. last-seat:17; op numbers are in the history and counterexamples)')
    .option('--store <file|url>', STORE_HELP, DEFAULTS.store)
    .action(async (ref: string, opts) => {
      const store = await openExistingStore(opts.store);
      try {
        const r = await loadRun(store, ref);
        if (opts.sql) {
          process.stdout.write(opStatementsText(r, String(opts.sql)) + '\n');
          return;
        }
        const format = opts.report as ReportFormat;
        const text = format === 'terminal' ? renderTerminal(r, { teach: !!opts.teach || r.profile === 'quick' }) + '\n' : reporters[format](r);
        const out = opts.out ?? (format === 'html' ? (r.runDir && fs.existsSync(r.runDir) ? path.join(r.runDir, REPORT_FILES.html) : `gauntlet-${r.runId}.html`) : undefined);
        if (out) {
          writeAtomic(path.resolve(out), text);
          process.stderr.write(`wrote ${path.resolve(out)}\n`);
        } else process.stdout.write(text);
      } finally {
        await store.close();
      }
    });

  program
    .command('score')
    .description('score the manual rubric items of a stored run: one at a time with guide, evidence and questions, or from a file')
    .argument('<run>', 'run id, a unique prefix of it, or last / last~N')
    .option('--manual <file>', 'non-interactive: JSON { "scores": { "<item>": 0-5 | { "score": n, "note": "…" } }, "overrides": { … } }')
    .option('--interviewer <name>', 'who scored (kept with the scores)')
    .option('--store <file|url>', STORE_HELP, DEFAULTS.store)
    .option('--json', 'print the updated result document')
    .addHelpText('after', '\nItems: run `gauntlet score <run> --manual <file>` with item ids from the rubric (docs/interviewers.md). Scores merge with earlier ones; null removes one.')
    .action(async (ref: string, opts) => {
      const store = await openExistingStore(opts.store);
      try {
        const r = await loadRun(store, ref);
        let manual: ManualScoring;
        if (opts.manual) {
          const { scoring, removed } = readManualFile(opts.manual);
          manual = mergeManual(r.manual, { ...scoring, ...(opts.interviewer ? { interviewer: opts.interviewer } : {}) }, removed);
        } else {
          if (!process.stdin.isTTY) throw new UsageError('gauntlet score needs a terminal to ask questions', 'pass --manual scores.json to score without one');
          const { scoreInteractively, inquirerPrompter } = await import('./score-prompt.ts');
          const result = await scoreInteractively({ result: r, prompter: await inquirerPrompter(), print: (t) => process.stderr.write(t + '\n'), interviewer: opts.interviewer });
          if (!result) {
            process.stderr.write('nothing saved\n');
            return;
          }
          manual = result;
        }
        const updated = rescore(r, manual);
        const touched = await persistScoring(store, updated);
        if (opts.json) process.stdout.write(JSON.stringify(updated, null, 2) + '\n');
        else process.stdout.write(manualSummary(updated) + '\n' + chalk.dim(`stored in ${store.location}${touched.length ? `; updated ${touched.join(', ')}` : ''}`) + '\n');
      } finally {
        await store.close();
      }
    });

  program
    .command('questions')
    .description('the interview question bank; with a run, ordered by what it showed (a failed single-winner puts concurrency first)')
    .argument('[run]', 'run id, a unique prefix of it, or last / last~N')
    .option('--limit <n>', 'only the first n topics', intArg('--limit', LIMITS.questionsLimit))
    .option('--store <file|url>', STORE_HELP, DEFAULTS.store)
    .option('--json', 'as JSON')
    .action(async (ref: string | undefined, opts) => {
      let result: GradeResult | undefined;
      if (ref) {
        const store = await openExistingStore(opts.store);
        try {
          result = await loadRun(store, ref);
        } finally {
          await store.close();
        }
      }
      const topics = orderTopics(result).slice(0, opts.limit ?? undefined);
      if (opts.json) {
        process.stdout.write(JSON.stringify(topics.map(({ urgency: _u, ...t }) => t), null, 2) + '\n');
        return;
      }
      const out: string[] = [];
      if (result) out.push(chalk.dim(`Ordered by what run ${result.runId} showed (${result.verdict}, ${result.score.total}/100).`), '');
      topics.forEach((t, i) => {
        out.push(chalk.bold(`${i + 1}. ${t.title}`) + (t.reasons.length ? chalk.red(`  ← ${t.reasons.join('; ')}`) : ''));
        for (const q of t.questions) {
          out.push(`   • ${q.q}`);
          out.push(chalk.dim(`     listen for: ${q.listenFor}`));
        }
        out.push('');
      });
      process.stdout.write(out.join('\n'));
    });

  program
    .command('compare')
    .description('stored runs side by side (candidates, or a candidate and the references); or a whole batch ranked, with similar code listed')
    .argument('[runs...]', 'two or more runs (ids, unique prefixes, last, last~N)')
    .option('--batch <tag>', 'rank every run of this batch (grade --batch, queue add --batch) by verdict and score, with red flags, failed checks and pairs of unusually similar code (docs/batch.md)')
    .option('--threshold <percent>', 'with --batch: list pairs at least this similar (default 65)', intArg('--threshold', { min: 1, max: 100 }))
    .option('--md', 'with --batch: as Markdown (a job summary, a hiring channel)')
    .option('--store <file|url>', STORE_HELP, DEFAULTS.store)
    .option('--json', 'as JSON rows (and notes on reading them); with --batch, the batch report')
    .addHelpText('after', `
Examples:
  $ gauntlet compare last last~1                      the last two runs side by side
  $ gauntlet compare --batch spring-2027 --store postgres://…/results
                                                      a batch ranked, similar code listed (never a verdict)`)
    .action(async (refs: string[], opts) => {
      if (opts.batch !== undefined) {
        if (refs.length) throw new UsageError('compare takes either runs or --batch, not both', 'gauntlet compare --batch <tag>, or gauntlet compare <run> <run> …');
        const store = await openExistingStore(opts.store);
        try {
          const { batchCompareText } = await import('./batch-compare.ts');
          process.stdout.write((await batchCompareText(store, opts.batch, opts.json ? 'json' : opts.md ? 'md' : 'terminal', { threshold: opts.threshold })) + '\n');
        } finally {
          await store.close();
        }
        return;
      }
      if (opts.md || opts.threshold !== undefined) throw new UsageError('--md and --threshold go with --batch');
      if (refs.length < 2) throw new UsageError('compare needs at least two runs, or --batch <tag>', 'gauntlet history lists them');
      const store = await openExistingStore(opts.store);
      try {
        const results: GradeResult[] = [];
        for (const ref of refs) results.push(await loadRun(store, ref));
        const ids = results.map((r) => r.runId ?? '?');
        if (opts.json) process.stdout.write(JSON.stringify({ runs: ids, rows: compareRows(results), notes: compareNotes(results) }, null, 2) + '\n');
        else process.stdout.write(renderCompare(results, ids) + '\n');
      } finally {
        await store.close();
      }
    });
}

/** `show --sql <scenario:op>`: the statements one op sent, from its scenario's sql.jsonl. */
function opStatementsText(r: GradeResult, spec: string): string {
  const m = /^(?:([\w-]+)\/)?([\w-]+):(\d+)$/.exec(spec.trim());
  if (!m) throw new UsageError(`--sql takes <scenario>:<op>, e.g. last-seat:17 (got "${spec}")`);
  const [, challengeId, scenarioId, opText] = m;
  const ch = r.challenges.find((c) => (!challengeId || c.id === challengeId) && c.scenarios.some((s) => s.id === scenarioId));
  const scenario = ch?.scenarios.find((s) => s.id === scenarioId);
  if (!ch || !scenario) throw new UsageError(`run ${r.runId} has no scenario ${scenarioId}`, `its scenarios: ${r.challenges.flatMap((c) => c.scenarios.map((s) => s.id)).join(', ')}`);
  const dir = scenario.historyFile ? path.dirname(scenario.historyFile) : path.join(r.runDir ?? '', ch.id, scenario.id);
  if (!fs.existsSync(path.join(dir, 'history.jsonl'))) throw new UsageError(`the run folder of ${scenarioId} is gone (${dir})`, 'runs keep their statements only as long as their folder exists');
  const op = readHistory(path.join(dir, 'history.jsonl')).find((o) => o.index === Number(opText));
  if (!op) throw new UsageError(`${scenarioId} has no op ${opText}`);
  const records = readSqlLog(path.join(dir, 'sql.jsonl'));
  if (!records.length) return `no statements were recorded for ${scenarioId} (sql.jsonl is missing or empty: runs before recording existed, or HTTP mode without a database)`;
  return renderOpStatements(op, statementsOf(op, records)).join('\n');
}
