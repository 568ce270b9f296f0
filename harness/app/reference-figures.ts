// The benchmark reference's throughput, remembered per machine (issue 14). A standard grade compares the
// submission's `load` throughput with the challenge's fastest reference on the same machine. Measuring the
// reference costs a scenario run in every grade; a figure measured here before — same gauntlet version, same
// reference code, same scenario, profile and instance count, same machine (CPU, cores, memory, Node, OS, PostgreSQL
// and Redis) — is taken instead while it is fresh and the machine was about as quiet when this grade began as when
// that one did (the load average per core at the start of a grade: other work, not the grade's own). Otherwise the
// reference runs as before and its figure is remembered (in the run store).

import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Infra } from '../infra/index.ts';
import { fingerprint } from './store/fingerprint.ts';

export interface ReferenceFigure {
  throughputPerS: number;
  /** The machine's background load when it was measured: the 1-minute load average per core as its grade began. */
  loadPerCore: number;
  /** ISO time of the measurement. */
  measuredAt: string;
}

/** Where figures are remembered (the run store); `undefined` when nothing is. */
export interface ReferenceFigures {
  get(key: string): ReferenceFigure | undefined;
  put(key: string, figure: ReferenceFigure): void;
}

/** A remembered figure is taken for this long, */
export const FIGURE_MAX_AGE_MS = 7 * 24 * 3600_000;
/** and while the load per core differs from the measurement's by at most this much, */
export const LOAD_TOLERANCE_PER_CORE = 0.25;
/** and only on a machine no busier than this per core as the grade began (nor is a figure measured busier kept). */
export const MAX_LOAD_PER_CORE = 0.75;

const packageVersion = (() => {
  try {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
    return String(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version);
  } catch {
    return 'unknown';
  }
})();

export const cores = (): number => (typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length) || 1;
export const loadPerCore = (): number => Math.round((os.loadavg()[0] / cores()) * 100) / 100;

/** What a figure depends on, hashed: the same key means the same measurement would be repeated. */
export function figureKey(o: { reference: string; challenge: string; scenario: string; profile: string; instances: number; infra: Pick<Infra, 'postgres' | 'redis'> }): string {
  const cpus = os.cpus();
  const parts = {
    gauntlet: packageVersion,
    reference: fingerprint(path.dirname(o.reference), [o.reference]).hash,
    challenge: o.challenge,
    scenario: o.scenario,
    profile: o.profile,
    instances: o.instances,
    machine: { cores: cores(), cpu: cpus[0]?.model?.trim() ?? 'unknown', memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version, os: `${os.type()} ${os.release()} ${os.arch()}` },
    postgres: `${o.infra.postgres.source} ${o.infra.postgres.version}`,
    redis: o.infra.redis ? `${o.infra.redis.source} ${o.infra.redis.version}` : 'none',
  };
  return crypto.createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** Whether a remembered figure stands for a measurement now; the reason when not. */
export function reusable(f: ReferenceFigure | undefined, now: { at: number; loadPerCore: number }): { ok: true } | { ok: false; why: string } {
  if (!f) return { ok: false, why: 'no figure measured on this machine yet' };
  if (!(f.throughputPerS > 0)) return { ok: false, why: 'the remembered figure is empty' };
  const age = now.at - Date.parse(f.measuredAt);
  if (!(age >= 0 && age <= FIGURE_MAX_AGE_MS)) return { ok: false, why: `the remembered figure is from ${f.measuredAt}, older than 7 days` };
  if (now.loadPerCore > MAX_LOAD_PER_CORE) return { ok: false, why: `the machine is busy (load ${now.loadPerCore} per core)` };
  if (Math.abs(now.loadPerCore - f.loadPerCore) > LOAD_TOLERANCE_PER_CORE) return { ok: false, why: `the machine's load (${now.loadPerCore} per core) differs from the measurement's (${f.loadPerCore})` };
  return { ok: true };
}
