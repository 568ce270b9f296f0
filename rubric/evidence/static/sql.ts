// SQL as the detectors see it: what text is SQL, a write or transaction control, and which calls send a
// statement (`x.query(sql)`, `x.execute(sql)`, tagged templates, and local helpers that forward their `sql`
// parameter to one of those, like `run(client, 'BEGIN')`).

import type TS from 'typescript';
import { type Scan, constText, declarationOf, functionOf, memoOf, unwrap } from './program.ts';

const SQL_START = /^\s*\(?\s*(SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|ALTER|DROP|BEGIN|COMMIT|ROLLBACK|START\s+TRANSACTION|SET\s+TRANSACTION|LOCK|TRUNCATE|MERGE)\b/i;
const SQL_ANYWHERE = /\b(SELECT\b[\s\S]+?\bFROM\b|UPDATE\s+[\w."]+\s+SET\b|INSERT\s+INTO\b|DELETE\s+FROM\b)/i;
const WRITE = /^\s*\(?\s*(INSERT|UPDATE|DELETE|MERGE|TRUNCATE|COMMIT|END)\b|^\s*WITH\b[\s\S]*\b(INSERT\s+INTO|UPDATE\s+[\w."]+\s+SET|DELETE\s+FROM)\b/i;
const TX_CONTROL = /^\s*(BEGIN|START\s+TRANSACTION|COMMIT|ROLLBACK|END|ABORT)\b/i;
/** Methods that send one statement (pg, mysql2, pg-promise, postgres.js unsafe). */
const QUERY_METHODS = new Set(['query', 'execute', 'none', 'one', 'oneOrNone', 'many', 'manyOrNone', 'any', 'result', 'unsafe']);

export const isSql = (text: string): boolean => SQL_START.test(text) || SQL_ANYWHERE.test(text);
export const isWriteSql = (text: string): boolean => WRITE.test(text);

/** Statement text that is only transaction control (`BEGIN`, `COMMIT`, …), not a whole transaction in one string. */
export function isTxControl(text: string): boolean {
  if (!TX_CONTROL.test(text)) return false;
  const statements = text.split(';').filter((s) => s.trim());
  return statements.length === 1;
}

/**
 * Lease or lock bookkeeping: an UPDATE that only sets lease/lock columns (renewing or giving back a lease).
 * Dropping its error is cleanup, like a failed ROLLBACK: the lease expires on its own.
 */
export function isLeaseBookkeeping(text: string): boolean {
  const m = /^\s*UPDATE\s+[\w."]+\s+SET\s+([\s\S]+?)\s+WHERE\b/i.exec(text);
  if (!m) return false;
  const targets = [...m[1].matchAll(/(?:^|,)\s*"?([a-z_][\w]*)"?\s*=/gi)].map((x) => x[1].toLowerCase());
  return targets.length > 0 && targets.every((t) => /lock|lease|heartbeat/.test(t));
}

export interface QueryCall {
  node: TS.CallExpression | TS.TaggedTemplateExpression;
  /** What the statement is sent through (a pool, a client, a connection), when known. */
  receiver: TS.Expression | undefined;
  /** The statement's text expression. */
  sql: TS.Expression | undefined;
}

interface Forwarder {
  /** Which argument carries the statement. */
  sqlIndex: number;
  /** Which argument is the receiver, or the receiver expression inside the helper. */
  receiver: number | TS.Expression | undefined;
}

/** The statement argument of a `.query(...)`: the string itself, or the `text` of a query config object. */
function statementArg(scan: Scan, arg: TS.Expression | undefined): TS.Expression | undefined {
  const { ts } = scan;
  if (!arg) return undefined;
  const e = unwrap(ts, arg);
  if (ts.isObjectLiteralExpression(e)) {
    for (const p of e.properties) {
      if (ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) && p.name.text === 'text') return p.initializer;
      if (ts.isShorthandPropertyAssignment(p) && p.name.text === 'text') return p.name;
    }
    return undefined;
  }
  return arg;
}

/** The query a call sends, if it sends one: `x.query(sql)`, a bound `x.query`, a tagged template, or a forwarder. */
export function queryCallOf(scan: Scan, node: TS.Node, depth = 0): QueryCall | null {
  const { ts } = scan;
  if (ts.isTaggedTemplateExpression(node)) {
    const tag = unwrap(ts, node.tag);
    const name = ts.isIdentifier(tag) ? tag.text : ts.isPropertyAccessExpression(tag) ? tag.name.text : '';
    if (!/^(sql|query|db)$/i.test(name)) return null;
    return { node, receiver: ts.isPropertyAccessExpression(tag) ? tag.expression : undefined, sql: node.template };
  }
  if (!ts.isCallExpression(node)) return null;
  const callee = unwrap(ts, node.expression);
  if (ts.isPropertyAccessExpression(callee) && QUERY_METHODS.has(callee.name.text)) {
    return { node, receiver: callee.expression, sql: statementArg(scan, node.arguments[0]) };
  }
  if (!ts.isIdentifier(callee) || depth > 4) return null;
  // A local bound to `x.query` or `x.query.bind(x)`.
  const d = declarationOf(scan, callee);
  if (d && ts.isVariableDeclaration(d) && d.initializer) {
    const bound = boundQuery(scan, d.initializer);
    if (bound) return { node, receiver: bound, sql: statementArg(scan, node.arguments[0]) };
  }
  const fw = forwarderOf(scan, callee, depth);
  if (!fw) return null;
  const receiver = typeof fw.receiver === 'number' ? node.arguments[fw.receiver] : fw.receiver;
  return { node, receiver, sql: statementArg(scan, node.arguments[fw.sqlIndex]) };
}

/** `x.query` or `x.query.bind(…)` → x. */
function boundQuery(scan: Scan, init: TS.Expression): TS.Expression | undefined {
  const { ts } = scan;
  let e = unwrap(ts, init);
  if (ts.isCallExpression(e) && ts.isPropertyAccessExpression(e.expression) && e.expression.name.text === 'bind') e = unwrap(ts, e.expression.expression);
  if (ts.isPropertyAccessExpression(e) && e.name.text === 'query') return e.expression;
  return undefined;
}

/** A local helper that sends its own parameter as a statement (`function run(c, sql) { return c.query(sql) }`). */
function forwarderOf(scan: Scan, callee: TS.Expression, depth: number): Forwarder | null {
  const { ts } = scan;
  const fn = functionOf(scan, callee);
  if (!fn || !fn.body) return null;
  const memo = memoOf<Forwarder | null>(scan, 'forwarder');
  if (memo.has(fn)) return memo.get(fn)!;
  memo.set(fn, null); // recursion guard
  const params = fn.parameters.map((p) => p);
  const paramIndex = (e: TS.Expression | undefined): number => {
    if (!e) return -1;
    const u = unwrap(ts, e);
    if (!ts.isIdentifier(u)) return -1;
    const d = declarationOf(scan, u);
    return d && ts.isParameter(d) ? params.indexOf(d) : -1;
  };
  let found: Forwarder | null = null;
  const visit = (n: TS.Node): void => {
    if (found) return;
    if (n !== fn && ts.isFunctionDeclaration(n)) return;
    const q = (ts.isCallExpression(n) || ts.isTaggedTemplateExpression(n)) && queryCallOf(scan, n, depth + 1);
    if (q) {
      const sqlIndex = paramIndex(q.sql);
      if (sqlIndex >= 0) {
        const r = paramIndex(q.receiver);
        found = { sqlIndex, receiver: r >= 0 ? r : q.receiver };
        return;
      }
    }
    ts.forEachChild(n, visit);
  };
  ts.forEachChild(fn.body, visit);
  memo.set(fn, found);
  return found;
}

/** The statement text of a query call: strict (null when not fully constant) or lenient (`?` for the unknown). */
export function statementText(scan: Scan, q: QueryCall, lenient: boolean): string | null {
  return q.sql ? constText(scan, q.sql, lenient) : null;
}
