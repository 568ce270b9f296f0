// Errors swallowed, as the wire shows them: a call answered ok while a write (or the COMMIT) it sent was refused
// by the server and the same statement was never sent again by its instance. Errors a correct program expects
// and answers by design are not counted: integrity violations (23xxx: the duplicate an idempotent insert meets),
// bad input (22xxx), NOWAIT and statement timeouts. "The same statement" is the same text, or — sent for the same
// call (in a unit attributed to it, or carrying its telling values) — the same shape with other constants: a retry
// may carry a fresh id or timestamp, and a driver that inlines its parameters (psycopg2) sends them in the text. A
// call that retried the whole transaction (its first data statement sent again and answered) handled the error too:
// the retry may rightly write nothing (a concurrent duplicate already did the work: ON CONFLICT DO NOTHING).

import type { Op } from '../../../harness/types.ts';
import { carries, tellingValues, type Attribution } from '../../../harness/wire/attribute.ts';
import type { WireStatement, WireUnit } from '../../../harness/wire/sql-units.ts';
import { analyzeSql, isWrite, shapeKey } from '../sql/shape.ts';
import { note, opLine, statementLine } from './format.ts';
import { CONTROL } from './observed.ts';
import type { FindingList, WireFinding } from './types.ts';

const EXPECTED = /^(23|22)|^55P03$|^57014$|^25P01$|^42P07$|^42710$/;

function writesOrCommits(sql: string): boolean {
  return analyzeSql(sql).statements.some((s) => isWrite(s) || s.kind === 'commit');
}

export function findSwallowedErrors(units: WireUnit[], attribution: Attribution, ops: Op[]): FindingList {
  const out: FindingList = { count: 0, examples: [] };
  const opByIndex = new Map(ops.map((o) => [o.index, o]));
  // Successful statements per instance and text, in time order: was a failed one sent again later?
  const succeeded = new Map<string, number[]>();
  for (const u of units) {
    for (const s of u.statements) {
      if (s.error || !s.result) continue;
      const key = `${u.tag}\u0000${s.sql}`;
      (succeeded.get(key) ?? succeeded.set(key, []).get(key)!).push(s.t);
    }
  }
  const sameText = (u: WireUnit, s: WireStatement) => (succeeded.get(`${u.tag}\u0000${s.sql}`) ?? []).some((t) => t > s.t);
  // Every unit of an instance, for the retries of a call sent with other constants (in the call or after it).
  const unitsOfInstance = new Map<string | undefined, WireUnit[]>();
  for (const u of units) (unitsOfInstance.get(u.tag) ?? unitsOfInstance.set(u.tag, []).get(u.tag)!).push(u);
  const telling = tellingValues(ops);
  // Sent again for the call by shape: the failed statement, or its transaction's first data statement (the whole
  // transaction retried), answered later on the instance in a unit of the call or in a statement carrying its values.
  const sentAgainForCall = (u: WireUnit, s: WireStatement, values: string[], mine: WireUnit[]) => {
    const first = u.statements.find((x) => !CONTROL.test(x.sql));
    const shapes = new Set([s, first].flatMap((x) => (x ? [shapeKey(x.sql)] : [])).filter((k): k is string => k !== null));
    if (!shapes.size) return false;
    return (unitsOfInstance.get(u.tag) ?? []).some((w) => {
      const ours = mine.includes(w);
      return w.statements.some((x) => x.t > s.t && !x.error && !!x.result && shapes.has(shapeKey(x.sql) ?? '') && (ours || values.some((v) => carries(x, v))));
    });
  };
  for (const [index, mine] of attribution.byOp) {
    const op = opByIndex.get(index);
    if (!op || op.type !== 'ok') continue;
    for (const u of mine) {
      const bad = u.statements.find((s) => s.error && !EXPECTED.test(s.error.code) && writesOrCommits(s.sql) && !sameText(u, s) && !sentAgainForCall(u, s, telling.get(index) ?? [], mine));
      if (!bad) continue;
      note(out, { what: `the call was answered ok, but its ${/^\s*commit/i.test(bad.sql) ? 'COMMIT' : 'write'} failed with ${bad.error!.code} (${bad.error!.message.slice(0, 80)}) and was never sent again: the success it reported was not stored`, statements: [statementLine(u, bad)], op: opLine(op) } satisfies WireFinding);
      break;
    }
  }
  return out;
}
