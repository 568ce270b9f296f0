// The "major concerns" an expert reviewer would raise (poor database design, no retries, no monitoring,
// hard-coded values, no transaction handling, swallowed errors, SQL built from input, slow under contention):
// warnings with their evidence, never a rejection on their own. Each names what was observed — the statements
// on the wire (instance, connection, time, the call that sent them), the catalog, EXPLAIN, or file:line from the
// compiler's AST — never a guess from the shape of the source text. Pure: check results, inspections, wire and
// static evidence in.

import type { ChallengeResult } from '../harness/types.ts';
import type { Concern } from './result.ts';
import type { SubmissionEvidence } from './evidence/types.ts';
import type { FindingList, ScenarioWireEvidence } from './evidence/wire/types.ts';
import { measure, ran, wireOf } from './measures.ts';
import { busyTimingReason, slowDeadlineText } from '../harness/machine-watch.ts';

export const CONCERNS: { id: string; title: string; why: string; evidence: string }[] = [
  { id: 'poor-database-design', title: 'Poor database design', why: 'Without keys the database cannot enforce the invariant, and without indexes every lookup scans.', evidence: 'tables without a primary key or unique constraint (catalog); statements the code sent during the workload that no index can serve (EXPLAIN of the recorded statement with its recorded parameters, sequential scans disabled, against the final database; one only the final reads sent is not held against it)' },
  { id: 'no-retries', title: 'No retries', why: 'Transient faults (serialization failures, deadlocks, 503s) reach the caller as errors instead of being retried.', evidence: 'retry checks that failed (retry-backoff, honours-retry-after; eventually-created when a purchase never completed or a call was answered with an error it should have ridden out); serialization failures and deadlocks (40001, 40P01) seen on the wire none of which was retried (the calls that met them were answered with the error)' },
  { id: 'no-monitoring', title: 'No monitoring', why: 'Nothing is logged through ctx.log, so an incident in production could not be reconstructed.', evidence: 'lines logged through ctx.log during the run (counted by the harness)' },
  { id: 'hard-coded-values', title: 'Hard-coded values', why: 'Credentials and URLs belong to the environment (the context), not the code.', evidence: 'file:line of credentials and connection or service URLs written in the code (TypeScript AST, through locals and destructuring)' },
  { id: 'no-transaction-handling', title: 'No transaction handling', why: 'Writes that belong together can be half-applied, or a transaction or lock is left open.', evidence: 'on the wire: one call\'s writes to different tables committed as separate autocommit statements; a plain read then a write by key alone of the same table, each in autocommit (check-then-act); COMMIT with no transaction in progress or BEGIN inside one (PostgreSQL\'s warnings 25P01/25001: the pool mix-up); statements sent into a failed transaction (25P02); a transaction left idle after its call answered. In the catalog: sessions idle in a transaction and advisory locks after the run. In the code: BEGIN/COMMIT sent through the pool (file:line)' },
  { id: 'swallowed-errors', title: 'Swallowed errors', why: 'A failure hidden from the caller and from the logs: the caller is told it worked.', evidence: 'on the wire: a call answered ok while a write or COMMIT it sent was refused and never sent again; in the code: an empty catch, a `.catch(() => {})` or a catch that returns success around a write (file:line); a commented empty catch around Redis writes alone is a stated best-effort cache update, not this' },
  { id: 'sql-built-from-input', title: 'SQL built from input', why: 'Interpolating caller input into SQL invites injection; use $1 parameters.', evidence: 'on the wire: the scenario\'s hostile strings found in SQL text outside any string literal (the real PostgreSQL parser decides; also the red flag security-vulnerability); in the code: input flowing into a SQL template or concatenation (file:line)' },
  { id: 'slow-under-contention', title: 'Slow under contention', why: 'Correct, but callers waited longer than a user would: requests queued behind one lock or a small pool, so a hot key collapses throughput and every caller times out in production.', evidence: 'calls answered after the answer deadline (history) — or, where callers queue behind one lock by design, after 1.5× the slowest answer of the plainest correct design (one row lock per caller) run on the same scenario and machine, when that is longer — in scenarios that ran while the machine was not busy (other programs took under half a core, or under 1 s of CPU in all; the harness never starved)' },
];

/**
 * Failed checks that show missing retries, with what their message must say: a purchase that never completed or a
 * call answered with an error the service should have ridden out (not a mismatched purchase, which is idempotency;
 * not a webhook event applied wrong, which the provider's redeliveries would have fixed).
 */
const RETRY_CHECKS: Record<string, RegExp> = {
  'retry-backoff': /./,
  'honours-retry-after': /./,
  'eventually-created': /never became a subscription|ride out transient/,
};
const at = (r: { file: string; line: number; text?: string }) => `${r.file}:${r.line}${r.text ? `  ${r.text}` : ''}`;

/** A wire finding list as evidence lines: the first example in full (what, call, statements), and the count. */
function wireLines(where: string, list: FindingList | undefined): string[] {
  if (!list?.count) return [];
  const first = list.examples[0];
  const lines = [`${where}: ${first.what}${list.count > 1 ? ` (seen ${list.count} times)` : ''}`];
  if (first.op) lines.push(`  ${first.op}`);
  for (const s of first.statements.slice(0, 4)) lines.push(`    ${s}`);
  return [lines.join('\n')];
}

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
  const wires: { where: string; wire: ScenarioWireEvidence }[] = attempted.flatMap((c) => c.scenarios.flatMap((s) => {
    const w = wireOf(s);
    return w && s.status !== 'inconclusive' ? [{ where: `${c.id}/${s.id}`, wire: w }] : [];
  }));

  // Poor database design: tables without keys; statements no index can serve (EXPLAIN).
  const keys = measure('schema-keys', { challenges, evidence });
  if (keys.share !== null && keys.share < 1) add('poor-database-design', keys.detail);
  const idx = measure('schema-indexes', { challenges, evidence });
  if (idx.share !== null && idx.share < 1) add('poor-database-design', idx.detail);

  // No retries: retry checks failed; serialization failures and deadlocks that were never retried.
  for (const c of attempted) {
    for (const s of c.scenarios) {
      if (s.status === 'inconclusive') continue;
      for (const k of s.checks) if (k.passed === false && RETRY_CHECKS[k.id]?.test(k.message)) add('no-retries', `${k.id} failed in ${c.id}/${s.id}: ${k.message}`);
    }
  }
  for (const { where, wire } of wires) {
    const t = wire.transientErrors;
    if (t.serialization && t.serializationRetried === 0) add('no-retries', `${where}: ${t.serialization} serialization failure(s) or deadlock(s) (40001/40P01) and none was retried: each call that met one was answered with the error (or sent nothing more)${t.serializationExample ? `\n    ${t.serializationExample}` : ''}`);
  }

  // No monitoring.
  const logging = measure('structured-logging', { challenges, evidence });
  if (logging.share === 0) add('no-monitoring', logging.detail);

  // Hard-coded values.
  for (const h of stat?.hardcoded ?? []) add('hard-coded-values', `${h.kind} at ${at(h)}`);

  // No transaction handling: observed on the wire and in the catalog; BEGIN through the pool in the code.
  for (const { where, wire } of wires) {
    for (const line of [...wireLines(where, wire.poolMixups), ...wireLines(where, wire.splitWrites), ...wireLines(where, wire.failedTransactionWrites), ...wireLines(where, wire.outlivedCall), ...wireLines(where, wire.checkThenAct)]) add('no-transaction-handling', line);
  }
  for (const p of stat?.poolTransactions ?? []) add('no-transaction-handling', `transaction control sent through the pool (each query may run on another connection) at ${at(p)}`);
  for (const c of attempted) {
    for (const s of c.scenarios) {
      const i = s.inspection;
      if (!i || i.error || s.status === 'inconclusive') continue;
      if (i.idleInTransaction.length) add('no-transaction-handling', `${c.id}/${s.id}: ${i.idleInTransaction.length} session(s) left idle inside a transaction after the run (a client not released, or no ROLLBACK on an error path): "${i.idleInTransaction[0].query.slice(0, 80)}"`);
      if (i.advisoryLocks) add('no-transaction-handling', `${c.id}/${s.id}: ${i.advisoryLocks} advisory lock(s) still held after the run`);
    }
  }

  // Slow under contention: answers after the deadline (measured; never a failed check on their own), unless the
  // machine was busy while they were taken: then they are the machine's (CONTRACT §8).
  for (const c of attempted) {
    for (const s of c.scenarios) {
      const slow = s.metrics.slowCalls;
      if (typeof slow !== 'number' || slow <= 0 || busyTimingReason(s.metrics)) continue;
      add('slow-under-contention', `${c.id}/${s.id}: ${slow} of ${s.metrics.operations} calls answered after ${slowDeadlineText(s.metrics)} (slowest ${s.metrics.maxLatencyMs} ms, p50 ${Math.round(s.metrics.p50Ms)} ms): callers queued or waited — often a lock convoy on a hot row, locks held across round trips, a pool too small, or work done before answering that could be done after it`);
    }
  }

  // Swallowed errors: observed (a call told ok while its write failed), and in the code.
  for (const { where, wire } of wires) for (const line of wireLines(where, wire.swallowed)) add('swallowed-errors', line);
  const HOW = { 'empty-catch': 'an empty catch around a write', 'catch-noop': '.catch(() => {}) on a write', 'catch-returns-success': 'a catch that reports success when a write failed' } as const;
  for (const e of stat?.swallowedErrors ?? []) add('swallowed-errors', `${HOW[e.how] ?? 'error dropped'} at ${at(e)}`);

  // SQL built from input: the probes on the wire, and the data flow in the code.
  for (const { where, wire } of wires) for (const line of wireLines(where, wire.injection)) add('sql-built-from-input', line);
  for (const e of stat?.interpolatedSql ?? []) add('sql-built-from-input', `${e.source ? `${e.source} ` : 'caller input '}interpolated into SQL at ${at(e)}`);

  return CONCERNS.filter((c) => found.has(c.id)).map((c) => ({ id: c.id, title: c.title, evidence: found.get(c.id)! }));
}
