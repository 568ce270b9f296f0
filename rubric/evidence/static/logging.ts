// How the code talks and what it uses: calls to ctx.log (the structured log the harness collects, also through a
// local or parameter bound to it), console calls, and whether it uses Redis and PostgreSQL.

import type TS from 'typescript';
import { type Scan, constText, unwrap, walk } from './program.ts';
import { hasRole } from './roles.ts';
import { isSql } from './sql.ts';

export interface Usage {
  ctxLogCalls: number;
  consoleCalls: number;
  usesRedis: boolean;
  usesPostgres: boolean;
}

const REDIS_PACKAGES = /^(ioredis|redis|@redis\/client)$/;
const PG_PACKAGES = /^(pg|postgres|pg-promise|knex|kysely|slonik|drizzle-orm(\/.*)?|@databases\/pg)$/;

export function findUsage(scan: Scan, sf: TS.SourceFile): Usage {
  const { ts } = scan;
  const usage: Usage = { ctxLogCalls: 0, consoleCalls: 0, usesRedis: false, usesPostgres: false };
  walk(ts, sf, (node) => {
    if (ts.isCallExpression(node)) {
      const callee = unwrap(ts, node.expression);
      if (ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) && callee.expression.text === 'console') usage.consoleCalls++;
      else if (isCtxLog(scan, callee)) usage.ctxLogCalls++;
    }
    if (ts.isPropertyAccessExpression(node)) {
      if (node.name.text === 'redis' && hasRole(scan, node.expression, 'ctx')) usage.usesRedis = true;
      if (node.name.text === 'pg' && hasRole(scan, node.expression, 'ctx')) usage.usesPostgres = true;
      if (/redis/i.test(node.expression.getText().split('.').pop() ?? '')) usage.usesRedis = true;
    }
    if (ts.isNewExpression(node) && /(^|\.)(Redis|IORedis)$/.test(node.expression.getText())) usage.usesRedis = true;
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      if (REDIS_PACKAGES.test(node.moduleSpecifier.text)) usage.usesRedis = true;
      if (PG_PACKAGES.test(node.moduleSpecifier.text)) usage.usesPostgres = true;
    }
    if ((ts.isStringLiteralLike(node) || ts.isTemplateExpression(node)) && !usage.usesPostgres && isSql(constText(scan, node as TS.Expression, true) ?? '')) usage.usesPostgres = true;
  });
  return usage;
}

/** `ctx.log(…)`, `context.log(…)`, `this.ctx.log(…)`, or a local/parameter bound to it (`const log = ctx.log`). */
function isCtxLog(scan: Scan, callee: TS.Expression): boolean {
  const { ts } = scan;
  if (ts.isPropertyAccessExpression(callee)) return callee.name.text === 'log' && hasRole(scan, callee.expression, 'ctx');
  return ts.isIdentifier(callee) && hasRole(scan, callee, 'log');
}
