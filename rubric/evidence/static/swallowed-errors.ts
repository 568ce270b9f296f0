// Errors of a write dropped on the floor: an empty `catch {}` around a write, `.catch(() => {})` on a write's
// promise, or a catch that answers success for errors it never looked at. Cleanup (ROLLBACK, release(), lease
// give-back), reads, and non-database calls (a decoupled notification) are not writes.

import type TS from 'typescript';
import type { SourceRef } from '../types.ts';
import { type Scan, constValue, declarationOf, functionOf, ref, unwrap, walk } from './program.ts';
import { isLeaseBookkeeping, isWriteSql, queryCallOf, statementText } from './sql.ts';
import { hasRole } from './roles.ts';

export type SwallowedError = SourceRef & { how: 'empty-catch' | 'catch-noop' | 'catch-returns-success' };

const REDIS_WRITES = new Set(
  ('set setex psetex setnx mset msetnx getset getdel getex del unlink incr incrby incrbyfloat decr decrby hset hmset hsetnx hdel hincrby hincrbyfloat ' +
    'sadd srem smove spop zadd zrem zincrby zpopmin zpopmax zremrangebyscore xadd xack xdel xtrim xgroup xclaim xautoclaim lpush rpush lpushx rpushx lpop rpop lrem lset ' +
    'ltrim lmove rpoplpush expire pexpire expireat pexpireat persist rename renamenx eval evalsha fcall append setrange copy exec').split(' '),
);

/** Does this call send a write (SQL INSERT/UPDATE/DELETE/MERGE/COMMIT, or, unless `sqlOnly`, a Redis write)? Lease bookkeeping is not one. */
export function isWriteCall(scan: Scan, node: TS.Node, sqlOnly = false): boolean {
  const { ts } = scan;
  const q = queryCallOf(scan, node);
  if (q) {
    const text = statementText(scan, q, true);
    return text !== null && isWriteSql(text) && !isLeaseBookkeeping(text);
  }
  if (sqlOnly || !ts.isCallExpression(node)) return false;
  const callee = unwrap(ts, node.expression);
  return ts.isPropertyAccessExpression(callee) && REDIS_WRITES.has(callee.name.text.toLowerCase()) && hasRole(scan, callee.expression, 'redis');
}

/** Does a block send a write (callbacks included, nested declarations not)? */
function sendsWrite(scan: Scan, block: TS.Node, sqlOnly = false): boolean {
  const { ts } = scan;
  let found = false;
  const visit = (n: TS.Node): void => {
    if (found || ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n) || ts.isClassLike(n)) return;
    if ((ts.isCallExpression(n) || ts.isTaggedTemplateExpression(n)) && isWriteCall(scan, n, sqlOnly)) found = true;
    else ts.forEachChild(n, visit);
  };
  visit(block);
  return found;
}

export function findSwallowedErrors(scan: Scan, sf: TS.SourceFile): SwallowedError[] {
  const { ts } = scan;
  const out: SwallowedError[] = [];
  walk(ts, sf, (node) => {
    if (ts.isTryStatement(node) && node.catchClause) {
      const clause = node.catchClause;
      if (!sendsWrite(scan, node.tryBlock)) return;
      // Comments inside do not excuse an empty catch around a database write: the caller still hears "done". Around
      // Redis writes alone, a comment does: a best-effort cache update (a delete or refill that may fail while Redis
      // is down) is a stated decision, as ESLint's no-empty treats a commented block.
      const explained = /\/\/|\/\*/.test(sf.text.slice(clause.block.pos, clause.block.end));
      if (clause.block.statements.length === 0 && !(explained && !sendsWrite(scan, node.tryBlock, true))) out.push({ ...ref(scan, clause), how: 'empty-catch' });
      else if (returnsSuccess(scan, clause)) out.push({ ...ref(scan, clause), how: 'catch-returns-success' });
    }
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
      const method = node.expression.name.text;
      const handler = method === 'catch' ? node.arguments[0] : method === 'then' ? node.arguments[1] : undefined;
      const write = handler && isNoop(scan, handler) ? promiseCall(scan, node.expression.expression) : undefined;
      if (write && isWriteCall(scan, write)) out.push({ ...ref(scan, write), how: 'catch-noop' });
    }
  });
  return out;
}

/** The call a promise comes from, through `.then()`/`.finally()` chains and a local holding it. */
function promiseCall(scan: Scan, e: TS.Expression, depth = 0): TS.Node {
  const { ts } = scan;
  e = unwrap(ts, e);
  if (depth > 5) return e;
  if (ts.isCallExpression(e) && ts.isPropertyAccessExpression(e.expression) && ['then', 'finally'].includes(e.expression.name.text)) return promiseCall(scan, e.expression.expression, depth + 1);
  if (ts.isIdentifier(e)) {
    const v = constValue(scan, e);
    if (v) return promiseCall(scan, v, depth + 1);
  }
  return e;
}

/** `() => {}`, `() => undefined`, `() => null`, `() => void 0`, `function () {}`, `noop`. */
function isNoop(scan: Scan, handler: TS.Expression): boolean {
  const { ts } = scan;
  const h = unwrap(ts, handler);
  if (ts.isIdentifier(h) && /^(noop|ignore|swallow|nothing)$/i.test(h.text)) return true;
  const fn = functionOf(scan, h);
  if (!fn?.body) return false;
  if (ts.isBlock(fn.body)) return fn.body.statements.length === 0;
  const body = unwrap(ts, fn.body);
  return ts.isVoidExpression(body) || body.kind === ts.SyntaxKind.NullKeyword || (ts.isIdentifier(body) && body.text === 'undefined');
}

/**
 * A catch that answers success: it never looks at the error, never throws and never logs, and returns a success
 * value; or it ends by returning success for every error it did not single out (`if (e instanceof Mine) throw e;
 * … return { ok: true }`). `if (e.code === '23505') return existing; throw e` is handling, not swallowing.
 */
function returnsSuccess(scan: Scan, clause: TS.CatchClause): boolean {
  const { ts } = scan;
  const errDecl = clause.variableDeclaration;
  let refersToError = false;
  let logs = false;
  const throws: TS.ThrowStatement[] = [];
  const returns: TS.ReturnStatement[] = [];
  const visit = (n: TS.Node): void => {
    if (ts.isFunctionLike(n)) return;
    if (errDecl && ts.isIdentifier(n) && n !== errDecl.name && declarationOf(scan, n) === errDecl) refersToError = true;
    if (ts.isThrowStatement(n)) throws.push(n);
    if (ts.isReturnStatement(n)) returns.push(n);
    if (ts.isCallExpression(n) && isLogCall(scan, n)) logs = true;
    ts.forEachChild(n, visit);
  };
  visit(clause.block);
  if (!refersToError && !throws.length && !logs && returns.some((r) => isSuccess(scan, r.expression))) return true;
  const last = clause.block.statements.at(-1);
  return !!last && ts.isReturnStatement(last) && isSuccess(scan, last.expression) && throws.every((t) => singlesOut(scan, t, clause.block));
}

function isLogCall(scan: Scan, call: TS.CallExpression): boolean {
  const { ts } = scan;
  const text = call.expression.getText();
  return /^(console|logger|log|this\.log(ger)?)\b/.test(text) || /\.(log|info|warn|error|debug|trace|fatal)$/.test(text) || hasRole(scan, call.expression, 'log') || (ts.isIdentifier(call.expression) && /log/i.test(call.expression.text));
}

/** Is a throw guarded by a positive test (`if (e instanceof X) throw e`), letting every other error through? */
function singlesOut(scan: Scan, t: TS.ThrowStatement, block: TS.Block): boolean {
  const { ts } = scan;
  for (let n: TS.Node = t; n.parent && n !== block; n = n.parent) {
    const p = n.parent;
    if (ts.isIfStatement(p)) return p.thenStatement === n ? !isNegated(ts, p.expression) : isNegated(ts, p.expression);
  }
  return false; // thrown unconditionally
}

function isNegated(ts: Scan['ts'], e: TS.Expression): boolean {
  e = unwrap(ts, e);
  if (ts.isPrefixUnaryExpression(e) && e.operator === ts.SyntaxKind.ExclamationToken) return true;
  if (!ts.isBinaryExpression(e)) return false;
  const op = e.operatorToken.kind;
  if (op === ts.SyntaxKind.ExclamationEqualsEqualsToken || op === ts.SyntaxKind.ExclamationEqualsToken) return true;
  if (op === ts.SyntaxKind.BarBarToken || op === ts.SyntaxKind.AmpersandAmpersandToken) return isNegated(ts, e.left) || isNegated(ts, e.right);
  return false;
}

const FAILURE_WORDS = /err|fail|invalid|unavailable|denied|timeout|refused|reject|conflict|taken|not.?found/i;

/** A value that tells the caller "it worked": true, 'ok', an object without an error, a found value. */
function isSuccess(scan: Scan, e: TS.Expression | undefined): boolean {
  const { ts } = scan;
  if (!e) return false;
  e = unwrap(ts, e);
  if (e.kind === ts.SyntaxKind.TrueKeyword) return true;
  if (ts.isStringLiteralLike(e) || ts.isTemplateExpression(e)) return !FAILURE_WORDS.test(e.getText());
  if (ts.isIdentifier(e) || ts.isPropertyAccessExpression(e)) return e.getText() !== 'undefined' && !FAILURE_WORDS.test(e.getText()) && !/null/i.test(e.getText());
  if (!ts.isObjectLiteralExpression(e)) return false;
  for (const p of e.properties) {
    const name = p.name?.getText().replace(/['"]/g, '') ?? '';
    if (/^(error|errors|err|reason|message|failure|problem)$/i.test(name)) return false;
    if (ts.isPropertyAssignment(p)) {
      const v = unwrap(ts, p.initializer);
      if (/^(ok|success|succeeded)$/i.test(name) && v.kind === ts.SyntaxKind.FalseKeyword) return false;
      if (/^(status|statusCode|code)$/i.test(name) && ts.isNumericLiteral(v) && Number(v.text) >= 400) return false;
      if (ts.isStringLiteralLike(v) && FAILURE_WORDS.test(v.text)) return false;
    }
    if (ts.isSpreadAssignment(p)) return false; // unknown content
  }
  return true;
}
