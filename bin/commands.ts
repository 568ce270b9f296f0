// The subcommands and their help: grade, list, doctor, init, self-test, bench (and, from workflow-commands.ts,
// history, show, score, questions, compare). Each parses its options, calls the harness, prints, and sets
// process.exitCode; bin/gauntlet.ts does the exiting.

import { InvalidArgumentError, type Command, type Option as OptionClass } from 'commander';
import chalk from 'chalk';
import path from 'node:path';
import { grade, exitCodeOf } from '../harness/app/grade.ts';
import { DEFAULTS, LIMITS, PROFILES, type Range } from '../harness/app/defaults.ts';
import { renderTerminal } from '../harness/app/reporters/terminal.ts';
import { createProgress } from '../harness/app/reporters/progress.ts';
import { challenges } from '../challenges/index.ts';
import { UsageError } from '../harness/errors.ts';
import { interrupted } from '../harness/cleanup.ts';
import type { ProfileName } from '../harness/types.ts';
import { parseReportList } from '../harness/app/reporters/index.ts';
import { readManualFile, registerWorkflowCommands } from './workflow-commands.ts';
import { BENCH_SECTIONS as BENCH_SECTION_IDS, parseBenchSections } from '../harness/app/bench/sections.ts';

interface Helpers {
  intArg(name: string, range: Range): (v: string) => number;
  Option: typeof OptionClass;
}

const GRADE_EXAMPLES = `
Examples:
  $ gauntlet grade ./my-solution                         grade every challenge (standard profile)
  $ gauntlet grade ./my-solution --profile quick         a fast practice run (~10 s per challenge)
  $ gauntlet grade ./my-solution --challenge seat-reservation --seed 42
                                                         one challenge, reproducibly
  $ gauntlet grade ./sub --json --min-score 60 > r.json  for CI: exit 1 on fail/reject or below 60
  $ gauntlet grade ./sub --report html,md,junit          also write report.html, report.md, junit.xml

Exit status: 0 the verdict is pass (not below --min-score) · 1 fail or reject, or below --min-score ·
2 usage error · 3 no database could be had · 5 inconclusive (the machine, not the submission, prevented a
verdict: grade again on a quieter machine). Calls answered after --call-timeout-ms still count (reported as
slow); a call is given up only when nothing at all is answered for that long, or at --call-hard-limit-ms. Every run is stored under --out (default .gauntlet/runs):
config, each scenario's history (JSONL), instance logs and result.json; and recorded in the run store
(--store, default ${DEFAULTS.store}; a postgres:// URL names one store shared by several machines) for gauntlet
history, show, score, questions and compare.`;

function reportArg(value: string, previous: string[] = []): string[] {
  try {
    return [...new Set([...previous, ...parseReportList(value)])];
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

export function registerCommands(program: Command, { intArg, Option }: Helpers): void {
  program
    .command('grade')
    .description('grade a submission folder: run each challenge\'s scenarios against it and check the history')
    .argument('<submission>', `folder with ${challenges.map((c) => `${c.file}.ts`).join(', ')} (any of them)`)
    .option('--challenge <ids>', `comma-separated challenge ids (${challenges.map((c) => c.id).join(', ')})`)
    .option('--scenario <ids>', 'comma-separated scenario ids to run (default: all of the chosen challenges)')
    .option('--instances <n>', `app instances per scenario, each its own process (default ${DEFAULTS.instances})`, intArg('--instances', LIMITS.instances))
    .option('--seed <n>', 'seed for every random choice; the same seed reproduces the run (default: random, printed)', intArg('--seed', LIMITS.seed))
    .addOption(new Option('--profile <name>', 'how hard to push: quick (practice, CI), standard, thorough').choices(PROFILES).default(DEFAULTS.profile))
    .option('--json', 'print the result document (CONTRACT §7) on stdout and nothing else there')
    .option('--report <formats>', 'also write reports into the run folder: html, md, junit (comma-separated)', reportArg)
    .option('--out <dir>', 'where run folders are written', DEFAULTS.outDir)
    .option('--min-score <n>', `exit 1 when the total score is below n (${LIMITS.minScore.min}-${LIMITS.minScore.max})`, intArg('--min-score', LIMITS.minScore))
    .option('--keep', 'keep each scenario\'s database after the run, for inspection')
    .option('--teach', 'explain each failed check: why it matters and a hint toward the fix')
    .option('--quiet', 'no progress on stderr')
    .option('--store <file|url>', `record the run in this run store: a SQLite file, or a PostgreSQL URL (postgres://…) for a store shared by a fleet (default ${DEFAULTS.store})`, DEFAULTS.store)
    .option('--no-store', 'do not record the run')
    .option('--batch <tag>', 'record the run under this batch tag (gauntlet history --batch <tag> lists a batch)')
    .option('--manual <file>', 'apply manual rubric scores at once (JSON, as for gauntlet score --manual)')
    .option('--max-heap-mb <n>', `V8 heap limit of each module instance, MiB (default ${DEFAULTS.maxHeapMb})`, intArg('--max-heap-mb', LIMITS.maxHeapMb))
    .option('--call-timeout-ms <n>', `answer deadline per call: a later answer still counts and is reported as slow; a call is given up once nothing at all was answered for this long (default ${DEFAULTS.callTimeoutMs})`, intArg('--call-timeout-ms', LIMITS.callTimeoutMs))
    .option('--call-hard-limit-ms <n>', `the longest the harness waits for any one call while the system still answers others (default ${DEFAULTS.callHardLimitMs})`, intArg('--call-hard-limit-ms', LIMITS.callHardLimitMs))
    .option('--start-timeout-ms <n>', `how long setup and create may take before an instance counts as not loading (default ${DEFAULTS.startTimeoutMs})`, intArg('--start-timeout-ms', LIMITS.startTimeoutMs))
    .option('--max-log-bytes <n>', `cap on each instance's captured stdout+stderr; the rest is dropped, marked (default ${DEFAULTS.maxLogBytes})`, intArg('--max-log-bytes', LIMITS.maxLogBytes))
    .option('--install', 'first install the submission\'s own dependencies: npm ci from its lock file (npm install without one), lifecycle scripts off')
    .option('--no-sandbox', 'run module instances without Node\'s permission model (trusted code only; docs/security.md)')
    .option('--no-contain', 'leave the network open: instances can reach any port of this machine (trusted code only; docs/security.md)')
    .option('--allow-open-network', 'when the network is open (no namespaces here, or --no-contain), still use a PostgreSQL that trusts local connections instead of the embedded one')
    .option('--embedded-postgres', 'grade against a private embedded PostgreSQL even if DATABASE_URL is set or a local server runs (docs/security.md)')
    .option('--private-redis', 'start a private redis-server for this run even if REDIS_URL is set or a local Redis runs (docs/security.md)')
    .addHelpText('after', GRADE_EXAMPLES)
    .action(async (submission: string, opts) => {
      const manual = opts.manual ? readManualFile(opts.manual).scoring : undefined;
      if (opts.install) {
        const { installDependencies } = await import('../harness/instances/dependencies.ts');
        const quiet = !!opts.quiet;
        const installed = installDependencies(path.resolve(submission), { force: true, log: (chunk) => quiet || process.stderr.write(chunk) });
        // A failed install is reported and the grade goes on: what cannot load is then graded as not loading.
        if (!installed.ok) process.stderr.write(chalk.yellow(`gauntlet: ${installed.error}\n`));
        else if (installed.ran && !quiet) process.stderr.write(chalk.dim(`installed the submission's dependencies (${installed.ran})\n`));
      }
      const progress = createProgress(process.stderr, !!opts.quiet);
      let result;
      try {
        result = await grade({
          submission,
          challenges: opts.challenge ? String(opts.challenge).split(',').map((s: string) => s.trim()).filter(Boolean) : undefined,
          scenarios: opts.scenario ? String(opts.scenario).split(',').map((s: string) => s.trim()).filter(Boolean) : undefined,
          instances: opts.instances,
          seed: opts.seed,
          profile: opts.profile as ProfileName,
          outDir: opts.out,
          keep: !!opts.keep,
          minScore: opts.minScore,
          onProgress: progress.onProgress,
          store: opts.store === false ? undefined : opts.store,
          batch: opts.batch,
          reports: opts.report,
          manual,
          sandbox: opts.sandbox !== false,
          contain: opts.contain !== false,
          allowOpenNetwork: !!opts.allowOpenNetwork,
          maxHeapMb: opts.maxHeapMb,
          callTimeoutMs: opts.callTimeoutMs,
          callHardLimitMs: opts.callHardLimitMs,
          startTimeoutMs: opts.startTimeoutMs,
          maxLogBytes: opts.maxLogBytes,
          embeddedPostgres: !!opts.embeddedPostgres,
          privateRedis: !!opts.privateRedis,
        });
      } finally {
        progress.stop();
      }
      // Interrupted (Ctrl-C): the run did not finish; print no result (harness/cleanup.ts exits 130).
      if (interrupted()) return;
      if (opts.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
      else process.stdout.write(renderTerminal(result, { teach: !!opts.teach || opts.profile === 'quick' }) + '\n');
      process.exitCode = exitCodeOf(result, opts.minScore);
    });

  program
    .command('list')
    .description('list the challenges, their scenarios, and what each check asserts')
    .option('--json', 'as JSON')
    .action((opts) => {
      if (opts.json) {
        const doc = challenges.map((c) => ({ id: c.id, title: c.title, file: c.file, scenarios: c.scenarios.map((s) => ({ id: s.id, description: s.description, checks: s.checkers.map((k) => k.id), requires: s.requires ?? [], params: s.params })), checks: c.checks }));
        process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
        return;
      }
      const out: string[] = [];
      for (const c of challenges) {
        out.push(chalk.bold(`${c.id}`) + chalk.dim(`  ${c.title}  (file: ${c.file}.ts|.mts|.js|.mjs)`));
        out.push('  scenarios:');
        for (const s of c.scenarios) out.push(`    ${chalk.cyan(s.id.padEnd(14))} ${s.description}${s.requires ? chalk.dim(` (needs ${s.requires.join(', ')})`) : ''}\n    ${' '.repeat(14)} ${chalk.dim('checks: ' + ['loads', ...s.checkers.map((k) => k.id), 'no-crash'].join(', '))}`);
        out.push('  checks:');
        for (const k of c.checks) out.push(`    ${chalk.yellow(k.id.padEnd(22))} ${k.summary}`);
        out.push('');
      }
      process.stdout.write(out.join('\n') + '\n');
    });

  program
    .command('doctor')
    .description('say which PostgreSQL and Redis gauntlet would use, their versions, and how to fix what is missing')
    .option('--try-embedded', 'also start the embedded PostgreSQL once to prove it works')
    .action(async (opts) => {
      const { diagnose, formatDoctorReport } = await import('../harness/infra/index.ts');
      const report = await diagnose({ tryEmbedded: !!opts.tryEmbedded });
      process.stdout.write(formatDoctorReport(report) + '\n');
      process.exitCode = report.ok ? 0 : 3;
    });

  program
    .command('init')
    .description('write a candidate starter kit: one stub per challenge, the contract\'s types, and a README')
    .argument('<dir>', 'folder to create (must be empty or not exist)')
    .action(async (dir: string) => {
      const { writeStarterKit } = await import('../harness/app/starter-kit.ts');
      const files = writeStarterKit(path.resolve(dir));
      process.stdout.write(`Wrote a starter kit to ${path.resolve(dir)}:\n${files.map((f) => `  ${f}`).join('\n')}\nNext: implement ${challenges[0].file}.ts, then run  npx gauntlet grade ${dir} --profile quick\n`);
    });

  program
    .command('self-test')
    .description('grade every reference (must pass) and every fixture (must fail its named check) through the real pipeline')
    .option('--seed <n>', `seed (default ${DEFAULTS.selfTest.seed})`, intArg('--seed', LIMITS.seed))
    .option('--seeds <n>', 'run each on this many consecutive seeds', intArg('--seeds', LIMITS.selfTestSeeds), DEFAULTS.selfTest.seeds)
    .addOption(new Option('--profile <name>', 'profile').choices(PROFILES).default(DEFAULTS.selfTest.profile))
    .option('--only <names>', 'comma-separated reference/fixture names to run (a name that matches none is a usage error)')
    .option('--list', 'list the cases (references and fixtures, with what each must do) without grading')
    .option('--json', 'print the table as JSON')
    .option('--no-overlap', 'grade strictly one after another (by default each grade begins beside the previous one\'s settle and checks; no workload ever overlaps another grade)')
    .addHelpText('after', `
Grades run in a row: each begins (database, setup, instances) beside the previous one's settle, final reads and
checks, and its workload waits until that grade has ended. A row's time counts from its grade's start.

Flake hunting: run a case on many seeds before changing a checker or a scenario; the table ends with each case's
flip rate (verdicts that differ from the expected one; expected 0) and the seeds to replay with gauntlet grade --seed.
  $ gauntlet self-test --only plain-for-update,seat-serializable-no-retry --seeds 20
  $ npm run flakes -- --only cockatiel-policies          every listed case on seeds 1-20
  $ gauntlet self-test --list                           the case names, and what each must do`)
    .action(async (opts) => {
      const { runSelfTest, renderSelfTest, listCases } = await import('../harness/app/self-test.ts');
      if (opts.list) {
        const cases = listCases();
        process.stdout.write((opts.json ? JSON.stringify(cases, null, 2) : cases.map((c) => `${c.kind.padEnd(9)} ${c.name.padEnd(48)} ${c.expected}`).join('\n')) + '\n');
        return;
      }
      const rows = await runSelfTest({ seed: opts.seed ?? DEFAULTS.selfTest.seed, seeds: opts.seeds, profile: opts.profile, only: opts.only !== undefined ? String(opts.only).split(',') : undefined, overlap: opts.overlap !== false, log: (m) => process.stderr.write(m + '\n') });
      process.stdout.write((opts.json ? JSON.stringify(rows, null, 2) : renderSelfTest(rows)) + '\n');
      process.exitCode = rows.every((r) => r.ok) ? 0 : 1;
    });

  program
    .command('bench')
    .description('measure this machine: full grades (issue 14\'s three challenges, then every challenge) against the speed targets, grade wall time and memory, burst fidelity, load-driver overhead, each seat reference under load')
    .option('--quick', 'fewer repetitions and shorter runs (a smoke run)')
    .option('--thorough', 'also time a grade with the thorough profile')
    .option('--only <sections>', `only these sections, comma-separated: ${BENCH_SECTION_IDS.join(', ')}`, (v: string) => {
      try {
        return parseBenchSections(v);
      } catch (err) {
        throw new InvalidArgumentError((err as Error).message);
      }
    })
    .option('--json', 'print the figures as JSON on stdout (progress stays on stderr)')
    .option('--md <file>', 'also write the figures as Markdown tables to this file')
    .addHelpText('after', '\nPrints figures with their targets (✓/✗); a missed target does not change the exit status (0), only an error does.\nExample: gauntlet bench --only burst-fidelity,driver-throughput')
    .action(async (opts) => {
      const { runBench, renderBench, writeBenchMarkdown } = await import('../harness/app/bench/index.ts');
      const report = await runBench({ quick: !!opts.quick, thorough: !!opts.thorough, only: opts.only, log: (m) => process.stderr.write(chalk.dim(m) + '\n') });
      if (opts.md) writeBenchMarkdown(String(opts.md), report);
      process.stdout.write((opts.json ? JSON.stringify(report, null, 2) : renderBench(report)) + '\n');
    });

  registerWorkflowCommands(program, { intArg, Option });
}
