// How wire evidence quotes what was recorded: one readable line per statement (instance, connection, time, text,
// parameters, answer) and one per call, cut to a size a report can carry.

import type { Op } from '../../../harness/types.ts';
import type { WireStatement, WireUnit } from '../../../harness/wire/sql-units.ts';

const clip = (s: string, n: number) => (s.length > n ? s.slice(0, n - 1) + '…' : s);
export const oneLine = (sql: string, n = 160) => clip(sql.replace(/\s+/g, ' ').trim(), n);

function paramsText(params?: (string | null)[]): string {
  if (!params?.length) return '';
  return ` [${params.slice(0, 6).map((p, i) => `$${i + 1}=${p === null ? 'NULL' : `'${clip(p, 40)}'`}`).join(', ')}${params.length > 6 ? ', …' : ''}]`;
}

function answerText(s: WireStatement): string {
  if (s.error) return ` → ERROR ${s.error.code}: ${clip(s.error.message, 100)}`;
  if (s.warning) return ` → ${s.result ?? '?'} with WARNING ${s.warning.code}: ${clip(s.warning.message, 80)}`;
  if (s.result) return ` → ${clip(s.result, 60)}`;
  return ' → (no answer)';
}

export function statementLine(unit: WireUnit, s: WireStatement): string {
  const who = unit.tag === undefined ? '' : /^\d+$/.test(unit.tag) ? `instance ${unit.tag} · ` : `${unit.tag} · `;
  return `${who}conn ${unit.conn} · ${(s.t / 1000).toFixed(2)} ms  ${oneLine(s.sql)}${paramsText(s.params)}${answerText(s)}`;
}

export function unitLines(unit: WireUnit, max = 8): string[] {
  const lines = unit.statements.slice(0, max).map((s) => statementLine(unit, s));
  if (unit.statements.length > max) lines.push(`… ${unit.statements.length - max} more statement(s) on conn ${unit.conn}`);
  return lines;
}

export function opLine(op: Op): string {
  const args = JSON.stringify(Object.fromEntries(Object.entries(op.args).filter(([, v]) => typeof v !== 'string' || v.length <= 80)));
  const answer = op.type === 'ok' ? 'ok' : op.type === 'fail' ? `fail ${op.code ?? ''}`.trim() : `indeterminate${op.error ? ` (${clip(op.error, 60)})` : ''}`;
  return `op ${op.index} ${op.f} ${clip(args, 160)} on instance ${op.instance}, ${(op.startUs / 1000).toFixed(2)}–${op.endUs >= 0 ? (op.endUs / 1000).toFixed(2) : '…'} ms → ${answer}`;
}

/** Add a finding to a list, keeping the first few. */
export function note(list: { count: number; examples: unknown[] }, finding: unknown, keep = 3): void {
  list.count++;
  if (list.examples.length < keep) list.examples.push(finding);
}
