// Harness robustness on real PostgreSQL and Redis: a call that hangs, an instance that crashes, a module that
// does not compile, a create that throws, a missing method. Each is graded with a clear message, the grade
// completes, and no instance process or scenario database is left behind.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { grade } from '../harness/app/grade.ts';
import { acquireInfra, type Infra } from '../harness/infra/index.ts';
import { expectContractShape, instanceProcesses, leftoverDatabases } from './helpers.ts';

const broken = (name: string) => path.resolve('fixtures/broken', name);
let infra: Infra;

beforeAll(async () => {
  infra = await acquireInfra();
});
afterAll(async () => {
  await infra?.close();
});

async function gradeBroken(name: string, extra: Record<string, unknown> = {}) {
  const r = await grade({ submission: broken(name), scenarios: ['last-seat'], profile: 'quick', seed: 1, infra, outDir: '.gauntlet/test-runs', ...extra });
  expectContractShape(JSON.parse(JSON.stringify(r)));
  expect(instanceProcesses()).toEqual([]);
  expect(await leftoverDatabases()).toEqual([]);
  const scenario = r.challenges[0].scenarios[0];
  const check = (id: string) => scenario.checks.find((c) => c.id === id);
  return { r, scenario, check };
}

describe('broken submissions are graded, never crash the harness, leave nothing behind', () => {
  it('a call that never answers is indeterminate once nothing was answered for the deadline (hung)', async () => {
    const { scenario, check } = await gradeBroken('hang-call', { callTimeoutMs: 1500 });
    expect(scenario.status).toBe('failed');
    expect(check('definite-rejections')?.passed).toBe(false);
    expect(check('definite-rejections')?.message).toMatch(/hung: no answer within the 1500 ms deadline/);
    expect(scenario.metrics.indeterminate).toBeGreaterThan(400);
  }, 90_000);

  it('an instance that dies on its own fails no-crash, and is restarted for the final reads', async () => {
    const { r, check } = await gradeBroken('crash-instance');
    expect(check('no-crash')?.passed).toBe(false);
    expect(check('no-crash')?.message).toMatch(/boom: unexpected state/);
    expect(r.redFlags.map((f) => f.id)).toContain('no-error-handling');
    // Final reads ran against restarted instances: winner-durable could be judged, not errored.
    expect(check('winner-durable')?.passed).toBe(true);
  }, 90_000);

  it('a module with a syntax error fails loads with file, line and message', async () => {
    const { scenario, check } = await gradeBroken('syntax-error');
    expect(scenario.status).toBe('error');
    expect(check('loads')?.passed).toBe(false);
    expect(check('loads')?.message).toMatch(/seat-reservation\.ts:6:\d+: Expected "}"/);
  }, 60_000);

  it('a dependency that is a native addon fails loads naming the package and the remedy, never "does not compile"', async () => {
    const { r, scenario, check } = await gradeBroken('native-addon');
    expect(scenario.status).toBe('error');
    // The instance log in the run folder says it too.
    expect(fs.readFileSync(path.join(r.runDir!, 'seat-reservation', 'last-seat', 'setup.log'), 'utf8')).toMatch(/the module could not be loaded: .*fast-seat-hash loads a native addon/);
    expect(check('loads')?.passed).toBe(false);
    expect(check('loads')?.message).not.toMatch(/does not compile/);
    expect(check("loads")?.message).toMatch(/does not load: .*ERR_DLOPEN_DISABLED.*the package fast-seat-hash loads a native addon.*pure-JavaScript alternative to fast-seat-hash.*HTTP mode.*--no-sandbox/s);
  }, 60_000);

  it('a start timeout on a starved machine is extended twice before the instance is called hung, and says so', async () => {
    // The machine is never the candidate's fault: at a load of 50 per core the 1 s start timeout waits 3 s in all.
    const spy = vi.spyOn(os, 'loadavg').mockReturnValue([50 * os.cpus().length, 0, 0]);
    try {
      const r = await grade({ submission: path.resolve('fixtures/hostile/create-infinite-loop'), scenarios: ['last-seat'], profile: 'quick', seed: 1, infra, outDir: '.gauntlet/test-runs', startTimeoutMs: 1000 });
      const loads = r.challenges[0].scenarios[0].checks.find((c) => c.id === 'loads');
      expect(loads?.message).toMatch(/did not become ready within 1000 ms \(waited 3 × that: the machine was busy, 50\.0 load per core\)/);
      expect(instanceProcesses()).toEqual([]);
    } finally {
      spy.mockRestore();
    }
  }, 60_000);

  it('a create that throws fails loads with the error and its location', async () => {
    const { check } = await gradeBroken('create-throws');
    expect(check('loads')?.passed).toBe(false);
    expect(check('loads')?.message).toMatch(/create\(ctx\) failed: Error: cannot connect to config service/);
    expect(JSON.stringify(check('loads')?.counterexample)).toMatch(/create-throws\/seat-reservation\.ts:4/);
  }, 60_000);

  it('a service without a required method fails loads naming it', async () => {
    const { check } = await gradeBroken('missing-method');
    expect(check('loads')?.passed).toBe(false);
    expect(check('loads')?.message).toMatch(/without getReservation\(\)/);
    expect(check('loads')?.message).not.toMatch(/hasOwnProperty/);
  }, 60_000);

  it('a folder without any challenge module is graded as not attempted', async () => {
    const r = await grade({ submission: path.resolve('fixtures'), profile: 'quick', seed: 1, infra, outDir: '.gauntlet/test-runs' });
    expect(r.challenges.every((c) => c.status === 'not-attempted')).toBe(true);
    expect(r.verdict).toBe('fail');
    expect(r.score.automated).toBe(0);
  });
});
