// Does a value carry caller input? Followed through locals, destructuring, property and element access,
// templates, string methods and array callbacks; cut by constants, numbers made safe and escaping functions.
// Answers with a short human name of the input ("parameter seatId", "JSON.parse(rawBody).userId").

import type TS from 'typescript';
import { type Scan, assignmentsOf, bindingOrigin, declarationOf, memoOf, unwrap } from './program.ts';
import { hasRole } from './roles.ts';

/** Calls whose result is a number, a boolean or escaped text: safe to splice into SQL. */
const SAFE_CALLS = /^(Number|parseInt|parseFloat|Boolean|BigInt|isNaN|isFinite|escapeIdentifier|escapeLiteral|format|quoteIdent|quoteIdentifier|quoteLiteral|quote|ident|literal|escape|escapeId|sqlstring|uuid|randomUUID)$/;
/** Methods whose result carries their receiver's input. */
const PASS_THROUGH = /^(trim|trimStart|trimEnd|toLowerCase|toUpperCase|toLocaleLowerCase|toLocaleUpperCase|toString|slice|substring|substr|padStart|padEnd|replace|replaceAll|concat|join|filter|sort|reverse|flat|at|normalize|repeat|split|valueOf)$/;
/** Array methods whose callback's first parameter is an element of the receiver. */
const ELEMENT_CALLBACKS = /^(map|flatMap|forEach|filter|find|some|every|reduce)$/;

/** The input `e` carries, named for people, or null. */
export function inputSource(scan: Scan, e: TS.Expression, depth = 0): string | null {
  const { ts } = scan;
  if (depth > 12) return null;
  e = unwrap(ts, e);
  if (ts.isLiteralExpression(e) || ts.isNoSubstitutionTemplateLiteral(e) || e.kind === ts.SyntaxKind.TrueKeyword || e.kind === ts.SyntaxKind.FalseKeyword || e.kind === ts.SyntaxKind.NullKeyword) return null;
  if (ts.isTemplateExpression(e)) return first(e.templateSpans.map((s) => () => inputSource(scan, s.expression, depth + 1)));
  if (ts.isBinaryExpression(e)) {
    const op = e.operatorToken.kind;
    if (op === ts.SyntaxKind.PlusToken || op === ts.SyntaxKind.QuestionQuestionToken || op === ts.SyntaxKind.BarBarToken || op === ts.SyntaxKind.AmpersandAmpersandToken || op === ts.SyntaxKind.CommaToken) {
      return first([() => inputSource(scan, e.left, depth + 1), () => inputSource(scan, e.right, depth + 1)]);
    }
    return null; // arithmetic and comparisons give numbers and booleans
  }
  if (ts.isConditionalExpression(e)) return first([() => inputSource(scan, e.whenTrue, depth + 1), () => inputSource(scan, e.whenFalse, depth + 1)]);
  if (ts.isArrayLiteralExpression(e)) return first(e.elements.map((x) => () => inputSource(scan, x as TS.Expression, depth + 1)));
  if (ts.isPrefixUnaryExpression(e) || ts.isPostfixUnaryExpression(e) || ts.isTypeOfExpression(e) || ts.isVoidExpression(e)) return null;
  if (ts.isPropertyAccessExpression(e)) return propertySource(scan, e, depth);
  if (ts.isElementAccessExpression(e)) {
    const base = inputSource(scan, e.expression, depth + 1);
    return base && `${base}[${e.argumentExpression.getText()}]`;
  }
  if (ts.isCallExpression(e)) return callSource(scan, e, depth);
  if (ts.isIdentifier(e)) return identifierSource(scan, e, depth);
  return null;
}

function first(options: (() => string | null)[]): string | null {
  for (const o of options) {
    const v = o();
    if (v) return v;
  }
  return null;
}

function propertySource(scan: Scan, e: TS.PropertyAccessExpression, depth: number): string | null {
  const { ts } = scan;
  const name = e.name.text;
  if (name === 'length' || name === 'size') return null;
  const obj = unwrap(ts, e.expression);
  if (name === 'body' && ts.isIdentifier(obj) && /^(req|request)$/.test(obj.text)) return `${obj.text}.body`;
  if (ts.isPropertyAccessExpression(obj) && obj.name.text === 'env' && ts.isIdentifier(obj.expression) && obj.expression.text === 'process') return null;
  if (obj.kind === ts.SyntaxKind.ThisKeyword) return null;
  const base = inputSource(scan, e.expression, depth + 1);
  return base && `${base}.${name}`;
}

function callSource(scan: Scan, e: TS.CallExpression, depth: number): string | null {
  const { ts } = scan;
  const callee = unwrap(ts, e.expression);
  const name = ts.isIdentifier(callee) ? callee.text : ts.isPropertyAccessExpression(callee) ? callee.name.text : '';
  const owner = ts.isPropertyAccessExpression(callee) ? callee.expression.getText() : '';
  if (name === 'parse' && owner === 'JSON') return `JSON.parse(${e.arguments[0]?.getText() ?? ''})`;
  if (owner === 'Math' || owner === 'Number' || owner === 'Date' || owner === 'crypto' || SAFE_CALLS.test(name)) return null;
  if (name === 'String' && ts.isIdentifier(callee)) return e.arguments[0] ? inputSource(scan, e.arguments[0], depth + 1) : null;
  if (!ts.isPropertyAccessExpression(callee)) return null; // other functions: not followed
  if (name === 'map' || name === 'flatMap') {
    const cb = e.arguments[0] && unwrap(ts, e.arguments[0]);
    if (cb && (ts.isArrowFunction(cb) || ts.isFunctionExpression(cb))) return returnedSource(scan, cb, depth);
    return inputSource(scan, callee.expression, depth + 1);
  }
  if (PASS_THROUGH.test(name)) return inputSource(scan, callee.expression, depth + 1);
  return null;
}

/** What a callback returns carries input if it is built from its element (or from anything else tainted). */
function returnedSource(scan: Scan, fn: TS.ArrowFunction | TS.FunctionExpression, depth: number): string | null {
  const { ts } = scan;
  if (ts.isArrowFunction(fn) && !ts.isBlock(fn.body)) return inputSource(scan, fn.body, depth + 1);
  let found: string | null = null;
  const visit = (n: TS.Node): void => {
    if (found || (n !== fn.body && ts.isFunctionLike(n))) return;
    if (ts.isReturnStatement(n) && n.expression) found = inputSource(scan, n.expression, depth + 1);
    ts.forEachChild(n, visit);
  };
  visit(fn.body);
  return found;
}

function identifierSource(scan: Scan, id: TS.Identifier, depth: number): string | null {
  const { ts } = scan;
  const d = declarationOf(scan, id);
  if (!d) return null;
  const memo = memoOf<string | null>(scan, 'taint');
  if (memo.has(d)) return memo.get(d)!;
  memo.set(d, null); // recursion guard
  let result: string | null = null;
  if (ts.isParameter(d)) result = parameterSource(scan, d, id.text, depth);
  else if (ts.isVariableDeclaration(d)) {
    const values = [...(d.initializer ? [d.initializer] : []), ...assignmentsOf(scan, d)];
    const forOf = d.parent?.parent;
    if (forOf && ts.isForOfStatement(forOf)) values.push(forOf.expression);
    result = first(values.map((v) => () => inputSource(scan, v, depth + 1)));
  } else if (ts.isBindingElement(d)) {
    const { root, path } = bindingOrigin(scan, d);
    const base = !root ? null : ts.isParameter(root) ? parameterSource(scan, root, '', depth) : inputSource(scan, root, depth + 1);
    if (base) result = base === 'parameter' ? `parameter ${path.join('.')}` : `${base}.${path.join('.')}`;
  }
  memo.set(d, result);
  return result;
}

/** A parameter is input, except the harness context, the index of an array callback, and elements of clean arrays. */
function parameterSource(scan: Scan, p: TS.ParameterDeclaration, name: string, depth: number): string | null {
  const { ts } = scan;
  if (ts.isIdentifier(p.name) && hasRole(scan, p.name, 'ctx')) return null;
  if (p.type && /\b(AppContext|SetupContext)\b/.test(p.type.getText())) return null;
  const fn = p.parent;
  const call = fn.parent;
  if ((ts.isArrowFunction(fn) || ts.isFunctionExpression(fn)) && ts.isCallExpression(call) && ts.isPropertyAccessExpression(call.expression) && ELEMENT_CALLBACKS.test(call.expression.name.text)) {
    const index = fn.parameters.indexOf(p);
    const elementIndex = call.expression.name.text === 'reduce' ? 1 : 0;
    if (index !== elementIndex) return null;
    return inputSource(scan, call.expression.expression, depth + 1);
  }
  return name ? `parameter ${name}` : 'parameter';
}
