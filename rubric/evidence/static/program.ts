// The submission's code parsed once into a TypeScript program over its own files only (no lib, no packages, no
// module resolution: nothing else is read; an import is followed to the other files by name), plus what every
// detector needs from it: source refs, "what does this name stand for", constant strings, and capped lists.

import fs from 'node:fs';
import path from 'node:path';
import type TS from 'typescript';
import type { SourceRef } from '../types.ts';
import { displayPath } from '../sources.ts';

export type Ts = typeof TS;

export interface Scan {
  ts: Ts;
  checker: TS.TypeChecker;
  files: TS.SourceFile[];
  submission: string;
  /** Top-level declarations by name across the files (imports fall back to these when they do not resolve). */
  topLevel: Map<string, TS.Declaration[]>;
  /** Calls by the callee's identifier name, across the files (to see what a function's parameters receive). */
  callsByName: Map<string, TS.CallExpression[]>;
  /** Memo tables of the helpers (per scan). */
  memo: Map<string, Map<TS.Node, unknown>>;
}

export interface SourceText {
  file: string;
  text: string;
}

const scriptKind = (ts: Ts, file: string) => (/\.[cm]?tsx?$/.test(file) ? (file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS) : file.endsWith('x') ? ts.ScriptKind.JSX : ts.ScriptKind.JS);

/** Read the files (unreadable ones are skipped) and build the scan. */
export function loadScan(ts: Ts, submission: string, files: string[]): Scan {
  const sources: SourceText[] = [];
  for (const file of files) {
    try {
      sources.push({ file: path.resolve(file), text: fs.readFileSync(file, 'utf8') });
    } catch {
      // unreadable: nothing to say about it
    }
  }
  return createScan(ts, submission, sources);
}

/** Build the scan over texts in memory (paths absolute or relative to `submission`). */
export function createScan(ts: Ts, submission: string, sources: SourceText[]): Scan {
  const texts = new Map(sources.map((s) => [path.resolve(submission, s.file), s.text]));
  const options: TS.CompilerOptions = {
    allowJs: true,
    noLib: true,
    noEmit: true,
    types: [],
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    allowImportingTsExtensions: true,
    skipLibCheck: true,
    noResolve: true,
  };
  const host = ts.createCompilerHost(options, true);
  host.fileExists = (f) => texts.has(path.resolve(f));
  host.readFile = (f) => texts.get(path.resolve(f));
  host.getSourceFile = (f, lang) => {
    const text = texts.get(path.resolve(f));
    return text === undefined ? undefined : ts.createSourceFile(f, text, lang, true, scriptKind(ts, f));
  };
  const program = ts.createProgram({ rootNames: [...texts.keys()], options, host });
  const files = [...texts.keys()].map((f) => program.getSourceFile(f)).filter((x): x is TS.SourceFile => !!x);
  const scan: Scan = { ts, checker: program.getTypeChecker(), files, submission, topLevel: new Map(), callsByName: new Map(), memo: new Map() };
  for (const sf of files) index(scan, sf);
  return scan;
}

function index(scan: Scan, sf: TS.SourceFile): void {
  const { ts } = scan;
  const add = <T>(map: Map<string, T[]>, key: string, value: T) => (map.get(key) ?? map.set(key, []).get(key)!).push(value);
  for (const st of sf.statements) {
    if ((ts.isFunctionDeclaration(st) || ts.isClassDeclaration(st)) && st.name) add(scan.topLevel, st.name.text, st);
    if (ts.isVariableStatement(st)) for (const d of st.declarationList.declarations) if (ts.isIdentifier(d.name)) add(scan.topLevel, d.name.text, d);
  }
  const visit = (n: TS.Node): void => {
    if (ts.isCallExpression(n) && ts.isIdentifier(n.expression)) add(scan.callsByName, n.expression.text, n);
    ts.forEachChild(n, visit);
  };
  visit(sf);
}

/** A memo table for one helper, keyed by node. */
export function memoOf<T>(scan: Scan, name: string): Map<TS.Node, T> {
  return (scan.memo.get(name) ?? scan.memo.set(name, new Map()).get(name)!) as Map<TS.Node, T>;
}

export function ref(scan: Scan, node: TS.Node): SourceRef {
  const sf = node.getSourceFile();
  const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
  const text = sf.text.split('\n')[line]?.trim() ?? '';
  return { file: displayPath(scan.submission, sf.fileName), line: line + 1, text: text.length > 160 ? text.slice(0, 157) + '…' : text };
}

/** Add to a capped list, once per file, line (and kind). */
export function push<T extends SourceRef & { kind?: string; how?: string }>(list: T[], item: T, max = 20): void {
  if (list.length >= max) return;
  if (list.some((x) => x.file === item.file && x.line === item.line && x.kind === item.kind && x.how === item.how)) return;
  list.push(item);
}

/** Strip what does not change a value: parentheses, type assertions, `!`, `satisfies`, `await`. */
export function unwrap(ts: Ts, e: TS.Expression): TS.Expression {
  for (;;) {
    if (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isNonNullExpression(e) || ts.isTypeAssertionExpression(e) || ts.isSatisfiesExpression(e) || ts.isAwaitExpression(e)) e = e.expression;
    else return e;
  }
}

/** The declaration a name refers to (imports followed into the other files of the submission), if any. */
export function declarationOf(scan: Scan, id: TS.Identifier): TS.Declaration | undefined {
  const { ts, checker } = scan;
  try {
    let sym = ts.isShorthandPropertyAssignment(id.parent) && id.parent.name === id ? checker.getShorthandAssignmentValueSymbol(id.parent) : checker.getSymbolAtLocation(id);
    if (!sym) return undefined;
    const own = sym.valueDeclaration ?? sym.declarations?.[0];
    if (sym.flags & ts.SymbolFlags.Alias) {
      const target = checker.getAliasedSymbol(sym);
      const d = target?.valueDeclaration ?? target?.declarations?.[0];
      if (d) return d;
      if (own && ts.isImportSpecifier(own)) return scan.topLevel.get((own.propertyName ?? own.name).text)?.[0];
      return undefined;
    }
    return own;
  } catch {
    return undefined;
  }
}

/** Is `decl` a binding that never changes after its initializer (const, or let/var never assigned again)? */
export function isSingleAssignment(scan: Scan, decl: TS.VariableDeclaration): boolean {
  const { ts } = scan;
  const list = decl.parent;
  if (ts.isVariableDeclarationList(list) && list.flags & ts.NodeFlags.Const) return true;
  return assignmentsOf(scan, decl).length === 0;
}

/** Values assigned to a let/var after its declaration (`x = …`, `x += …`), in the file that declares it. */
export function assignmentsOf(scan: Scan, decl: TS.Declaration): TS.Expression[] {
  const { ts } = scan;
  const memo = memoOf<TS.Expression[]>(scan, 'assignments');
  const known = memo.get(decl);
  if (known) return known;
  const out: TS.Expression[] = [];
  const name = ts.isVariableDeclaration(decl) && ts.isIdentifier(decl.name) ? decl.name.text : null;
  if (name) {
    const visit = (n: TS.Node): void => {
      if (ts.isBinaryExpression(n) && n.operatorToken.kind >= ts.SyntaxKind.FirstAssignment && n.operatorToken.kind <= ts.SyntaxKind.LastAssignment && ts.isIdentifier(n.left) && n.left.text === name && declarationOf(scan, n.left) === decl) out.push(n.right);
      ts.forEachChild(n, visit);
    };
    visit(decl.getSourceFile());
  }
  memo.set(decl, out);
  return out;
}

/** Where a destructured name comes from: the expression destructured at the top and the property path to it. */
export function bindingOrigin(scan: Scan, el: TS.BindingElement): { root: TS.Expression | TS.ParameterDeclaration | undefined; path: string[] } {
  const { ts } = scan;
  const path: string[] = [];
  let node: TS.Node = el;
  while (ts.isBindingElement(node)) {
    const pattern: TS.BindingPattern = node.parent;
    if (ts.isObjectBindingPattern(pattern)) {
      const key = node.propertyName ?? node.name;
      path.unshift(ts.isIdentifier(key) || ts.isStringLiteral(key) ? key.text : '?');
    } else path.unshift(`[${pattern.elements.indexOf(node)}]`);
    node = pattern.parent;
  }
  if (ts.isVariableDeclaration(node)) return { root: node.initializer, path };
  if (ts.isParameter(node)) return { root: node, path };
  return { root: undefined, path };
}

/** The function a callee names (a declaration, or a const bound to an arrow/function expression). */
export function functionOf(scan: Scan, callee: TS.Expression): TS.FunctionLikeDeclaration | undefined {
  const { ts } = scan;
  const e = unwrap(ts, callee);
  if (ts.isArrowFunction(e) || ts.isFunctionExpression(e)) return e;
  if (!ts.isIdentifier(e)) return undefined;
  const d = declarationOf(scan, e);
  if (!d) return undefined;
  if (ts.isFunctionDeclaration(d) && d.body) return d;
  if (ts.isVariableDeclaration(d) && d.initializer && isSingleAssignment(scan, d)) {
    const init = unwrap(ts, d.initializer);
    if (ts.isArrowFunction(init) || ts.isFunctionExpression(init)) return init;
  }
  return undefined;
}

/**
 * The text of a string expression: literals, constants (any scope, followed through names, `SQL.x` properties of
 * constant objects, imports), templates and `+`. Unknown parts become `?` when lenient, else the result is null.
 */
export function constText(scan: Scan, e: TS.Expression, lenient: boolean, depth = 0): string | null {
  const { ts } = scan;
  const unknown = lenient ? '?' : null;
  if (depth > 10) return unknown;
  e = unwrap(ts, e);
  if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e) || ts.isNumericLiteral(e)) return e.text;
  if (ts.isTemplateExpression(e)) {
    let out = e.head.text;
    for (const span of e.templateSpans) {
      const v = constText(scan, span.expression, lenient, depth + 1);
      if (v === null) return null;
      out += v + span.literal.text;
    }
    return out;
  }
  if (ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.PlusToken) {
    const l = constText(scan, e.left, lenient, depth + 1);
    const r = l === null ? null : constText(scan, e.right, lenient, depth + 1);
    return l === null || r === null ? null : l + r;
  }
  if (ts.isConditionalExpression(e)) return constText(scan, e.whenTrue, false, depth + 1) ?? constText(scan, e.whenFalse, lenient, depth + 1);
  const value = constValue(scan, e, depth);
  return value ? constText(scan, value, lenient, depth + 1) : unknown;
}

/** The initializer a constant name or constant-object property stands for (`X`, `SQL.reserve`, `SQL['reserve']`). */
export function constValue(scan: Scan, e: TS.Expression, depth = 0): TS.Expression | undefined {
  const { ts } = scan;
  if (depth > 10) return undefined;
  e = unwrap(ts, e);
  if (ts.isIdentifier(e)) {
    const d = declarationOf(scan, e);
    if (d && ts.isVariableDeclaration(d) && d.initializer && isSingleAssignment(scan, d)) return d.initializer;
    return undefined;
  }
  const key = ts.isPropertyAccessExpression(e) ? e.name.text : ts.isElementAccessExpression(e) && ts.isStringLiteralLike(e.argumentExpression) ? e.argumentExpression.text : null;
  if (key === null) return undefined;
  const obj = constValue(scan, (e as TS.PropertyAccessExpression | TS.ElementAccessExpression).expression, depth + 1);
  const lit = obj && unwrap(ts, obj);
  if (!lit || !ts.isObjectLiteralExpression(lit)) return undefined;
  for (const p of lit.properties) {
    if (ts.isPropertyAssignment(p) && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) && p.name.text === key) return p.initializer;
  }
  return undefined;
}

/** Words of a name: `DB_PASSWORD`, `dbPassword`, `x-api-key` → db password, x api key (lower case). */
export function wordsOf(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

/** The last name of an expression: `ctx.pg` → pg, `headers['x-api-key']` → x-api-key, `foo()` → foo. */
export function lastName(ts: Ts, e: TS.Expression): string | undefined {
  e = unwrap(ts, e);
  if (ts.isIdentifier(e) || ts.isPrivateIdentifier(e)) return e.text;
  if (ts.isPropertyAccessExpression(e)) return e.name.text;
  if (ts.isElementAccessExpression(e) && ts.isStringLiteralLike(e.argumentExpression)) return e.argumentExpression.text;
  if (ts.isCallExpression(e)) return lastName(ts, e.expression);
  return undefined;
}

/** Visit every node of a file. */
export function walk(ts: Ts, root: TS.Node, visit: (n: TS.Node) => void): void {
  const go = (n: TS.Node): void => {
    visit(n);
    ts.forEachChild(n, go);
  };
  go(root);
}
