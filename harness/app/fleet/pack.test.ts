// The packed submission a queue job carries: what goes in and what is refused, and that the unpacked copy grades
// like the original (its modules are found and bundle under the same confinement as the original folder).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { challenges, contractFiles } from '../../../challenges/index.ts';
import { UsageError } from '../../errors.ts';
import { findModule, readSubmissionConfig } from '../../submission.ts';
import { bundleInstance } from '../../instances/bundle.ts';
import { EXTERNAL_DIR, packSubmission, unpackSubmission, PACK_FORMAT } from './pack.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-pack-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => fs.mkdtempSync(path.join(tmp, `d${++n}-`));

function submission(files: Record<string, string>): string {
  const dir = fresh();
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

const seat = "export async function setup() {}\nexport async function create() { return {}; }\n";

describe('packSubmission / unpackSubmission', () => {
  it('carries modules named outside the folder with their imports, and the copy bundles like the original', async () => {
    const original = path.join(root, 'examples', 'reference-submission');
    const p = packSubmission(original);
    expect(p.external.length).toBe(challenges.length);
    expect(p.external.every((e) => e.startsWith(`${EXTERNAL_DIR}/`))).toBe(true);
    const dir = unpackSubmission(p, fresh());
    expect(path.basename(dir)).toBe('reference-submission');
    const config = readSubmissionConfig(dir);
    const originalConfig = readSubmissionConfig(original);
    for (const c of challenges) {
      const copy = findModule(dir, c, config)!;
      expect(copy.startsWith(dir + path.sep)).toBe(true);
      expect(fs.readFileSync(copy, 'utf8')).toBe(fs.readFileSync(findModule(original, c, originalConfig)!, 'utf8'));
    }
    // The copy's modules import their shared files from inside the copy: esbuild's confinement accepts them.
    const c = challenges.find((x) => x.id === 'seat-reservation')!;
    const bundled = await bundleInstance(findModule(dir, c, config)!, c.routesModule, path.join(fresh(), 'b.mjs'), dir, undefined, contractFiles());
    expect(bundled.error).toBeUndefined();
    expect(bundled.ok).toBe(true);
  }, 60_000);

  it('packs an HTTP-mode submission (a server in another language) whole, and the copy is still in HTTP mode', () => {
    const original = path.join(root, 'reference', 'seat-reservation', 'http-python');
    const p = packSubmission(original);
    expect(p.external).toEqual([]);
    const dir = unpackSubmission(p, fresh());
    expect(readSubmissionConfig(dir)).toMatchObject({ mode: 'http', start: 'exec /usr/bin/python3 server.py serve' });
    expect(fs.readFileSync(path.join(dir, 'server.py'), 'utf8')).toBe(fs.readFileSync(path.join(original, 'server.py'), 'utf8'));
    expect(findModule(dir, challenges.find((c) => c.id === 'seat-reservation')!, readSubmissionConfig(dir))).toBe(path.join(dir, 'gauntlet.json'));
  });

  it('packs the folder\'s files, never node_modules, .git or build output, and keeps the executable bit', () => {
    const dir = submission({ 'seat-reservation.ts': seat, 'lib/util.ts': 'export const x = 1;\n', 'node_modules/pg/index.js': 'x', '.git/HEAD': 'ref', 'dist/out.js': 'x', 'run.sh': '#!/bin/sh\n' });
    fs.chmodSync(path.join(dir, 'run.sh'), 0o755);
    const p = packSubmission(dir);
    expect(p.files).toBe(3);
    const out = unpackSubmission(p, fresh());
    expect(fs.readdirSync(out).sort()).toEqual(['lib', 'run.sh', 'seat-reservation.ts']);
    expect(fs.statSync(path.join(out, 'run.sh')).mode & 0o111).not.toBe(0);
    expect(fs.readFileSync(path.join(out, 'lib', 'util.ts'), 'utf8')).toBe('export const x = 1;\n');
  });

  it('follows a symlink that stays inside the folder, and refuses one that leads out of it', () => {
    const dir = submission({ 'seat-reservation.ts': seat, 'real/a.ts': 'export const a = 1;\n' });
    fs.symlinkSync(path.join(dir, 'real', 'a.ts'), path.join(dir, 'alias.ts'));
    const out = unpackSubmission(packSubmission(dir), fresh());
    expect(fs.readFileSync(path.join(out, 'alias.ts'), 'utf8')).toBe('export const a = 1;\n');

    const secret = path.join(fresh(), 'secret.txt');
    fs.writeFileSync(secret, 'not yours');
    fs.symlinkSync(secret, path.join(dir, 'leak.txt'));
    expect(() => packSubmission(dir)).toThrow(/leak\.txt is a symlink out of the submission folder/);
    fs.unlinkSync(path.join(dir, 'leak.txt'));
    fs.symlinkSync(path.join(dir, 'gone.ts'), path.join(dir, 'dangling.ts'));
    expect(() => packSubmission(dir)).toThrow(/dangling\.ts is a symlink to nothing/);
  });

  it('refuses a folder with no module of any challenge, a missing folder, a module gauntlet.json names but lacks, and one over the cap', () => {
    expect(() => packSubmission(submission({ 'README.md': 'hi' }))).toThrow(/has no module of any challenge/);
    expect(() => packSubmission(path.join(tmp, 'nope'))).toThrow(/submission folder not found/);
    expect(() => packSubmission(submission({ 'gauntlet.json': JSON.stringify({ paths: { 'seat-reservation': './missing.ts' } }) }))).toThrow(/does not exist/);
    const big = submission({ 'seat-reservation.ts': seat, 'data.bin': 'x'.repeat(200_000) });
    expect(() => packSubmission(big, { maxBytes: 100_000 })).toThrow(UsageError);
    expect(() => packSubmission(big, { maxBytes: 100_000 })).toThrow(/over the pack size cap of 0\.1 MiB/);
  });

  it('refuses a damaged pack, a pack of another format, and one naming a file outside its folder', () => {
    const p = packSubmission(submission({ 'seat-reservation.ts': seat }));
    expect(() => unpackSubmission({ ...p, sha256: '0'.repeat(64) }, fresh())).toThrow(/damaged/);
    const forge = (doc: unknown) => {
      const gz = zlib.gzipSync(JSON.stringify(doc));
      return { packed: gz.toString('base64'), sha256: crypto.createHash('sha256').update(gz).digest('hex') };
    };
    expect(() => unpackSubmission(forge({ format: 'gauntlet-pack/9', name: 'x', files: [], bytes: 0 }), fresh())).toThrow(/format/);
    const into = fresh();
    expect(() => unpackSubmission(forge({ format: PACK_FORMAT, name: 'x', files: [{ path: '../../escape.ts', data: '' }], bytes: 0 }), into)).toThrow(/outside its folder/);
    expect(fs.existsSync(path.join(into, '..', 'escape.ts'))).toBe(false);
    // A name that is a path is not followed either.
    const out = unpackSubmission(forge({ format: PACK_FORMAT, name: '../up', files: [{ path: 'a.ts', data: '' }], bytes: 0 }), into);
    expect(out).toBe(path.join(into, 'submission'));
  });
});
