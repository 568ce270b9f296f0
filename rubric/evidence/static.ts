// A static read of the submission's source with the TypeScript parser (which reads JavaScript too): hard-coded
// credentials and URLs, SQL built from inputs, ctx.log use, retries, how writes are made atomic, swallowed
// errors, the columns queries filter by, and the candidate's own tests. Heuristics, reported as evidence with
// file and line so a reviewer can check them; never a red flag on their own.

import fs from 'node:fs';
import type TS from 'typescript';
import type { Lookup, SourceRef, StaticEvidence, TestEvidence } from './types.ts';
import { displayPath } from './sources.ts';

type Ts = typeof TS;

const SQL_START = /^\s*\(?\s*(SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|ALTER|DROP|BEGIN|COMMIT|ROLLBACK|START\s+TRANSACTION|SET\s+TRANSACTION|LOCK|TRUNCATE)\b/i;
const SQL_ANYWHERE = /\b(SELECT\b[\s\S]+?\bFROM\b|UPDATE\s+[\w."]+\s+SET\b|INSERT\s+INTO\b|DELETE\s+FROM\b)/i;
const WRITE_START = /^\s*(?:WITH\b[\s\S]*?\)\s*)?(INSERT|UPDATE|DELETE)\b/i;
const SQL_WORDS = new Set(['and', 'or', 'not', 'null', 'is', 'in', 'true', 'false', 'select', 'from', 'where', 'exists', 'any', 'all', 'case', 'when', 'then', 'else', 'end', 'now', 'coalesce', 'interval', 'current_timestamp', 'clock_timestamp', 'like', 'between', 'distinct', 'as', 'on', 'set', 'returning', 'limit', 'for', 'update', 'order', 'by', 'group', 'having', 'excluded']);

export interface StaticInput {
  submission: string;
  code: string[];
  tests: string[];
}

const ref = (ts: Ts, sf: TS.SourceFile, node: TS.Node, submission: string): SourceRef => {
  const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
  const text = sf.text.split('\n')[line]?.trim() ?? '';
  return { file: displayPath(submission, sf.fileName), line: line + 1, text: text.length > 160 ? text.slice(0, 157) + '…' : text };
};

function parse(ts: Ts, file: string): TS.SourceFile | null {
  try {
    const text = fs.readFileSync(file, 'utf8');
    const kind = /\.[cm]?tsx?$/.test(file) ? (file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS) : ts.ScriptKind.JS;
    return ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, kind);
  } catch {
    return null;
  }
}

/** Top-level string constants (`const X = '...'`, templates of constants, `const SQL = { a: '...' }`), resolved. */
function constantStrings(ts: Ts, files: TS.SourceFile[]): Map<string, string> {
  const consts = new Map<string, string>();
  const pending: { name: string; init: TS.Expression }[] = [];
  for (const sf of files) {
    const visit = (node: TS.Node) => {
      if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer && ts.isVariableDeclarationList(node.parent) && node.parent.flags & ts.NodeFlags.Const) {
        const init = node.initializer;
        if (ts.isObjectLiteralExpression(init)) {
          for (const p of init.properties) {
            if (ts.isPropertyAssignment(p) && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name))) pending.push({ name: `${node.name.text}.${p.name.text}`, init: p.initializer });
          }
        } else pending.push({ name: node.name.text, init });
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  for (let pass = 0; pass < 5; pass++) {
    for (const { name, init } of pending) {
      if (consts.has(name)) continue;
      const v = staticText(ts, init, consts, false);
      if (v !== null) consts.set(name, v);
    }
  }
  return consts;
}

/** The text of a string expression; substitutions resolved through constants, else `?` (or null when strict). */
function staticText(ts: Ts, e: TS.Expression, consts: Map<string, string>, lenient: boolean): string | null {
  if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) return e.text;
  if (ts.isParenthesizedExpression(e)) return staticText(ts, e.expression, consts, lenient);
  if (ts.isIdentifier(e) || ts.isPropertyAccessExpression(e)) {
    const v = consts.get(e.getText());
    return v ?? (lenient ? '?' : null);
  }
  if (ts.isTemplateExpression(e)) {
    let out = e.head.text;
    for (const span of e.templateSpans) {
      const v = staticText(ts, span.expression, consts, lenient);
      if (v === null) return null;
      out += v + span.literal.text;
    }
    return out;
  }
  if (ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.PlusToken) {
    const l = staticText(ts, e.left, consts, lenient);
    const r = staticText(ts, e.right, consts, lenient);
    return l === null || r === null ? null : l + r;
  }
  return lenient ? '?' : null;
}

const isSql = (text: string) => SQL_START.test(text) || SQL_ANYWHERE.test(text);

/** Parameter names of every function enclosing `node` (values that may come from a caller). */
function enclosingParams(ts: Ts, node: TS.Node): Set<string> {
  const names = new Set<string>();
  const addBinding = (b: TS.BindingName) => {
    if (ts.isIdentifier(b)) names.add(b.text);
    else for (const el of b.elements) if (!ts.isOmittedExpression(el)) addBinding(el.name);
  };
  for (let n: TS.Node | undefined = node.parent; n; n = n.parent) {
    if (ts.isFunctionLike(n)) for (const p of n.parameters) addBinding(p.name);
  }
  return names;
}

/** Does an interpolated expression carry caller input into SQL (rather than a constant or a `$n` placeholder)? */
function carriesInput(ts: Ts, expr: TS.Expression, textBefore: string, params: Set<string>, consts: Map<string, string>): boolean {
  if (/\$$/.test(textBefore)) return false; // `$${i + 1}`: building a placeholder
  const src = expr.getText();
  if (consts.has(src)) return false;
  if (/\b(escapeIdentifier|escapeLiteral|format|quoteIdent|Number|parseInt|parseFloat)\s*\(/.test(src)) return false;
  if (/\$\$\{|'\$'|"\$"|`\$/.test(src)) return false; // placeholders built in a map/join
  let found = false;
  const visit = (n: TS.Node) => {
    if (ts.isIdentifier(n) && params.has(n.text)) found = true;
    ts.forEachChild(n, visit);
  };
  visit(expr);
  return found;
}

/** How each WHERE clause of a statement finds rows: the columns it compares for equality, by table. */
export function lookupsOf(sql: string): { table: string; columns: string[] }[] {
  const text = sql.replace(/--[^\n]*/g, ' ').replace(/\s+/g, ' ').replace(/"/g, '');
  const out: { table: string; columns: string[] }[] = [];
  for (const st of text.split(/;/)) {
    const aliases = new Map<string, string>();
    let main: string | null = null;
    const tableRe = /\b(?:FROM|JOIN|UPDATE|INTO)\s+(?:ONLY\s+)?([a-z_][\w.]*)(?:\s+(?:AS\s+)?([a-z_]\w*))?/gi;
    for (let m = tableRe.exec(st); m; m = tableRe.exec(st)) {
      const table = m[1].split('.').pop()!.toLowerCase();
      if (SQL_WORDS.has(table) || table === 'unnest') continue;
      main ??= table;
      aliases.set(table, table);
      const alias = m[2]?.toLowerCase();
      if (alias && !SQL_WORDS.has(alias) && !['where', 'values', 'default'].includes(alias)) aliases.set(alias, table);
    }
    if (!main) continue;
    const where = /\bWHERE\b([\s\S]*?)(?=\bRETURNING\b|\bORDER\s+BY\b|\bGROUP\s+BY\b|\bLIMIT\b|\bFOR\s+(?:NO\s+KEY\s+)?UPDATE\b|\bFOR\s+SHARE\b|\bON\s+CONFLICT\b|\bUNION\b|\)\s*(?:SELECT|UPDATE|INSERT|DELETE)\b|$)/gi;
    for (let w = where.exec(st); w; w = where.exec(st)) {
      const byTable = new Map<string, string[]>();
      const colRe = /(?<!::)(?:\b([a-z_]\w*)\.)?\b([a-z_]\w*)\s*(?:=(?!\s*(?:NULL\b))|\bIN\s*\(|=\s*ANY\b)/gi;
      for (let c = colRe.exec(w[1]); c; c = colRe.exec(w[1])) {
        const column = c[2].toLowerCase();
        if (SQL_WORDS.has(column)) continue;
        const table = c[1] ? aliases.get(c[1].toLowerCase()) : main;
        if (!table) continue;
        const cols = byTable.get(table) ?? byTable.set(table, []).get(table)!;
        if (!cols.includes(column)) cols.push(column);
      }
      for (const [table, columns] of byTable) out.push({ table, columns });
    }
  }
  return out;
}

const ATOMIC_SQL: [RegExp, string][] = [
  [/^\s*(BEGIN|START\s+TRANSACTION)\b/i, 'transaction (BEGIN/COMMIT)'],
  [/\bFOR\s+(NO\s+KEY\s+)?UPDATE\b/i, 'row lock (SELECT … FOR UPDATE)'],
  [/\bON\s+CONFLICT\b/i, 'upsert (INSERT … ON CONFLICT)'],
  [/\bpg_(try_)?advisory(_xact)?_lock\b/i, 'advisory lock'],
  [/\bISOLATION\s+LEVEL\s+(SERIALIZABLE|REPEATABLE\s+READ)\b/i, 'strict isolation level'],
  [/^\s*UPDATE\b[\s\S]*\bWHERE\b[\s\S]*\b(AND|OR)\b/i, 'conditional UPDATE (the WHERE clause is the rule)'],
];

/** Run the scan; `ts` is the TypeScript module (the parser). */
export function scanSources(ts: Ts, input: StaticInput): Omit<StaticEvidence, 'typescript'> {
  const files = input.code.map((f) => parse(ts, f)).filter((x): x is TS.SourceFile => !!x);
  const consts = constantStrings(ts, files);
  const hardcoded: StaticEvidence['hardcoded'] = [];
  const interpolatedSql: SourceRef[] = [];
  const retries: SourceRef[] = [];
  const atomicity: StaticEvidence['atomicity'] = [];
  const unguardedMultiWrites: SourceRef[] = [];
  const readThenWrite: SourceRef[] = [];
  const swallowedErrors: SourceRef[] = [];
  const strictIsolation: SourceRef[] = [];
  const lookups: Lookup[] = [];
  let ctxLogCalls = 0;
  let consoleCalls = 0;
  let usesRedis = false;
  let usesPostgres = false;
  let linesOfCode = 0;
  const push = <T extends SourceRef & { kind?: string }>(list: T[], item: T, max = 20) => {
    if (list.length < max && !list.some((x) => x.file === item.file && x.line === item.line && x.kind === item.kind)) list.push(item);
  };

  for (const sf of files) {
    linesOfCode += sf.text.split('\n').filter((l) => l.trim() && !/^\s*(\/\/|\*|\/\*)/.test(l)).length;
    const sqlTexts: { node: TS.Node; text: string }[] = [];
    const visit = (node: TS.Node) => {
      // Strings: SQL, hard-coded URLs and credentials.
      if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateExpression(node)) {
        const parentIsTemplate = ts.isTemplateSpan(node.parent) || ts.isTemplateExpression(node.parent);
        const text = staticText(ts, node as TS.Expression, consts, true) ?? '';
        if (!parentIsTemplate && isSql(text)) {
          sqlTexts.push({ node, text });
          usesPostgres = true;
        }
        const raw = ts.isTemplateExpression(node) ? node.head.text : (node as TS.StringLiteral).text;
        if (/^(postgres|postgresql|redis|rediss|mysql|mongodb(\+srv)?):\/\//i.test(raw)) push(hardcoded, { ...ref(ts, sf, node, input.submission), kind: 'database-url' });
        else if (/^https?:\/\/(localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(:\d+)?/i.test(raw)) push(hardcoded, { ...ref(ts, sf, node, input.submission), kind: 'service-url' });
        if (ts.isStringLiteral(node) && /^(40001|40P01)$/.test(node.text)) push(retries, ref(ts, sf, node, input.submission), 10);
      }
      if (ts.isTemplateExpression(node) && !ts.isTaggedTemplateExpression(node.parent)) {
        const whole = staticText(ts, node, consts, true) ?? '';
        if (/^\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b/i.test(whole) || SQL_ANYWHERE.test(whole)) {
          const params = enclosingParams(ts, node);
          let before = node.head.text;
          for (const span of node.templateSpans) {
            if (carriesInput(ts, span.expression, before, params, consts)) {
              push(interpolatedSql, ref(ts, sf, span.expression, input.submission));
              break;
            }
            before = span.literal.text;
          }
        }
      }
      if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken && !ts.isBinaryExpression(node.parent)) {
        const whole = staticText(ts, node, consts, true) ?? '';
        if (isSql(whole)) {
          const params = enclosingParams(ts, node);
          const operands: TS.Expression[] = [];
          const flat = (e: TS.Expression): void => {
            if (ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.PlusToken) {
              flat(e.left);
              flat(e.right);
            } else operands.push(e);
          };
          flat(node);
          if (operands.some((o) => !ts.isStringLiteralLike(o) && carriesInput(ts, o, '', params, consts))) push(interpolatedSql, ref(ts, sf, node, input.submission));
        }
      }
      // Credentials assigned to a name that says so.
      if ((ts.isPropertyAssignment(node) || ts.isVariableDeclaration(node)) && node.initializer && ts.isStringLiteralLike(node.initializer) && node.initializer.text.length >= 4) {
        const name = node.name.getText(sf).replace(/['"]/g, '');
        if (/^(password|passwd|pwd|secret|webhookSecret|apiKey|api_key|token|accessToken|authToken)$/i.test(name)) push(hardcoded, { ...ref(ts, sf, node, input.submission), kind: 'credential' });
      }
      // Calls: ctx.log, console, Redis and transactions.
      if (ts.isPropertyAccessExpression(node)) {
        const obj = node.expression.getText(sf);
        const name = node.name.text;
        if (name === 'log' && /(^|\.)(ctx|context|appContext)$/.test(obj)) ctxLogCalls++;
        if (obj === 'console' && ts.isCallExpression(node.parent)) consoleCalls++;
        if (/(^|\.)redis$/i.test(obj) || (name === 'redis' && /(^|\.)(ctx|context)$/.test(obj))) usesRedis = true;
        if (['multi', 'watch', 'eval', 'evalsha', 'defineCommand'].includes(name) && /redis/i.test(obj)) atomicity.push({ technique: `Redis ${name}`, at: ref(ts, sf, node, input.submission) });
        if (name === 'transaction' && ts.isCallExpression(node.parent)) atomicity.push({ technique: 'transaction helper', at: ref(ts, sf, node, input.submission) });
      }
      if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && node.expression.name.text === 'set' && /redis/i.test(node.expression.expression.getText(sf))) {
        if (node.arguments.some((a) => ts.isStringLiteralLike(a) && /^NX$/i.test(a.text))) atomicity.push({ technique: 'Redis SET NX', at: ref(ts, sf, node, input.submission) });
      }
      // Retries: names that say so, or a loop around an await inside try/catch.
      if ((ts.isIdentifier(node) && /^(retry|retries|withRetry|retryable|backoff|backoffMs|jitter|maxAttempts|attempts?)$/i.test(node.text)) && (ts.isVariableDeclaration(node.parent) || ts.isFunctionDeclaration(node.parent) || ts.isParameter(node.parent))) {
        push(retries, ref(ts, sf, node, input.submission), 10);
      }
      if ((ts.isForStatement(node) || ts.isWhileStatement(node) || ts.isDoStatement(node)) && hasTryWithAwait(ts, node.statement)) push(retries, ref(ts, sf, node, input.submission), 10);
      // Swallowed errors: an empty catch block with no comment saying why.
      if (ts.isCatchClause(node) && node.block.statements.length === 0) {
        const inner = sf.text.slice(node.block.getStart(sf) + 1, node.block.getEnd() - 1);
        if (!/\/\/|\/\*/.test(inner)) push(swallowedErrors, ref(ts, sf, node, input.submission));
      }
      if (ts.isFunctionLike(node) && 'body' in node && node.body) checkMultiWrite(node as TS.FunctionLikeDeclaration);
      ts.forEachChild(node, visit);
    };
    const checkMultiWrite = (fn: TS.FunctionLikeDeclaration) => {
      let writes = 0;
      let guarded = false;
      let firstReadPos = Infinity;
      let blindWriteAfterRead = false;
      const inner = (n: TS.Node): void => {
        if (n !== fn && ts.isFunctionLike(n)) return; // nested functions are judged on their own
        if (ts.isStringLiteralLike(n) || ts.isTemplateExpression(n) || ((ts.isIdentifier(n) || ts.isPropertyAccessExpression(n)) && consts.has(n.getText(sf)))) {
          const t = ts.isIdentifier(n) || ts.isPropertyAccessExpression(n) ? consts.get(n.getText(sf))! : staticText(ts, n as TS.Expression, consts, true) ?? '';
          const standalone = !(ts.isTemplateSpan(n.parent) || ts.isTemplateExpression(n.parent));
          if (WRITE_START.test(t) && standalone) {
            writes++;
            if (n.getStart(sf) > firstReadPos && isBlindWrite(t)) blindWriteAfterRead = true;
          }
          if (standalone && /^\s*SELECT\b/i.test(t) && !/\bFOR\s+(NO\s+KEY\s+)?(UPDATE|SHARE)\b/i.test(t)) firstReadPos = Math.min(firstReadPos, n.getStart(sf));
          if (/^\s*(BEGIN|START\s+TRANSACTION)\b/i.test(t)) guarded = true;
        }
        if (ts.isPropertyAccessExpression(n) && ['transaction', 'multi', 'exec'].includes(n.name.text)) guarded = true;
        if (ts.isPropertyAccessExpression(n)) {
          inner(n.expression);
          return;
        }
        ts.forEachChild(n, inner);
      };
      ts.forEachChild(fn, inner);
      if (writes >= 2 && !guarded) push(unguardedMultiWrites, ref(ts, sf, fn, input.submission), 10);
      if (blindWriteAfterRead && !guarded) push(readThenWrite, ref(ts, sf, fn, input.submission), 10);
    };
    visit(sf);
    for (const { node, text } of sqlTexts) {
      for (const [re, technique] of ATOMIC_SQL) {
        if (re.test(text) && !atomicity.some((a) => a.technique === technique)) atomicity.push({ technique, at: ref(ts, sf, node, input.submission) });
      }
      if (/\bISOLATION\s+LEVEL\s+(SERIALIZABLE|REPEATABLE\s+READ)\b/i.test(text)) push(strictIsolation, ref(ts, sf, node, input.submission));
      for (const l of lookupsOf(text)) {
        const key = `${l.table}(${[...l.columns].sort().join(',')})`;
        if (!lookups.some((x) => `${x.table}(${[...x.columns].sort().join(',')})` === key)) lookups.push({ ...l, at: ref(ts, sf, node, input.submission) });
      }
    }
  }
  return {
    files: [...input.code, ...input.tests].map((f) => displayPath(input.submission, f)),
    linesOfCode,
    hardcoded,
    interpolatedSql,
    ctxLogCalls,
    consoleCalls,
    retries,
    atomicity,
    unguardedMultiWrites,
    readThenWrite,
    swallowedErrors,
    strictIsolation,
    lookups,
    usesRedis,
    usesPostgres,
    tests: scanTests(input.tests, input.submission),
  };
}

/** A write whose outcome does not depend on what is there now: an UPDATE/DELETE by key only, a plain INSERT. */
function isBlindWrite(sql: string): boolean {
  const t = sql.replace(/\s+/g, ' ');
  if (/^\s*INSERT\b/i.test(t)) return !/\bON\s+CONFLICT\b/i.test(t);
  const where = /\bWHERE\b(.*?)(\bRETURNING\b|$)/i.exec(t)?.[1] ?? '';
  return !/\b(AND|OR)\b/i.test(where);
}

function hasTryWithAwait(ts: Ts, body: TS.Node): boolean {
  let found = false;
  const visit = (n: TS.Node) => {
    if (found || (n !== body && ts.isFunctionLike(n))) return;
    if (ts.isTryStatement(n)) {
      const awaits = (m: TS.Node): boolean => ts.isAwaitExpression(m) || (!ts.isFunctionLike(m) && !!ts.forEachChild(m, (c) => awaits(c) || undefined));
      if (awaits(n.tryBlock)) found = true;
    }
    ts.forEachChild(n, visit);
  };
  visit(body);
  return found;
}

function scanTests(tests: string[], submission: string): TestEvidence {
  let concurrencyTests = 0;
  let failureTests = 0;
  for (const f of tests) {
    let text = '';
    try {
      text = fs.readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    if (/Promise\.(all|allSettled|race)\s*\(|concurren|parallel|race/i.test(text)) concurrencyTests++;
    if (/rejects|toThrow|throws|catch\s*\(|retry|timeout|kill|fault|SEAT_TAKEN|HOLD_EXPIRED|duplicate/i.test(text)) failureTests++;
  }
  return { files: tests.map((t) => displayPath(submission, t)), concurrencyTests, failureTests };
}
