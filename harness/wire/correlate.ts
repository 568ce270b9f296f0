// Which recorded statements (sql.jsonl) an operation of the history sent: those of its instance, inside its time
// window, in the statements or transactions that carry the op's own argument values (bound or in the text). When
// several calls overlap on one instance, the arguments tell them apart (identical calls stay ambiguous); when none
// carries them, every statement of the instance in the window is returned, marked as matched by time only.

import fs from 'node:fs';
import type { Op } from '../types.ts';
import type { SqlRecord } from './pg-wire.ts';

export interface OpStatements {
  /** `args`: connections carrying the op's argument values; `time`: everything of its instance in its window. */
  matchedBy: 'args' | 'time';
  records: SqlRecord[];
}

/** Read a sql.jsonl file (tolerates a cut last line and the trailing `{"dropped":n}` line). */
export function readSqlLog(file: string): SqlRecord[] {
  if (!fs.existsSync(file)) return [];
  const out: SqlRecord[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    try {
      const r = JSON.parse(line) as SqlRecord;
      if (typeof r.kind === 'string') out.push(r);
    } catch {
      // a line cut by a crash
    }
  }
  return out;
}

/** The string values among an op's arguments (ids, user ids, keys), long enough to be telling. */
function argValues(op: Op): string[] {
  const values: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'string' && v.length >= 3) values.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(op.args);
  return values;
}

export function statementsOf(op: Op, records: SqlRecord[]): OpStatements {
  const end = op.endUs >= 0 ? op.endUs : Number.POSITIVE_INFINITY;
  const inWindow = records.filter((r) => r.tag === String(op.instance) && r.t >= op.startUs && r.t <= end);
  const values = argValues(op);
  const has = (r: SqlRecord, v: string) => !!(r.params?.some((p) => p !== null && p.includes(v)) || r.sql?.includes(v));
  // A unit is the op's when it carries every one of its values (a seat id alone is shared by every caller of it).
  const carriesAll = (unit: SqlRecord[]) => values.length > 0 && values.every((v) => unit.some((r) => has(r, v)));
  // A pooled connection carries many calls in turn: cut each one's records into units that end when it is idle
  // again (a statement outside a transaction, or a whole transaction), and keep the units carrying the op's values.
  const units: SqlRecord[][] = [];
  const open = new Map<number, SqlRecord[]>();
  for (const r of inWindow) {
    const unit = open.get(r.conn) ?? [];
    unit.push(r);
    open.set(r.conn, unit);
    if ((r.kind === 'ready' && r.status === 'I') || r.kind === 'close') {
      units.push(unit);
      open.delete(r.conn);
    }
  }
  units.push(...open.values());
  const mine = units.filter(carriesAll);
  if (!mine.length) return { matchedBy: 'time', records: inWindow };
  const keep = new Set(mine.flat());
  return { matchedBy: 'args', records: inWindow.filter((r) => keep.has(r)) };
}

/** One op's statements as text lines (`gauntlet show <run> --sql`). */
export function renderOpStatements(op: Op, found: OpStatements): string[] {
  const when = `${(op.startUs / 1000).toFixed(2)}–${op.endUs >= 0 ? (op.endUs / 1000).toFixed(2) : '…'} ms`;
  const lines = [`op ${op.index} ${op.f} ${JSON.stringify(op.args)} on instance ${op.instance}, ${when}: ${op.type}${op.code ? ` ${op.code}` : ''}${op.error ? ` (${op.error})` : ''}`];
  if (!found.records.length) {
    lines.push('  no statement recorded for it (its instance sent none in its window)');
    return lines;
  }
  if (found.matchedBy === 'time') lines.push('  (no statement carries its arguments: everything its instance sent in its window)');
  for (const r of found.records) {
    const at = `+${((r.t - op.startUs) / 1000).toFixed(2)} ms`.padStart(11);
    const what = describe(r);
    if (what) lines.push(`  conn ${String(r.conn).padEnd(4)} ${at}  ${what}`);
  }
  return lines;
}

function describe(r: SqlRecord): string | null {
  const sql = (s?: string) => (s ?? '').replace(/\s+/g, ' ').trim().slice(0, 160);
  switch (r.kind) {
    case 'query':
      return sql(r.sql);
    case 'parse':
      return `parse ${sql(r.sql)}`;
    case 'bind':
      return `bind ${JSON.stringify(r.params ?? [])}`;
    case 'complete':
      return `→ ${r.commandTag}`;
    case 'error':
      return `→ ERROR ${r.code}: ${r.message}`;
    case 'notice':
      return `→ WARNING ${r.code}: ${r.message}`;
    case 'ready':
      return r.status === 'T' ? '  (in transaction)' : r.status === 'E' ? '  (failed transaction)' : null;
    case 'close':
      return `closed (${r.message})`;
    case 'execute':
      return null;
    default:
      return r.kind;
  }
}
