// Which of the statements a candidate sent no index can serve: EXPLAINs (never ANALYZE) each distinct statement
// with a predicate against the scenario's final database, with sequential scans disabled, inside a transaction
// that is rolled back. Bounded in time and never throws: what cannot be EXPLAINed is reported as skipped.

import type pg from 'pg';
import { connectPg, endPg, pgErrorText } from '../../../harness/infra/pg-admin.ts';
import { analyzeSql, loadSqlParser, shapeKey, type StatementShape } from './shape.ts';
import type { IndexEvidence, UnindexedScan } from '../../../harness/evidence-types.ts';

export type { IndexEvidence, UnindexedScan } from '../../../harness/evidence-types.ts';

export interface ExplainInput {
  sql: string;
  params: (string | null)[];
  count: number;
  /** Of `count`, how many were sent before the grader's final reads began (UnindexedScan.workloadCount). */
  workloadCount?: number;
}

export interface FindUnindexedScansOptions {
  /** Admin URL on the scenario's database. */
  adminUrl: string;
  /** The candidate's role: EXPLAIN runs under SET LOCAL ROLE, so names resolve and privileges apply as for the candidate. */
  role?: string;
  statements: ExplainInput[];
  /** The whole call, connection included (default 3000 ms). */
  budgetMs?: number;
  /** At most this many distinct statements, most frequent first (default 40). */
  maxStatements?: number;
}

const DEFAULT_BUDGET_MS = 3000;
const DEFAULT_MAX_STATEMENTS = 40;
const STATEMENT_TIMEOUT_MS = 1000;
const COUNT_TIMEOUT_MS = 500;
const LOCK_TIMEOUT_MS = 500;
const MAX_SQL_CHARS = 300;
const SAVEPOINT = 'gauntlet_explain';
const EXPLAINABLE = new Set<StatementShape['kind']>(['select', 'update', 'delete', 'insert', 'merge']);
const SYSTEM_SCHEMAS = /^(pg_catalog|information_schema|pg_toast.*)$/;
/** A bytea in hex form, which is also how the recorder writes binary-format parameters: not replayable as text. */
const BINARY_PARAM = /^\\x[0-9a-fA-F]*$/;

/** Whitespace collapsed, at most 300 characters. */
function brief(sql: string): string {
  const s = sql.replace(/\s+/g, ' ').trim();
  return s.length > MAX_SQL_CHARS ? `${s.slice(0, MAX_SQL_CHARS - 1)}…` : s;
}

interface Candidate {
  sql: string;
  params: (string | null)[];
  count: number;
  workloadCount?: number;
  exampleCount: number;
}

/** Single statements with a predicate on a table, one per shape (the most frequent example), most frequent first. */
function selectCandidates(inputs: ExplainInput[]): Candidate[] {
  const byShape = new Map<string, Candidate>();
  for (const input of inputs) {
    const a = analyzeSql(input.sql);
    if (a.error || a.statements.length !== 1) continue;
    const s = a.statements[0];
    if (!EXPLAINABLE.has(s.kind) || !s.predicate || s.reads.length + s.writes.length === 0) continue;
    const key = shapeKey(input.sql) ?? input.sql;
    const count = Number.isFinite(input.count) ? Math.max(0, input.count) : 0;
    const workloadCount = input.workloadCount;
    const seen = byShape.get(key);
    if (!seen) {
      byShape.set(key, { sql: input.sql, params: input.params, count, ...(workloadCount !== undefined ? { workloadCount } : {}), exampleCount: count });
    } else {
      seen.count += count;
      if (workloadCount !== undefined) seen.workloadCount = (seen.workloadCount ?? 0) + workloadCount;
      if (count > seen.exampleCount) Object.assign(seen, { sql: input.sql, params: input.params, exampleCount: count });
    }
  }
  return [...byShape.values()].sort((a, b) => b.count - a.count);
}

// ---------------------------------------------------------------------------------------------------------------
// Plans

interface PlanNode {
  'Node Type'?: string;
  'Relation Name'?: string;
  Alias?: string;
  Filter?: string;
  'Index Cond'?: string;
  Plans?: PlanNode[];
}

function planNodes(plan: unknown): PlanNode[] {
  const out: PlanNode[] = [];
  const visit = (n: PlanNode | undefined) => {
    if (!n || typeof n !== 'object') return;
    out.push(n);
    for (const c of n.Plans ?? []) visit(c);
  };
  const root = Array.isArray(plan) ? plan[0] : plan;
  visit((root as { Plan?: PlanNode } | undefined)?.Plan);
  return out;
}

const isSeqScan = (n: PlanNode) => n['Node Type'] === 'Seq Scan' && !!n['Relation Name'] && !!n.Filter;
/** An index read from end to end (for its order, or index-only) with the predicate applied as a filter. */
const isFullIndexScan = (n: PlanNode) =>
  (n['Node Type'] === 'Index Scan' || n['Node Type'] === 'Index Only Scan') && !!n['Relation Name'] && !!n.Filter && !n['Index Cond'];
const scanKey = (n: PlanNode) => `${n['Relation Name']}\u0000${n.Alias ?? ''}`;

interface Finding {
  relation: string;
  filter: string;
}

// ---------------------------------------------------------------------------------------------------------------

/**
 * EXPLAIN the distinct statements that have a predicate on a table and report those whose plan, with sequential
 * scans disabled, still scans a user table sequentially (no index can serve the predicate). Runs on one connection
 * in a transaction that is rolled back; never executes the statements and never throws.
 */
export async function findUnindexedScans(o: FindUnindexedScansOptions): Promise<IndexEvidence> {
  const started = Date.now();
  const budgetMs = Math.max(0, o.budgetMs ?? DEFAULT_BUDGET_MS);
  const deadline = started + budgetMs;
  const maxStatements = Math.max(0, o.maxStatements ?? DEFAULT_MAX_STATEMENTS);
  const budgetReason = `time budget of ${budgetMs} ms exhausted`;

  const evidence: IndexEvidence = { checked: 0, indexed: 0, scans: [], skipped: [] };
  /** Statements still to be EXPLAINed: whatever is left here when the call ends is reported as skipped. */
  let pending: Candidate[] = [];
  /** Set once the candidates are chosen; before that, running out of time skips the inputs as given. */
  let selected = false;
  let aborted = false;
  let client: pg.Client | null = null;
  let timer: NodeJS.Timeout | undefined;

  const skipPending = (reason: string) => {
    for (const c of pending) evidence.skipped.push({ sql: brief(c.sql), reason });
    pending = [];
  };

  const work = async (): Promise<void> => {
    try {
      await loadSqlParser();
    } catch (err) {
      for (const s of o.statements.slice(0, maxStatements)) evidence.skipped.push({ sql: brief(s.sql), reason: `SQL parser unavailable: ${pgErrorText(err)}` });
      return;
    }
    if (aborted) return;
    const all = selectCandidates(o.statements);
    selected = true;
    const chosen = all.slice(0, maxStatements);
    for (const c of all.slice(maxStatements)) evidence.skipped.push({ sql: brief(c.sql), reason: `not checked: beyond the ${maxStatements} most frequent statements` });
    for (const c of chosen) {
      if ((c.params ?? []).some((p) => typeof p === 'string' && BINARY_PARAM.test(p))) evidence.skipped.push({ sql: brief(c.sql), reason: 'a binary-format (or bytea) parameter cannot be replayed' });
      else pending.push(c);
    }
    if (pending.length === 0) return;

    try {
      const remaining = Math.max(1, deadline - Date.now());
      const c = await connectPg(o.adminUrl, { connectTimeoutMs: Math.min(remaining, 5000), queryTimeoutMs: remaining + 1000 });
      if (aborted) {
        void endPg(c);
        return;
      }
      client = c;
    } catch (err) {
      skipPending(`cannot connect: ${pgErrorText(err)}`);
      return;
    }
    const db = client as pg.Client;
    try {
      await db.query(
        `BEGIN; SET LOCAL statement_timeout = '${STATEMENT_TIMEOUT_MS}ms'; SET LOCAL lock_timeout = '${LOCK_TIMEOUT_MS}ms';
         SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = on;`,
      );
    } catch (err) {
      skipPending(`cannot start the transaction: ${pgErrorText(err)}`);
      return;
    }
    if (o.role) {
      try {
        await db.query(`SET LOCAL ROLE ${db.escapeIdentifier(o.role)}`);
      } catch (err) {
        skipPending(`cannot SET ROLE ${o.role}: ${pgErrorText(err)}`);
        return;
      }
    }

    /** Run `fn` in a savepoint that is always rolled back (locks and settings taken inside are released). */
    const inSavepoint = async <T>(fn: () => Promise<T>, timeoutMs = STATEMENT_TIMEOUT_MS): Promise<T> => {
      const ms = Math.max(1, Math.min(timeoutMs, deadline - Date.now()));
      await db.query(`SAVEPOINT ${SAVEPOINT}; SET LOCAL statement_timeout = ${Math.floor(ms)}`);
      try {
        return await fn();
      } finally {
        await db.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}; RELEASE SAVEPOINT ${SAVEPOINT}`);
      }
    };

    const explain = async (c: Candidate, extraSettings = ''): Promise<PlanNode[]> =>
      inSavepoint(async () => {
        if (extraSettings) await db.query(extraSettings);
        // Extended protocol: the parameters are bound, so the plan is the custom plan for these values.
        const r = await db.query({ text: `EXPLAIN (FORMAT JSON, COSTS false)\n${c.sql}`, values: c.params, queryMode: 'extended' } as pg.QueryConfig);
        return planNodes(r.rows[0]?.['QUERY PLAN']);
      });

    const relationCache = new Map<string, { table: string; rows: number } | null>();
    /** The user table behind a plan's relation name (null for catalogs), with its row count. */
    const relationInfo = async (relname: string): Promise<{ table: string; rows: number } | null> => {
      if (relationCache.has(relname)) return relationCache.get(relname)!;
      // The plan names the relation without its schema: resolve it the way the search path would.
      const rows = await inSavepoint(
        async () =>
          (
            await db.query<{ schema: string; reltuples: number }>(
              `SELECT n.nspname AS schema, c.reltuples::float8 AS reltuples
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relname = $1 AND c.relkind IN ('r', 'p', 'm', 'f')
                ORDER BY array_position(current_schemas(true), n.nspname::text) NULLS LAST, n.nspname LIMIT 1`,
              [relname],
            )
          ).rows,
      );
      let info: { table: string; rows: number } | null = null;
      const row = rows[0];
      if (row && !SYSTEM_SCHEMAS.test(row.schema)) {
        let count = Math.max(0, Math.round(Number(row.reltuples)));
        try {
          count = await inSavepoint(async () => {
            const q = `SELECT count(*)::float8 AS n FROM ${db.escapeIdentifier(row.schema)}.${db.escapeIdentifier(relname)}`;
            return Number((await db.query<{ n: number }>(q)).rows[0].n);
          }, COUNT_TIMEOUT_MS);
        } catch {
          // Too big to count within the budget, or not readable: keep the planner's estimate.
        }
        info = { table: row.schema === 'public' ? relname : `${row.schema}.${relname}`, rows: count };
      }
      relationCache.set(relname, info);
      return info;
    };

    while (pending.length > 0 && !aborted) {
      const c = pending[0];
      let findings: Finding[];
      try {
        const nodes = await explain(c);
        const seq = new Map<string, Finding>();
        for (const n of nodes.filter(isSeqScan)) seq.set(scanKey(n), { relation: n['Relation Name']!, filter: n.Filter! });
        // A full index scan with a filter (chosen for its order, e.g. ORDER BY id LIMIT 1) hides a missing index:
        // plan again with plain index scans off too; a predicate some index can serve then shows a bitmap scan.
        const suspects = nodes.filter((n) => isFullIndexScan(n) && !seq.has(scanKey(n)));
        if (suspects.length > 0 && !aborted) {
          const again = await explain(c, 'SET LOCAL enable_indexscan = off; SET LOCAL enable_indexonlyscan = off');
          for (const s of suspects) {
            const same = again.filter((n) => scanKey(n) === scanKey(s));
            if (same.some((n) => n['Node Type'] === 'Bitmap Heap Scan')) continue;
            const unserved = same.find((n) => isSeqScan(n) || isFullIndexScan(n));
            if (unserved) seq.set(scanKey(s), { relation: s['Relation Name']!, filter: unserved.Filter! });
          }
        }
        findings = [...seq.values()];
      } catch (err) {
        if (aborted) break;
        evidence.skipped.push({ sql: brief(c.sql), reason: pgErrorText(err) });
        pending.shift();
        // A failure the savepoint could not contain (a dead connection) ends the run.
        if (!(await alive(db))) {
          skipPending(`the connection cannot continue: ${pgErrorText(err)}`);
          return;
        }
        continue;
      }
      const scans: UnindexedScan[] = [];
      const tables = new Set<string>();
      try {
        for (const f of findings) {
          const info = await relationInfo(f.relation);
          if (!info || tables.has(info.table)) continue;
          tables.add(info.table);
          scans.push({ table: info.table, rows: info.rows, sql: brief(c.sql), count: c.count, ...(c.workloadCount !== undefined ? { workloadCount: c.workloadCount } : {}), filter: f.filter });
        }
      } catch (err) {
        if (aborted) break;
        evidence.skipped.push({ sql: brief(c.sql), reason: `plan read, but the table could not be looked up: ${pgErrorText(err)}` });
        pending.shift();
        continue;
      }
      if (aborted) break;
      // Recorded in one step, so a budget running out mid-statement leaves it wholly pending.
      pending.shift();
      evidence.checked += 1;
      if (scans.length === 0) evidence.indexed += 1;
      else evidence.scans.push(...scans);
    }
  };

  const run = work().catch((err: unknown) => skipPending(`unexpected failure: ${pgErrorText(err)}`));
  const outOfTime = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now()));
  });
  const outcome = await Promise.race([run.then(() => 'done' as const), outOfTime]);
  clearTimeout(timer);

  if (outcome === 'timeout') {
    aborted = true;
    if (!selected) pending = o.statements.slice(0, maxStatements).map((s) => ({ ...s, exampleCount: s.count }));
    skipPending(budgetReason);
    const snapshot: IndexEvidence = { checked: evidence.checked, indexed: evidence.indexed, scans: [...evidence.scans], skipped: [...evidence.skipped] };
    // Closing the connection rolls the transaction back; the server-side statement is bounded by statement_timeout.
    if (client) void endPg(client);
    void run.finally(() => {
      if (client) void endPg(client);
    });
    return snapshot;
  }
  if (client) {
    const c: pg.Client = client;
    await c.query('ROLLBACK').catch(() => undefined);
    await endPg(c);
  }
  return evidence;
}

async function alive(db: pg.Client): Promise<boolean> {
  try {
    await db.query('SELECT 1');
    return true;
  } catch {
    return false;
  }
}
