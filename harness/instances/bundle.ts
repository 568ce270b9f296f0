// Bundles a candidate module together with the instance runtime into one ESM file that plain `node` runs:
// TypeScript without a build step by the candidate, `pg`/`ioredis` from the harness's copies, `gauntlet`
// resolved to the public module. (tsx loaders would break under Node 20's permission model; a bundle does not.)

import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const harnessRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface BundleResult {
  ok: boolean;
  file?: string;
  /** esbuild's messages, with file:line:col, when the module does not compile. */
  error?: string;
}

/**
 * @param modulePath absolute path of the candidate's module
 * @param routesModule absolute path of the challenge's route table module (exports `routeTable`)
 * @param outFile where to write the bundle
 */
export async function bundleInstance(modulePath: string, routesModule: string, outFile: string): Promise<BundleResult> {
  const runtime = path.join(harnessRoot, 'harness', 'instances', 'instance-main.ts');
  const entry = [
    `import { runInstance } from ${JSON.stringify(runtime)};`,
    `import { routeTable } from ${JSON.stringify(routesModule)};`,
    `runInstance(() => import(${JSON.stringify(modulePath)}), routeTable);`,
  ].join('\n');
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  try {
    const result = await esbuild.build({
      stdin: { contents: entry, resolveDir: path.dirname(modulePath), loader: 'ts', sourcefile: 'gauntlet-instance-entry.ts' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: outFile,
      sourcemap: 'inline',
      logLevel: 'silent',
      nodePaths: [path.join(harnessRoot, 'node_modules')],
      alias: { gauntlet: path.join(harnessRoot, 'harness', 'public.ts') },
      external: ['pg-native'],
      // CommonJS dependencies (pg, ioredis) call require() on built-ins; give the ESM bundle a real require.
      banner: { js: "import { createRequire as __gauntletCreateRequire } from 'node:module'; const require = __gauntletCreateRequire(import.meta.url);" },
    });
    if (result.errors.length) return { ok: false, error: formatMessages(result.errors) };
    return { ok: true, file: outFile };
  } catch (err) {
    const failure = err as esbuild.BuildFailure;
    return { ok: false, error: failure.errors ? formatMessages(failure.errors) : String(err) };
  }
}

function formatMessages(messages: esbuild.Message[]): string {
  return messages
    .map((m) => (m.location ? `${m.location.file}:${m.location.line}:${m.location.column}: ${m.text}\n    ${m.location.lineText}` : m.text))
    .join('\n');
}
