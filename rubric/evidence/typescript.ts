// `tsc --strict --noEmit` over the submission's TypeScript files, through the compiler API, plus a count of
// explicit `any`. `gauntlet`, `pg`, `ioredis` and Node's types resolve to the harness's copies (as they do when
// the submission runs), so only the candidate's own type errors count.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type TS from 'typescript';
import type { TypeScriptEvidence, SourceRef } from './types.ts';
import { displayPath } from './sources.ts';
import { gauntletModuleSource } from '../../harness/gauntlet-module.ts';
import { contractFiles } from '../../challenges/index.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
// The `gauntlet` module as the harness builds it from the registry (harness/gauntlet-module.ts): a file that exists
// only in this compiler host.
const GAUNTLET_MODULE = path.join(root, 'harness', '.gauntlet-module.ts');
const SAMPLES = 8;
const LIB_CACHE = new Map<string, TS.SourceFile>();

const isTs = (f: string) => /\.[cm]?tsx?$/.test(f) && !/\.d\.[cm]?ts$/.test(f);

export function checkTypes(ts: typeof TS, submission: string, code: string[], declarations: string[]): TypeScriptEvidence {
  const files = code.filter(isTs);
  if (!files.length) return { checked: false, reason: code.length ? 'plain JavaScript: no static types to check' : 'no source files', errors: 0, explicitAny: 0, errorSamples: [], anySamples: [] };
  const options: TS.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    allowImportingTsExtensions: true,
    esModuleInterop: true,
    resolveJsonModule: true,
    skipLibCheck: true,
    lib: ['lib.es2022.d.ts'],
    types: ['node'],
    typeRoots: [path.join(root, 'node_modules', '@types')],
  };
  const host = ts.createCompilerHost(options, true);
  // Library and dependency declarations never change within a process: parse them once (self-test grades dozens).
  const getSourceFile = host.getSourceFile.bind(host);
  const gauntletModule = gauntletModuleSource(contractFiles());
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  host.fileExists = (f) => f === GAUNTLET_MODULE || fileExists(f);
  host.readFile = (f) => (f === GAUNTLET_MODULE ? gauntletModule : readFile(f));
  host.getSourceFile = (fileName, language, onError, fresh) => {
    if (fileName === GAUNTLET_MODULE) return ts.createSourceFile(fileName, gauntletModule, language, true);
    if (!fileName.includes(`${path.sep}node_modules${path.sep}`) && !fileName.startsWith(path.join(root, 'harness'))) return getSourceFile(fileName, language, onError, fresh);
    const key = `${typeof language === 'object' ? language.languageVersion : language}:${fileName}`;
    let sf = LIB_CACHE.get(key);
    if (!sf) {
      sf = getSourceFile(fileName, language, onError, fresh);
      if (sf) LIB_CACHE.set(key, sf);
    }
    return sf;
  };
  const harnessAnchor = path.join(root, 'harness', 'index.ts');
  host.resolveModuleNameLiterals = (literals, containingFile, _redirect, opts) =>
    literals.map((lit) => {
      const name = lit.text;
      if (name === 'gauntlet') return { resolvedModule: { resolvedFileName: GAUNTLET_MODULE, extension: ts.Extension.Ts, isExternalLibraryImport: false } };
      const own = ts.resolveModuleName(name, containingFile, opts, host);
      if (own.resolvedModule) return own;
      // The harness's copies of pg, ioredis and Node's types resolve for the submission at run time too.
      return ts.resolveModuleName(name, harnessAnchor, opts, host);
    });
  const program = ts.createProgram({ rootNames: [...files, ...declarations], options, host });
  const own = new Set(files.map((f) => path.resolve(f)));
  const errorSamples: TypeScriptEvidence['errorSamples'] = [];
  let errors = 0;
  const diagnostics = [...program.getSyntacticDiagnostics(), ...program.getSemanticDiagnostics()];
  for (const d of diagnostics) {
    if (!d.file || !own.has(path.resolve(d.file.fileName)) || d.category !== ts.DiagnosticCategory.Error) continue;
    errors++;
    if (errorSamples.length < SAMPLES) {
      const { line } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
      errorSamples.push({ ...lineRef(d.file, line, submission), message: `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ').slice(0, 200)}` });
    }
  }
  const anySamples: SourceRef[] = [];
  let explicitAny = 0;
  for (const sf of program.getSourceFiles()) {
    if (!own.has(path.resolve(sf.fileName))) continue;
    const visit = (n: TS.Node) => {
      if (n.kind === ts.SyntaxKind.AnyKeyword) {
        explicitAny++;
        if (anySamples.length < SAMPLES) anySamples.push(lineRef(sf, sf.getLineAndCharacterOfPosition(n.getStart(sf)).line, submission));
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  return { checked: true, errors, explicitAny, errorSamples, anySamples };
}

function lineRef(sf: TS.SourceFile, line: number, submission: string): SourceRef {
  const text = sf.text.split('\n')[line]?.trim() ?? '';
  return { file: displayPath(submission, sf.fileName), line: line + 1, text: text.length > 160 ? text.slice(0, 157) + '…' : text };
}
