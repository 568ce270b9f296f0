// Every payment-webhook reference passes every check and every webhook fixture fails the check it names, each on
// three seeds, through the real pipeline (the same code as `gauntlet self-test`), on real PostgreSQL and Redis.

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

const cases = discoverCases().filter((c) => c.challenge === 'payment-webhook');

describe('payment-webhook: references pass, fixtures fail their named check', () => {
  it('has at least 2 references and 7 fixtures, and the fixtures cover every webhook check', () => {
    expect(cases.filter((c) => c.kind === 'reference').length).toBeGreaterThanOrEqual(2);
    const fixtures = cases.filter((c) => c.kind === 'fixture');
    expect(fixtures.length).toBeGreaterThanOrEqual(7);
    const named = new Set(fixtures.flatMap((c) => c.expect!.mustFail));
    for (const id of ['one-subscription-per-payment', 'duplicates-acknowledged', 'no-state-regression', 'signature-enforced', 'poison-dead-lettered', 'eventually-processed', 'notification-exactly-once']) expect(named).toContain(id);
    expect(fixtures.some((c) => c.expect!.passesWithInstances === 1)).toBe(true);
  });

  for (const c of cases) {
    it(`${c.kind} ${c.name} on ${SEEDS} seeds`, async () => {
      const rows = await runSelfTest({ seed: 1, seeds: SEEDS, profile: 'quick', only: [c.name], infra, outDir: '.gauntlet/test-runs' });
      expect(rows.length).toBeGreaterThanOrEqual(SEEDS);
      // The mismatches with what came instead (and where the run folder is), so a failure explains itself.
      expect(rows.filter((r) => !r.ok).map((r) => ({ name: r.name, seed: r.seed, instances: r.instances, expected: r.expected, got: r.got, runDir: r.runDir }))).toEqual([]);
    }, 600_000);
  }
});
