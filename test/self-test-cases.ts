// Shared body of the per-challenge integration suites: every reference of a challenge passes every check and
// every fixture fails the check it names, each on several seeds, through runSelfTest (the code of `gauntlet
// self-test`), with nothing left behind afterwards. A challenge's cases are graded in one run, one grade begun beside
// the previous one's settle and checks as `gauntlet self-test` does (grade-chain.ts); each case's test then reads its
// rows.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverCases, runSelfTest, type SelfTestCase, type SelfTestRow } from '../harness/app/self-test.ts';
import { acquireInfra, type Infra } from '../harness/infra/index.ts';
import { instanceProcesses, leftoverDatabases } from './helpers.ts';

// One seed per case keeps CI within its time (every reference and fixture still runs); more seeds belong to the
// flake-hunting script (`npm run flakes`, docs/benchmark.md), or set GAUNTLET_TEST_SEEDS.
export const SEEDS = Number(process.env.GAUNTLET_TEST_SEEDS ?? 1);

export interface SuiteOptions {
  minReferences: number;
  minFixtures: number;
  /** Per case and seed: the whole challenge's run may take this times the cases times the seeds. */
  caseTimeoutMs: number;
  /** Extra assertions on the discovered cases (e.g. which checks the fixtures cover). */
  inventory?(cases: SelfTestCase[]): void;
}

export function describeReferencesAndFixtures(challenge: string, o: SuiteOptions): void {
  const cases = discoverCases().filter((c) => c.challenge === challenge);
  let infra: Infra;
  let rows: SelfTestRow[] = [];
  beforeAll(async () => {
    infra = await acquireInfra();
    rows = await runSelfTest({ seed: 1, seeds: SEEDS, profile: 'quick', only: cases.map((c) => c.name), infra, outDir: '.gauntlet/test-runs' });
  }, o.caseTimeoutMs * Math.max(1, cases.length) * SEEDS);
  afterAll(async () => {
    await infra?.close();
    expect(instanceProcesses()).toEqual([]);
    expect(await leftoverDatabases()).toEqual([]);
  });

  describe(`${challenge}: references pass, fixtures fail their named check`, () => {
    it(`has at least ${o.minReferences} references and ${o.minFixtures} fixtures`, () => {
      expect(cases.filter((c) => c.kind === 'reference').length).toBeGreaterThanOrEqual(o.minReferences);
      expect(cases.filter((c) => c.kind === 'fixture').length).toBeGreaterThanOrEqual(o.minFixtures);
      o.inventory?.(cases);
    });

    for (const c of cases) {
      it(`${c.kind} ${c.name} on ${SEEDS} seeds`, () => {
        const mine = rows.filter((r) => r.name === c.name);
        expect(mine.filter((r) => r.kind !== 'fixture@instances').length).toBe(SEEDS);
        // The mismatches with what came instead (and where the run folder is), so a failure explains itself.
        expect(mine.filter((r) => !r.ok).map((r) => ({ name: r.name, seed: r.seed, instances: r.instances, expected: r.expected, got: r.got, runDir: r.runDir }))).toEqual([]);
      });
    }
  });
}
