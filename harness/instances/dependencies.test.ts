// A submission's own node_modules load as Node loads them, from a staged copy the sandboxed instance may read:
// a package that reads its own files, one that requires a module by a computed name, an ES-module-only package,
// a CommonJS package with `__esModule` (esbuild's interop kept), and `pg` for a library that needs it without the
// submission installing it. The bundle is run by plain `node` under the permission model, as instances are.

import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { DependencyStage, isEsmFile, ownDependencies } from './dependencies.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-deps-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function pkg(root: string, name: string, manifest: Record<string, unknown>, files: Record<string, string>): void {
  const dir = path.join(root, 'node_modules', name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', ...manifest }));
  for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), text);
}

function makeSubmission(): string {
  const dir = path.join(tmp, 'submission');
  pkg(dir, 'reads-own-file', { main: 'index.js' }, {
    'index.js': "module.exports = require('fs').readFileSync(require('path').join(__dirname, 'data.txt'), 'utf8').trim();",
    'data.txt': 'read at run time\n',
  });
  // Like Sequelize choosing its dialect's driver: the name is computed, so no bundler can see it.
  pkg(dir, 'computed-require', { main: 'index.js' }, {
    'index.js': "const pick = (n) => require(n);\nexports.dialect = () => pick(['lazy', 'dialect'].join('-'));\nexports.pgPool = () => typeof pick(['p', 'g'].join('')).Pool;",
  });
  pkg(dir, 'lazy-dialect', { main: 'index.js' }, { 'index.js': "module.exports = 'dialect loaded';" });
  pkg(dir, 'esm-only', { type: 'module', exports: { import: './index.js' } }, { 'index.js': "export const kind = 'esm';" });
  pkg(dir, 'cjs-flagged', { main: 'index.js' }, { 'index.js': "Object.defineProperty(exports, '__esModule', { value: true });\nexports.default = 'the default';\nexports.named = 'a name';" });
  // The instances run as an unprivileged user: the staged copy must be readable even when the original is not.
  fs.chmodSync(path.join(dir, 'node_modules', 'reads-own-file', 'data.txt'), 0o600);
  fs.writeFileSync(
    path.join(dir, 'main.ts'),
    [
      "import ownFile from 'reads-own-file';",
      "import { dialect, pgPool } from 'computed-require';",
      "import { kind } from 'esm-only';",
      "import flagged, { named } from 'cjs-flagged';",
      'console.log(JSON.stringify({ ownFile, dialect: dialect(), pgPool: pgPool(), kind, flagged, named }));',
    ].join('\n'),
  );
  return dir;
}

async function build(dir: string, stage: DependencyStage, out: string): Promise<void> {
  await esbuild.build({
    entryPoints: [path.join(dir, 'main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: out,
    logLevel: 'silent',
    plugins: [ownDependencies(stage)],
    banner: { js: "import { createRequire as __c } from 'node:module'; const require = __c(import.meta.url);" },
  });
}

describe('the submission’s own dependencies', () => {
  it('load at run time from the staged copy, under the permission model, with the interop bundling had', async () => {
    const dir = makeSubmission();
    const stage = new DependencyStage(dir);
    expect(stage.present).toBe(true);
    const out = path.join(tmp, 'out', 'bundle.mjs');
    await build(dir, stage, out);
    const text = fs.readFileSync(out, 'utf8');
    // Nothing of the packages is inside the bundle: each is loaded from the stage.
    expect(text).not.toMatch(/read at run time|dialect loaded|the default/);
    expect(text).toContain(stage.root());
    const [staged] = stage.readable();
    expect(staged).toBe(stage.root());
    expect(fs.statSync(path.join(staged, 'node_modules', 'reads-own-file', 'data.txt')).mode & 0o444).toBe(0o444);
    // …by a copy: the original keeps its mode. A file anyone may read is hard-linked instead (no copying).
    expect(fs.statSync(path.join(dir, 'node_modules', 'reads-own-file', 'data.txt')).mode & 0o777).toBe(0o600);
    fs.chmodSync(path.join(dir, 'node_modules', 'esm-only', 'index.js'), 0o644);
    expect(fs.statSync(path.join(staged, 'node_modules', 'esm-only', 'index.js')).ino).toBe(fs.statSync(path.join(dir, 'node_modules', 'esm-only', 'index.js')).ino);
    expect(fs.statSync(path.join(staged, 'node_modules', 'reads-own-file', 'data.txt')).ino).not.toBe(fs.statSync(path.join(dir, 'node_modules', 'reads-own-file', 'data.txt')).ino);
    // pg was not installed by the submission: the harness's copy is staged beside its packages.
    expect(fs.existsSync(path.join(staged, 'node_modules', 'pg', 'package.json'))).toBe(true);
    const run = spawnSync(process.execPath, ['--experimental-permission', '--no-warnings', `--allow-fs-read=${path.dirname(out)}`, `--allow-fs-read=${staged}`, out], { encoding: 'utf8', timeout: 20_000 });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ ownFile: 'read at run time', dialect: 'dialect loaded', pgPool: 'function', kind: 'esm', flagged: 'the default', named: 'a name' });
    stage.remove();
    expect(fs.existsSync(staged)).toBe(false);
  }, 30_000);

  it('stages nothing for a submission without node_modules', async () => {
    const dir = path.join(tmp, 'bare');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'main.ts'), "import pg from 'pg';\nconsole.log(typeof pg.Pool);");
    const stage = new DependencyStage(dir);
    expect(stage.present).toBe(false);
    const out = path.join(tmp, 'bare-out', 'bundle.mjs');
    await esbuild.build({ entryPoints: [path.join(dir, 'main.ts')], bundle: true, platform: 'node', format: 'esm', outfile: out, logLevel: 'silent', plugins: [ownDependencies(stage)], nodePaths: [path.resolve('node_modules')] });
    expect(stage.readable()).toEqual([]);
    stage.remove();
  }, 30_000);

  it('tells ES modules from CommonJS files as Node does', () => {
    const dir = path.join(tmp, 'formats', 'node_modules', 'p');
    fs.mkdirSync(path.join(dir, 'cjs'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    fs.writeFileSync(path.join(dir, 'cjs', 'package.json'), JSON.stringify({ type: 'commonjs' }));
    expect(isEsmFile(path.join(dir, 'a.js'))).toBe(true);
    expect(isEsmFile(path.join(dir, 'a.cjs'))).toBe(false);
    expect(isEsmFile(path.join(dir, 'cjs', 'a.js'))).toBe(false);
    expect(isEsmFile(path.join(dir, 'a.mjs'))).toBe(true);
  });
});
