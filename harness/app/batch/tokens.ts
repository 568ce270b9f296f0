// The token stream similarity is computed on (docs/batch.md): a small lexer for TS/JS that is good enough for
// Python, Go, Java and other C-like languages. Comments and whitespace go; every identifier becomes `ID`, every
// string, template or regex literal `STR`, every number `NUM`; keywords and punctuation stay as they are. Import
// and `require` lines, package lines and TypeScript's type-only declarations (`type X = …`, `interface`, `declare`)
// are dropped: they say which libraries and names a file uses, not how it solves anything, so renaming every
// identifier, rewriting every comment or re-spacing every line leaves the stream unchanged.

export type Language = 'js' | 'py' | 'go' | 'java' | 'c';

export interface Token {
  /** The normalised text: `ID`, `STR`, `NUM`, a keyword or a punctuator. */
  t: string;
  /** The source text for identifiers, keywords and punctuators ('' for literals): what the drop rules look at. */
  raw: string;
  /** 1-based line of the token's first character. */
  line: number;
}

const words = (s: string) => new Set(s.split(/\s+/).filter(Boolean));

const KEYWORDS: Record<Language, Set<string>> = {
  js: words(`break case catch class const continue debugger default delete do else enum export extends false finally for
    function if import in instanceof new null return super switch this throw true try typeof var void while with yield
    let static async await of get set as implements private protected public readonly abstract keyof satisfies
    string number boolean bigint symbol any unknown never object undefined`),
  py: words(`def class return if elif else for while in not and or is None True False import from as with try except
    finally raise lambda yield pass break continue global nonlocal async await del assert match case self`),
  go: words(`func package import var const type struct interface map chan go defer select range switch case default if
    else for return break continue fallthrough goto nil true false`),
  java: words(`public private protected static final void class interface enum extends implements new return if else for
    while do switch case default break continue try catch finally throw throws null true false this super import
    package synchronized abstract int long boolean double float char byte short instanceof var record`),
  c: words(`if else for while do switch case default break continue return goto struct union enum typedef static const
    void int long char float double unsigned signed sizeof class public private protected new delete this true false
    null nullptr namespace using template typename fn let mut impl pub use mod match trait self`),
};

/** Operators and punctuators, longest first (the lexer takes the longest that matches). */
const PUNCT = ['>>>=', '...', '===', '!==', '**=', '<<=', '>>=', '>>>', '&&=', '||=', '??=', '=>', '==', '!=', '<=', '>=', '&&', '||', '??', '?.', '++', '--', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '**', '<<', '>>', '::', '->', ':='];

/** After these a `/` starts a regular expression, not a division (JS). */
const BEFORE_REGEX = words('return typeof case do else in of new delete void throw instanceof yield await');

const EXT: [RegExp, Language][] = [
  [/\.(ts|mts|cts|tsx|js|mjs|cjs|jsx)$/i, 'js'],
  [/\.(py|rb)$/i, 'py'],
  [/\.go$/i, 'go'],
  [/\.(java|kt|kts|scala|cs)$/i, 'java'],
  [/\.(c|cc|cpp|cxx|h|hpp|rs|swift|php)$/i, 'c'],
];

/** The language a file is lexed as, or null when it is not source code (JSON, Markdown, lock files, declarations). */
export function languageOf(file: string): Language | null {
  if (/\.d\.[cm]?ts$/i.test(file)) return null;
  return EXT.find(([re]) => re.test(file))?.[1] ?? null;
}

const ID_START = /[A-Za-z_$\u00c0-\uffff]/;
const ID_PART = /[\w$\u00c0-\uffff]/;
const NUMBER = /0[xXbBoO][0-9a-fA-F_]+n?|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?[nLlFfDdj]?/y;

/** The raw token stream of one file: literals and identifiers classed, nothing dropped yet. */
export function lex(text: string, lang: Language): Token[] {
  const out: Token[] = [];
  const keywords = KEYWORDS[lang];
  const hashComments = lang === 'py';
  // Template literals (JS): the brace depth at which each open `${` resumes its template.
  const templates: number[] = [];
  let depth = 0;
  let line = 1;
  let i = 0;
  const n = text.length;
  const push = (t: string, raw: string, at: number) => out.push({ t, raw, line: at });
  const newlines = (from: number, to: number) => {
    for (let j = from; j < to; j++) if (text.charCodeAt(j) === 10) line++;
  };

  /** Scans a template literal's text from i (after the backtick or a `}`) to its end or its next `${`. */
  const templateChunk = () => {
    const start = i;
    while (i < n) {
      const c = text[i];
      if (c === '\\') i += 2;
      else if (c === '`') {
        i++;
        newlines(start, i);
        return;
      } else if (c === '$' && text[i + 1] === '{') {
        i += 2;
        newlines(start, i);
        templates.push(depth);
        depth++;
        return;
      } else i++;
    }
    newlines(start, i);
  };

  if (text.startsWith('#!')) while (i < n && text[i] !== '\n') i++;
  while (i < n) {
    const c = text[i];
    if (c === '\n') {
      line++;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v' || c === '\ufeff') {
      i++;
      continue;
    }
    // Comments.
    if ((hashComments && c === '#') || (!hashComments && c === '/' && text[i + 1] === '/')) {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (!hashComments && c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      newlines(i, stop);
      i = stop;
      continue;
    }
    const at = line;
    // Strings (Python's triple quotes and prefixes, JS templates, Go raw strings).
    if (c === '"' || c === "'" || c === '`') {
      if (c === '`' && lang === 'js') {
        i++;
        push('STR', '', at);
        templateChunk();
        continue;
      }
      const triple = lang === 'py' && text.startsWith(c.repeat(3), i);
      const close = triple ? c.repeat(3) : c;
      const start = i;
      i += close.length;
      while (i < n) {
        if (text[i] === '\\' && c !== '`') i += 2;
        else if (text.startsWith(close, i)) {
          i += close.length;
          break;
        } else if (text[i] === '\n' && !triple && c !== '`') break; // unterminated: stop at the line's end
        else i++;
      }
      newlines(start, i);
      push('STR', '', at);
      continue;
    }
    if (/\d/.test(c) || (c === '.' && /\d/.test(text[i + 1] ?? ''))) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      i += m ? m[0].length : 1;
      push('NUM', '', at);
      continue;
    }
    if (ID_START.test(c)) {
      let j = i + 1;
      while (j < n && ID_PART.test(text[j])) j++;
      const word = text.slice(i, j);
      // Python string prefixes (f"", r'', b"""…"""): one literal.
      if (lang === 'py' && /^[rbfuRBFU]{1,2}$/.test(word) && (text[j] === '"' || text[j] === "'")) {
        i = j;
        const q = text[j];
        const triple = text.startsWith(q.repeat(3), j);
        const close = triple ? q.repeat(3) : q;
        const start = i;
        i += close.length;
        while (i < n) {
          if (text[i] === '\\') i += 2;
          else if (text.startsWith(close, i)) {
            i += close.length;
            break;
          } else if (text[i] === '\n' && !triple) break;
          else i++;
        }
        newlines(start, i);
        push('STR', '', at);
        continue;
      }
      i = j;
      push(keywords.has(word) ? word : 'ID', word, at);
      continue;
    }
    // Regular expression literals (JS): where an expression may start.
    if (c === '/' && lang === 'js') {
      const prev = out[out.length - 1];
      const startsExpression = !prev || (prev.t !== 'ID' && prev.t !== 'NUM' && prev.t !== 'STR' && !/^[)\]}]$/.test(prev.t) && (!keywords.has(prev.t) || BEFORE_REGEX.has(prev.t)) && prev.t !== 'this' && prev.t !== 'super');
      if (startsExpression) {
        let j = i + 1;
        let inClass = false;
        let ok = false;
        while (j < n && text[j] !== '\n') {
          const d = text[j];
          if (d === '\\') j += 2;
          else if (d === '[') (inClass = true), j++;
          else if (d === ']') (inClass = false), j++;
          else if (d === '/' && !inClass) {
            ok = true;
            j++;
            break;
          } else j++;
        }
        if (ok) {
          while (j < n && /[a-z]/i.test(text[j])) j++;
          i = j;
          push('STR', '', at);
          continue;
        }
      }
    }
    const p = PUNCT.find((op) => text.startsWith(op, i)) ?? c;
    i += p.length;
    if (lang === 'js') {
      if (p === '{') depth++;
      else if (p === '}') {
        depth--;
        if (templates.length && templates[templates.length - 1] === depth) {
          // The end of a `${…}`: back into the template's text.
          templates.pop();
          templateChunk();
          continue;
        }
      }
    }
    push(p, p, at);
  }
  return out;
}

const OPEN = new Set(['(', '[', '{']);
const CLOSE = new Set([')', ']', '}']);
/** Where a type alias may go on over a line break: after these, or when the next line starts with one of them. */
const CONTINUES_AFTER = new Set(['=', '|', '&', ',', '=>', '?', ':', 'extends', 'keyof', '(', '[', '{', '<', '.']);
const CONTINUES_BEFORE = new Set(['|', '&', '=', '?', ':', '.', '=>', 'extends', '?.']);

const boundary = (tok: Token | undefined) => !tok || tok.t === ';' || tok.t === '}' || tok.t === '{';

/** Index just past the end of the JS statement that starts at i: `;` at depth 0, the block that closes it, or a line break. */
function statementEnd(toks: Token[], i: number, angle: boolean, block: boolean): number {
  let d = 0;
  for (let j = i; j < toks.length; j++) {
    const t = toks[j].t;
    if (OPEN.has(t) || (angle && t === '<')) d++;
    else if (CLOSE.has(t) || (angle && t === '>')) {
      d--;
      if (block && d === 0 && t === '}') return toks[j + 1]?.t === ';' ? j + 2 : j + 1;
    } else if (angle && (t === '>>' || t === '>>>')) d -= t.length;
    if (d < 0) return j; // closed an enclosing block: the statement ended before it
    if (d === 0 && t === ';') return j + 1;
    const next = toks[j + 1];
    if (!block && d === 0 && next && next.line > toks[j].line && !CONTINUES_AFTER.has(t) && !CONTINUES_BEFORE.has(next.t) && j > i + 1) return j + 1;
  }
  return toks.length;
}

/** Index just past the first string literal from i at bracket depth 0 (an import's module specifier), and its `;`. */
function pastSpecifier(toks: Token[], i: number): number {
  for (let j = i; j < toks.length && j < i + 400; j++) {
    if (toks[j].t === 'STR') {
      let k = j + 1;
      if (toks[k]?.t === ')') k++;
      // Import attributes: `with { type: 'json' }` / `assert { … }`.
      if ((toks[k]?.raw === 'with' || toks[k]?.raw === 'assert') && toks[k + 1]?.t === '{') {
        while (k < toks.length && toks[k].t !== '}') k++;
        k++;
      }
      if (toks[k]?.t === ';') k++;
      return k;
    }
    if (toks[j].t === ';') return j + 1;
  }
  return i + 1;
}

/** JS/TS: drops imports, re-exports, `require` bindings and type-only declarations. */
function dropJs(toks: Token[]): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < toks.length) {
    const tok = toks[i];
    const prev = out[out.length - 1];
    const atStart = boundary(prev) || (prev && prev.line < tok.line && prev.t !== '.' && prev.t !== '=');
    const next = toks[i + 1];
    if (atStart && tok.t === 'import' && next && next.t !== '(' && next.t !== '.') {
      i = pastSpecifier(toks, i + 1);
      continue;
    }
    if (atStart && tok.t === 'export' && next && (next.t === '*' || next.t === '{' || (next.raw === 'type' && toks[i + 2]?.t === '{'))) {
      // `export … from '…'` is an import; a plain `export { a, b };` list stays.
      const end = statementEnd(toks, i, false, false);
      if (toks.slice(i, end).some((t) => t.raw === 'from')) {
        i = pastSpecifier(toks, i + 1);
        continue;
      }
    }
    // `const x = require('y')`, `const { a } = require('y');`
    if (atStart && (tok.t === 'const' || tok.t === 'let' || tok.t === 'var')) {
      const end = statementEnd(toks, i, false, false);
      const body = toks.slice(i, end);
      const r = body.findIndex((t) => t.raw === 'require');
      if (r > 0 && body[r - 1].t === '=' && body[r + 1]?.t === '(' && body[r + 2]?.t === 'STR' && body[r + 3]?.t === ')' && r + 4 >= body.length - (body[body.length - 1].t === ';' ? 1 : 0)) {
        i = end;
        continue;
      }
    }
    // Type-only declarations, with an `export` / `export default` / `declare` in front.
    let j = i;
    if (atStart && toks[j]?.t === 'export') j++;
    if (atStart && toks[j]?.t === 'default' && j > i) j++;
    const head = toks[j];
    const after = toks[j + 1];
    if (atStart && head && after) {
      if (head.raw === 'declare' && (after.t !== '=' && after.t !== '(' && after.t !== '.' && after.t !== ';')) {
        const end = statementEnd(toks, j, true, toks.slice(j, statementEnd(toks, j, true, false)).some((t) => t.t === '{'));
        i = end;
        continue;
      }
      if (head.raw === 'type' && after.t === 'ID' && (toks[j + 2]?.t === '=' || toks[j + 2]?.t === '<')) {
        i = statementEnd(toks, j, true, false);
        continue;
      }
      if (head.raw === 'interface' && after.t === 'ID') {
        i = statementEnd(toks, j, true, true);
        continue;
      }
    }
    out.push(tok);
    i++;
  }
  return out;
}

/** Python: `import …` and `from … import …` lines (with parenthesised continuations). */
function dropPython(toks: Token[]): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < toks.length) {
    const tok = toks[i];
    const first = i === 0 || toks[i - 1].line < tok.line;
    if (first && (tok.t === 'import' || (tok.t === 'from' && toks.slice(i, i + 60).some((t) => t.t === 'import' && t.line === tok.line)))) {
      let d = 0;
      let j = i;
      for (; j < toks.length; j++) {
        if (toks[j].t === '(') d++;
        else if (toks[j].t === ')') d--;
        if (d <= 0 && toks[j + 1] && toks[j + 1].line > toks[j].line) break;
      }
      i = j + 1;
      continue;
    }
    out.push(tok);
    i++;
  }
  return out;
}

/** Go, Java and the like: `package …` and `import …` (a Go `import ( … )` block included). */
function dropPackagesAndImports(toks: Token[], lang: Language): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < toks.length) {
    const tok = toks[i];
    const first = i === 0 || toks[i - 1].line < tok.line;
    if (first && (tok.raw === 'import' || tok.raw === 'package' || (lang === 'c' && (tok.raw === 'use' || tok.t === '#')))) {
      let j = i + 1;
      if (toks[j]?.t === '(') {
        while (j < toks.length && toks[j].t !== ')') j++;
        j++;
      } else {
        while (j < toks.length && toks[j].line === tok.line && toks[j].t !== ';') j++;
        if (toks[j]?.t === ';') j++;
      }
      i = j;
      continue;
    }
    out.push(tok);
    i++;
  }
  return out;
}

/** The normalised token stream of one file: comments, whitespace, imports and type-only declarations gone. */
export function tokenize(text: string, lang: Language): Token[] {
  const toks = lex(text, lang);
  if (lang === 'js') return dropJs(toks);
  if (lang === 'py') return dropPython(toks);
  return dropPackagesAndImports(toks, lang);
}
