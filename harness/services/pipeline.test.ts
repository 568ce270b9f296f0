// The services in the grading pipeline, on real PostgreSQL: a scenario that declares `services` gets per-instance
// URLs in its instances (setup included), its faults healed and windows reported, the ledger in CheckInput and on disk.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireInfra, type Infra } from '../infra/index.ts';
import { bundleInstance } from '../instances/bundle.ts';
import { runScenario } from '../scenario-runner.ts';
import type { ScenarioDef } from '../scenario.ts';
import type { LedgerSnapshot } from './types.ts';
import { SERVICE_FAULT } from './index.ts';
import { seatReservation } from '../../challenges/seat-reservation/index.ts';
import { reserve } from '../../challenges/seat-reservation/operations.ts';
import { pass, fail } from '../checkers/verdict.ts';

const fixture = fileURLToPath(new URL('./fixtures/paying-seat/seat-reservation.ts', import.meta.url));
let infra: Infra;
let runDir: string;

beforeAll(async () => {
  infra = await acquireInfra();
  runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-services-'));
});
afterAll(async () => {
  await infra?.close();
  if (runDir) fs.rmSync(runDir, { recursive: true, force: true });
});

let seen: LedgerSnapshot | undefined;

const scenario: ScenarioDef<{ charges: number }> = {
  id: 'services-pipeline',
  description: 'each seat is paid through the mock payments while they fail',
  params: { quick: { seats: 12 }, standard: { seats: 12 }, thorough: { seats: 12 } },
  data: (_rng, params) => ({ seats: Array.from({ length: params.seats }, (_, i) => `s${i}`) }),
  services: () => ({ faults: { payments: { error500: 0.2, rateLimit429: 0.1, ghost: 0.15, retryAfterMs: [20, 60] } }, settle: { quietMs: 200, maxMs: 5000 } }),
  async run(ctx) {
    const seats = ctx.data.seats as string[];
    ctx.services!.faults.outage('notifications', { durationMs: 100 });
    await Promise.all(seats.map((seat, i) => ctx.client.call(reserve(`u${i}`, i % ctx.cluster.size, seat, `u${i}`, 'work'))));
  },
  finalReads: async (ctx) => ({ charges: ctx.services!.ledger.charges.length }),
  checkers: [
    {
      id: 'one-charge-per-seat',
      check(input) {
        seen = input.ledger;
        if (!input.ledger) return fail('one-charge-per-seat', 'no ledger', null);
        const byKey = new Map<string, number>();
        for (const c of input.ledger.charges) byKey.set(c.key ?? '', (byKey.get(c.key ?? '') ?? 0) + 1);
        const doubled = [...byKey].filter(([, n]) => n > 1);
        return doubled.length ? fail('one-charge-per-seat', 'double charges', doubled) : pass('one-charge-per-seat', `${byKey.size} keys, one charge each`);
      },
    },
  ],
};

describe('mock services in the pipeline', () => {
  it('runs a scenario with services end to end', async () => {
    const bundle = path.join(runDir, 'instance.bundle.mjs');
    const built = await bundleInstance(fixture, seatReservation.routesModule, bundle);
    expect(built.ok).toBe(true);
    const result = await runScenario({
      infra,
      challenge: { ...seatReservation, scenarios: [scenario] },
      scenario,
      launch: { kind: 'module', bundle, sandbox: true, maxHeapMb: 256 },
      runDir,
      seed: 5,
      profile: 'quick',
      instances: 3,
      keep: false,
      callTimeoutMs: 15_000,
      callHardLimitMs: 60_000,
      startTimeoutMs: 15_000,
      settleMs: 100,
      scenarioTimeoutMs: 60_000,
      progress: () => {},
    });
    expect(result.error).toBeUndefined();
    expect(result.checks.map((c) => [c.id, c.passed])).toEqual([
      ['loads', true],
      ['one-charge-per-seat', true],
      ['no-crash', true],
    ]);
    expect(result.metrics.ok).toBe(12);
    expect(result.metrics.servicesQuiet).toBe(1);

    // each op's charge was made from the instance the op was sent to; setup used its own URLs (-1)
    const ledger = seen!;
    expect(ledger.charges).toHaveLength(12);
    for (const c of ledger.charges) expect(c.instance).toBe(Number(c.customerId.slice(1)) % 3);
    expect(ledger.messages.map((m) => [m.template, m.instance])).toEqual([['setup-done', -1]]);
    expect(ledger.attempts.some((a) => a.fault === 'ghost' && a.executed)).toBe(true);

    // service windows reported with the scenario's faults, closed by the heal
    const windows = result.faults!.filter((w) => w.fault.startsWith('service-'));
    expect(windows.map((w) => w.fault).sort()).toEqual([SERVICE_FAULT.faults, SERVICE_FAULT.outage]);
    expect(windows.every((w) => Number.isFinite(w.endUs))).toBe(true);

    const file = path.join(runDir, 'seat-reservation', 'services-pipeline', 'services-ledger.json');
    const onDisk = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(onDisk.ledger.charges).toEqual(ledger.charges);
    expect(onDisk.windows).toHaveLength(2);
  }, 120_000);
});
