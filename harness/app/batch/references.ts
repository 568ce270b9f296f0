// The project's reference solutions as comparison entries for `compare --batch`: under `reference/<challenge>/`,
// a top-level source file is one solution, a sub-folder (`http-node/`, `plain-tx-helper/`) is one solution, and
// `_shared/` (with any other `_`-prefixed file) is one entry of its own, `reference:<challenge>/_shared`. Kept apart
// rather than added to every solution of the challenge so that a submission that copied the shared plumbing shows
// one pair naming it instead of one pair per reference, and a reference's own entry is judged on its own code.
// node_modules, dot-folders, tests and files that are not source code are never read.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isTestFile } from '../../../rubric/evidence/sources.ts';
import { languageOf } from './tokens.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const MAX_BYTES = 512 * 1024;

export interface ReferenceSource {
  /** `reference:<challenge>/<name>`. */
  id: string;
  challenge: string;
  name: string;
  /** Repository-relative path → text. */
  files: Record<string, string>;
}

function readSources(dir: string, root: string, out: Record<string, string>, depth = 0): void {
  if (depth > 6) return;
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) readSources(full, root, out, depth + 1);
    else if (e.isFile()) addFile(full, root, out);
  }
}

function addFile(full: string, root: string, out: Record<string, string>): void {
  const rel = path.relative(root, full).split(path.sep).join('/');
  if (!languageOf(rel) || isTestFile(rel) || fs.statSync(full).size > MAX_BYTES) return;
  out[rel] = fs.readFileSync(full, 'utf8');
}

/** Every reference solution of the repository (or of `root`), in challenge and name order. */
export function loadReferences(root = ROOT): ReferenceSource[] {
  const base = path.join(root, 'reference');
  if (!fs.existsSync(base)) return [];
  const out: ReferenceSource[] = [];
  for (const challenge of fs.readdirSync(base).sort()) {
    const dir = path.join(base, challenge);
    if (challenge.startsWith('.') || !fs.statSync(dir).isDirectory()) continue;
    const shared: Record<string, string> = {};
    const solutions: ReferenceSource[] = [];
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const full = path.join(dir, e.name);
      const files: Record<string, string> = {};
      if (e.isDirectory()) readSources(full, root, e.name.startsWith('_') ? shared : files);
      else if (e.isFile()) addFile(full, root, e.name.startsWith('_') ? shared : files);
      if (e.name.startsWith('_') || !Object.keys(files).length) continue;
      const name = e.isDirectory() ? e.name : e.name.replace(/\.\w+$/, '');
      solutions.push({ id: `reference:${challenge}/${name}`, challenge, name, files });
    }
    out.push(...solutions);
    if (Object.keys(shared).length) out.push({ id: `reference:${challenge}/_shared`, challenge, name: '_shared', files: shared });
  }
  return out;
}
