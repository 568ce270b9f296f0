// What the wire shows about concurrency control and retries: which techniques the statements use (row locks,
// advisory locks, strict isolation, conditional writes, upserts), and whether transient errors (serialization
// failures, deadlocks, killed backends) were followed by the same statement again from the same instance.

import type { Op } from '../../../harness/types.ts';
import type { Attribution } from '../../../harness/wire/attribute.ts';
import type { WireUnit } from '../../../harness/wire/sql-units.ts';
import { analyzeSql } from '../sql/shape.ts';
import { oneLine, statementLine } from './format.ts';
import type { ScenarioWireEvidence } from './types.ts';

/** Transaction control and session settings: not the data work a retry repeats. */
export const CONTROL = /^\s*(BEGIN|START|COMMIT|END|ROLLBACK|SET|SAVEPOINT|RELEASE)\b/i;
const TRANSIENT = /^(40001|40P01|57P01|57P02|57P03|08\w{3})$/;
/** A retry comes within this long of the error. */
const RETRY_WINDOW_US = 10_000_000;

/**
 * The error did not reach the caller: its call was answered ok, or with a contract code (a definite business
 * answer, e.g. SEAT_TAKEN after retrying and finding the seat gone) — not with an error or no answer at all.
 */
function answeredDefinitely(op: Op): boolean {
  return op.type === 'ok' || (op.type === 'fail' && !!op.code);
}

export function observeTechniques(units: WireUnit[]): ScenarioWireEvidence['techniques'] {
  const seen = new Map<string, { count: number; example: string }>();
  const add = (technique: string, sql: string) => {
    const t = seen.get(technique);
    if (t) t.count++;
    else seen.set(technique, { count: 1, example: oneLine(sql, 120) });
  };
  for (const u of units) {
    if (u.tag === 'setup') continue;
    for (const s of u.statements) {
      if (s.error) continue;
      for (const st of analyzeSql(s.sql).statements) {
        if (st.locking.length) add(`row lock (SELECT … ${st.locking[0].replace(/-/g, ' ').toUpperCase()}${st.skipLocked ? ' SKIP LOCKED' : ''})`, s.sql);
        if (st.advisoryLocks.length) add('advisory lock', s.sql);
        if (st.isolation === 'serializable' || st.isolation === 'repeatable read') add(`${st.isolation.toUpperCase()} isolation`, s.sql);
        if (st.conditionalWrite) add('conditional write (the WHERE clause decides)', s.sql);
        if (st.onConflict) add(`upsert (ON CONFLICT DO ${st.onConflict.toUpperCase()})`, s.sql);
      }
    }
  }
  return [...seen].map(([technique, v]) => ({ technique, ...v })).sort((a, b) => b.count - a.count);
}

/**
 * Transient errors and whether they were retried (handled). A unit tied to a call (attribution) was when the call
 * was still answered definitely — ok or a contract code — rather than with the error; one tied to no call, when its
 * instance sent the failed statement (or the unit's first data statement) again with the same parameters soon after.
 * (Watching for the call's later statements is not enough: on a hot row every other caller sends the same read.)
 */
export function observeRetries(units: WireUnit[], attribution?: Attribution): ScenarioWireEvidence['transientErrors'] {
  const sent = new Map<string, number[]>();
  // Same instance, same text, same parameters: the same call trying again (another caller's statement differs).
  const key = (tag: string | undefined, x: { sql: string; params?: (string | null)[] }) => `${tag}\u0000${x.sql}\u0000${JSON.stringify(x.params ?? [])}`;
  for (const u of units) for (const s of u.statements) (sent.get(key(u.tag, s)) ?? sent.set(key(u.tag, s), []).get(key(u.tag, s))!).push(s.t);
  let count = 0;
  let retried = 0;
  let example: string | undefined;
  let serialization = 0;
  let serializationRetried = 0;
  let serializationExample: string | undefined;
  for (const u of units) {
    for (const s of u.statements) {
      if (!s.error || !TRANSIENT.test(s.error.code)) continue;
      const ser = s.error.code === '40001' || s.error.code === '40P01';
      count++;
      if (ser) serialization++;
      // The failed statement itself, or the transaction's first data statement, sent again soon after.
      const first = u.statements.find((x) => !CONTROL.test(x.sql));
      const op = attribution?.opOf.get(u);
      const again = op
        ? answeredDefinitely(op)
        : [s, first].some((x) => !!x && !CONTROL.test(x.sql) && (sent.get(key(u.tag, x)) ?? []).some((t) => t > s.t && t - s.t <= RETRY_WINDOW_US));
      if (again) {
        retried++;
        if (ser) serializationRetried++;
      }
      example ??= statementLine(u, s);
      if (ser) serializationExample ??= statementLine(u, s);
    }
  }
  return { count, retried, ...(example ? { example } : {}), serialization, serializationRetried, ...(serializationExample ? { serializationExample } : {}) };
}
