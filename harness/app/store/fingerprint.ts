// A submission's identity for the run store: a SHA-256 over its files (relative path and content), so two runs
// of the same code share a fingerprint however the folder was named, and a changed file is a new submission.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { collectSources } from '../../../rubric/evidence/sources.ts';

const SKIP = new Set(['node_modules', '.git', '.gauntlet', 'dist', 'build', 'coverage', '__pycache__', '.venv', 'venv']);
const MAX_FILES = 2000;
const MAX_TOTAL_BYTES = 32 * 1024 * 1024;

export interface FileDigest {
  path: string;
  sha256: string;
  bytes: number;
}

export interface Fingerprint {
  hash: string;
  files: FileDigest[];
}

function walk(dir: string, out: string[], depth = 0): void {
  if (depth > 8 || out.length >= MAX_FILES) return;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() && !SKIP.has(e.name) && !e.name.startsWith('.')) walk(p, out, depth + 1);
    else if (e.isFile() && out.length < MAX_FILES) out.push(p);
  }
}

/** Every file of the submission folder, plus module files it points to elsewhere (gauntlet.json paths) and their imports. */
export function fingerprint(submission: string, moduleFiles: string[] = []): Fingerprint {
  const root = path.resolve(submission);
  const files: string[] = [];
  walk(root, files);
  const modules = moduleFiles.filter((f) => /\.(ts|mts|cts|js|mjs|cjs|tsx|jsx)$/.test(f));
  if (modules.length) {
    const srcs = collectSources(root, modules);
    files.push(...srcs.code, ...srcs.tests, ...srcs.declarations);
  }
  const digests: FileDigest[] = [];
  let total = 0;
  for (const f of [...new Set(files.map((x) => path.resolve(x)))].sort()) {
    let data: Buffer;
    try {
      data = fs.readFileSync(f);
    } catch {
      continue;
    }
    total += data.length;
    if (total > MAX_TOTAL_BYTES) break;
    const rel = path.relative(root, f);
    digests.push({ path: rel.startsWith('..') ? f : rel.split(path.sep).join('/'), sha256: crypto.createHash('sha256').update(data).digest('hex'), bytes: data.length });
  }
  const h = crypto.createHash('sha256');
  for (const d of digests) h.update(`${d.path.startsWith('/') ? path.basename(d.path) : d.path}\0${d.sha256}\n`);
  return { hash: h.digest('hex'), files: digests };
}
