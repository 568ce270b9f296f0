// The "major concerns" an expert reviewer would raise (poor database design, no retries, no monitoring,
// hard-coded values, no transaction handling, plus swallowed errors and SQL built from input): warnings with
// their evidence, never a rejection on their own. Pure: check results, inspections and static evidence in.

import type { ChallengeResult, Concern } from '../harness/types.ts';
import type { SubmissionEvidence } from './evidence/types.ts';
import { measure, ran } from './measures.ts';

export const CONCERNS: { id: string; title: string; why: string }[] = [
  { id: 'poor-database-design', title: 'Poor database design', why: 'Without keys the database cannot enforce the invariant, and without indexes every lookup scans.' },
  { id: 'no-retries', title: 'No retries', why: 'Transient faults (serialization failures, dropped connections, 503s) reach the caller as errors instead of being retried.' },
  { id: 'no-monitoring', title: 'No monitoring', why: 'Nothing is logged through ctx.log, so an incident in production could not be reconstructed.' },
  { id: 'hard-coded-values', title: 'Hard-coded values', why: 'Credentials and URLs belong to the environment (the context), not the code.' },
  { id: 'no-transaction-handling', title: 'No transaction handling', why: 'Writes that belong together can be half-applied, or a transaction or lock is left open.' },
  { id: 'swallowed-errors', title: 'Swallowed errors', why: 'An empty catch hides the failure from the caller and from the logs.' },
  { id: 'sql-built-from-input', title: 'SQL built from input', why: 'Interpolating caller input into SQL invites injection; use $1 parameters.' },
  { id: 'slow-under-contention', title: 'Slow under contention', why: 'Correct, but callers waited longer than a user would: requests queued behind one lock or a small pool, so a hot key collapses throughput and every caller times out in production.' },
];

const RETRY_CHECKS = ['eventually-created', 'retry-backoff', 'honours-retry-after', 'eventually-processed'];
const at = (r: { file: string; line: number; text?: string }) => `${r.file}:${r.line}${r.text ? `  ${r.text}` : ''}`;

export function findConcerns(challenges: ChallengeResult[], evidence?: SubmissionEvidence): Concern[] {
  const stat = evidence?.static ?? null;
  const found = new Map<string, string[]>();
  const add = (id: string, line: string) => {
    const list = found.get(id) ?? found.set(id, []).get(id)!;
    if (list.length < 6 && !list.includes(line)) list.push(line);
  };
  const attempted = challenges.filter((c) => c.status !== 'not-attempted');
  if (!attempted.length) return [];
  // Nothing ran (every module failed to load): there is no behaviour to be concerned about, only the load error.
  if (!attempted.some(ran)) return [];

  // Poor database design: tables without keys, lookups no index serves.
  const keys = measure('schema-keys', { challenges, evidence });
  if (keys.share !== null && keys.share < 1) add('poor-database-design', keys.detail);
  const idx = measure('schema-indexes', { challenges, evidence });
  if (idx.share !== null && idx.share < 1) add('poor-database-design', idx.detail);

  // No retries: retry checks failed; strict isolation with no retry loop; indeterminate answers under faults.
  for (const c of attempted) {
    for (const s of c.scenarios) {
      for (const k of s.checks) {
        if (k.passed !== false) continue;
        if (RETRY_CHECKS.includes(k.id)) add('no-retries', `${k.id} failed in ${c.id}/${s.id}: ${k.message}`);
        if (k.id === 'definite-rejections' && stat && !stat.retries.length && /40001|40P01|could not serialize|deadlock detected|ECONNRESET|terminat|status 5\d\d/i.test(`${k.message} ${JSON.stringify(k.counterexample ?? '').slice(0, 4000)}`)) {
          add('no-retries', `definite-rejections failed in ${c.id}/${s.id} with transient database errors reaching callers, and no retry logic was found in the code`);
        }
      }
    }
  }
  if (stat && stat.strictIsolation.length && !stat.retries.length) add('no-retries', `strict isolation at ${at(stat.strictIsolation[0])} with no retry loop: serialization failures (40001) reach the caller`);

  // No monitoring.
  const logging = measure('structured-logging', { challenges, evidence });
  if (logging.share === 0) add('no-monitoring', logging.detail);

  // Hard-coded values.
  for (const h of stat?.hardcoded ?? []) add('hard-coded-values', `${h.kind} at ${at(h)}`);

  // No transaction handling: several writes with nothing around them; transactions or locks left open.
  for (const w of stat?.unguardedMultiWrites ?? []) add('no-transaction-handling', `two or more writes with no transaction around them in the function at ${at(w)}`);
  for (const w of stat?.readThenWrite ?? []) add('no-transaction-handling', `reads, then writes by key alone with no transaction, row lock or condition on the write (check-then-act) in the function at ${at(w)}`);
  for (const c of attempted) {
    for (const s of c.scenarios) {
      const i = s.inspection;
      if (!i || i.error) continue;
      if (i.idleInTransaction.length) add('no-transaction-handling', `${c.id}/${s.id}: ${i.idleInTransaction.length} session(s) left idle inside a transaction after the run (a client not released, or no ROLLBACK on an error path): "${i.idleInTransaction[0].query.slice(0, 80)}"`);
      if (i.advisoryLocks) add('no-transaction-handling', `${c.id}/${s.id}: ${i.advisoryLocks} advisory lock(s) still held after the run`);
    }
  }

  // Slow under contention: answers after the deadline (measured; never a failed check on their own).
  for (const c of attempted) {
    for (const s of c.scenarios) {
      const slow = s.metrics.slowCalls;
      if (typeof slow !== 'number' || slow <= 0) continue;
      add('slow-under-contention', `${c.id}/${s.id}: ${slow} of ${s.metrics.operations} calls answered after ${s.metrics.answerDeadlineMs} ms (slowest ${s.metrics.maxLatencyMs} ms, p50 ${Math.round(s.metrics.p50Ms)} ms): callers queue — a lock convoy on a hot row, locks held across round trips, or a pool too small`);
    }
  }

  for (const e of stat?.swallowedErrors ?? []) add('swallowed-errors', `empty catch at ${at(e)}`);
  for (const e of stat?.interpolatedSql ?? []) add('sql-built-from-input', `caller input interpolated into SQL at ${at(e)}`);

  return CONCERNS.filter((c) => found.has(c.id)).map((c) => ({ id: c.id, title: c.title, evidence: found.get(c.id)! }));
}
