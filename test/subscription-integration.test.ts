// Every subscription reference passes every check and every subscription fixture fails the check it names, each on
// three seeds, through the real pipeline (the same code as `gauntlet self-test`), with the mock services, real
// PostgreSQL and killed instances.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverCases, runSelfTest } from '../harness/self-test.ts';
import { acquireInfra, type Infra } from '../harness/infra/index.ts';
import { instanceProcesses, leftoverDatabases } from './helpers.ts';

const SEEDS = Number(process.env.GAUNTLET_TEST_SEEDS ?? 3);
let infra: Infra;

beforeAll(async () => {
  infra = await acquireInfra();
});
afterAll(async () => {
  await infra?.close();
  expect(instanceProcesses()).toEqual([]);
  expect(await leftoverDatabases()).toEqual([]);
});

const cases = discoverCases().filter((c) => c.challenge === 'subscription');

describe('subscription: references pass, fixtures fail their named check', () => {
  it('has at least 2 references and 6 fixtures', () => {
    expect(cases.filter((c) => c.kind === 'reference').length).toBeGreaterThanOrEqual(2);
    expect(cases.filter((c) => c.kind === 'fixture').length).toBeGreaterThanOrEqual(6);
  });

  for (const c of cases) {
    it(`${c.kind} ${c.name} on ${SEEDS} seeds`, async () => {
      const rows = await runSelfTest({ seed: 1, seeds: SEEDS, profile: 'quick', only: [c.name], infra, outDir: '.gauntlet/test-runs' });
      expect(rows.length).toBeGreaterThanOrEqual(SEEDS);
      for (const row of rows) expect({ name: row.name, seed: row.seed, instances: row.instances, got: row.got, ok: row.ok }, `${row.name} seed ${row.seed} on ${row.instances} instance(s): expected ${row.expected}, got ${row.got} (${row.runDir})`).toMatchObject({ ok: true });
    }, 900_000);
  }
});
