// A grading worker: takes one job at a time from the BullMQ queue (a grade needs the machine to itself), unpacks the
// submission into a temp folder, grades it through grade() — the same sandbox, containment and checks as `gauntlet
// grade` — and records the run in the results store under the job's id and batch. Faults:
// - a worker stopped by a signal puts the job it was grading back in the queue at once (no attempt counted);
// - a worker killed mid-grade holds the job's lock until it expires; another worker's stalled check then moves the
//   job back to the queue and grades it again from scratch. Nothing of the killed grade was stored (a run is
//   recorded in one transaction at the end), and the store keeps at most one run per job id, so a worker killed
//   after storing but before telling the queue makes the next attempt a 'duplicate', not a second run;
// - a grade that throws for the harness's own reasons (infrastructure) is retried by BullMQ a bounded number of
//   times with backoff, then ends failed with the reason; a job that cannot be graded at all (a damaged pack, an
//   unknown challenge) fails at once (UnrecoverableError). A submission that crashes is a graded result, never an error;
// - a lost Redis connection is reconnected by ioredis (retryStrategy in queue.ts) and the worker goes on.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { grade as gradeSubmission, type GradeOptions } from '../grade.ts';
import { openStore, type RunStore } from '../store/index.ts';
import { onCleanup, interrupted } from '../../cleanup.ts';
import { UsageError } from '../../errors.ts';
import { installDependenciesAsync } from '../../instances/dependencies.ts';
import type { GradeResult } from '../../../rubric/result.ts';
import { connectionFor, openQueue, queueIsEmpty, type GradeJobData, type GradeJobReturn, type QueueRef } from './queue.ts';
import { unpackSubmission } from './pack.ts';
import { DEFAULT_LOCK_MS } from './defaults.ts';
// A job's unpacked copy is named with this process's pid: a worker killed outright leaves it to the next sweep.
import { JOB_DIR_PREFIX } from '../../infra/stale-sweep.ts';


export interface FleetWorkerOptions {
  queue: QueueRef;
  /** The results store: a SQLite file or a postgres:// URL (one store for the whole fleet). */
  store: string;
  /** Where run folders go on this machine. */
  outDir: string;
  /** Exit once nothing is waiting, delayed or active in the queue. */
  drain?: boolean;
  /** How long a job's lock lasts without renewal: a killed worker's job is taken up again after about this long (default 30 s). */
  lockMs?: number;
  /** How often to look for jobs whose worker died (default: lockMs). */
  stalledCheckMs?: number;
  log?(line: string): void;
  /** The grade function (tests inject failures); grade() by default. */
  grade?: (o: GradeOptions) => Promise<GradeResult>;
}

export interface WorkerSummary {
  graded: number;
  failed: number;
}

export const workerId = (): string => `${os.hostname()}:${process.pid}`;

/** Run a worker until it is closed (the returned close()), a signal ends the process, or, with drain, the queue is empty. */
export function startWorker(o: FleetWorkerOptions): { done: Promise<WorkerSummary>; close(): Promise<void> } {
  const log = o.log ?? (() => {});
  const lockMs = o.lockMs ?? DEFAULT_LOCK_MS;
  const summary: WorkerSummary = { graded: 0, failed: 0 };
  let busy = 0;
  let store: RunStore | undefined;
  const storeOnce = async (): Promise<RunStore> => (store ??= await openStore(o.store));

  const processor = async (job: Job<GradeJobData, GradeJobReturn>, token?: string): Promise<GradeJobReturn> => {
    busy++;
    try {
      return await gradeJob(job, await storeOnce(), o, log);
    } catch (err) {
      // Stopped by a signal (Ctrl-C, SIGTERM: a deploy, a machine shutting down): the grade unwound without a result.
      // The job goes back to the queue now, not after its lock expires, and no attempt is counted against it.
      if (interrupted() && token) {
        await job.moveToWait(token).catch(() => undefined);
        log(`job ${job.id}: stopped by ${interrupted()}; back in the queue`);
        throw new WaitingError();
      }
      throw err;
    } finally {
      busy--;
    }
  };

  const worker = new Worker<GradeJobData, GradeJobReturn>(o.queue.name, processor, {
    connection: connectionFor(o.queue.url),
    concurrency: 1,
    lockDuration: lockMs,
    stalledInterval: o.stalledCheckMs ?? lockMs,
    // A job is taken up again after its worker died at most twice; a third time fails it: something about it kills workers.
    maxStalledCount: 2,
    autorun: true,
  });
  let lastError = '';
  worker.on('error', (err) => {
    // Connection trouble repeats while Redis is away: say it once per distinct message.
    const text = (err as Error).message;
    if (text !== lastError) log(`worker: ${text} (reconnecting)`);
    lastError = text;
  });
  worker.on('ready', () => {
    if (lastError) log('worker: connected to the queue again');
    lastError = '';
  });
  worker.on('completed', (job, r) => {
    summary.graded++;
    log(`job ${job.id}: ${r.verdict} ${r.total}/100, run ${r.runId}${r.stored === 'duplicate' ? ' (already stored by an earlier attempt)' : ''}`);
  });
  worker.on('failed', (job, err) => {
    if (!job) return;
    const final = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
    if (final) summary.failed++;
    log(`job ${job.id}: ${final ? 'failed' : `attempt ${job.attemptsMade} failed, retried later`}: ${err.message}`);
  });
  worker.on('stalled', (id) => log(`job ${id}: its worker stopped answering; back in the queue`));

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      clearInterval(drainTimer);
      // After a signal the grade in progress unwinds first (the cleanup registry undoes it, newest first) and its
      // job is put back in the queue by the processor above; close then waits only for that.
      // A grade that does not unwind within 30 s is not waited for (its job then returns when its lock expires).
      let timer: NodeJS.Timeout | undefined;
      const patience = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), 30_000)));
      if ((await Promise.race([worker.close().catch(() => undefined), patience])) === 'late') await worker.close(true).catch(() => undefined);
      clearTimeout(timer);
      await q?.close().catch(() => undefined);
      await store?.close().catch(() => undefined);
      unregister();
      finish(summary);
    })();
    return closing;
  };
  const unregister = onCleanup(() => close());
  let finish: (s: WorkerSummary) => void = () => {};
  const done = new Promise<WorkerSummary>((resolve) => (finish = resolve));

  // --drain: look every second whether the queue is empty while this worker is idle.
  const q = o.drain ? openQueue(o.queue) : null;
  let checking = false;
  const drainTimer = setInterval(() => {
    if (!q || busy || checking || closing) return;
    checking = true;
    void queueIsEmpty(q)
      .then(async (empty) => {
        if (empty && !busy) {
          log('the queue is empty: stopping (--drain)');
          await close();
        }
      })
      .catch(() => undefined)
      .finally(() => (checking = false));
  }, 1000);
  if (!o.drain) clearInterval(drainTimer);
  return { done, close };
}

async function gradeJob(job: Job<GradeJobData, GradeJobReturn>, store: RunStore, o: FleetWorkerOptions, log: (line: string) => void): Promise<GradeJobReturn> {
  const d = job.data;
  const jobId = String(job.id);
  if (d?.kind !== 'grade' || d.version !== 1 || !d.pack?.packed) throw new UnrecoverableError('not a gauntlet grade job (a different gauntlet version, or another producer on this queue)');
  const already = await store.runForJob(jobId);
  if (already) {
    const r = await store.getResult(already);
    return { runId: already, verdict: r?.verdict ?? 'unknown', total: r?.score.total ?? 0, stored: 'duplicate', worker: workerId() };
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `${JOB_DIR_PREFIX}${process.pid}-`));
  const unregister = onCleanup(() => fs.rmSync(tmp, { recursive: true, force: true }));
  try {
    const dir = permanent(() => unpackSubmission(d.pack, tmp));
    log(`job ${jobId}: grading ${d.origin.host}:${d.origin.path} (batch ${d.batch}, seed ${d.seed}, ${d.profile}${job.attemptsMade ? `, attempt ${job.attemptsMade + 1}` : ''})`);
    if (d.install) {
      const installed = await installDependenciesAsync(dir, { force: true });
      // As with grade --install: a failed install is said, and what cannot load is graded as not loading.
      if (!installed.ok) log(`job ${jobId}: ${installed.error}`);
    }
    const result = await permanentAsync(() =>
      (o.grade ?? gradeSubmission)({
        submission: dir,
        seed: d.seed,
        profile: d.profile,
        challenges: d.challenges,
        scenarios: d.scenarios,
        instances: d.instances,
        minScore: d.minScore,
        outDir: o.outDir,
        onProgress: (e) => {
          if (e.kind === 'scenario-start') void job.updateProgress({ scenario: `${e.challenge}/${e.scenario}`, index: e.index, total: e.total, worker: workerId() }).catch(() => undefined);
        },
      }),
    );
    // Interrupted: the grade unwound without finishing; the job goes back to the queue (its lock expires).
    if (interrupted()) throw new Error(`interrupted by ${interrupted()}`);
    // The run names the folder it was added from, not this worker's temp copy (gone once the job ends): the
    // submission and its module files, as packed (modules carried from elsewhere keep their _external/ place).
    result.submission = d.origin.path;
    for (const c of result.challenges) {
      const rel = c.file ? path.relative(dir, c.file) : '..';
      if (!rel.startsWith('..') && !path.isAbsolute(rel)) c.file = path.join(d.origin.path, rel);
    }
    if (result.runDir) rewriteResultFile(result);
    const stored = await store.recordRun(result, { batch: d.batch, jobId, filesFrom: dir });
    return { runId: result.runId!, verdict: result.verdict, total: result.score.total, stored, worker: workerId() };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
    unregister();
  }
}

/** A usage error is the job's own problem (a damaged pack, an unknown scenario): retrying cannot help. */
function permanent<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw asPermanent(err);
  }
}

async function permanentAsync<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    throw asPermanent(err);
  }
}

function asPermanent(err: unknown): unknown {
  if (err instanceof UsageError) return new UnrecoverableError(`${err.message}${err.hint !== UsageError.DEFAULT_HINT ? ` (${err.hint})` : ''}`);
  return err;
}

function rewriteResultFile(result: GradeResult): void {
  const file = path.join(result.runDir!, 'result.json');
  try {
    if (fs.existsSync(file)) fs.writeFileSync(file, JSON.stringify(result, null, 2));
  } catch {
    // the stored run is what counts; the folder keeps the worker's path then
  }
}
