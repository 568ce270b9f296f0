// Transaction control (BEGIN / START TRANSACTION / COMMIT / ROLLBACK) sent through the pool, where every query may
// run on another connection: `ctx.pg.query('BEGIN')`, through locals, destructuring, `this.pool` and helpers.
// A client from `pool.connect()` or a callback parameter is a single connection and is fine.

import type TS from 'typescript';
import type { SourceRef } from '../types.ts';
import { type Scan, ref, walk } from './program.ts';
import { isTxControl, queryCallOf, statementText } from './sql.ts';
import { hasRole } from './roles.ts';

export function findPoolTransactions(scan: Scan, sf: TS.SourceFile): SourceRef[] {
  const { ts } = scan;
  const out: SourceRef[] = [];
  walk(ts, sf, (node) => {
    if (!ts.isCallExpression(node)) return;
    const q = queryCallOf(scan, node);
    if (!q?.receiver) return;
    const text = statementText(scan, q, false);
    if (text === null || !isTxControl(text)) return;
    if (hasRole(scan, q.receiver, 'pool')) out.push(ref(scan, node));
  });
  return out;
}
