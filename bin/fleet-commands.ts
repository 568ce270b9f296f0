// The fleet's commands: `queue add` packs submissions and enqueues one grade job each on a BullMQ queue in Redis,
// `queue status` shows what is waiting, being graded, done and failed, and `worker` grades jobs one at a time on this
// machine into a results store that every worker shares (a postgres:// URL). docs/fleet.md is the guide.

import chalk from 'chalk';
import crypto from 'node:crypto';
import type { Command, Option as OptionClass } from 'commander';
import { DEFAULTS, LIMITS, PROFILES, type Range } from '../harness/app/defaults.ts';
import { validateOptions } from '../harness/app/grade.ts';
import { InfraError, UsageError } from '../harness/errors.ts';
import { redactUrl } from '../harness/infra/url-util.ts';
import { withTimeout } from '../harness/infra/process-util.ts';
import { packSubmission, DEFAULT_MAX_PACK_BYTES, type PackedSubmission } from '../harness/app/fleet/pack.ts';
import { DEFAULT_ATTEMPTS, DEFAULT_LOCK_MS, DEFAULT_QUEUE_NAME } from '../harness/app/fleet/defaults.ts';
// BullMQ loads only when a fleet command runs (harness/app/fleet/queue.ts, worker.ts): every other command starts faster.
import type { GradeJobData, QueueRef, QueueStatus } from '../harness/app/fleet/queue.ts';
import type { ProfileName } from '../harness/types.ts';

interface Helpers {
  intArg(name: string, range: Range): (v: string) => number;
  Option: typeof OptionClass;
}

const QUEUE_HELP = 'the queue\'s Redis, database 0 (default: $GAUNTLET_QUEUE), e.g. redis://127.0.0.1:6379';
const NAME_HELP = `the queue's name (default ${DEFAULT_QUEUE_NAME})`;

const FLEET_EXAMPLES = `
Examples:
  $ gauntlet queue add ./submissions/* --queue redis://10.0.0.5:6379 --batch spring-2027 --profile standard
  $ gauntlet worker --queue redis://10.0.0.5:6379 --store postgres://gauntlet@10.0.0.5/results   (on each machine)
  $ gauntlet queue status --queue redis://10.0.0.5:6379 --batch spring-2027
  $ gauntlet compare --batch spring-2027 --store postgres://gauntlet@10.0.0.5/results

A worker grades one job at a time (a grade needs the machine to itself). A worker killed mid-grade loses nothing:
its job goes back to the queue once its lock expires and another worker grades it. docs/fleet.md explains more.`;

function queueRef(opts: { queue?: string; name?: string }): QueueRef {
  const url = opts.queue ?? process.env.GAUNTLET_QUEUE;
  if (!url) throw new UsageError('no queue given', 'pass --queue redis://host:6379, or set GAUNTLET_QUEUE');
  return { url, name: opts.name ?? DEFAULT_QUEUE_NAME };
}

const list = (v: string | undefined): string[] | undefined => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined);

export function registerFleetCommands(program: Command, { intArg, Option }: Helpers): void {
  const queue = program.command('queue').description('the grading queue for a fleet of workers (BullMQ on Redis): add submissions, see its status').addHelpText('after', FLEET_EXAMPLES);

  queue
    .command('add')
    .description('pack each submission folder and enqueue one grade job per submission')
    .argument('<submissions...>', 'submission folders')
    .option('--queue <url>', QUEUE_HELP)
    .option('--name <name>', NAME_HELP)
    .option('--batch <tag>', 'tag the jobs (and their runs) as one batch, for queue status and compare --batch (default: batch-<time>)')
    .option('--challenge <ids>', 'comma-separated challenge ids (default: all)')
    .option('--scenario <ids>', 'comma-separated scenario ids (default: all of the chosen challenges)')
    .option('--instances <n>', `app instances per scenario (default ${DEFAULTS.instances})`, intArg('--instances', LIMITS.instances))
    .option('--seed <n>', 'one seed for every job (default: a random seed per job, recorded with it)', intArg('--seed', LIMITS.seed))
    .addOption(new Option('--profile <name>', 'how hard to push: quick, standard, thorough').choices(PROFILES).default(DEFAULTS.profile))
    .option('--min-score <n>', 'recorded with each run, as grade --min-score', intArg('--min-score', LIMITS.minScore))
    .option('--install', 'the worker first installs each submission\'s own dependencies (npm ci, scripts off); node_modules is never packed')
    .option('--attempts <n>', `tries per job when grading fails for the harness's own reasons (default ${DEFAULT_ATTEMPTS}; a submission's failure is a result, never retried)`, intArg('--attempts', { min: 1, max: 10 }))
    .option('--max-pack-mb <n>', `size cap per packed submission, MiB (default ${DEFAULT_MAX_PACK_BYTES / 1024 / 1024})`, intArg('--max-pack-mb', { min: 1, max: 100 }))
    .option('--json', 'print the enqueued jobs as JSON')
    .action(async (folders: string[], opts) => {
      const ref = queueRef(opts);
      const base = { challenges: list(opts.challenge), scenarios: list(opts.scenario), instances: opts.instances, profile: opts.profile as ProfileName, minScore: opts.minScore };
      // The grade options are checked here, where a mistake can still be fixed, not on a worker later.
      validateOptions({ submission: '.', ...base, seed: opts.seed ?? 1 });
      const { assertQueueReachable, batchTag, jobOptions, openQueue, originOf } = await import('../harness/app/fleet/queue.ts');
      const batch = batchTag(opts.batch);
      // Every folder is packed before anything is enqueued: one that cannot be packed stops the whole add.
      const packs: { folder: string; pack: PackedSubmission }[] = [];
      const problems: string[] = [];
      for (const folder of folders) {
        try {
          packs.push({ folder, pack: packSubmission(folder, { maxBytes: opts.maxPackMb ? opts.maxPackMb * 1024 * 1024 : undefined }) });
        } catch (err) {
          if (!(err instanceof UsageError)) throw err;
          problems.push(`${folder}: ${err.message}${err.hint !== UsageError.DEFAULT_HINT ? `\n  → ${err.hint}` : ''}`);
        }
      }
      if (problems.length) throw new UsageError(`${problems.length} of ${folders.length} submission(s) cannot be packed; nothing was enqueued:\n${problems.join('\n')}`, 'fix them, or leave them out of this add');
      await assertQueueReachable(ref);
      const q = openQueue(ref);
      try {
        const added: { jobId: string; submission: string; seed: number; files: number; bytes: number }[] = [];
        const addedAt = new Date().toISOString();
        const jobs = packs.map(({ folder, pack }) => {
          const data: GradeJobData = { kind: 'grade', version: 1, batch, origin: originOf(folder), pack, seed: opts.seed ?? crypto.randomInt(DEFAULTS.randomSeed.min, DEFAULTS.randomSeed.max), ...base, install: !!opts.install, addedAt };
          return { name: 'grade', data, opts: jobOptions(opts.attempts ?? DEFAULT_ATTEMPTS) };
        });
        const enqueued = await answered(q.addBulk(jobs), 15_000, `the queue at ${redactUrl(ref.url)} did not answer`);
        enqueued.forEach((j, i) => added.push({ jobId: String(j.id), submission: jobs[i].data.origin.path, seed: jobs[i].data.seed, files: packs[i].pack.files, bytes: packs[i].pack.bytes }));
        if (opts.json) {
          process.stdout.write(JSON.stringify({ queue: redactUrl(ref.url), name: ref.name, batch, jobs: added }, null, 2) + '\n');
          return;
        }
        const out = [chalk.bold(`enqueued ${added.length} job(s) as batch ${batch} on ${redactUrl(ref.url)} (${ref.name})`)];
        for (const a of added) out.push(`  job ${a.jobId.padEnd(6)} seed ${String(a.seed).padEnd(10)} ${a.submission} ${chalk.dim(`(${a.files} files, ${kib(a.bytes)})`)}`);
        const named = ref.name === DEFAULT_QUEUE_NAME ? '' : ` --name ${ref.name}`;
        out.push(chalk.dim(`\nGrade them with \`gauntlet worker --queue ${redactUrl(ref.url)}${named} --store <file or postgres:// URL>\` on each machine;`));
        out.push(chalk.dim(`follow with \`gauntlet queue status --queue ${redactUrl(ref.url)}${named} --batch ${batch}\`, read them with \`gauntlet compare --batch ${batch} --store <the same store>\`.`));
        process.stdout.write(out.join('\n') + '\n');
      } finally {
        await q.close().catch(() => undefined);
      }
    });

  queue
    .command('status')
    .description('what is waiting, being graded (with progress), done and failed')
    .option('--queue <url>', QUEUE_HELP)
    .option('--name <name>', NAME_HELP)
    .option('--batch <tag>', 'only the jobs of this batch')
    .option('--limit <n>', 'how many done and failed jobs to list (default 20)', intArg('--limit', { min: 1, max: 1000 }))
    .option('--json', 'as JSON')
    .action(async (opts) => {
      const ref = queueRef(opts);
      const { assertQueueReachable, queueStatus } = await import('../harness/app/fleet/queue.ts');
      await assertQueueReachable(ref);
      const status = await answered(queueStatus(ref, { batch: opts.batch, limit: opts.limit }), 15_000, `the queue at ${redactUrl(ref.url)} did not answer`);
      if (opts.json) process.stdout.write(JSON.stringify(status, null, 2) + '\n');
      else process.stdout.write(renderStatus(status, opts.batch) + '\n');
    });

  program
    .command('worker')
    .description('grade jobs from the queue one at a time on this machine, recording each run in the results store')
    .option('--queue <url>', QUEUE_HELP)
    .option('--name <name>', NAME_HELP)
    .option('--store <file|url>', `the results store: a SQLite file, or a postgres:// URL every worker shares (default ${DEFAULTS.store})`, DEFAULTS.store)
    .option('--out <dir>', 'where run folders are written on this machine', DEFAULTS.outDir)
    .option('--drain', 'exit once nothing is waiting, retrying or being graded (for scripts and tests)')
    .option('--lock-ms <n>', `how long a job stays locked to a worker that stopped answering before another takes it up (default ${DEFAULT_LOCK_MS})`, intArg('--lock-ms', { min: 2000, max: 600_000 }))
    .option('--quiet', 'no progress on stderr')
    .addHelpText('after', FLEET_EXAMPLES)
    .action(async (opts) => {
      const ref = queueRef(opts);
      const { assertQueueReachable } = await import('../harness/app/fleet/queue.ts');
      const { startWorker } = await import('../harness/app/fleet/worker.ts');
      const { openStore } = await import('../harness/app/store/index.ts');
      // A store or queue that cannot be reached stops the worker now, before it takes a job it could not record.
      await assertQueueReachable(ref);
      await (await openStore(opts.store)).close();
      const log = (line: string) => opts.quiet || process.stderr.write(chalk.dim(`[${new Date().toISOString().slice(11, 19)}] `) + line + '\n');
      log(`worker ${process.pid} on ${redactUrl(ref.url)} (${ref.name}), storing runs in ${redactUrl(opts.store)}${opts.drain ? ', until the queue is empty' : ''}`);
      const w = startWorker({ queue: ref, store: opts.store, outDir: opts.out, drain: !!opts.drain, lockMs: opts.lockMs, log });
      const summary = await w.done;
      log(`graded ${summary.graded} job(s), ${summary.failed} failed`);
    });
}

function renderStatus(s: QueueStatus, batch?: string): string {
  const c = s.counts;
  const out = [chalk.bold(`${s.name} on ${s.queue}${batch ? `, batch ${batch}` : ''}`), `waiting ${c.waiting} · active ${c.active} · retrying ${c.delayed} · done ${c.completed} · failed ${c.failed}${s.paused ? ' · the queue is paused' : ''}` + (batch ? chalk.dim('  (counts: the whole queue)') : '')];
  if (s.active.length) {
    out.push('', chalk.bold('being graded'));
    for (const a of s.active) {
      const p = a.progress as { scenario?: string; index?: number; total?: number; worker?: string } | number | undefined;
      const where = p && typeof p === 'object' && p.scenario ? `${p.scenario} (${(p.index ?? 0) + 1}/${p.total}) on ${p.worker}` : 'starting';
      out.push(`  job ${a.id.padEnd(6)} ${a.submission}  ${chalk.dim(where)}${a.attempt > 1 ? chalk.yellow(` attempt ${a.attempt}`) : ''}`);
    }
  }
  if (s.failed.length) {
    out.push('', chalk.bold('failed') + chalk.dim(' (the harness could not grade them; a submission\'s own failure is a result, listed as done)'));
    for (const f of s.failed) out.push(`  job ${f.id.padEnd(6)} ${f.submission}  ${chalk.red(f.reason)} ${chalk.dim(`after ${f.attempts} attempt(s)`)}`);
  }
  if (s.completed.length) {
    out.push('', chalk.bold('done') + chalk.dim(' (newest first)'));
    for (const d of s.completed) out.push(`  job ${d.id.padEnd(6)} ${d.submission}  ${d.verdict === 'pass' ? chalk.green(d.verdict) : chalk.red(d.verdict)} ${d.total}/100  ${chalk.dim(`run ${d.runId} by ${d.worker}${d.stored === 'duplicate' ? ', stored by an earlier attempt' : ''}`)}`);
  }
  return out.join('\n');
}

const kib = (n: number): string => (n < 1024 * 1024 ? `${Math.round(n / 102.4) / 10} KiB` : `${Math.round(n / 104857.6) / 10} MiB`);

/** A queue call that does not answer in time is the queue's infrastructure failing (exit 3). */
function answered<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  const message = `${what} within ${ms / 1000} s`;
  return withTimeout(p, ms, message).catch((err: unknown) => {
    throw err instanceof Error && err.message === message ? new InfraError(message, 'check the --queue URL and that Redis runs there') : err;
  });
}
