// The worker's fault handling on a real Redis queue, with the grade itself replaced (grade() is the fleet test's
// business, test/fleet.test.ts): a grade that keeps failing for the harness's own reasons is retried a bounded
// number of times and then ends failed with its reason; a job that cannot be graded at all fails at once; a job
// whose run an earlier attempt already stored is not graded again; a worker that loses Redis reconnects and
// goes on grading.

import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { Job } from 'bullmq';
import { InfraError, UsageError } from '../harness/errors.ts';
import { openStore } from '../harness/app/store/index.ts';
import { packSubmission } from '../harness/app/fleet/pack.ts';
import { jobOptions, openQueue, type GradeJobData, type QueueRef } from '../harness/app/fleet/queue.ts';
import { startWorker } from '../harness/app/fleet/worker.ts';
import type { GradeOptions } from '../harness/app/grade.ts';
import { scoreChallenges } from '../rubric/score.ts';
import { allSeatPassing, expectedChecks, gradeResult } from '../rubric/test-results.ts';
import type { GradeResult } from '../rubric/result.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-fleet-faults-'));
const queues: QueueRef[] = [];
afterAll(async () => {
  for (const ref of queues) {
    const q = openQueue(ref);
    await q.obliterate({ force: true }).catch(() => undefined);
    await q.close();
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

const sub = path.join(tmp, 'sub');
fs.mkdirSync(sub, { recursive: true });
fs.writeFileSync(path.join(sub, 'seat-reservation.ts'), 'export async function setup() {}\nexport async function create() { return {}; }\n');

function newQueue(url = 'redis://127.0.0.1:6379'): QueueRef {
  const ref = { url, name: `gauntlet-test-${process.pid}-${crypto.randomBytes(3).toString('hex')}` };
  queues.push({ ...ref, url: 'redis://127.0.0.1:6379' });
  return ref;
}

/** A job as `gauntlet queue add` makes it, for the folder `dir`. */
function jobData(dir = sub, extra: Partial<GradeJobData> = {}): GradeJobData {
  return { kind: 'grade', version: 1, batch: 'faults', origin: { host: os.hostname(), path: dir }, pack: packSubmission(dir), seed: 3, profile: 'quick', install: false, addedAt: new Date().toISOString(), ...extra };
}

async function enqueue(ref: QueueRef, attempts: number): Promise<Job<GradeJobData>> {
  const q = openQueue(ref);
  try {
    const data = jobData();
    return (await q.add('grade', data, { ...jobOptions(attempts), backoff: { type: 'fixed', delay: 100 } })) as Job<GradeJobData>;
  } finally {
    await q.close();
  }
}

/** A graded result for a canned grade: what grade() would return for a passing seat submission. */
function canned(o: GradeOptions): GradeResult {
  const challenges = [{ ...allSeatPassing(), file: path.join(o.submission, 'seat-reservation.ts') }];
  const scored = scoreChallenges(challenges, { expectedChecks });
  const runId = `20261206T000000-${o.seed}-${crypto.randomBytes(3).toString('hex')}`;
  return gradeResult(challenges, { ...scored, submission: o.submission, seed: o.seed!, runId, startedAt: new Date().toISOString() });
}

/** The job once it completed or failed, read whole (state included) before the queue connection closes. */
async function finished(ref: QueueRef, id: string, ms = 20_000): Promise<{ state: string; attemptsMade: number; failedReason?: string; returnvalue: unknown }> {
  const q = openQueue(ref);
  try {
    const end = Date.now() + ms;
    for (;;) {
      const job = (await q.getJob(id)) as Job<GradeJobData> | undefined;
      const state = job ? await job.getState() : 'missing';
      if (state === 'completed' || state === 'failed') {
        // Read again: the job may have finished between reading its fields and its state.
        const done = (await q.getJob(id))!;
        return { state, attemptsMade: done.attemptsMade, failedReason: done.failedReason, returnvalue: done.returnvalue };
      }
      if (Date.now() > end) throw new Error(`job ${id} still ${state} after ${ms} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await q.close();
  }
}

describe('a fleet worker under faults', () => {
  it('retries a grade that fails for the harness\'s own reasons, then ends the job failed with the reason; stores nothing', async () => {
    const ref = newQueue();
    const store = path.join(tmp, 'retry.db');
    let calls = 0;
    const w = startWorker({ queue: ref, store, outDir: tmp, grade: async () => { calls++; throw new InfraError('PostgreSQL went away mid-grade'); } });
    try {
      const job = await finished(ref, String((await enqueue(ref, 3)).id));
      expect(job.state).toBe('failed');
      expect(job.attemptsMade).toBe(3);
      expect(job.failedReason).toMatch(/PostgreSQL went away mid-grade/);
      expect(calls).toBe(3);
    } finally {
      await w.close();
    }
    const s = await openStore(store);
    expect((await s.counts()).runs).toBe(0);
    await s.close();
  }, 60_000);

  it('fails a job that cannot be graded at all after one attempt (no retry helps)', async () => {
    const ref = newQueue();
    let calls = 0;
    const w = startWorker({ queue: ref, store: path.join(tmp, 'usage.db'), outDir: tmp, grade: async () => { calls++; throw new UsageError('unknown scenario "nope"'); } });
    try {
      const job = await finished(ref, String((await enqueue(ref, 3)).id));
      expect(job.state).toBe('failed');
      expect(job.attemptsMade).toBe(1);
      expect(job.failedReason).toMatch(/unknown scenario "nope"/);
      expect(calls).toBe(1);
    } finally {
      await w.close();
    }
  }, 60_000);

  it('stores a graded run under its job id and batch, naming the folder it was added from; an attempt after that is a duplicate, not a second run', async () => {
    const ref = newQueue();
    const store = path.join(tmp, 'once.db');
    let calls = 0;
    const grade = async (o: GradeOptions) => {
      calls++;
      return canned(o);
    };
    const w = startWorker({ queue: ref, store, outDir: tmp, grade });
    let jobId: string;
    try {
      const job = await finished(ref, (jobId = String((await enqueue(ref, 3)).id)));
      expect(job.returnvalue, `${job.state}: ${job.failedReason}`).toMatchObject({ verdict: 'pass', stored: 'recorded' });
    } finally {
      await w.close();
    }
    // The same job id again, as when a worker dies after storing but before the queue heard of it.
    const s = await openStore(store);
    const runId = (await s.runForJob(jobId))!;
    expect(runId).toBeTruthy();
    const [row] = await s.listRuns({ batch: 'faults' });
    expect(row).toMatchObject({ id: runId, jobId, batch: 'faults', submissionPath: sub });
    await s.close();
    const again = newQueue();
    const q = openQueue(again);
    await q.add('grade', jobData(), { ...jobOptions(1), jobId }); // the same id: an attempt after the run was stored
    await q.close();
    const w2 = startWorker({ queue: again, store, outDir: tmp, grade });
    try {
      const job = await finished(again, jobId);
      expect(job.returnvalue, `${job.state}: ${job.failedReason}`).toMatchObject({ runId, stored: 'duplicate' });
      expect(calls).toBe(1);
    } finally {
      await w2.close();
    }
    const s2 = await openStore(store);
    expect((await s2.counts()).runs).toBe(1);
    await s2.close();
  }, 60_000);

  it('with --install, installs the submission\'s own dependencies (never packed) before grading, without blocking the worker', async () => {
    const withDeps = path.join(tmp, 'with-deps');
    fs.mkdirSync(path.join(withDeps, 'node_modules', 'left-pad'), { recursive: true });
    fs.writeFileSync(path.join(withDeps, 'node_modules', 'left-pad', 'index.js'), 'module.exports = 1;\n');
    fs.writeFileSync(path.join(withDeps, 'package.json'), JSON.stringify({ name: 'with-deps', private: true, version: '1.0.0' }));
    fs.writeFileSync(path.join(withDeps, 'seat-reservation.ts'), 'export async function setup() {}\nexport async function create() { return {}; }\n');
    const pack = packSubmission(withDeps);
    expect(pack.files).toBe(2); // node_modules stays home
    const ref = newQueue();
    const seen: string[][] = [];
    const w = startWorker({ queue: ref, store: path.join(tmp, 'install.db'), outDir: tmp, grade: async (o) => { seen.push(fs.readdirSync(o.submission).sort()); return canned(o); } });
    try {
      const q = openQueue(ref);
      const id = String((await q.add('grade', jobData(withDeps, { batch: 'install', pack, seed: 4, install: true }), jobOptions(1))).id);
      await q.close();
      expect((await finished(ref, id, 60_000)).state).toBe('completed');
      // npm ran in the unpacked copy (it wrote the lock file there); the packed node_modules never came along.
      expect(seen).toEqual([['package-lock.json', 'package.json', 'seat-reservation.ts']]);
    } finally {
      await w.close();
    }
  }, 90_000);

  it('reconnects after losing Redis and goes on grading', async () => {
    // A loopback proxy in front of Redis whose connections the test cuts, refusing new ones for a while.
    const sockets = new Set<net.Socket>();
    let refusing = false;
    const proxy = net.createServer((client) => {
      if (refusing) return client.destroy();
      const upstream = net.connect(6379, '127.0.0.1');
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const port = (proxy.address() as net.AddressInfo).port;
    const ref = newQueue(`redis://127.0.0.1:${port}`);
    let calls = 0;
    const w = startWorker({ queue: ref, store: path.join(tmp, 'reconnect.db'), outDir: tmp, grade: async (o) => { calls++; return canned(o); } });
    try {
      const direct = { ...ref, url: 'redis://127.0.0.1:6379' };
      const first = await finished(direct, String((await enqueue(direct, 1)).id));
      expect(first.state).toBe('completed');
      refusing = true;
      for (const s of sockets) s.destroy();
      await new Promise((r) => setTimeout(r, 1500));
      refusing = false;
      const second = await finished(direct, String((await enqueue(direct, 1)).id), 30_000);
      expect(second.state).toBe('completed');
      expect(calls).toBe(2);
    } finally {
      await w.close();
      for (const s of sockets) s.destroy();
      proxy.close();
    }
  }, 60_000);
});
