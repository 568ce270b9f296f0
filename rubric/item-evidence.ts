// What an interviewer should look at while scoring a manual item: the run's facts that bear on it (the
// automatic half of a mixed item, techniques found in the code, logging figures, checks that speak to it).
// Pure: a stored result in, lines of text out.

import type { GradeResult } from './result.ts';
import { wireOf } from './measures.ts';

const checkLine = (r: GradeResult, ids: string[]): string | null => {
  const seen: string[] = [];
  for (const ch of r.challenges) for (const s of ch.scenarios) for (const c of s.checks) if (ids.includes(c.id)) seen.push(`${c.passed === true ? '✓' : c.passed === false ? '✗' : '?'} ${c.id} (${s.id})`);
  return seen.length ? `checks: ${[...new Set(seen)].join(', ')}` : null;
};

export function evidenceForItem(itemId: string, r: GradeResult): string[] {
  const s = r.evidence?.static ?? null;
  const out: (string | null | undefined)[] = [];
  const autoLine = r.rubric.find((l) => l.id === itemId && l.source === 'auto');
  if (autoLine?.detail) out.push(`measured: ${autoLine.awarded}/${autoLine.points} — ${autoLine.detail}`);
  // Concurrency control as observed on the wire: technique → statements using it, over every scenario.
  const seen = new Map<string, { count: number; example: string }>();
  for (const c of r.challenges) for (const x of c.scenarios) for (const t of wireOf(x)?.techniques ?? []) {
    const have = seen.get(t.technique);
    if (have) have.count += t.count;
    else seen.set(t.technique, { count: t.count, example: t.example });
  }
  const techniques = [...seen].map(([t, v]) => `${t} — ${v.count} statement(s), e.g. ${v.example}`);
  const redisLocks = r.challenges.flatMap((c) => c.scenarios.flatMap((x) => {
    const l = wireOf(x)?.redisLocks;
    return l ? [`${c.id}/${x.id}: ${l.acquired} Redis lock(s) taken with SET NX (${l.withoutExpiry} without an expiry), released ${l.releasedByScript} time(s) by an owner-checking script and ${l.releasedByDel} time(s) by a plain DEL`] : [];
  }));
  const unindexed = r.challenges.flatMap((c) => c.scenarios.flatMap((x) => (wireOf(x)?.indexes?.scans ?? []).map((sc) => `${c.id}/${x.id}: sequential scan on ${sc.table} (${sc.rows} rows) for "${sc.sql.slice(0, 100)}" (ran ${sc.count} times)`)));
  const tables = [...new Map(r.challenges.flatMap((c) => c.scenarios.flatMap((x) => x.inspection?.tables ?? [])).map((t) => [t.name, t])).values()];
  const logLines = r.challenges.flatMap((c) => c.scenarios).reduce((n, x) => n + (typeof x.metrics.ctxLogLines === 'number' ? x.metrics.ctxLogLines : 0), 0);
  switch (itemId) {
    case 'technology-choices':
      if (s) out.push(`stores used: ${[s.usesPostgres && 'PostgreSQL', s.usesRedis && 'Redis'].filter(Boolean).join(' + ') || 'none found'}`);
      out.push(techniques.length ? `concurrency control seen on the wire: ${techniques.join('; ')}` : 'concurrency control seen on the wire: none (no row lock, advisory lock, strict isolation, conditional write or upsert)');
      out.push(...redisLocks);
      break;
    case 'database-design':
      for (const t of tables) out.push(`table ${t.name}: primary key ${t.primaryKey ? `(${t.primaryKey.join(', ')})` : 'NONE'}; ${t.indexes.length} index(es)${t.unique.length ? `; unique ${t.unique.map((u) => `(${u.join(', ')})`).join(' ')}` : ''}; ${t.foreignKeys.length} foreign key(s)`);
      out.push(...[...new Set(unindexed)].slice(0, 5));
      break;
    case 'api-design':
      out.push(checkLine(r, ['idempotent-rereserve', 'definite-rejections', 'duplicates-acknowledged', 'signature-enforced']));
      break;
    case 'monitoring':
    case 'performance-monitoring':
      out.push(`${logLines} line(s) logged through ctx.log during the run; ctx.log appears ${s?.ctxLogCalls ?? '?'} time(s) in the code; console ${s?.consoleCalls ?? '?'} time(s)`);
      out.push(r.concerns?.find((c) => c.id === 'no-monitoring') ? 'concern raised: no monitoring' : null);
      break;
    case 'caching':
      if (s) out.push(`Redis ${s.usesRedis ? 'is' : 'is not'} used`);
      for (const c of r.challenges) for (const x of c.scenarios) if (x.inspection?.redis?.keys) out.push(`${c.id}/${x.id}: ${x.inspection.redis.keys} Redis key(s) after the run, ${x.inspection.redis.withoutTtl} without an expiry${x.inspection.redis.sampleWithoutTtl.length ? ` (${x.inspection.redis.sampleWithoutTtl.slice(0, 3).join(', ')})` : ''}`);
      out.push(checkLine(r, ['winner-durable']));
      break;
    case 'database-optimisation':
      for (const c of r.challenges) for (const x of c.scenarios) if (x.metrics.loadThroughputPerS !== undefined) out.push(`${c.id}/${x.id}: ${x.metrics.loadThroughputPerS} req/s under load, p50 ${x.metrics.loadP50Ms ?? x.metrics.p50Ms} ms, p99 ${x.metrics.loadP99Ms ?? x.metrics.p99Ms} ms`);
      for (const t of tables) if (t.seqScans || t.indexScans) out.push(`table ${t.name}: ${t.seqScans} sequential scan(s), ${t.indexScans} index scan(s)`);
      break;
    case 'clean-code':
      if (s) out.push(`${s.files.length} file(s), ${s.linesOfCode} lines of code`);
      if (s?.swallowedErrors.length) out.push(`errors of writes dropped: ${s.swallowedErrors.map((e) => `${e.file}:${e.line} (${e.how})`).join(', ')}`);
      if (s?.poolTransactions.length) out.push(`transaction control through the pool: ${s.poolTransactions.map((e) => `${e.file}:${e.line}`).join(', ')}`);
      break;
    case 'type-safety':
      if (s?.typescript.errorSamples.length) out.push(...s.typescript.errorSamples.slice(0, 3).map((e) => `${e.file}:${e.line} ${e.message}`));
      if (s?.typescript.anySamples.length) out.push(`explicit any at ${s.typescript.anySamples.slice(0, 5).map((e) => `${e.file}:${e.line}`).join(', ')}`);
      break;
    case 'testing':
      if (s) out.push(s.tests.files.length ? `own tests: ${s.tests.files.join(', ')}` : 'no tests of their own');
      break;
  }
  return out.filter((x): x is string => !!x);
}
