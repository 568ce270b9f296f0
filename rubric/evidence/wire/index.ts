// Wire evidence for one scenario: taps the recorded SQL and Redis traffic while the scenario runs (bounded), then,
// after the final reads and before teardown, ties units of work to the calls that sent them and runs each
// detector; EXPLAINs the distinct predicates against the final database. Never fails a scenario: an analysis
// that breaks reports nothing and says why.

import type { AttemptRecord } from '../../../harness/services/types.ts';
import type { Op } from '../../../harness/types.ts';
import { attributeUnits } from '../../../harness/wire/attribute.ts';
import type { SqlRecord } from '../../../harness/wire/pg-wire.ts';
import type { RedisRecord } from '../../../harness/wire/redis-records.ts';
import { createSqlUnits } from '../../../harness/wire/sql-units.ts';
import { findUnindexedScans } from '../sql/explain.ts';
import { loadSqlParser } from '../sql/shape.ts';
import { findInjection } from './injection.ts';
import { observeRetries, observeTechniques } from './observed.ts';
import { createRedisLockTap } from './redis-locks.ts';
import { findSwallowedErrors } from './swallowed.ts';
import { findTransactionProblems } from './transactions.ts';
import type { ScenarioWireEvidence } from './types.ts';

export type { ScenarioWireEvidence, WireFinding, FindingList } from './types.ts';
export type { WireTap } from '../../../harness/evidence-types.ts';
import type { WireTap } from '../../../harness/evidence-types.ts';

/** Most distinct statements EXPLAINed per scenario. */
const EXPLAIN_MAX = 40;

/** Phases of the calls a scenario makes to read the final state (and to poll for it while settling). */
const FINAL_PHASES = new Set(['final', 'settle']);

/** When the grader's first final read (or settle poll) began, µs; null when the history has none. */
export function finalReadsFromUs(ops: readonly Op[]): number | null {
  let from: number | null = null;
  for (const op of ops) if (FINAL_PHASES.has(op.phase) && (from === null || op.startUs < from)) from = op.startUs;
  return from;
}

export function createWireTap(): WireTap {
  const units = createSqlUnits();
  const locks = createRedisLockTap();
  return {
    sql: (r) => units.record(r),
    redis: (r) => locks.record(r),
    async analyse(o) {
      try {
        await loadSqlParser();
        const all = units.units().filter((u) => u.tag !== 'setup');
        const attribution = attributeUnits(o.ops, all);
        const techniques = observeTechniques(all);
        const redisLocks = locks.result();
        const lockedElsewhere = !!redisLocks?.acquired || techniques.some((t) => t.technique === 'advisory lock');
        const tx = findTransactionProblems(all, attribution, o.ops, o.attempts ?? [], { lockedElsewhere });
        // The grader's final reads (and a settle's polls) begin once the workload is over: a statement sent only
        // from then on answered them alone (workloadCount 0), an occasional listing rather than the service's traffic.
        const finalFromUs = finalReadsFromUs(o.ops);
        const distinct = new Map<string, { sql: string; params: (string | null)[]; count: number; workloadCount?: number }>();
        let statements = 0;
        for (const u of all) {
          for (const s of u.statements) {
            statements++;
            if (s.error) continue;
            const before = finalFromUs !== null && s.t < finalFromUs ? 1 : 0;
            const d = distinct.get(s.sql);
            if (d) {
              d.count++;
              if (d.workloadCount !== undefined) d.workloadCount += before;
            } else distinct.set(s.sql, { sql: s.sql, params: s.params ?? [], count: 1, ...(finalFromUs !== null ? { workloadCount: before } : {}) });
          }
        }
        const indexes = o.adminUrl ? await findUnindexedScans({ adminUrl: o.adminUrl, role: o.role, statements: [...distinct.values()], maxStatements: EXPLAIN_MAX, budgetMs: 5000 }) : null;
        return {
          statements,
          units: all.length,
          dropped: units.dropped(),
          attributedOps: attribution.byOp.size,
          ...tx,
          swallowed: findSwallowedErrors(all, attribution, o.ops),
          injection: findInjection(all, o.probes ?? []),
          techniques,
          transientErrors: observeRetries(all, attribution),
          redisLocks,
          indexes,
        };
      } catch (err) {
        return { error: `the recorded wire could not be analysed: ${(err as Error).message}` };
      }
    },
  };
}
