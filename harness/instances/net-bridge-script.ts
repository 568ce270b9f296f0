// Builds the stand-alone bridge script (net-bridge-main.ts) that HTTP-mode instances run beside their server,
// once per harness process, into a private temp folder removed at exit.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { onCleanup } from '../cleanup.ts';

let built: Promise<string> | null = null;

export function bridgeScript(): Promise<string> {
  built ??= (async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-bridge-'));
    fs.chmodSync(dir, 0o755);
    const remove = () => fs.rmSync(dir, { recursive: true, force: true });
    onCleanup(remove);
    process.once('exit', remove);
    const outfile = path.join(dir, 'net-bridge.mjs');
    await esbuild.build({
      entryPoints: [path.join(path.dirname(fileURLToPath(import.meta.url)), 'net-bridge-main.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile,
      logLevel: 'silent',
    });
    fs.chmodSync(outfile, 0o644);
    return outfile;
  })();
  return built;
}
