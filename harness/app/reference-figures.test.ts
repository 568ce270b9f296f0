// The benchmark reference's figure remembered per machine: when a remembered figure stands for a measurement now
// (fresh, the machine as busy with other work as then), what changes its key, that the run store keeps it, and that
// a standard grade's comparison takes it without
// running the reference again (and says so in the metrics); and that a run's machine id hashes the same host facts.
// No database: the remembered path runs nothing.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { figureKey, FIGURE_MAX_AGE_MS, machineBusy, rememberedOrMeasured, reusable, type ReferenceFigure } from './reference-figures.ts';
import { compareWithReference } from './reference-throughput.ts';
import { SqliteRunStore } from './store/store.ts';
import { machineFacts } from './bench/machine.ts';
import { machineId } from './machine-id.ts';
import crypto from 'node:crypto';
import { findChallenge } from '../../challenges/index.ts';
import type { ScenarioRunOptions } from '../scenario-runner.ts';
import type { ScenarioResult } from '../types.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-figures-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const seat = findChallenge('seat-reservation')!;
const infra = { postgres: { source: 'local', version: '15.20' }, redis: { source: 'local', version: '7.0.15' } } as unknown as ScenarioRunOptions['infra'];
const at = Date.parse('2026-12-05T12:00:00Z');
const figure = (over: Partial<ReferenceFigure> = {}): ReferenceFigure => ({ value: 1200, busy: 0.1, measuredAt: new Date(at - 3600_000).toISOString(), ...over });

describe('a remembered reference figure', () => {
  it('stands for a measurement now only while fresh, on a machine about as quiet as then', () => {
    expect(reusable(figure(), { at, busy: 0.25 })).toEqual({ ok: true });
    expect(reusable(undefined, { at, busy: 0.1 })).toMatchObject({ ok: false, why: /no figure/ });
    expect(reusable(figure({ measuredAt: new Date(at - FIGURE_MAX_AGE_MS - 1).toISOString() }), { at, busy: 0.1 })).toMatchObject({ ok: false, why: /older than 7 days/ });
    expect(reusable(figure(), { at, busy: 0.35 })).toMatchObject({ ok: false, why: /35 % busy with other work, 10 % when the figure was measured/ });
    expect(reusable(figure({ busy: 0.45 }), { at, busy: 0.6 })).toMatchObject({ ok: false, why: /other work keeps the machine busy \(60 %/ });
    expect(reusable(figure({ value: 0 }), { at, busy: 0.1 })).toMatchObject({ ok: false });
    expect(reusable(figure({ measuredAt: new Date(at + 60_000).toISOString() }), { at, busy: 0.1 })).toMatchObject({ ok: false });
  });

  it('is keyed by what the measurement depends on: the reference code, scenario, profile, instances, PostgreSQL', () => {
    const base = { reference: seat.benchmarkReference!, challenge: seat.id, scenario: 'load', profile: 'standard', instances: 4, infra };
    const key = figureKey(base);
    expect(figureKey(base)).toBe(key);
    expect(figureKey({ ...base, profile: 'thorough' })).not.toBe(key);
    expect(figureKey({ ...base, instances: 2 })).not.toBe(key);
    expect(figureKey({ ...base, infra: { ...infra, postgres: { ...infra.postgres, version: '16.4' } } })).not.toBe(key);
    const copy = path.join(tmp, 'conditional-update.ts');
    fs.writeFileSync(copy, fs.readFileSync(seat.benchmarkReference!, 'utf8') + '\n// changed\n');
    expect(figureKey({ ...base, reference: copy })).not.toBe(key);
  });

  it('keys the machine by the bench\'s facts in their order; a run names its machine by a hash of the same host facts', () => {
    // The order is part of every remembered figure's key: a change would forget them all.
    expect(Object.keys(machineFacts(infra, 0))).toEqual(['cores', 'cpuModel', 'memoryGb', 'node', 'os', 'postgres', 'redis', 'loadAverage']);
    const m = machineId();
    const { id, ...rest } = m;
    expect(id).toBe(crypto.createHash('sha256').update(JSON.stringify(rest)).digest('hex').slice(0, 12));
    expect(rest).toMatchObject({ host: os.hostname(), cpu: machineFacts(infra, 0).cpuModel, cores: machineFacts(infra, 0).cores, node: process.version });
    expect(machineId()).toEqual(m);
  });

  it('samples how busy the machine is as a share of its CPUs', async () => {
    const busy = await machineBusy(100);
    expect(busy).toBeGreaterThanOrEqual(0);
    expect(busy).toBeLessThanOrEqual(1);
  });

  it('is kept in the run store, one per key', async () => {
    const store = SqliteRunStore.open(path.join(tmp, 'a.db'));
    try {
      expect(await store.referenceFigure('k')).toBeUndefined();
      await store.putReferenceFigure('k', figure());
      await store.putReferenceFigure('k', figure({ value: 1500 }));
      expect(await store.referenceFigure('k')).toEqual(figure({ value: 1500 }));
    } finally {
      await store.close();
    }
  });

  it('is taken by a standard grade\'s comparison instead of running the reference, and the metrics say when it was measured', async () => {
    const load = seat.scenarios.find((s) => s.id === 'load')!;
    expect(load.params.standard.compareReference).toBeTruthy();
    const own = { challenge: seat, scenario: load, profile: 'standard', instances: 4, infra, runDir: tmp, progress: () => {} } as unknown as ScenarioRunOptions;
    const key = figureKey({ reference: seat.benchmarkReference!, challenge: seat.id, scenario: 'load', profile: 'standard', instances: 4, infra });
    const remembered = figure({ measuredAt: new Date(Date.now() - 60_000).toISOString() });
    const store = new Map([[key, remembered]]);
    const result = { id: 'load', status: 'passed', checks: [], metrics: { loadThroughputPerS: 600 } } as unknown as ScenarioResult;
    // Nothing is launched on this path: a launch would throw.
    await compareWithReference(result, own, path.join(tmp, 'candidate.ts'), () => { throw new Error('the reference was run'); }, { figures: { get: async (k) => store.get(k), put: async (k, f) => void store.set(k, f) }, busy: 0.15 });
    expect(result.metrics).toMatchObject({ referenceThroughputPerS: 1200, throughputRatio: 0.5, referenceMeasured: remembered.measuredAt });
  });

  it('is measured when none stands for a measurement now, and kept only when measured on a quiet enough machine', async () => {
    const parts = { reference: seat.benchmarkReference!, challenge: seat.id, scenario: 'last-seat', profile: 'quick', instances: 4, infra, measure: 'slowest-answer' as const };
    const key = figureKey(parts);
    const store = new Map<string, ReferenceFigure>();
    const memory = (busy: number) => ({ figures: { get: async (k: string) => store.get(k), put: async (k: string, f: ReferenceFigure) => void store.set(k, f) }, busy });
    const told: string[] = [];
    const tell = { remembered: (f: ReferenceFigure) => told.push(`remembered ${f.value}`), measuring: (why: string | undefined) => told.push(`measuring ${why ?? '-'}`) };
    let runs = 0;
    const measure = (value: number) => async () => (runs++, value);

    // Measured on a machine too busy for a later grade to take it: used now, not kept.
    expect(await rememberedOrMeasured(memory(0.7), parts, measure(9000), tell)).toEqual({ value: 9000, measured: 'now' });
    expect(store.has(key)).toBe(false);
    // No figure from the measurement (the reference failed): nothing kept.
    expect(await rememberedOrMeasured(memory(0.1), parts, measure(0), tell)).toEqual({ value: 0, measured: 'now' });
    expect(store.has(key)).toBe(false);
    // Measured on a quiet machine: kept with how busy it was, and taken by the next grade without measuring.
    expect(await rememberedOrMeasured(memory(0.1), parts, measure(7700), tell)).toEqual({ value: 7700, measured: 'now' });
    expect(store.get(key)).toMatchObject({ value: 7700, busy: 0.1 });
    const next = await rememberedOrMeasured(memory(0.2), parts, measure(1), tell);
    expect(next).toEqual({ value: 7700, measured: store.get(key)!.measuredAt });
    expect(runs).toBe(3);
    // Without a memory (no store) it always measures, and says no reason.
    expect(await rememberedOrMeasured(undefined, parts, measure(5000), tell)).toEqual({ value: 5000, measured: 'now' });
    expect(runs).toBe(4);
    expect(told).toEqual(['measuring no figure measured on this machine yet', 'measuring no figure measured on this machine yet', 'measuring no figure measured on this machine yet', 'remembered 7700', 'measuring -']);
  });
});
