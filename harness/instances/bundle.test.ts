// Bundling a candidate's module: a library's lazy require() of a package that is not installed (Knex's dialect
// drivers) stays a run-time require, as Node would leave it; a static import of a missing package still fails the
// build with its file and line.

import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleInstance } from './bundle.ts';
import { DependencyStage } from './dependencies.ts';

const routes = fileURLToPath(new URL('../../challenges/seat-reservation/routes.ts', import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-bundle-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function submission(name: string, module: string): string {
  const dir = path.join(tmp, name);
  const lib = path.join(dir, 'node_modules', 'lazy-lib');
  fs.mkdirSync(lib, { recursive: true });
  fs.writeFileSync(path.join(lib, 'package.json'), JSON.stringify({ name: 'lazy-lib', version: '1.0.0', main: 'index.js' }));
  // Like Knex: the driver of a dialect nobody chose is required only when that dialect is used.
  fs.writeFileSync(path.join(lib, 'index.js'), "exports.ready = true;\nexports.mariadb = function () { return require('gauntlet-never-installed-driver/callback'); };\n");
  fs.writeFileSync(path.join(dir, 'seat-reservation.ts'), module);
  return dir;
}

describe('bundleInstance', () => {
  it('leaves a lazy require of a package that is not installed to run time', async () => {
    const dir = submission('lazy', "import lib from 'lazy-lib';\nexport default async function create() { if (!lib.ready) throw new Error('no'); return { reserveSeat() {}, getReservation() {} }; }\n");
    const out = path.join(dir, 'out', 'bundle.mjs');
    const r = await bundleInstance(path.join(dir, 'seat-reservation.ts'), routes, out, dir);
    expect(r.error).toBeUndefined();
    expect(r.ok).toBe(true);
    expect(fs.readFileSync(out, 'utf8')).toMatch(/require\("gauntlet-never-installed-driver\/callback"\)/);
  }, 30_000);

  it('with the submission’s node_modules staged, loads its packages at run time and still leaves a lazy require of a missing one', async () => {
    // Both plugins probe resolution: each must let the other's probe through, or bundling never ends.
    const dir = submission('staged', "import lib from 'lazy-lib';\nconst later = () => require('gauntlet-never-installed-cache');\nexport default async function create() { if (!lib.ready) later(); return { reserveSeat() {}, getReservation() {} }; }\n");
    const out = path.join(dir, 'out', 'bundle.mjs');
    const stage = new DependencyStage(dir);
    try {
      const r = await bundleInstance(path.join(dir, 'seat-reservation.ts'), routes, out, dir, stage);
      expect(r.error).toBeUndefined();
      const text = fs.readFileSync(out, 'utf8');
      expect(text).toContain(path.join(stage.root(), 'node_modules', 'lazy-lib', 'index.js'));
      expect(text).not.toContain('gauntlet-never-installed-driver');
      expect(text).toMatch(/require\("gauntlet-never-installed-cache"\)/);
      expect(stage.readable()).toEqual([stage.root()]);
    } finally {
      stage.remove();
    }
  }, 30_000);

  it('still refuses a static import of a package that is not installed, naming file and line', async () => {
    const dir = submission('static', "import missing from 'gauntlet-never-installed-orm';\nexport default async function create() { return missing; }\n");
    const r = await bundleInstance(path.join(dir, 'seat-reservation.ts'), routes, path.join(dir, 'out', 'bundle.mjs'), dir);
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/seat-reservation\.ts:1:\d+: Could not resolve "gauntlet-never-installed-orm"/);
  }, 30_000);

  it('says to install a package the submission lists in package.json but has not installed', async () => {
    const dir = submission('uninstalled', "import knex from 'knex';\nexport default async function create() { return knex; }\n");
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'me', dependencies: { knex: '3.3.0' } }));
    fs.writeFileSync(path.join(dir, 'package-lock.json'), '{}');
    const r = await bundleInstance(path.join(dir, 'seat-reservation.ts'), routes, path.join(dir, 'out', 'bundle.mjs'), dir, new DependencyStage(dir));
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/Could not resolve "knex"/);
    expect(r.error).toContain(`knex is listed in the submission's package.json but not installed: run \`npm ci\` in ${dir}, then grade again.`);
  }, 30_000);
});
