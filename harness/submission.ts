// Finds a submission's modules (CONTRACT §1): one file per challenge by name (.ts .mts .js .mjs), with
// optional path overrides and HTTP mode from `gauntlet.json`. A missing file means "not attempted".

import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from './errors.ts';
import type { ChallengeDef } from './scenario.ts';

export interface SubmissionConfig {
  mode: 'module' | 'http';
  start?: string;
  setup?: string;
  /** Per-challenge module path overrides, relative to the submission folder. */
  paths: Record<string, string>;
  /** HTTP mode: the challenges the server implements (default: all). */
  challenges?: string[];
}

const EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'];

export function readSubmissionConfig(dir: string): SubmissionConfig {
  const file = path.join(dir, 'gauntlet.json');
  if (!fs.existsSync(file)) return { mode: 'module', paths: {} };
  let raw: any;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  const mode = raw.mode ?? 'module';
  if (mode !== 'module' && mode !== 'http') throw new UsageError(`${file}: "mode" must be "module" or "http", got ${JSON.stringify(mode)}`);
  if (mode === 'http' && (typeof raw.start !== 'string' || !raw.start.trim())) throw new UsageError(`${file}: HTTP mode needs "start": the command that starts one instance listening on $PORT`);
  const paths: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw.paths ?? {})) if (typeof v === 'string') paths[k] = v;
  const challenges = Array.isArray(raw.challenges) ? raw.challenges.map(String) : undefined;
  return { mode, start: raw.start, setup: raw.setup, paths, challenges };
}

/** The module file for a challenge, or null when the submission did not attempt it. */
export function findModule(dir: string, challenge: ChallengeDef, config: SubmissionConfig): string | null {
  // HTTP mode: one server serves every challenge's routes; `challenges` in gauntlet.json may narrow it.
  if (config.mode === 'http') return !config.challenges || config.challenges.includes(challenge.id) ? path.join(dir, 'gauntlet.json') : null;
  const override = config.paths[challenge.id];
  if (override) {
    const p = path.resolve(dir, override);
    if (!fs.existsSync(p)) throw new UsageError(`gauntlet.json names ${override} for ${challenge.id}, but ${p} does not exist`);
    return p;
  }
  for (const ext of EXTENSIONS) {
    const p = path.join(dir, challenge.file + ext);
    if (fs.existsSync(p)) return p;
  }
  return null;
}

/** `modules`: the module files the registered challenges look for (`seat-reservation.ts` ...), for the hint. */
export function assertSubmissionDir(dir: string, modules: string[] = []): string {
  const abs = path.resolve(dir);
  if (!fs.existsSync(abs)) throw new UsageError(`submission folder not found: ${abs}`, `pass the folder that holds ${modules.length ? modules.join(', ') : 'your challenge modules'} (or gauntlet init <dir> to start one)`);
  if (!fs.statSync(abs).isDirectory()) throw new UsageError(`${abs} is a file; pass the submission folder that contains it`);
  return abs;
}
