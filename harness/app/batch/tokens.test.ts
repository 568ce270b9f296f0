// The tokenizer similarity is computed on: comments, whitespace and names never matter; imports, `require` lines
// and type-only declarations are dropped; literals are one class; Python and Go are lexed well enough. No database.

import { describe, expect, it } from 'vitest';
import { languageOf, tokenize } from './tokens.ts';

const ts = (text: string) => tokenize(text, 'js').map((t) => t.t).join(' ');

describe('tokenize (TS/JS)', () => {
  it('ignores comments, whitespace and the names chosen', () => {
    const a = `// reserve a seat\nfunction reserve(seatId, userId) {\n  /* check first */\n  if (!seatId) throw new Error('no seat');\n  return db.query("UPDATE seats", [seatId, userId]);\n}\n`;
    const b = `function   grab( s,u ){ if(!s)   throw new Error(\`missing\`)   // nope\n return   pool.run('x',[s,u]) }`;
    expect(ts(a).replace(/ ;/g, '')).toBe(ts(b).replace(/ ;/g, ''));
    expect(ts(a)).toBe('function ID ( ID , ID ) { if ( ! ID ) throw new ID ( STR ) ; return ID . ID ( STR , [ ID , ID ] ) ; }');
  });

  it('drops imports, re-exports, require bindings and type-only declarations, keeps dynamic import()', () => {
    const text = [
      "import pg from 'pg';",
      "import type { AppContext } from 'gauntlet'",
      "import './side-effect.js';",
      "export * from './x.ts';",
      "export type { Q } from './q.ts';",
      "const fs = require('node:fs');",
      "const { join } = require('node:path')",
      'type Kind =',
      "  | 'reserve'",
      "  | 'hold'",
      'type Row<T> = { value: T };',
      'export interface Seat extends Base<string> {',
      '  id: string;',
      '}',
      'declare const x: number;',
      "declare module 'm' { const y: string }",
      'export const n = 1;',
      "const lazy = () => import('./later.ts');",
    ].join('\n');
    expect(ts(text)).toBe('export const ID = NUM ; const ID = ( ) => import ( STR ) ;');
  });

  it('keeps a type annotation, a type in an expression and names that are only contextual keywords', () => {
    expect(ts('let type = 1; type = 2; const t: Kind = type as Kind;')).toBe('let ID = NUM ; ID = NUM ; const ID : ID = ID as ID ;');
  });

  it('reads a template literal as one literal with its expressions, and tells a regex from a division', () => {
    expect(ts('const q = `a ${b + `c${d}`} e` + {f: 1};')).toBe('const ID = STR ID + STR ID + { ID : NUM } ;');
    expect(ts('const ok = /a+[/]b/gi.test(s) / 2; let x = a / b / c;')).toBe('const ID = STR . ID ( ID ) / NUM ; let ID = ID / ID / ID ;');
  });

  it('keeps line numbers through comments and multi-line literals', () => {
    const toks = tokenize('/* one\ntwo */\nconst a = `x\ny`;\nconst b = 1;\n', 'js');
    expect(toks.find((t) => t.t === 'NUM')?.line).toBe(5);
  });
});

describe('tokenize (other languages)', () => {
  it('Python: # comments, import lines and string prefixes', () => {
    const py = tokenize('import os\nfrom http.server import (\n  A,\n  B)\n# note\ndef f(x):\n    return f"{x}" + """doc\nmore"""  # trailing\n', 'py');
    expect(py.map((t) => t.t).join(' ')).toBe('def ID ( ID ) : return STR + STR');
  });

  it('Go: package and import blocks dropped, raw strings are literals', () => {
    const go = tokenize('package main\nimport (\n  "fmt"\n)\nfunc main() { fmt.Println(`hi\nthere`) }\n', 'go');
    expect(go.map((t) => t.t).join(' ')).toBe('func ID ( ) { ID . ID ( STR ) }');
  });

  it('knows which files are source code', () => {
    expect(['a.ts', 'b.mjs', 'c.py', 'd.go', 'e.java', 'x.d.ts', 'package.json', 'README.md'].map(languageOf)).toEqual(['js', 'js', 'py', 'go', 'java', null, null, null]);
  });
});
