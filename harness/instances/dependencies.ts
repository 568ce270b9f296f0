// A submission's own dependencies load the way Node loads them: the packages in the submission's node_modules are
// not bundled but staged once per grade (hard-linked where anyone may read them, copied otherwise) into a read-only
// folder the sandboxed instances may read, and the bundle imports them from there by absolute path. Optional and dynamic requires, packages that read their own
// files (`__dirname`, package.json, .wasm, schema files) and packages that pick a module by a computed name
// (Sequelize its dialect driver) then behave as under plain `node`. The candidate's own source files are still
// bundled (TypeScript without a build step), and a CommonJS package imported with `import` keeps esbuild's
// lenient interop (named imports from any CommonJS module), exactly as when everything was bundled.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { spawn, spawnSync } from 'node:child_process';
import type * as esbuild from 'esbuild';
import { onCleanup } from '../cleanup.ts';

/** Where a submission's node_modules is staged for a grade; created and filled on first use. */
export class DependencyStage {
  readonly source: string;
  private dir: string | null = null;
  private filled = false;
  private unregister: (() => void) | null = null;

  /** @param submissionDir the submission folder; its `node_modules` (if any) is what gets staged */
  constructor(submissionDir: string) {
    this.source = realpathOr(path.join(submissionDir, 'node_modules'));
  }

  /** Whether the submission has dependencies of its own. */
  get present(): boolean {
    return fs.existsSync(this.source) && fs.statSync(this.source).isDirectory();
  }

  /** True when `file` (a real path) is inside the submission's node_modules. */
  owns(file: string): boolean {
    return relativeInside(this.source, file) !== null;
  }

  /** The staging folder (made on first call; removed by `remove` or at process exit). */
  root(): string {
    if (!this.dir) {
      // Named with this process's pid: a grade killed outright leaves it to the next start's sweep (stale-sweep.ts).
      this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `gauntlet-deps-${process.pid}-`));
      fs.chmodSync(this.dir, 0o755);
      this.unregister = onCleanup(() => this.remove());
    }
    return this.dir;
  }

  /** Where `file` (inside the submission's node_modules) lives in the staged copy. */
  staged(file: string): string {
    return path.join(this.root(), 'node_modules', path.relative(this.source, file));
  }

  /** Stage node_modules (once), readable by the unprivileged instance user. */
  fill(): void {
    if (this.filled) return;
    const target = path.join(this.root(), 'node_modules');
    stageTree(this.source, target);
    // The contract lets a submission use pg and ioredis without installing them; a library of its own that
    // requires them (Knex, Drizzle …) must find them beside itself, as bundling found the harness's copies.
    for (const name of HARNESS_PACKAGES) addPackageTree(name, harnessRequire, target);
    this.filled = true;
  }

  /** The folders an instance must be allowed to read: the staged dependencies, when any were used. */
  readable(): string[] {
    return this.filled && this.dir ? [this.dir] : [];
  }

  remove(): void {
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
    this.filled = false;
    this.unregister?.();
    this.unregister = null;
  }
}

/**
 * The pluginData of a plugin's own `build.resolve` probe: every gauntlet plugin lets a probe through untouched (two
 * plugins probing each other's probes would recurse for ever).
 */
export const RESOLVE_PROBE = 'gauntlet-resolve-probe';

/**
 * The esbuild plugin: a bare import or require that resolves into the submission's node_modules becomes a
 * run-time load of the staged copy. `require()` stays a `require()`; an `import` of an ES module stays an
 * `import`; an `import` of a CommonJS module goes through a one-line CommonJS shim, so esbuild's interop (the one
 * bundling gave) still applies.
 */
export function ownDependencies(stage: DependencyStage): esbuild.Plugin {
  const SHIM = 'gauntlet-cjs-dependency';
  return {
    name: 'gauntlet-own-dependencies',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === RESOLVE_PROBE || args.path.startsWith('node:') || args.namespace === SHIM) return undefined;
        if (args.kind !== 'import-statement' && args.kind !== 'require-call' && args.kind !== 'dynamic-import') return undefined;
        const found = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: RESOLVE_PROBE });
        if (found.errors.length || found.external || !found.path || !path.isAbsolute(found.path)) return undefined;
        const real = realpathOr(found.path);
        if (!stage.owns(real)) return undefined;
        stage.fill();
        const staged = stage.staged(real);
        if (args.kind === 'require-call' || isEsmFile(real)) return { path: staged, external: true };
        return { path: staged, namespace: SHIM };
      });
      build.onLoad({ filter: /.*/, namespace: SHIM }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js', resolveDir: path.dirname(args.path) }));
      build.onResolve({ filter: /.*/, namespace: SHIM }, (args) => ({ path: args.path, external: true }));
    },
  };
}

/** Whether Node loads `file` as an ES module: .mjs, or .js under a package.json with "type": "module". */
export function isEsmFile(file: string): boolean {
  if (file.endsWith('.mjs')) return true;
  if (file.endsWith('.cjs') || !file.endsWith('.js')) return false;
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      try {
        return JSON.parse(fs.readFileSync(manifest, 'utf8')).type === 'module';
      } catch {
        return false;
      }
    }
    if (path.dirname(dir) === dir || path.basename(dir) === 'node_modules') return false;
  }
}

const HARNESS_PACKAGES = ['pg', 'ioredis'];
const harnessRequire = createRequire(import.meta.url);

/**
 * Copy package `name` (as `from` resolves it) and, recursively, its dependencies into `modules` — each only when
 * `modules` has no package of that name already (the submission's own version wins, as Node would pick it).
 */
function addPackageTree(name: string, from: NodeRequire, modules: string): void {
  const target = path.join(modules, name);
  if (fs.existsSync(target)) return;
  // Found the way Node searches (the node_modules folders from `from` upwards); package.json need not be exported.
  const dir = (from.resolve.paths(name) ?? []).map((d) => path.join(d, name)).find((d) => fs.existsSync(path.join(d, 'package.json')));
  if (!dir) return; // not installed here either: Node will say "Cannot find module" if it is ever required
  const manifest = path.join(dir, 'package.json');
  fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
  fs.chmodSync(path.dirname(target), 0o755);
  stageTree(fs.realpathSync(dir), target);
  const deps = Object.keys(JSON.parse(fs.readFileSync(manifest, 'utf8')).dependencies ?? {});
  const own = createRequire(manifest);
  // A dependency found in the package's own nested node_modules came along with it.
  for (const dep of deps) if (!fs.existsSync(path.join(dir, 'node_modules', dep))) addPackageTree(dep, own, modules);
}

/**
 * Stage `src` at `dst` for the unprivileged instance user. Folders are made a+rx. A file anyone may read and nobody
 * else may write is hard-linked (instant, no space; the instance may only read it); any other file is copied and
 * made a+r (its original's mode is never touched). Symlinks are kept as they are: pnpm's relative links keep
 * working, and one pointing out of node_modules stays unreadable to the sandbox, as it should.
 */
export function stageTree(src: string, dst: string): void {
  fs.mkdirSync(dst, { recursive: true });
  fs.chmodSync(dst, 0o755);
  for (const entry of fs.readdirSync(src, { withFileTypes: true })) {
    if (entry.name === '.cache') continue;
    const from = path.join(src, entry.name);
    const to = path.join(dst, entry.name);
    if (entry.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(from), to);
    else if (entry.isDirectory()) stageTree(from, to);
    else if (entry.isFile()) stageFile(from, to);
  }
}

function stageFile(from: string, to: string): void {
  const mode = fs.statSync(from).mode & 0o7777;
  if ((mode & 0o004) !== 0 && (mode & 0o002) === 0) {
    try {
      fs.linkSync(from, to);
      return;
    } catch {
      // another file system, or links refused: copy instead
    }
  }
  fs.copyFileSync(from, to);
  fs.chmodSync(to, (mode | 0o444) & ~0o022);
}

/** `file`'s path relative to `root` when it lies strictly inside it; null otherwise. */
export function relativeInside(root: string, file: string): string | null {
  const rel = path.relative(root, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : null;
}

/** The real path of `file` (symlinks resolved), or its absolute path when it does not exist. */
export function realpathOr(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    return path.resolve(file);
  }
}

/**
 * Install a submission's dependencies the way its author pinned them: `npm ci` from the lock file (`npm install`
 * without one), lifecycle scripts off (nothing downloads or builds native code in the harness's name). Skipped when
 * there is no package.json, or when node_modules is already newer than the lock file unless `force`. Output goes to
 * `log` (never stdout: `--json` owns it).
 */
export function installDependencies(dir: string, opts: InstallOptions = {}): InstallResult {
  const cmd = installCommand(dir, opts.force);
  if (!cmd) return { ran: null, ok: true };
  const r = spawnSync('npm', cmd.args, { cwd: dir, encoding: 'utf8', timeout: opts.timeoutMs ?? 300_000 });
  if (r.stdout) opts.log?.(r.stdout);
  if (r.stderr) opts.log?.(r.stderr);
  return installOutcome(dir, cmd.ran, r.status, r.stderr || '', r.error);
}

/** The same install without blocking the event loop (a fleet worker keeps renewing its job's lock meanwhile). */
export function installDependenciesAsync(dir: string, opts: InstallOptions = {}): Promise<InstallResult> {
  const cmd = installCommand(dir, opts.force);
  if (!cmd) return Promise.resolve({ ran: null, ok: true });
  return new Promise((resolve) => {
    const child = spawn('npm', cmd.args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], timeout: opts.timeoutMs ?? 300_000 });
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => opts.log?.(c.toString()));
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      opts.log?.(c.toString());
    });
    let failure: Error | undefined;
    child.on('error', (err) => (failure = err));
    child.on('close', (code) => resolve(installOutcome(dir, cmd.ran, code, stderr, failure)));
  });
}

interface InstallOptions {
  force?: boolean;
  log?: (chunk: string) => void;
  timeoutMs?: number;
}

type InstallResult = { ran: string | null; ok: boolean; error?: string };

function installCommand(dir: string, force?: boolean): { args: string[]; ran: string } | null {
  if (!fs.existsSync(path.join(dir, 'package.json'))) return null;
  const lock = path.join(dir, 'package-lock.json');
  const marker = path.join(dir, 'node_modules', '.package-lock.json');
  if (!force && fs.existsSync(marker) && (!fs.existsSync(lock) || fs.statSync(marker).mtimeMs >= fs.statSync(lock).mtimeMs)) return null;
  const args = [fs.existsSync(lock) ? 'ci' : 'install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'];
  return { args, ran: `npm ${args.join(' ')}` };
}

function installOutcome(dir: string, ran: string, status: number | null, stderr: string, error?: Error): InstallResult {
  if (status === 0) return { ran, ok: true };
  return { ran, ok: false, error: `${ran} in ${dir} failed (${error ? error.message : `exit ${status}`}): ${stderr.trim().split('\n').slice(-8).join('\n')}` };
}
