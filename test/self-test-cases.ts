// Shared body of the per-challenge integration suites: every reference of a challenge passes every check and
// every fixture fails the check it names, each on several seeds, through runSelfTest (the code of `gauntlet
// self-test`), with nothing left behind afterwards.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverCases, runSelfTest, type SelfTestCase } from '../harness/app/self-test.ts';
import { acquireInfra, type Infra } from '../harness/infra/index.ts';
import { instanceProcesses, leftoverDatabases } from './helpers.ts';

// One seed per case keeps CI within its time (every reference and fixture still runs); more seeds belong to the
// flake-hunting script (`npm run flakes`, docs/benchmark.md), or set GAUNTLET_TEST_SEEDS.
export const SEEDS = Number(process.env.GAUNTLET_TEST_SEEDS ?? 1);

export interface SuiteOptions {
  minReferences: number;
  minFixtures: number;
  /** Per case (all seeds). */
  timeoutMs: number;
  /** Extra assertions on the discovered cases (e.g. which checks the fixtures cover). */
  inventory?(cases: SelfTestCase[]): void;
}

export function describeReferencesAndFixtures(challenge: string, o: SuiteOptions): void {
  let infra: Infra;
  beforeAll(async () => {
    infra = await acquireInfra();
  });
  afterAll(async () => {
    await infra?.close();
    expect(instanceProcesses()).toEqual([]);
    expect(await leftoverDatabases()).toEqual([]);
  });

  const cases = discoverCases().filter((c) => c.challenge === challenge);

  describe(`${challenge}: references pass, fixtures fail their named check`, () => {
    it(`has at least ${o.minReferences} references and ${o.minFixtures} fixtures`, () => {
      expect(cases.filter((c) => c.kind === 'reference').length).toBeGreaterThanOrEqual(o.minReferences);
      expect(cases.filter((c) => c.kind === 'fixture').length).toBeGreaterThanOrEqual(o.minFixtures);
      o.inventory?.(cases);
    });

    for (const c of cases) {
      it(`${c.kind} ${c.name} on ${SEEDS} seeds`, async () => {
        const rows = await runSelfTest({ seed: 1, seeds: SEEDS, profile: 'quick', only: [c.name], infra, outDir: '.gauntlet/test-runs' });
        expect(rows.length).toBeGreaterThanOrEqual(SEEDS);
        // The mismatches with what came instead (and where the run folder is), so a failure explains itself.
        expect(rows.filter((r) => !r.ok).map((r) => ({ name: r.name, seed: r.seed, instances: r.instances, expected: r.expected, got: r.got, runDir: r.runDir }))).toEqual([]);
      }, o.timeoutMs);
    }
  });
}
