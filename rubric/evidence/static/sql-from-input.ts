// SQL text built from caller input: a template literal, `+` concatenation or `+=` whose text is SQL, with a piece
// that carries input (see taint.ts). Placeholders being built (`$${i + 1}`), constants and escaped identifiers pass.

import type TS from 'typescript';
import type { SourceRef } from '../types.ts';
import { type Scan, constText, declarationOf, ref, walk } from './program.ts';
import { isSql } from './sql.ts';
import { inputSource } from './taint.ts';

const SQL_TEMPLATE = /^\s*\(?\s*(SELECT|INSERT|UPDATE|DELETE|WITH|MERGE)\b|\bUPDATE\s+[\w."]+\s+SET\b|\bINSERT\s+INTO\b|\bDELETE\s+FROM\b|\bSELECT\b[\s\S]+?\bFROM\b/i;

export type InterpolatedSql = SourceRef & { source: string };

export function findInterpolatedSql(scan: Scan, sf: TS.SourceFile): InterpolatedSql[] {
  const { ts } = scan;
  const out: InterpolatedSql[] = [];
  walk(ts, sf, (node) => {
    let source: string | null = null;
    if (ts.isTemplateExpression(node) && !ts.isTaggedTemplateExpression(node.parent) && looksLikeSql(scan, node)) source = templateInput(scan, node);
    else if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken && !isPlus(ts, node.parent) && looksLikeSql(scan, node)) source = concatInput(scan, node);
    else if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusEqualsToken) {
      const text = initialText(scan, node.left);
      if (text && (isSql(text) || SQL_TEMPLATE.test(text)) && !endsWithPlaceholder(text)) source = inputSource(scan, node.right);
    }
    if (source) out.push({ ...ref(scan, node), source });
  });
  return out;
}

/** The text a `let sql = 'SELECT …'` starts with (the variable is reassigned, so it is no constant). */
function initialText(scan: Scan, target: TS.Expression): string | null {
  const { ts } = scan;
  const d = ts.isIdentifier(target) ? declarationOf(scan, target) : undefined;
  return d && ts.isVariableDeclaration(d) && d.initializer ? constText(scan, d.initializer, true) : null;
}

const isPlus = (ts: Scan['ts'], n: TS.Node) => ts.isBinaryExpression(n) && n.operatorToken.kind === ts.SyntaxKind.PlusToken;

function looksLikeSql(scan: Scan, e: TS.Expression): boolean {
  const text = constText(scan, e, true) ?? '';
  return SQL_TEMPLATE.test(text);
}

/** `$` right before a substitution: a placeholder number is being built (`$${i + 1}`). */
const endsWithPlaceholder = (text: string) => /\$$/.test(text);

function templateInput(scan: Scan, node: TS.TemplateExpression): string | null {
  let before = node.head.text;
  for (const span of node.templateSpans) {
    if (!endsWithPlaceholder(before)) {
      const source = inputSource(scan, span.expression);
      if (source) return source;
    }
    before = span.literal.text;
  }
  return null;
}

function concatInput(scan: Scan, node: TS.BinaryExpression): string | null {
  const { ts } = scan;
  const operands: TS.Expression[] = [];
  const flat = (e: TS.Expression): void => {
    if (isPlus(ts, e)) {
      flat((e as TS.BinaryExpression).left);
      flat((e as TS.BinaryExpression).right);
    } else operands.push(e);
  };
  flat(node);
  let before = '';
  for (const o of operands) {
    if (!ts.isStringLiteralLike(o) && !endsWithPlaceholder(before)) {
      const source = inputSource(scan, o);
      if (source) return source;
    }
    before = constText(scan, o, true) ?? '?';
  }
  return null;
}
