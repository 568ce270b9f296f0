// What a value is, followed through locals and destructuring: the harness context (`ctx`), its pool (`ctx.pg`,
// `new Pool()`), a Redis client (`ctx.redis`, `new Redis()`, `redis.multi()`), or `ctx.log`.

import type TS from 'typescript';
import { type Scan, assignmentsOf, bindingOrigin, declarationOf, isSingleAssignment, memoOf, unwrap } from './program.ts';

type Role = 'ctx' | 'pool' | 'redis' | 'log';

const CTX_NAME = /^(ctx|context|appCtx|appContext|setupCtx|setupContext)$/i;
const CTX_TYPE = /\b(AppContext|SetupContext)\b(?!\s*\[)/;
const POOL_TYPE = /\bPool\b/;
const POOL_NAME = /^(pool|pgPool|pg)$/i;
const REDIS_NEW = /^(Redis|IORedis|Cluster)$/;

/** Is `e` (followed through names, destructuring, `this.x` and call sites) the given thing? */
export function hasRole(scan: Scan, e: TS.Expression, role: Role, depth = 0): boolean {
  const { ts } = scan;
  if (depth > 6) return false;
  e = unwrap(ts, e);
  switch (role) {
    case 'ctx':
      if (ts.isIdentifier(e) && CTX_NAME.test(e.text)) return true;
      if (ts.isPropertyAccessExpression(e) && e.expression.kind === ts.SyntaxKind.ThisKeyword && CTX_NAME.test(e.name.text)) return true;
      break;
    case 'pool':
      if (ts.isNewExpression(e) && /(^|\.)Pool$/.test(e.expression.getText())) return true;
      if (ts.isPropertyAccessExpression(e) && e.name.text === 'pg' && hasRole(scan, e.expression, 'ctx', depth + 1)) return true;
      break;
    case 'redis':
      if (ts.isNewExpression(e) && REDIS_NEW.test(e.expression.getText().split('.').pop() ?? '')) return true;
      if (ts.isCallExpression(e) && /(^|\.)createClient$/.test(e.expression.getText())) return true;
      if (ts.isPropertyAccessExpression(e) && /redis/i.test(e.name.text)) return true;
      if (ts.isIdentifier(e) && /redis/i.test(e.text)) return true;
      // redis.multi().set(…).incr(…): the chain is Redis all the way.
      if (ts.isCallExpression(e) && ts.isPropertyAccessExpression(e.expression)) return hasRole(scan, e.expression.expression, 'redis', depth + 1);
      break;
    case 'log':
      if (ts.isPropertyAccessExpression(e) && e.name.text === 'log' && hasRole(scan, e.expression, 'ctx', depth + 1)) return true;
      if (ts.isCallExpression(e) && ts.isPropertyAccessExpression(e.expression) && e.expression.name.text === 'bind') return hasRole(scan, e.expression.expression, 'log', depth + 1);
      break;
  }
  if (ts.isPropertyAccessExpression(e) && e.expression.kind === ts.SyntaxKind.ThisKeyword) return thisFieldHasRole(scan, e, role, depth);
  if (!ts.isIdentifier(e)) return false;
  return declarationHasRole(scan, e, declarationOf(scan, e), role, depth);
}

function declarationHasRole(scan: Scan, id: TS.Identifier, d: TS.Declaration | undefined, role: Role, depth: number): boolean {
  const { ts } = scan;
  if (!d) return false;
  const memo = memoOf<boolean>(scan, `role:${role}`);
  if (memo.has(d)) return memo.get(d)!;
  memo.set(d, false); // recursion guard
  let result = false;
  if (ts.isVariableDeclaration(d)) {
    const values = [...(d.initializer ? [d.initializer] : []), ...(isSingleAssignment(scan, d) ? [] : assignmentsOf(scan, d))];
    result = values.some((v) => hasRole(scan, v, role, depth + 1));
  } else if (ts.isBindingElement(d)) {
    // `const { pg } = ctx`, `const { log } = ctx`, `create({ pg })`.
    const { root, path } = bindingOrigin(scan, d);
    const key = path.length === 1 ? path[0] : undefined;
    const wanted = role === 'pool' ? 'pg' : role === 'log' ? 'log' : role === 'redis' ? 'redis' : undefined;
    if (root && key && key === wanted) result = ts.isParameter(root) ? parameterIsCtx(scan, root) : hasRole(scan, root, 'ctx', depth + 1);
  } else if (ts.isParameter(d)) {
    result = parameterHasRole(scan, d, role, depth);
  }
  memo.set(d, result);
  return result;
}

/** A parameter destructured for `pg`/`log`: the context when typed so, or when it is the create/setup entry point. */
function parameterIsCtx(scan: Scan, p: TS.ParameterDeclaration): boolean {
  if (p.type && CTX_TYPE.test(p.type.getText())) return true;
  const fn = p.parent;
  const name = 'name' in fn && fn.name ? fn.name.getText() : '';
  return /^(create|setup)$/.test(name) || !!(scan.ts.isFunctionDeclaration(fn) && fn.modifiers?.some((m) => m.kind === scan.ts.SyntaxKind.DefaultKeyword));
}

function parameterHasRole(scan: Scan, p: TS.ParameterDeclaration, role: Role, depth: number): boolean {
  const { ts } = scan;
  const type = p.type?.getText() ?? '';
  const name = ts.isIdentifier(p.name) ? p.name.text : '';
  if (role === 'ctx' && (CTX_TYPE.test(type) || CTX_NAME.test(name))) return true;
  if (role === 'pool' && (POOL_TYPE.test(type) || (!type && POOL_NAME.test(name)))) return true;
  if (role === 'log' && /\[\s*['"]log['"]\s*\]/.test(type)) return true;
  if (role === 'log' && p.type && ts.isTypeReferenceNode(p.type) && ts.isIdentifier(p.type.typeName)) {
    // `type Log = AppContext['log']`.
    const alias = declarationOf(scan, p.type.typeName);
    if (alias && ts.isTypeAliasDeclaration(alias) && /\[\s*['"]log['"]\s*\]/.test(alias.type.getText())) return true;
  }
  if (role === 'redis' && /\bRedis\b/.test(type)) return true;
  if (type) return false; // typed as something else: trust the type
  // What the callers pass: `helper(ctx.pg)` makes helper's parameter the pool.
  const fn = p.parent;
  const index = fn.parameters.indexOf(p);
  const named = ts.isFunctionDeclaration(fn) ? fn : ts.isVariableDeclaration(fn.parent) ? fn.parent : undefined;
  const fnName = named?.name && ts.isIdentifier(named.name) ? named.name.text : undefined;
  if (!named || !fnName || index < 0 || p.dotDotDotToken) return false;
  return (scan.callsByName.get(fnName) ?? []).some((call) => {
    const arg = call.arguments[index];
    return !!arg && declarationOf(scan, call.expression as TS.Identifier) === named && hasRole(scan, arg, role, depth + 1);
  });
}

/** `this.pool` when the class sets it from something with the role (field initializer, constructor, any method). */
function thisFieldHasRole(scan: Scan, e: TS.PropertyAccessExpression, role: Role, depth: number): boolean {
  const { ts } = scan;
  let cls: TS.Node | undefined = e.parent;
  while (cls && !ts.isClassLike(cls)) cls = cls.parent;
  if (!cls) return false;
  const name = e.name.text;
  let found = false;
  const visit = (n: TS.Node): void => {
    if (found) return;
    if (ts.isPropertyDeclaration(n) && n.name.getText() === name) {
      if (n.initializer && hasRole(scan, n.initializer, role, depth + 1)) found = true;
      if (role === 'pool' && n.type && POOL_TYPE.test(n.type.getText())) found = true;
    }
    if (ts.isParameter(n) && ts.isIdentifier(n.name) && n.name.text === name && n.modifiers?.length && parameterHasRole(scan, n, role, depth + 1)) found = true;
    if (ts.isBinaryExpression(n) && n.operatorToken.kind === ts.SyntaxKind.EqualsToken && ts.isPropertyAccessExpression(n.left) && n.left.expression.kind === ts.SyntaxKind.ThisKeyword && n.left.name.text === name && hasRole(scan, n.right, role, depth + 1)) found = true;
    ts.forEachChild(n, visit);
  };
  visit(cls);
  return found;
}
