// Which operation of the history sent each unit of recorded SQL work (sql-units.ts): a unit belongs to the call
// that was in flight on its instance when the unit began and whose telling argument values (ids, user ids, keys
// that few calls share) it carries, bound or in its text — the best match, and only when no other call matches as
// well. Units nobody can claim (background work, identical concurrent calls) stay unattributed: evidence built on
// attribution never guesses.

import type { Op } from '../types.ts';
import type { WireStatement, WireUnit } from './sql-units.ts';

export interface Attribution {
  /** Units by op index. */
  byOp: Map<number, WireUnit[]>;
  /** The op each attributed unit belongs to. */
  opOf: Map<WireUnit, Op>;
  /** Units that began inside some call's window but matched two or more calls equally. */
  ambiguous: number;
}

const MIN_LEN = 3;
const MAX_LEN = 256;

function stringsOf(v: unknown, out: Set<string>): void {
  if (typeof v === 'string') {
    if (v.length >= MIN_LEN && v.length <= MAX_LEN) out.add(v);
  } else if (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) >= 1000) out.add(String(v));
  else if (Array.isArray(v)) for (const x of v) stringsOf(x, out);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) stringsOf(x, out);
}

/** Each op's telling values: its argument strings that at most a few calls of the history share. */
export function tellingValues(ops: Op[]): Map<number, string[]> {
  const per = new Map<number, string[]>();
  const freq = new Map<string, number>();
  for (const op of ops) {
    const s = new Set<string>();
    stringsOf(op.args, s);
    per.set(op.index, [...s]);
    for (const v of s) freq.set(v, (freq.get(v) ?? 0) + 1);
  }
  const limit = Math.max(10, Math.ceil(ops.length / 20));
  for (const [i, values] of per) per.set(i, values.filter((v) => (freq.get(v) ?? 0) <= limit));
  return per;
}

/** Whether a statement carries a value: bound as (part of) a parameter, or in its text. */
export function carries(s: WireStatement, v: string): boolean {
  return !!s.params?.some((p) => p !== null && p.includes(v)) || s.sql.includes(v);
}

function carried(unit: WireUnit, values: string[]): number {
  let n = 0;
  for (const v of values) if (unit.statements.some((s) => carries(s, v))) n++;
  return n;
}

export function attributeUnits(ops: Op[], units: WireUnit[]): Attribution {
  const values = tellingValues(ops);
  const byInstance = new Map<string, Op[]>();
  for (const op of ops) {
    if (op.instance < 0) continue;
    const list = byInstance.get(String(op.instance)) ?? byInstance.set(String(op.instance), []).get(String(op.instance))!;
    list.push(op);
  }
  for (const list of byInstance.values()) list.sort((a, b) => a.startUs - b.startUs);
  const byOp = new Map<number, WireUnit[]>();
  const opOf = new Map<WireUnit, Op>();
  let ambiguous = 0;
  // A sweep per instance: the calls in flight when each unit began.
  const cursor = new Map<string, { next: number; active: Op[] }>();
  for (const unit of [...units].sort((a, b) => a.startT - b.startT)) {
    if (unit.tag === undefined) continue;
    const list = byInstance.get(unit.tag);
    if (!list) continue;
    const c = cursor.get(unit.tag) ?? cursor.set(unit.tag, { next: 0, active: [] }).get(unit.tag)!;
    while (c.next < list.length && list[c.next].startUs <= unit.startT) c.active.push(list[c.next++]);
    c.active = c.active.filter((op) => op.endUs < 0 || op.endUs >= unit.startT);
    let best: Op | null = null;
    let bestScore = 0;
    let tie = false;
    for (const op of c.active) {
      const score = carried(unit, values.get(op.index) ?? []);
      if (score > bestScore) {
        best = op;
        bestScore = score;
        tie = false;
      } else if (score === bestScore && score > 0) tie = true;
    }
    if (!best || tie) {
      if (tie) ambiguous++;
      continue;
    }
    opOf.set(unit, best);
    const mine = byOp.get(best.index) ?? byOp.set(best.index, []).get(best.index)!;
    mine.push(unit);
  }
  return { byOp, opOf, ambiguous };
}
