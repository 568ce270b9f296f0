// Measured evidence for automatic rubric parts, besides check results: each measure turns the run's metrics,
// the scenario inspections and the static evidence into a share 0..1 with a sentence saying why, or `null`
// when this run could not measure it (its points then go to the item's other parts). Pure functions.

import type { ChallengeResult, ScenarioResult } from '../harness/types.ts';
import type { MeasureId } from './rubric.ts';
import type { ScenarioInspection, SubmissionEvidence } from './evidence/types.ts';
import type { ScenarioWireEvidence } from './evidence/wire/types.ts';
import type { UnindexedScan } from './evidence/sql/explain.ts';
import { busyTimingReason, slowDeadlineText } from '../harness/machine-watch.ts';

export interface MeasureResult {
  share: number | null;
  detail: string;
  /** Evidence ids (`metric:…`, `db:…`, `static:…`), listed in the rubric line. */
  evidence: string[];
}

export interface MeasureInput {
  challenges: ChallengeResult[];
  evidence?: SubmissionEvidence;
}

/** Throughput at or above this share of the fastest reference earns full marks; at or below the floor, none. */
export const THROUGHPUT_FULL = 0.75;
export const THROUGHPUT_FLOOR = 0.25;
/** Redis keys that look like locks or holds must expire; a leaked lock blocks its resource forever. */
const LOCK_KEY = /lock|mutex|hold|lease|semaphore/i;

const clamp01 = (x: number) => Math.max(0, Math.min(1, x));
const round2 = (x: number) => Math.round(x * 100) / 100;
const plural = (n: number, one: string, many = one + 's') => `${n} ${n === 1 ? one : many}`;
const at = (r: { file: string; line: number }) => `${r.file}:${r.line}`;

function inspections(challenges: ChallengeResult[]): { challenge: string; scenario: string; inspection: ScenarioInspection }[] {
  return challenges.flatMap((c) => c.scenarios.filter((s) => s.inspection && !s.inspection.error).map((s) => ({ challenge: c.id, scenario: s.id, inspection: s.inspection! })));
}

/** The tables the candidate created, per challenge the richest inspection (they agree within a challenge). */
function tablesOf(challenges: ChallengeResult[]) {
  const byChallenge = new Map<string, ScenarioInspection>();
  for (const i of inspections(challenges)) {
    const cur = byChallenge.get(i.challenge);
    if (!cur || i.inspection.tables.length > cur.tables.length) byChallenge.set(i.challenge, i.inspection);
  }
  const tables = new Map<string, ScenarioInspection['tables'][number]>();
  for (const insp of byChallenge.values()) for (const t of insp.tables) if (!tables.has(t.name)) tables.set(t.name, t);
  return [...tables.values()];
}

/** A scenario's wire evidence, when it was analysed. */
export function wireOf(s: ScenarioResult): ScenarioWireEvidence | null {
  return s.wire && !('error' in s.wire) ? s.wire : null;
}

/** A challenge ran when its module loaded somewhere: some scenario's `loads` check passed. */
export function ran(ch: ChallengeResult): boolean {
  return ch.scenarios.some((s) => s.checks.some((c) => c.id === 'loads' && c.passed === true));
}

export function measure(id: MeasureId, input: MeasureInput): MeasureResult {
  const stat = input.evidence?.static ?? null;
  const noStatic = { share: null, detail: `not measured: ${input.evidence?.staticError ?? 'the source was not read'}`, evidence: [] };
  switch (id) {
    case 'throughput-ratio': {
      const runs = input.challenges.flatMap((c) => c.scenarios.filter((s) => typeof s.metrics.throughputRatio === 'number').map((s) => ({ c, s, ratio: s.metrics.throughputRatio as number })));
      if (!runs.length) return { share: null, detail: 'not measured in this run (the load scenario compares against the fastest reference in the standard and thorough profiles)', evidence: [] };
      const parts = runs.map(({ c, s, ratio }) => {
        if (s.status !== 'passed') return { share: 0, text: `${c.id}/${s.id}: ${ratio}× the reference, but the scenario failed its checks (a fast wrong answer earns nothing)` };
        return { share: clamp01((ratio - THROUGHPUT_FLOOR) / (THROUGHPUT_FULL - THROUGHPUT_FLOOR)), text: `${c.id}/${s.id}: ${ratio}× the fastest reference ${s.metrics.referenceMeasured && s.metrics.referenceMeasured !== 'now' ? `measured on this machine at ${s.metrics.referenceMeasured}` : 'in the same run'} (${s.metrics.loadThroughputPerS ?? s.metrics.throughputPerS} vs ${s.metrics.referenceThroughputPerS} req/s)` };
      });
      return { share: round2(parts.reduce((a, p) => a + p.share, 0) / parts.length), detail: `${parts.map((p) => p.text).join('; ')}; full marks from ${THROUGHPUT_FULL}×`, evidence: ['metric:throughputRatio'] };
    }
    case 'answer-latency': {
      // Correct but slow is scored here, never failed (CONTRACT §8): the share of calls answered within the deadline.
      // Answer times taken while the machine was busy are the machine's (CONTRACT §8): left out, and said.
      const timed = input.challenges.flatMap((c) => c.scenarios.filter((s) => typeof s.metrics.slowCalls === 'number' && s.metrics.operations > 0).map((s) => ({ c, s, busy: busyTimingReason(s.metrics) })));
      const excused = timed.filter((t) => t.busy && (t.s.metrics.slowCalls as number) > 0).map(({ c, s, busy }) => `${c.id}/${s.id}: ${s.metrics.slowCalls} answered after ${s.metrics.answerDeadlineMs} ms, not scored: ${busy}`);
      const runs = timed.filter((t) => !t.busy);
      if (!runs.length) return { share: null, detail: timed.length ? `not measured: ${excused.length ? excused.join('; ') : 'every scenario ran while the machine was busy (answer times there are the machine\'s)'}` : 'not measured: no scenario recorded answer times', evidence: [] };
      const parts = runs.map(({ c, s }) => {
        const slow = s.metrics.slowCalls as number;
        if (s.status !== 'passed') return { share: 0, text: `${c.id}/${s.id}: failed its checks` };
        return { share: 1 - slow / s.metrics.operations, text: slow ? `${c.id}/${s.id}: ${slow} of ${s.metrics.operations} answered after ${slowDeadlineText(s.metrics)} (slowest ${s.metrics.maxLatencyMs} ms)` : '' };
      });
      const slowParts = [...parts.filter((p) => p.text).map((p) => p.text), ...excused];
      return { share: round2(parts.reduce((a, p) => a + p.share, 0) / parts.length), detail: slowParts.length ? slowParts.join('; ') : `every call answered within the deadline in ${runs.length} scenario(s)`, evidence: ['metric:slowCalls'] };
    }
    case 'schema-keys': {
      if (!inspections(input.challenges).length) return { share: null, detail: 'not measured: no scenario database was inspected', evidence: [] };
      const tables = tablesOf(input.challenges);
      if (!tables.length) return { share: null, detail: 'not measured: the scenario database has no tables (state kept elsewhere)', evidence: ['db:schema'] };
      const keyed = tables.filter((t) => t.primaryKey || t.unique.length);
      const fks = tables.reduce((n, t) => n + t.foreignKeys.length, 0);
      const missing = tables.filter((t) => !t.primaryKey && !t.unique.length).map((t) => t.name);
      return {
        share: round2(keyed.length / tables.length),
        detail: `${keyed.length} of ${plural(tables.length, 'table')} ${tables.length === 1 ? 'has' : 'have'} a primary key or unique constraint${missing.length ? ` (none on ${missing.join(', ')})` : ''}; ${plural(fks, 'foreign key')}`,
        evidence: ['db:schema'],
      };
    }
    case 'schema-indexes': {
      // Observed, not guessed: the statements the code sent, EXPLAINed against the final database (rubric/evidence/sql/explain.ts).
      const runs = input.challenges.flatMap((c) => c.scenarios.flatMap((s) => {
        const w = wireOf(s);
        return w?.indexes ? [w.indexes] : [];
      }));
      if (!runs.length) return { share: null, detail: 'not measured: no recorded statement was EXPLAINed (nothing recorded, or no database)', evidence: [] };
      const verdict = new Map<string, boolean>();
      const scans = new Map<string, UnindexedScan>();
      // A statement only the grader's final reads sent, in every scenario (an occasional listing such as the dead
      // letters, over a few hundred rows): not the service's traffic, so not held against its design; said, not counted.
      const inTraffic = new Set<string>();
      for (const r of runs) {
        for (const s of r.scans) {
          const key = `${s.table}\u0000${s.sql}`;
          const have = scans.get(key);
          if (!have || s.rows > have.rows) scans.set(key, s);
          verdict.set(s.sql, false);
          if (s.workloadCount !== 0) inTraffic.add(s.sql);
        }
      }
      const checked = runs.reduce((n, r) => Math.max(n, r.checked), 0);
      if (!checked) return { share: null, detail: 'not measured: the code sent no statement with a predicate on a table', evidence: [] };
      const all = [...scans.values()].sort((a, b) => b.count - a.count);
      const bad = all.filter((b) => inTraffic.has(b.sql));
      const occasional = all.filter((b) => !inTraffic.has(b.sql));
      const occasionalSql = new Set(occasional.map((b) => b.sql)).size;
      const total = Math.max(1, Math.max(checked, verdict.size) - occasionalSql);
      const unindexed = new Set(bad.map((b) => b.sql)).size;
      const scanText = (b: UnindexedScan) => `sequential scan on ${b.table} (${plural(b.rows, 'row')}, filter ${b.filter}) for "${b.sql.slice(0, 120)}" (ran ${plural(b.count, 'time')})`;
      const notCounted = occasional.length ? `; not counted, sent only for the final reads (an occasional listing): ${occasional.slice(0, 2).map(scanText).join('; ')}` : '';
      return {
        share: round2((total - unindexed) / total),
        detail: `${total - unindexed} of ${plural(total, 'distinct statement')} with a predicate can use an index${bad.length ? `; no index serves ${bad.slice(0, 3).map(scanText).join('; ')}` : ''}${notCounted}`,
        evidence: ['wire:sql', 'db:explain'],
      };
    }
    case 'clean-sessions': {
      const all = inspections(input.challenges);
      if (!all.length) return { share: null, detail: 'not measured: no scenario database was inspected', evidence: [] };
      const problems: string[] = [];
      for (const { challenge, scenario, inspection: i } of all) {
        if (i.idleInTransaction.length) problems.push(`${challenge}/${scenario}: ${plural(i.idleInTransaction.length, 'session')} idle in a transaction after the run (e.g. "${i.idleInTransaction[0].query.slice(0, 60)}", ${i.idleInTransaction[0].ageMs} ms)`);
        if (i.advisoryLocks) problems.push(`${challenge}/${scenario}: ${plural(i.advisoryLocks, 'advisory lock')} still held after the run`);
        const locks = i.redis?.sampleWithoutTtl.filter((k) => LOCK_KEY.test(k)) ?? [];
        if (locks.length) problems.push(`${challenge}/${scenario}: Redis lock keys without an expiry (${locks.slice(0, 3).join(', ')})`);
      }
      return { share: problems.length ? 0 : 1, detail: problems.length ? problems.slice(0, 4).join('; ') : `no transaction left open, no advisory lock or lock key left behind (${plural(all.length, 'scenario')} inspected)`, evidence: ['db:sessions', 'redis:keys'] };
    }
    case 'strict-types': {
      if (!stat) return noStatic;
      const t = stat.typescript;
      if (!t.checked) return t.reason?.startsWith('plain JavaScript') ? { share: 0, detail: t.reason, evidence: ['static:typescript'] } : { share: null, detail: `not measured: ${t.reason ?? 'not checked'}`, evidence: [] };
      const share = round2(clamp01(1 - 0.2 * t.errors - 0.1 * t.explicitAny));
      return { share, detail: `tsc --strict: ${plural(t.errors, 'error')}${t.errorSamples[0] ? ` (first: ${at(t.errorSamples[0])} ${t.errorSamples[0].message})` : ''}; ${t.explicitAny} explicit any`, evidence: ['static:typescript'] };
    }
    case 'no-hardcoded-config': {
      if (!stat) return noStatic;
      return stat.hardcoded.length
        ? { share: 0, detail: `hard-coded ${stat.hardcoded.slice(0, 3).map((h) => `${h.kind} at ${at(h)}`).join(', ')} (use the context: ctx.pg, ctx.redis, ctx.services, ctx.webhookSecret)`, evidence: ['static:hardcoded'] }
        : { share: 1, detail: 'no credentials or connection URLs written in the code', evidence: ['static:hardcoded'] };
    }
    case 'parameterised-sql': {
      const injected = input.challenges.flatMap((c) => c.scenarios.flatMap((s) => {
        const w = wireOf(s);
        return w?.injection.count ? [`${c.id}/${s.id}: ${w.injection.examples[0]?.what ?? 'a probe in the SQL text'}`] : [];
      }));
      if (injected.length) return { share: 0, detail: `observed on the wire: ${injected.slice(0, 2).join('; ')}`, evidence: ['wire:sql'] };
      const sentSql = input.challenges.some((c) => c.scenarios.some((s) => (wireOf(s)?.statements ?? 0) > 0));
      if (stat?.interpolatedSql.length) return { share: 0, detail: `SQL built from caller input at ${stat.interpolatedSql.slice(0, 3).map((e) => `${at(e)} (${e.source})`).join(', ')} (use $1 parameters)`, evidence: ['static:sql'] };
      if (!sentSql && !stat?.usesPostgres) return { share: null, detail: stat ? 'not measured: no SQL in the code or on the wire' : noStatic.detail, evidence: [] };
      return { share: 1, detail: `no caller input found in SQL text${sentSql ? ' (the hostile inputs the scenarios send never appeared in a statement\'s text)' : ''}${stat ? ' and none flows into a SQL string in the code' : ''}`, evidence: [...(sentSql ? ['wire:sql'] : []), ...(stat ? ['static:sql'] : [])] };
    }
    case 'structured-logging': {
      const ran = input.challenges.flatMap((c) => c.scenarios.filter((s) => !s.skipped && typeof s.metrics.ctxLogLines === 'number'));
      const lines = ran.reduce((n, s) => n + Number(s.metrics.ctxLogLines), 0);
      const calls = stat?.ctxLogCalls ?? 0;
      // HTTP mode has no ctx.log: its structured log is JSON lines on stdout or stderr (CONTRACT §6).
      const httpMode = ran.some((s) => s.metrics.httpMode === 1);
      if (ran.length) {
        if (lines > 0) return { share: 1, detail: `${plural(lines, 'line')} logged ${httpMode ? 'as JSON lines on stdout or stderr' : 'through ctx.log'} during the run`, evidence: ['metric:ctxLogLines'] };
        if (calls > 0) return { share: 0.5, detail: `ctx.log appears ${plural(calls, 'time')} in the code, but nothing was logged through it during the run`, evidence: ['metric:ctxLogLines', 'static:ctx-log'] };
        if (httpMode) return { share: 0, detail: 'nothing logged as structured lines: an HTTP-mode server logs as one JSON object per line on stdout or stderr (CONTRACT §6), and no line was one', evidence: ['metric:ctxLogLines'] };
        return { share: 0, detail: `nothing logged through ctx.log${stat?.consoleCalls ? ` (console is used ${plural(stat.consoleCalls, 'time')}: unstructured, and not collected)` : ''}`, evidence: ['metric:ctxLogLines'] };
      }
      if (!stat) return { share: null, detail: 'not measured: no scenario ran and the source was not read', evidence: [] };
      return { share: calls > 0 ? 1 : 0, detail: calls > 0 ? `ctx.log appears ${plural(calls, 'time')} in the code` : 'ctx.log is never called', evidence: ['static:ctx-log'] };
    }
    case 'reported-metrics': {
      // Scenarios that compared a module's own metrics() with what the harness measured (subscription-reads).
      const ran = input.challenges.flatMap((c) => c.scenarios.filter((s) => !s.skipped && typeof s.metrics.metricsAgreement === 'number'));
      if (!ran.length) return { share: null, detail: 'not measured: no scenario asked the module for its metrics', evidence: [] };
      const share = ran.reduce((n, s) => n + Number(s.metrics.metricsAgreement), 0) / ran.length;
      const detail = ran.map((s) => String(s.metrics.metricsDetail ?? '')).filter(Boolean).join('; ');
      return { share: Math.round(share * 100) / 100, detail: detail || `metrics() agreed with the harness's figures on ${Math.round(share * 100)} % of instances`, evidence: ['metric:metricsAgreement'] };
    }
    case 'own-tests': {
      if (!stat) return noStatic;
      const t = stat.tests;
      if (!t.files.length) return { share: 0, detail: 'no tests of their own', evidence: ['static:tests'] };
      const share = t.concurrencyTests && t.failureTests ? 1 : t.concurrencyTests || t.failureTests ? 0.75 : 0.5;
      return { share, detail: `${plural(t.files.length, 'test file')} (${t.concurrencyTests} exercising concurrency, ${t.failureTests} exercising failures): ${t.files.slice(0, 4).join(', ')}`, evidence: ['static:tests'] };
    }
  }
}
