// Isolation levels that need retries: SERIALIZABLE and REPEATABLE READ, in SQL text (constants and templates
// resolved) or in a library's transaction options (`isolationLevel: 'serializable'`).

import type TS from 'typescript';
import type { SourceRef } from '../types.ts';
import { type Scan, constText, ref, unwrap, walk } from './program.ts';

const STRICT_SQL = /\bISOLATION\s+LEVEL\s+(SERIALIZABLE|REPEATABLE\s+READ)\b/i;
const STRICT_OPTION = /^(serializable|repeatable[\s_-]?read)$/i;

export function findStrictIsolation(scan: Scan, sf: TS.SourceFile): SourceRef[] {
  const { ts } = scan;
  const out: SourceRef[] = [];
  walk(ts, sf, (node) => {
    const inTemplate = node.parent && (ts.isTemplateSpan(node.parent) || ts.isTemplateExpression(node.parent));
    if ((ts.isStringLiteralLike(node) || ts.isTemplateExpression(node)) && !inTemplate && STRICT_SQL.test(constText(scan, node as TS.Expression, true) ?? '')) out.push(ref(scan, node));
    if (ts.isPropertyAssignment(node) && /^isolation(Level)?$/i.test(node.name.getText())) {
      const v = unwrap(ts, node.initializer);
      const text = ts.isStringLiteralLike(v) ? v.text : ts.isPropertyAccessExpression(v) ? v.name.text : '';
      if (STRICT_OPTION.test(text)) out.push(ref(scan, node));
    }
  });
  return out;
}
