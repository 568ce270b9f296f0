// Retries and backoff: declarations named for them (withRetry, MAX_RETRIES, backoffMs, attempts), imported retry
// helpers (cockatiel, p-retry, async-retry), the SQLSTATE codes worth retrying (40001, 40P01), and loops around
// an awaited call inside try/catch.

import type TS from 'typescript';
import type { SourceRef } from '../types.ts';
import { type Scan, ref, walk, wordsOf } from './program.ts';

const RETRY_WORDS = new Set(['retry', 'retries', 'retrying', 'retryable', 'backoff', 'jitter']);
const ATTEMPT_NAMES = /^(attempts?|maxAttempts|max_attempts)$/i;
const RETRY_PACKAGES = /^(cockatiel|p-retry|async-retry|retry|exponential-backoff|promise-retry)$/;

const isRetryName = (name: string) => ATTEMPT_NAMES.test(name) || wordsOf(name).some((w) => RETRY_WORDS.has(w));

export function findRetries(scan: Scan, sf: TS.SourceFile): SourceRef[] {
  const { ts } = scan;
  const out: SourceRef[] = [];
  walk(ts, sf, (node) => {
    if (ts.isIdentifier(node) && isRetryName(node.text)) {
      const p = node.parent;
      if ((ts.isVariableDeclaration(p) || ts.isFunctionDeclaration(p) || ts.isParameter(p) || ts.isMethodDeclaration(p) || ts.isImportSpecifier(p)) && p.name === node) out.push(ref(scan, node));
    }
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier) && RETRY_PACKAGES.test(node.moduleSpecifier.text)) out.push(ref(scan, node));
    if (ts.isStringLiteralLike(node) && /^(40001|40P01)$/.test(node.text)) out.push(ref(scan, node));
    if ((ts.isForStatement(node) || ts.isWhileStatement(node) || ts.isDoStatement(node)) && hasTryWithAwait(ts, node.statement)) out.push(ref(scan, node));
  });
  return out;
}

/** A try block (not in a nested function) that awaits something: the body of a retry loop. */
function hasTryWithAwait(ts: Scan['ts'], body: TS.Node): boolean {
  const awaits = (n: TS.Node): boolean => ts.isAwaitExpression(n) || (!ts.isFunctionLike(n) && !!ts.forEachChild(n, (c) => awaits(c) || undefined));
  const visit = (n: TS.Node): boolean => {
    if (n !== body && ts.isFunctionLike(n)) return false;
    if (ts.isTryStatement(n) && awaits(n.tryBlock) && n.catchClause) return true;
    return !!ts.forEachChild(n, (c) => visit(c) || undefined);
  };
  return visit(body);
}
