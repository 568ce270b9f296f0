// Packs a submission folder into one self-contained, compressed document a queue job can carry to a worker on
// another machine, and unpacks it there. What goes in: every file of the folder (not node_modules, .git, .gauntlet,
// build output or virtualenvs: a worker installs dependencies itself with --install), and the modules gauntlet.json
// `paths` names outside the folder together with their local imports, moved under `_external/` with the paths
// rewritten, so the unpacked copy grades exactly like the original. Refused with a clear message: a symlink that
// leads out of the folder, a submission with no module of any challenge, one over the size cap.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { challenges as registry } from '../../../challenges/index.ts';
import { UsageError } from '../../errors.ts';
import { assertSubmissionDir, findModule, readSubmissionConfig } from '../../submission.ts';
import { collectSources } from '../../../rubric/evidence/sources.ts';

export const PACK_FORMAT = 'gauntlet-pack/1';
/** Default cap on a pack's files, uncompressed. */
export const DEFAULT_MAX_PACK_BYTES = 5 * 1024 * 1024;
const MAX_FILES = 2000;
const SKIP_DIRS = new Set(['node_modules', '.git', '.gauntlet', 'dist', 'build', 'coverage', '__pycache__', '.venv', 'venv', '.next', '.turbo']);
/** Where modules named from outside the folder go in the unpacked copy. */
export const EXTERNAL_DIR = '_external';

export interface PackedFile {
  /** Relative, '/'-separated, inside the submission. */
  path: string;
  /** Base64 of the bytes. */
  data: string;
  executable?: boolean;
}

export interface Pack {
  format: typeof PACK_FORMAT;
  /** The folder's name (the unpacked copy gets it too, so reports read the same). */
  name: string;
  files: PackedFile[];
  bytes: number;
}

export interface PackedSubmission {
  /** gzip of the Pack's JSON, base64. */
  packed: string;
  sha256: string;
  bytes: number;
  files: number;
  /** Modules the pack carries from outside the folder (gauntlet.json paths), relative to the folder. */
  external: string[];
}

/** Pack a submission folder; throws UsageError with what to change when it cannot be packed. */
export function packSubmission(dir: string, opts: { maxBytes?: number } = {}): PackedSubmission {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_PACK_BYTES;
  const root = assertSubmissionDir(dir, registry.map((c) => `${c.file}.ts`));
  const realRoot = fs.realpathSync(root);
  const config = readSubmissionConfig(root);
  const modules = registry.map((c) => [c.id, findModule(root, c, config)] as const).filter((m): m is readonly [string, string] => !!m[1]);
  if (!modules.length) throw new UsageError(`${root} has no module of any challenge`, `a submission holds ${registry.map((c) => `${c.file}.ts`).join(', ')} (any of them), or a gauntlet.json naming them`);

  const files = new Map<string, string>(); // packed path → absolute source file
  walk(root, realRoot, '', files);

  // Modules gauntlet.json names outside the folder, with their local imports, keep their layout under _external/.
  const outside = modules.filter(([, m]) => config.mode === 'module' && !inside(realRoot, fs.realpathSync(m)));
  const external: string[] = [];
  let rewritten: string | undefined;
  if (outside.length) {
    // collectSources also walks the folder it is given: a folder that does not exist keeps it to the imports.
    const reached = collectSources(path.join(root, '.gauntlet-pack-none'), outside.map(([, m]) => m));
    const extFiles = [...reached.code, ...reached.declarations, ...reached.tests].map((f) => fs.realpathSync(f)).filter((f) => !inside(realRoot, f));
    const base = commonDir(extFiles);
    for (const f of extFiles) files.set(`${EXTERNAL_DIR}/${toPosix(path.relative(base, f))}`, f);
    const raw = JSON.parse(fs.readFileSync(path.join(root, 'gauntlet.json'), 'utf8'));
    for (const [id, m] of outside) {
      const rel = `${EXTERNAL_DIR}/${toPosix(path.relative(base, fs.realpathSync(m)))}`;
      raw.paths[id] = `./${rel}`;
      external.push(rel);
    }
    rewritten = JSON.stringify(raw, null, 2) + '\n';
  }

  const packed: PackedFile[] = [];
  let bytes = 0;
  for (const [rel, abs] of [...files.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const data = rel === 'gauntlet.json' && rewritten !== undefined ? Buffer.from(rewritten) : fs.readFileSync(abs);
    bytes += data.length;
    if (bytes > maxBytes) throw new UsageError(`${root} is over the pack size cap of ${mb(maxBytes)} (without node_modules, .git and build output)`, 'remove large files the grade does not need, or raise --max-pack-mb');
    packed.push({ path: rel, data: data.toString('base64'), ...(fs.statSync(abs).mode & 0o111 ? { executable: true } : {}) });
  }
  const pack: Pack = { format: PACK_FORMAT, name: path.basename(root), files: packed, bytes };
  const gz = zlib.gzipSync(JSON.stringify(pack));
  return { packed: gz.toString('base64'), sha256: crypto.createHash('sha256').update(gz).digest('hex'), bytes, files: packed.length, external };
}

/** Unpack into `into` (an empty folder); returns the submission folder inside it. Throws on a damaged or foreign pack. */
export function unpackSubmission(p: Pick<PackedSubmission, 'packed' | 'sha256'>, into: string): string {
  const gz = Buffer.from(p.packed, 'base64');
  if (crypto.createHash('sha256').update(gz).digest('hex') !== p.sha256) throw new UsageError('the packed submission is damaged (its sha256 does not match)');
  let pack: Pack;
  try {
    pack = JSON.parse(zlib.gunzipSync(gz).toString('utf8'));
  } catch (err) {
    throw new UsageError(`the packed submission cannot be read: ${(err as Error).message}`);
  }
  if (pack.format !== PACK_FORMAT) throw new UsageError(`the packed submission has format ${JSON.stringify(pack.format)}; this gauntlet reads ${PACK_FORMAT}`, 'run the same gauntlet version on the queue and the workers');
  const name = /^[\w.@+-]{1,100}$/.test(pack.name) && pack.name !== '.' && pack.name !== '..' ? pack.name : 'submission';
  const root = path.join(into, name);
  fs.mkdirSync(root, { recursive: true });
  for (const f of pack.files) {
    const target = path.resolve(root, f.path);
    // A pack is data from the queue: nothing in it may land outside the folder it unpacks into.
    if (!inside(root, target) || target === root) throw new UsageError(`the packed submission names a file outside its folder: ${JSON.stringify(f.path)}`);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, Buffer.from(f.data, 'base64'), { mode: f.executable ? 0o755 : 0o644 });
  }
  return root;
}

function walk(dir: string, realRoot: string, rel: string, out: Map<string, string>, depth = 0): void {
  if (depth > 12) return;
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const abs = path.join(dir, e.name);
    const relPath = rel ? `${rel}/${e.name}` : e.name;
    let isDir = e.isDirectory();
    let isFile = e.isFile();
    if (e.isSymbolicLink()) {
      let target: string;
      try {
        target = fs.realpathSync(abs);
      } catch {
        throw new UsageError(`${relPath} is a symlink to nothing (${fs.readlinkSync(abs)})`, 'remove it or point it at a file inside the submission folder');
      }
      if (!inside(realRoot, target)) throw new UsageError(`${relPath} is a symlink out of the submission folder (to ${target})`, 'copy what it points to into the folder instead: a worker on another machine cannot follow it');
      const st = fs.statSync(abs);
      isDir = st.isDirectory();
      isFile = st.isFile();
    }
    if (isDir) {
      if (!SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) walk(abs, realRoot, relPath, out, depth + 1);
    } else if (isFile) {
      if (out.size >= MAX_FILES) throw new UsageError(`the submission folder has over ${MAX_FILES} files`, 'remove what the grade does not need');
      out.set(relPath, abs);
    }
  }
}

const inside = (root: string, p: string): boolean => {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

function commonDir(files: string[]): string {
  let base = path.dirname(files[0]);
  for (const f of files) while (!inside(base, f)) base = path.dirname(base);
  return base;
}

const toPosix = (p: string): string => p.split(path.sep).join('/');
const mb = (n: number): string => `${Math.round((n / 1024 / 1024) * 10) / 10} MiB`;
