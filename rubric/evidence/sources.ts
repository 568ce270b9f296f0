// Which files make up a submission: the graded modules, every local file they import (recursively), and the
// other source files in the submission folder, with the candidate's own tests told apart from the code.

import fs from 'node:fs';
import path from 'node:path';

const SOURCE = /\.(ts|mts|cts|tsx|js|mjs|cjs|jsx)$/;
const SKIP_DIRS = new Set(['node_modules', '.git', '.gauntlet', 'dist', 'build', 'coverage', '.next', '.turbo']);
const MAX_FILES = 300;
const MAX_BYTES = 512 * 1024;

export const isTestFile = (file: string): boolean => /(^|[\\/])(test|tests|__tests__|spec)[\\/]|\.(test|spec)\.[cm]?[jt]sx?$/.test(file);
export const isDeclaration = (file: string): boolean => /\.d\.[cm]?ts$/.test(file);

export interface SubmissionSources {
  /** Candidate code (not tests, not declarations), absolute paths. */
  code: string[];
  tests: string[];
  declarations: string[];
}

/** Relative import specifiers of a source text (static imports, re-exports, dynamic import(), require()). */
export function localImports(text: string): string[] {
  const out: string[] = [];
  const re = /(?:\bimport\s+(?:[^'"]*?\sfrom\s+)?|\bexport\s+[^'"]*?\sfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(m[1]);
  return out;
}

function resolveLocal(spec: string, from: string): string | null {
  const base = path.resolve(path.dirname(from), spec);
  const stem = base.replace(/\.(js|mjs|cjs|jsx)$/, '');
  const candidates = [base, ...['.ts', '.mts', '.cts', '.tsx', '.js', '.mjs', '.cjs'].flatMap((e) => [stem + e, base + e]), ...['index.ts', 'index.js', 'index.mjs'].map((i) => path.join(base, i))];
  return candidates.find((c) => SOURCE.test(c) && fs.existsSync(c) && fs.statSync(c).isFile()) ?? null;
}

function walkFolder(dir: string, depth: number, out: string[]): void {
  if (depth > 5 || out.length >= MAX_FILES) return;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.isDirectory() && !SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) walkFolder(path.join(dir, e.name), depth + 1, out);
    else if (e.isFile() && SOURCE.test(e.name)) out.push(path.join(dir, e.name));
  }
}

/** The submission's files: modules and their local imports, plus the folder's other sources and tests. */
export function collectSources(submission: string, modules: string[]): SubmissionSources {
  const seen = new Set<string>();
  const queue = modules.filter((m) => SOURCE.test(m)).map((m) => path.resolve(m));
  const inFolder: string[] = [];
  walkFolder(path.resolve(submission), 0, inFolder);
  queue.push(...inFolder);
  while (queue.length && seen.size < MAX_FILES) {
    const file = queue.shift()!;
    if (seen.has(file)) continue;
    seen.add(file);
    let text: string;
    try {
      if (fs.statSync(file).size > MAX_BYTES) continue;
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const spec of localImports(text)) {
      const resolved = resolveLocal(spec, file);
      if (resolved && !seen.has(resolved)) queue.push(resolved);
    }
  }
  const all = [...seen].filter((f) => fs.existsSync(f));
  return {
    code: all.filter((f) => !isTestFile(f) && !isDeclaration(f)),
    tests: all.filter((f) => isTestFile(f) && !isDeclaration(f)),
    declarations: all.filter(isDeclaration),
  };
}

/** A path for people: relative to the submission when inside it, else absolute. */
export function displayPath(submission: string, file: string): string {
  const rel = path.relative(submission, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : path.resolve(file);
}
