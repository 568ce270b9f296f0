// The grading queue on BullMQ: where it lives (a Redis URL, DB 0), what one job carries (a packed submission with its
// seed, profile and grade options, and the batch it belongs to), enqueuing, and the status of the queue. One job per
// submission; the worker (worker.ts) grades it. Scenario namespaces use Redis DBs 1–15 of a Redis gauntlet grades
// with and flush them, so the queue stays in DB 0, which gauntlet never flushes.

import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { InfraError, UsageError } from '../../errors.ts';
import { redactUrl } from '../../infra/url-util.ts';
import { probeRedis } from '../../infra/redis-client.ts';
import type { ProfileName } from '../../types.ts';
import type { PackedSubmission } from './pack.ts';

export { DEFAULT_ATTEMPTS, DEFAULT_QUEUE_NAME } from './defaults.ts';

/** What `gauntlet queue add` records per submission: everything a worker needs, nothing from the adding machine's disk. */
export interface GradeJobData {
  kind: 'grade';
  version: 1;
  batch: string;
  /** Where the submission came from: the adding machine's host name and the folder's absolute path. */
  origin: { host: string; path: string };
  pack: PackedSubmission;
  seed: number;
  profile: ProfileName;
  challenges?: string[];
  scenarios?: string[];
  instances?: number;
  minScore?: number;
  /** Install the submission's own dependencies first (npm ci from its lock file, lifecycle scripts off). */
  install: boolean;
  addedAt: string;
}

/** What a job returns when graded: the stored run. */
export interface GradeJobReturn {
  runId: string;
  verdict: string;
  total: number;
  /** 'duplicate': an earlier attempt of this job had already stored its run (a worker died after storing it). */
  stored: 'recorded' | 'duplicate' | 'not stored';
  worker: string;
}

export interface QueueRef {
  url: string;
  name: string;
}

/** BullMQ's connection options for a queue URL (redis:// or rediss://, DB 0 only; see the header). */
export function connectionFor(url: string): ConnectionOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`--queue must be a Redis URL such as redis://127.0.0.1:6379, got ${JSON.stringify(url)}`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new UsageError(`--queue must be a redis:// or rediss:// URL, got ${u.protocol}//…`);
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new UsageError(`--queue names the Redis database ${JSON.stringify(u.pathname.slice(1))}: not a number`);
  if (db !== 0) throw new UsageError(`--queue names Redis database ${db}: keep the queue in database 0`, 'gauntlet claims databases 1–15 of a Redis it grades with and flushes them; use redis://host:port (database 0)');
  return {
    host: u.hostname || '127.0.0.1',
    port: Number(u.port || 6379),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    db: 0,
    // A worker waits on Redis indefinitely and reconnects after losing it (BullMQ requires null here).
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => Math.min(250 * times, 5000),
  };
}

/** Fail fast with a clear message when the queue's Redis cannot be reached (a worker reconnects later, but must start connected). */
export async function assertQueueReachable(ref: QueueRef, timeoutMs = 5000): Promise<void> {
  connectionFor(ref.url); // the URL's own mistakes (not redis://, not database 0) first
  const probe = await probeRedis(ref.url, timeoutMs);
  if (!probe.ok) throw new InfraError(`cannot reach the queue's Redis at ${redactUrl(ref.url)}: ${probe.reason || 'no answer'}`, 'check --queue (or GAUNTLET_QUEUE) and that Redis runs there and accepts this machine');
}

export function openQueue(ref: QueueRef): Queue<GradeJobData, GradeJobReturn> {
  const q = new Queue<GradeJobData, GradeJobReturn>(ref.name, { connection: connectionFor(ref.url) });
  q.on('error', () => undefined); // reconnects on its own; callers report what their own calls throw
  return q;
}

/** A batch tag: given, or the date and time with a short random part. */
export function batchTag(given?: string): string {
  if (given !== undefined) {
    if (!/^[\w.:@+-]{1,80}$/.test(given)) throw new UsageError(`--batch must be 1–80 letters, digits or . _ : @ + -, got ${JSON.stringify(given)}`);
    return given;
  }
  return `batch-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${crypto.randomBytes(2).toString('hex')}`;
}

/**
 * A job's options. Its id is a random UUID, not BullMQ's per-queue counter: the results store keeps one run per job
 * id across every queue it serves, and a counter restarts at 1 on a new (or obliterated) queue.
 */
export function jobOptions(attempts: number): JobsOptions {
  return {
    jobId: crypto.randomUUID(),
    attempts,
    backoff: { type: 'exponential', delay: 5000 },
    // Finished jobs stay listed for `queue status` (the run itself is in the store) for a week, 10 000 at most.
    removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
    removeOnFail: { age: 30 * 24 * 3600, count: 10_000 },
  };
}

export function originOf(dir: string): GradeJobData['origin'] {
  return { host: os.hostname(), path: path.resolve(dir) };
}

export interface QueueStatus {
  queue: string;
  name: string;
  counts: { waiting: number; active: number; delayed: number; completed: number; failed: number };
  /** Paused queues keep their jobs waiting (BullMQ's queue.pause()). */
  paused: boolean;
  active: { id: string; batch: string; submission: string; attempt: number; progress: unknown }[];
  failed: { id: string; batch: string; submission: string; attempts: number; reason: string }[];
  completed: { id: string; batch: string; submission: string; runId: string; verdict: string; total: number; stored: string; worker: string }[];
}

/** Counts, the jobs being graded with their progress, and the latest failed and finished ones. */
export async function queueStatus(ref: QueueRef, o: { batch?: string; limit?: number } = {}): Promise<QueueStatus> {
  const q = openQueue(ref);
  try {
    const c = await q.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized');
    const paused = await q.isPaused();
    const limit = o.limit ?? 20;
    const of = <T extends { data?: GradeJobData }>(jobs: (T | undefined)[]) => jobs.filter((j): j is T => !!j && !!j.data && (!o.batch || j.data.batch === o.batch));
    const label = (d: GradeJobData) => `${d.origin.host}:${d.origin.path}`;
    const active = of(await q.getJobs(['active'], 0, 200)).map((j) => ({ id: String(j.id), batch: j.data.batch, submission: label(j.data), attempt: j.attemptsMade + 1, progress: j.progress }));
    const failed = of(await q.getJobs(['failed'], 0, o.batch ? 1000 : limit - 1)).slice(0, limit).map((j) => ({ id: String(j.id), batch: j.data.batch, submission: label(j.data), attempts: j.attemptsMade, reason: j.failedReason ?? '' }));
    const completed = of(await q.getJobs(['completed'], 0, o.batch ? 1000 : limit - 1)).slice(0, limit).map((j) => {
      const r = (j.returnvalue ?? {}) as Partial<GradeJobReturn>;
      return { id: String(j.id), batch: j.data.batch, submission: label(j.data), runId: r.runId ?? '', verdict: r.verdict ?? '', total: r.total ?? 0, stored: r.stored ?? '', worker: r.worker ?? '' };
    });
    return {
      queue: redactUrl(ref.url),
      name: ref.name,
      counts: { waiting: (c.waiting ?? 0) + (c.prioritized ?? 0), active: c.active ?? 0, delayed: c.delayed ?? 0, completed: c.completed ?? 0, failed: c.failed ?? 0 },
      paused,
      active,
      failed,
      completed,
    };
  } finally {
    await q.close();
  }
}

/** Whether nothing is left to grade: no job waiting, delayed (a retry) or active (a dead worker's job counts until the stalled check frees it). */
export async function queueIsEmpty(q: Queue<GradeJobData, GradeJobReturn>): Promise<boolean> {
  const c = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
  return Object.values(c).every((n) => !n);
}
