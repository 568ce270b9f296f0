// Bundles a candidate module together with the instance runtime into one ESM file that plain `node` runs:
// TypeScript without a build step by the candidate, `pg`/`ioredis` from the harness's copies, `gauntlet`
// resolved to the public module. (tsx loaders would break under Node 20's permission model; a bundle does not.)
// The submission's own node_modules are not bundled: they load at run time from a staged copy (dependencies.ts).

import path from 'node:path';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { ownDependencies, realpathOr, relativeInside, RESOLVE_PROBE, type DependencyStage } from './dependencies.ts';
import { gauntletModuleSource } from '../gauntlet-module.ts';

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
 * @param submissionDir the submission folder: with the module's own folder and the harness's package, the only
 *   places the bundle may take files from (see `confine`)
 * @param dependencies the grade's staging of the submission's node_modules: packages from there load at run time
 */
/**
 * `contracts`: the registered challenges' contract files, which with the common part make the `gauntlet` module the
 * submission may import (harness/gauntlet-module.ts).
 */
export async function bundleInstance(modulePath: string, routesModule: string, outFile: string, submissionDir?: string, dependencies?: DependencyStage, contracts: string[] = []): Promise<BundleResult> {
  const runtime = path.join(harnessRoot, 'harness', 'instances', 'instance-main.ts');
  const entry = [
    `import { runInstance } from ${JSON.stringify(runtime)};`,
    `import { routeTable } from ${JSON.stringify(routesModule)};`,
    `runInstance(() => import(${JSON.stringify(modulePath)}), routeTable);`,
  ].join('\n');
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  const failed = (errors: esbuild.Message[]): BundleResult => ({ ok: false, error: formatMessages(errors) + notInstalled(errors, submissionDir) });
  try {
    const result = await esbuild.build({
      stdin: { contents: entry, resolveDir: path.dirname(modulePath), loader: 'ts', sourcefile: 'gauntlet-instance-entry.ts' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: outFile,
      sourcemap: 'inline',
      // Stack traces still name the candidate's files and lines; the sources' text would only be decoded and parsed
      // again by every instance at start (--enable-source-maps), about 1 MB of a 2 MB bundle.
      sourcesContent: false,
      logLevel: 'silent',
      nodePaths: [path.join(harnessRoot, 'node_modules')],
      external: ['pg-native'],
      plugins: [gauntletModule(contracts), ...(dependencies?.present ? [ownDependencies(dependencies)] : []), optionalRequires(), confine([...(submissionDir ? [submissionDir] : []), path.dirname(modulePath), ...harnessRoots()])],
      // CommonJS dependencies (pg, ioredis) call require() on built-ins; give the ESM bundle a real require.
      banner: { js: "import { createRequire as __gauntletCreateRequire } from 'node:module'; const require = __gauntletCreateRequire(import.meta.url);" },
    });
    if (result.errors.length) return failed(result.errors);
    return { ok: true, file: outFile };
  } catch (err) {
    const failure = err as esbuild.BuildFailure;
    return failure.errors ? failed(failure.errors) : { ok: false, error: String(err) };
  }
}

/** A package the submission's package.json lists but its node_modules lacks: say how to install it. */
export function notInstalled(errors: esbuild.Message[], submissionDir?: string): string {
  if (!submissionDir) return '';
  let manifest: Record<string, Record<string, string> | undefined>;
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(submissionDir, 'package.json'), 'utf8'));
  } catch {
    return '';
  }
  const listed = new Set(['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'].flatMap((k) => Object.keys(manifest[k] ?? {})));
  const missing = new Set<string>();
  for (const e of errors) {
    const m = /Could not resolve "((?:@[^/"]+\/)?[^/"]+)/.exec(e.text);
    if (m && listed.has(m[1]) && !fs.existsSync(path.join(submissionDir, 'node_modules', m[1]))) missing.add(m[1]);
  }
  if (!missing.size) return '';
  const lock = fs.existsSync(path.join(submissionDir, 'package-lock.json')) ? 'npm ci' : 'npm install';
  return `\n${[...missing].join(', ')} ${missing.size > 1 ? 'are' : 'is'} listed in the submission's package.json but not installed: run \`${lock}\` in ${submissionDir}, then grade again.`;
}

/** What of the harness a bundle needs: the instance runtime and public module, the route tables, and the node_modules holding pg and ioredis. */
function harnessRoots(): string[] {
  const roots = [path.join(harnessRoot, 'harness'), path.join(harnessRoot, 'challenges'), path.join(harnessRoot, 'node_modules')];
  const require = createRequire(import.meta.url);
  for (const pkg of ['pg', 'ioredis']) {
    try {
      // …/node_modules/pg/package.json → …/node_modules (hoisted next to gauntlet when it is installed as a dependency)
      roots.push(path.dirname(path.dirname(require.resolve(`${pkg}/package.json`))));
    } catch {
      // not installed: the bundle says so when it needs it
    }
  }
  return [...new Set(roots)];
}

/**
 * Libraries require what they may never use lazily (Knex every dialect's driver, pg `pg-native`, ws its optional
 * speedups): a `require()` of a package that is not installed stays a run-time `require()`, as Node would treat
 * it — it throws only if that code path runs, with Node's own "Cannot find module" naming the package. Static
 * `import`s of a missing package still fail the build, with the file and line.
 */
export function optionalRequires(): esbuild.Plugin {
  return {
    name: 'gauntlet-optional-requires',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.kind !== 'require-call' || args.pluginData === RESOLVE_PROBE || args.path.startsWith('node:')) return undefined;
        const found = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: RESOLVE_PROBE });
        return found.errors.length ? { path: args.path, external: true } : undefined;
      });
    },
  };
}

/**
 * Bundling runs in the harness, with the harness's rights: a static `import secrets from '/home/me/.aws/x.json'`
 * would bake the file into the bundle, out of the sandbox's reach. Every file the bundle takes must lie inside one
 * of `roots` (real paths, so a symlink cannot point out), with no hidden segment on the way (.git, .env,
 * .gauntlet with its run store and runs; pnpm's node_modules/.pnpm excepted).
 */
export function confine(roots: string[]): esbuild.Plugin {
  const real = roots.map(realpathOr);
  const allowed = (file: string) =>
    real.some((root) => {
      const rel = relativeInside(root, file);
      return rel !== null && rel.split(path.sep).every((seg) => !seg.startsWith('.') || seg === '.pnpm');
    });
  return {
    name: 'gauntlet-confine',
    setup(build) {
      build.onLoad({ filter: /.*/ }, (args) => {
        if (args.namespace !== 'file' || allowed(args.path)) return undefined;
        return { errors: [{ text: `${args.path} is outside the submission folder: gauntlet bundles only the submission's own files, its node_modules, pg, ioredis and Node built-ins (docs/security.md)` }] };
      });
    },
  };
}

function formatMessages(messages: esbuild.Message[]): string {
  return messages
    .map((m) => (m.location ? `${m.location.file}:${m.location.line}:${m.location.column}: ${m.text}\n    ${m.location.lineText}` : m.text))
    .join('\n');
}

/** `import ... from 'gauntlet'`: the module made from the contract files, whatever the submission's node_modules hold. */
function gauntletModule(contracts: string[]): esbuild.Plugin {
  return {
    name: 'gauntlet-module',
    setup(build) {
      build.onResolve({ filter: /^gauntlet$/ }, () => ({ path: 'gauntlet', namespace: 'gauntlet-module' }));
      build.onLoad({ filter: /.*/, namespace: 'gauntlet-module' }, () => ({ contents: gauntletModuleSource(contracts), loader: 'ts', resolveDir: harnessRoot }));
    },
  };
}
