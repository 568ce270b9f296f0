// A reference's figure on this machine, remembered per machine (issue 14): the benchmark reference's `load`
// throughput (reference-throughput.ts) and the convoy reference's slowest answer (convoy-yardstick.ts). Measuring one
// costs a scenario run in a grade; a figure measured here before — same gauntlet version, same reference code, same
// scenario, profile and instance count, same machine (CPU, cores, memory, Node, OS, PostgreSQL and Redis), same
// measure — is taken instead while it is fresh and the machine was about as quiet when this grade began as when that
// one did (how busy its CPUs were just before the grade began: other work, not the grade's own). Otherwise the
// reference runs and its figure is remembered (in the run store).

import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fingerprint } from './store/fingerprint.ts';
import { machineFacts, type MachineInfra } from './bench/machine.ts';

export interface ReferenceFigure {
  /** The figure: a throughput (requests/s, the benchmark reference) or a slowest answer (ms, the convoy reference), as its key says. */
  value: number;
  /** How busy the machine was (0..1 of all cores) as the grade that measured it began: other work, not the grade's. */
  busy: number;
  /** ISO time of the measurement. */
  measuredAt: string;
}

/** Where figures are remembered (the run store); `undefined` when nothing is. */
export interface ReferenceFigures {
  get(key: string): Promise<ReferenceFigure | undefined>;
  put(key: string, figure: ReferenceFigure): Promise<void>;
}

/** Remembered figures, and how busy the machine was with other work as this grade began (none: always measure). */
export interface FigureMemory {
  figures: ReferenceFigures;
  busy: number;
}

/** A remembered figure is taken for this long, */
export const FIGURE_MAX_AGE_MS = 7 * 24 * 3600_000;
/** and while the machine is as busy as it was then, give or take this share of its CPUs, */
export const BUSY_TOLERANCE = 0.2;
/** and only when no busier than this as the grade began (nor is a figure measured busier kept). */
export const MAX_BUSY = 0.5;

const packageVersion = (() => {
  try {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
    return String(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version);
  } catch {
    return 'unknown';
  }
})();

/**
 * How busy the machine's CPUs are right now, 0..1 of all cores, sampled over `ms` before the grade starts any work of
 * its own: other work on the machine. (The load average would not do: it lags by minutes, so a grade right after
 * another would count the previous grade as other work.)
 */
export async function machineBusy(ms = 250): Promise<number> {
  const times = () => os.cpus().reduce((t, c) => ({ idle: t.idle + c.times.idle, total: t.total + c.times.user + c.times.nice + c.times.sys + c.times.idle + c.times.irq }), { idle: 0, total: 0 });
  const a = times();
  await new Promise((r) => setTimeout(r, ms));
  const b = times();
  const total = b.total - a.total;
  return total > 0 ? Math.round(Math.min(1, Math.max(0, 1 - (b.idle - a.idle) / total)) * 100) / 100 : 0;
}

/** What a figure depends on. */
export interface FigureKeyParts {
  reference: string;
  challenge: string;
  scenario: string;
  profile: string;
  instances: number;
  infra: MachineInfra;
  measure?: 'slowest-answer';
}

/** What a figure depends on, hashed: the same key means the same measurement would be repeated. */
export function figureKey(o: FigureKeyParts): string {
  // The machine as the bench describes it, but for its load (a figure's busyness is judged apart: reusable()).
  const { loadAverage: _load, ...machine } = machineFacts(o.infra, 0);
  const parts = {
    gauntlet: packageVersion,
    reference: fingerprint(path.dirname(o.reference), [o.reference]).hash,
    challenge: o.challenge,
    scenario: o.scenario,
    profile: o.profile,
    instances: o.instances,
    machine,
    // The throughput figures' keys predate `measure`: they are kept as they were.
    ...(o.measure ? { measure: o.measure } : {}),
  };
  return crypto.createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** Whether a remembered figure stands for a measurement now; the reason when not. */
export function reusable(f: ReferenceFigure | undefined, now: { at: number; busy: number }): { ok: true } | { ok: false; why: string } {
  if (!f) return { ok: false, why: 'no figure measured on this machine yet' };
  if (!(f.value > 0)) return { ok: false, why: 'the remembered figure is empty' };
  const age = now.at - Date.parse(f.measuredAt);
  if (!(age >= 0 && age <= FIGURE_MAX_AGE_MS)) return { ok: false, why: `the remembered figure is from ${f.measuredAt}, older than 7 days` };
  const pct = (x: number) => `${Math.round(x * 100)} %`;
  if (now.busy > MAX_BUSY) return { ok: false, why: `other work keeps the machine busy (${pct(now.busy)} of its CPUs)` };
  if (Math.abs(now.busy - f.busy) > BUSY_TOLERANCE) return { ok: false, why: `the machine is ${pct(now.busy)} busy with other work, ${pct(f.busy)} when the figure was measured` };
  return { ok: true };
}

/**
 * A reference's figure on this machine: the remembered one when it stands for a measurement now (reusable()), else
 * `measure()`'s — kept in the memory when positive and measured on a machine quiet enough for a later grade to take it.
 * `tell` hears which it is: the remembered figure, or that it is being measured and why a remembered one would not do.
 * `measured` is "now" or the ISO time of the remembered measurement; `value` 0 when `measure()` had none.
 */
export async function rememberedOrMeasured(
  memory: FigureMemory | undefined,
  keyParts: FigureKeyParts,
  measure: () => Promise<number>,
  tell: { remembered(f: ReferenceFigure): void; measuring(why: string | undefined): void },
): Promise<{ value: number; measured: string }> {
  const key = memory ? await safely(() => figureKey(keyParts)) : undefined;
  const remembered = key ? await safely(() => memory!.figures.get(key)) : undefined;
  const verdict = reusable(remembered, { at: Date.now(), busy: memory?.busy ?? 1 });
  if (remembered && verdict.ok) {
    tell.remembered(remembered);
    return { value: remembered.value, measured: remembered.measuredAt };
  }
  tell.measuring(memory && !verdict.ok ? verdict.why : undefined);
  const value = await measure();
  if (key && value > 0 && memory!.busy <= MAX_BUSY) await safely(() => memory!.figures.put(key, { value, busy: memory!.busy, measuredAt: new Date().toISOString() }));
  return { value, measured: 'now' };
}

/** A store that cannot be read or written costs the remembered figure, never the grade. */
export async function safely<T>(f: () => T | Promise<T>): Promise<T | undefined> {
  try {
    return await f();
  } catch {
    return undefined;
  }
}
