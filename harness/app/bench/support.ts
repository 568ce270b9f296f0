// Helpers the measurements share: the seat references, a throwaway submission folder pointing at one of
// them (the documented gauntlet.json paths override), a time bound, medians, and an RSS sampler.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Infra } from '../../infra/index.ts';
import type { GradeResult } from '../../../rubric/result.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export const SEAT = 'seat-reservation';

/** Every seat-reservation reference module, by name (`conditional-update` ...). */
export function seatReferences(): { name: string; file: string }[] {
  const dir = path.join(root, 'reference', SEAT);
  return fs
    .readdirSync(dir)
    .filter((f) => /\.(ts|mts|js|mjs)$/.test(f) && !f.includes('.test.'))
    .sort()
    .map((f) => ({ name: f.replace(/\.\w+$/, ''), file: path.join(dir, f) }));
}

export function referenceFile(name: string): string {
  const ref = seatReferences().find((r) => r.name === name);
  if (!ref) throw new Error(`no reference/${SEAT}/${name}.*`);
  return ref.file;
}

/** A submission folder inside `parent` whose gauntlet.json points the seat challenge at `file`. */
export function submissionFor(parent: string, file: string): string {
  const dir = fs.mkdtempSync(path.join(parent, 'submission-'));
  fs.writeFileSync(path.join(dir, 'gauntlet.json'), JSON.stringify({ paths: { [SEAT]: file } }));
  return dir;
}

/** Rejects after `ms`; the work itself is not cancelled (the caller's finally blocks and cleanups end it). */
export function bounded<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export const round = (value: number, digits = 1): number => Math.round(value * 10 ** digits) / 10 ** digits;

/** Peak resident set size of this process while `work` runs, sampled every 50 ms (MB). */
export async function withRssPeak<T>(work: () => Promise<T>): Promise<{ result: T; peakRssMb: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  try {
    const result = await work();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { result, peakRssMb: peak / 2 ** 20 };
  } finally {
    clearInterval(timer);
  }
}

/** Lifetime peak RSS of this process, from the kernel (MB). */
export const maxRssMb = (): number => process.resourceUsage().maxRSS / 1024;

/** What every measurement gets from the bench run. */
export interface BenchContext {
  infra: Infra;
  /** Scratch folder for submissions, run folders and bundles; removed at the end. */
  tmpDir: string;
  quick: boolean;
  thorough: boolean;
  log(message: string): void;
}

/** `scenario: check` for every failed or undecided check, and every scenario error, of a grade (empty when it passed). */
export function problems(result: GradeResult): string[] {
  return result.challenges.flatMap((c) => [
    ...(c.error ? [c.error.split('\n')[0]] : []),
    ...c.scenarios.flatMap((s) => [
      ...s.checks.filter((k) => k.passed !== true).map((k) => `${s.id}: ${k.id} ${k.passed === null ? 'undecided' : 'failed'}`),
      ...(s.status === 'error' && s.error ? [`${s.id}: ${s.error.split('\n')[0].slice(0, 120)}`] : []),
    ]),
  ]);
}
