// Transaction handling as the server saw it: one call's writes committed piecemeal as separate autocommit
// statements (to different tables, with no call to an outside service between them that would forbid one
// transaction); a plain read then a write by key alone of the same table (check-then-act); COMMIT or BEGIN landing on the wrong pooled connection (PostgreSQL's own warnings 25P01 and
// 25001); statements sent into a transaction that had already failed (25P02); a transaction a call opened left
// idle and open after the call answered.

import type { AttemptRecord } from '../../../harness/services/types.ts';
import type { Op } from '../../../harness/types.ts';
import type { Attribution } from '../../../harness/wire/attribute.ts';
import type { WireUnit } from '../../../harness/wire/sql-units.ts';
import { analyzeSql, isWrite, type StatementShape } from '../sql/shape.ts';
import { note, opLine, statementLine, unitLines } from './format.ts';
import type { FindingList, WireFinding } from './types.ts';

/** A transaction still open and idle this long after its call answered is reported. */
export const OUTLIVED_MS = 1000;

const empty = (): FindingList => ({ count: 0, examples: [] });

/** Rows a command tag says it changed ("UPDATE 3", "INSERT 0 1", "DELETE 0"); null when the tag does not say. */
export function rowsChanged(tag: string): number | null {
  const m = /^(?:INSERT \d+|UPDATE|DELETE|MERGE) (\d+)$/.exec(tag.trim());
  return m ? Number(m[1]) : null;
}

/**
 * Lease or lock bookkeeping: an UPDATE that sets only lease/lock columns (taking, renewing or giving back a
 * lease). It guards the work rather than being part of it, so it never makes a "split" or a "blind" write.
 */
export function isBookkeeping(st: StatementShape): boolean {
  return st.kind === 'update' && st.setColumns.length > 0 && st.setColumns.every((c) => /lock|lease|heartbeat/.test(c));
}

/** Tables an autocommit unit wrote rows to (empty when it changed nothing or failed; lease bookkeeping aside). */
export function tablesWritten(unit: WireUnit): string[] {
  const out = new Set<string>();
  for (const s of unit.statements) {
    if (s.error || !s.result || rowsChanged(s.result.split('; ').pop()!) === 0) continue;
    for (const st of analyzeSql(s.sql).statements) if (isWrite(st) && !isBookkeeping(st)) for (const t of st.writes) out.add(t);
  }
  return [...out];
}

/** Tables a unit read with a plain SELECT (no row lock) that answered rows. */
function readTables(unit: WireUnit): string[] {
  const out = new Set<string>();
  for (const s of unit.statements) {
    if (s.error || !/^SELECT [1-9]/.test(s.result ?? '')) continue;
    for (const st of analyzeSql(s.sql).statements) if (st.kind === 'select' && !st.locking.length && !st.writes.length) for (const t of st.reads) out.add(t);
  }
  return [...out];
}

/** Tables a unit updated or deleted from by key alone (no condition on the current state) and changed rows of. */
function blindWrites(unit: WireUnit): string[] {
  const out = new Set<string>();
  for (const s of unit.statements) {
    if (s.error || !s.result || !(rowsChanged(s.result) ?? 0)) continue;
    for (const st of analyzeSql(s.sql).statements) if ((st.kind === 'update' || st.kind === 'delete') && st.predicate && !st.conditionalWrite && !isBookkeeping(st)) for (const t of st.writes) out.add(t);
  }
  return [...out];
}

/**
 * `lockedElsewhere`: the scenario took locks outside the statements' own rows (Redis SET NX, advisory locks), which
 * may guard a read-then-write; check-then-act is then not judged.
 */
export function findTransactionProblems(units: WireUnit[], attribution: Attribution, ops: Op[], attempts: readonly AttemptRecord[], o: { lockedElsewhere?: boolean } = {}) {
  const splitWrites = empty();
  const poolMixups = empty();
  const failedTransactionWrites = empty();
  const outlivedCall = empty();
  const checkThenAct = empty();
  const opByIndex = new Map(ops.map((o) => [o.index, o]));
  const opsByInstance = new Map<number, Op[]>();
  for (const x of ops) opsByInstance.set(x.instance, [...(opsByInstance.get(x.instance) ?? []), x]);
  /**
   * Another kind of call on the instance (a read beside a write), running while `r` ran, with one of `args`: a read it
   * may have sent instead. Calls of the same kind do not count: whichever of them read, that kind reads then writes.
   */
  const rivalFor = (op: Op, r: WireUnit, args: string[]): boolean =>
    (opsByInstance.get(op.instance) ?? []).some((x) => x !== op && x.f !== op.f && x.startUs <= r.endT && (x.endUs < 0 || x.endUs >= r.startT) && Object.values(x.args).some((v) => typeof v === 'string' && args.includes(v)));

  for (const unit of units) {
    for (const s of unit.statements) {
      const kind = /^\s*(\w+)/.exec(s.sql)?.[1]?.toUpperCase();
      if (s.warning?.code === '25P01' && kind === 'COMMIT') {
        const op = attribution.opOf.get(unit);
        note(poolMixups, { what: `COMMIT sent on connection ${unit.conn}, which had no transaction in progress: the BEGIN and the writes went to other pooled connections (pool.query for each statement instead of one checked-out client)`, statements: [statementLine(unit, s)], ...(op ? { op: opLine(op) } : {}) } satisfies WireFinding);
      } else if (s.warning?.code === '25001' && (kind === 'BEGIN' || kind === 'START')) {
        note(poolMixups, { what: `BEGIN sent on connection ${unit.conn} while it was still inside another transaction: a transaction was left open on a pooled connection and another call's work joined it`, statements: unitLines(unit, 4) } satisfies WireFinding);
      }
      if (s.error?.code === '25P02') {
        const op = attribution.opOf.get(unit);
        const i = unit.statements.indexOf(s);
        const cause = unit.statements.slice(0, i).reverse().find((x) => x.error && x.error.code !== '25P02');
        note(failedTransactionWrites, { what: `a statement was sent into a transaction that had already failed${cause ? ` (after ${cause.error!.code}: ${cause.error!.message.slice(0, 80)})` : ''}: the error was not handled by rolling back`, statements: [...(cause ? [statementLine(unit, cause)] : []), statementLine(unit, s)], ...(op ? { op: opLine(op) } : {}) } satisfies WireFinding);
        break;
      }
    }
  }

  for (const [index, mine] of attribution.byOp) {
    const op = opByIndex.get(index);
    if (!op) continue;
    // Writes in separate autocommit units, to more than one table, with no outside call between them.
    const writes = mine.filter((u) => !u.block && u.end === 'implicit').map((u) => ({ u, tables: tablesWritten(u) })).filter((x) => x.tables.length);
    if (writes.length >= 2) {
      let pair: [WireUnit, WireUnit] | null = null;
      for (let i = 1; i < writes.length && !pair; i++) {
        const a = writes[i - 1];
        const b = writes[i];
        if (b.tables.every((t) => a.tables.includes(t)) && a.tables.every((t) => b.tables.includes(t))) continue;
        const between = attempts.some((x) => x.instance === op.instance && x.startUs >= a.u.endT && x.startUs <= b.u.startT);
        if (!between) pair = [a.u, b.u];
      }
      if (pair) {
        note(splitWrites, { what: `one call committed its writes to ${[...new Set([...tablesWritten(pair[0]), ...tablesWritten(pair[1])])].join(' and ')} as separate autocommit statements: a crash or error between them leaves the first without the second`, statements: [...unitLines(pair[0], 2), ...unitLines(pair[1], 2)], op: opLine(op) } satisfies WireFinding);
      }
    }
    // Check-then-act: a plain read of a table, then a write to it by key alone, each in autocommit — the read's
    // answer can be stale by the time of the write (two callers both read "free", both write). The read may carry
    // only the row's key, which every caller of that row shares: it is looked for among the units of this instance
    // in the call's window that carry one of the call's arguments and no other call claims.
    if (!o.lockedElsewhere) {
      const writes = mine.filter((u) => !u.block && u.end === 'implicit').map((u) => ({ u, tables: blindWrites(u) })).filter((x) => x.tables.length);
      const args = Object.values(op.args).filter((v): v is string => typeof v === 'string' && v.length >= 3);
      for (const w of writes) {
        // An unattributed read that a concurrent call of another kind with the same key may have sent (a reader of that
        // row on this instance, on any pooled connection: a pool hands one connection to successive calls) is not this
        // call's: the pattern is then not shown.
        const read = units.find((r) => r !== w.u && r.tag === w.u.tag && !r.block && r.end === 'implicit' && r.startT >= op.startUs && r.endT <= w.u.startT && (attribution.opOf.get(r) ?? op) === op && readTables(r).some((t) => w.tables.includes(t)) && r.statements.some((x) => args.some((a) => x.params?.includes(a) || x.sql.includes(a))) && (attribution.opOf.get(r) === op || !rivalFor(op, r, args)));
        if (!read) continue;
        if (attempts.some((x) => x.instance === op.instance && x.startUs >= read.endT && x.startUs <= w.u.startT)) continue;
        note(checkThenAct, { what: `one call read ${w.tables[0]} and then wrote it by key alone, each in autocommit, with no transaction, row lock or condition on the write: another caller can change the row in between (check-then-act)`, statements: [...unitLines(read, 2), ...unitLines(w.u, 2)], op: opLine(op) } satisfies WireFinding);
        break;
      }
    }
    // A transaction the call opened, still open and idle a second after the call answered.
    if (op.type === 'ok' || op.type === 'fail') {
      for (const u of mine) {
        if (!u.block || u.startT > op.endUs) continue;
        const endT = u.endT >= 0 ? u.endT : Number.POSITIVE_INFINITY;
        if (endT - op.endUs < OUTLIVED_MS * 1000) continue;
        const next = u.statements.find((s) => s.t > op.endUs);
        const idleUntil = next ? next.t : endT;
        if (idleUntil - op.endUs < OUTLIVED_MS * 1000) continue;
        note(outlivedCall, { what: `a transaction this call opened was still open ${Number.isFinite(idleUntil) ? `${Math.round((idleUntil - op.endUs) / 1000)} ms` : 'at the end of the run'} after the call answered, with nothing sent on it (a client not released, or a missing COMMIT/ROLLBACK on some path): it holds its locks meanwhile`, statements: unitLines(u, 4), op: opLine(op) } satisfies WireFinding);
        break;
      }
    }
  }
  return { splitWrites, poolMixups, failedTransactionWrites, outlivedCall, checkThenAct };
}
