// Gathers the automatic evidence the rubric uses besides checks: a static read of the submission (always, after
// the scenarios ran, so it never competes with them for CPU). The database and Redis side is inspected per
// scenario (./database.ts) and travels in each scenario result.

import type TS from 'typescript';
import type { SubmissionEvidence } from './types.ts';
import { collectSources } from './sources.ts';
import { scanSources } from './static/index.ts';
import { checkTypes } from './typescript.ts';

export type { SubmissionEvidence, StaticEvidence, ScenarioInspection } from './types.ts';

async function loadTypeScript(): Promise<typeof TS | null> {
  try {
    const mod = (await import('typescript')) as unknown as { default?: typeof TS } & typeof TS;
    return mod.default ?? mod;
  } catch {
    return null;
  }
}

/** Static evidence for the graded module files (absolute paths) of a submission folder. Never throws. */
export async function gatherEvidence(submission: string, modules: string[], o: { types?: boolean } = {}): Promise<SubmissionEvidence> {
  if (!modules.length) return { static: null, staticError: 'no challenge attempted: nothing to read' };
  const ts = await loadTypeScript();
  if (!ts) return { static: null, staticError: 'the typescript package is not installed, so the source could not be read (npm install)' };
  try {
    const sources = collectSources(submission, modules);
    if (!sources.code.length) return { static: null, staticError: 'no JavaScript or TypeScript source to read (an HTTP-mode server in another language?)' };
    const scan = scanSources(ts, { submission, code: sources.code, tests: sources.tests });
    let typescript;
    try {
      // The type check is the costly part (seconds of CPU); self-test reads the source without it.
      typescript = o.types === false ? { checked: false, reason: 'not type-checked (self-test reads the source without the compiler\'s type check)', errors: 0, explicitAny: 0, errorSamples: [], anySamples: [] } : checkTypes(ts, submission, sources.code, sources.declarations);
    } catch (err) {
      typescript = { checked: false, reason: `the type check failed: ${(err as Error).message}`, errors: 0, explicitAny: 0, errorSamples: [], anySamples: [] };
    }
    return { static: { ...scan, typescript } };
  } catch (err) {
    return { static: null, staticError: `the source could not be read: ${(err as Error).message}` };
  }
}
