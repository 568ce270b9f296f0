// PostgreSQL's connection slots are the machine's, not the candidate's (CONTRACT §8): a correct solution graded
// while another program holds every slot is `inconclusive` (exit 5), and one starved of nearly every slot under
// load is never failed; two gauntlet grades side
// by side on one server take turns (the second says it waits) and both pass. A submission that fills the server
// itself stays failed (fixtures/submissions/seat-connection-leak, in the self-test). The slots are held by a role
// of this test's own (slotHog: never gauntlet_*, and one a killed run left is dropped by the next).

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { leftoverDatabases, runGauntlet } from './helpers.ts';
import { slotHog, type SlotHog } from '../harness/infra/test-helpers.ts';

let tmpRoot: string;
let hog: SlotHog;

beforeAll(async () => {
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-slots-'));
  hog = await slotHog('slot_hog_');
});

afterEach(() => hog.release());

afterAll(async () => {
  await hog.drop();
  fs.rmSync(tmpRoot, { recursive: true, force: true });
  expect(await leftoverDatabases()).toEqual([]);
});

/** `gauntlet grade … --json` into a run folder of its own, unrecorded. */
function gauntletGrade(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runGauntlet(['grade', ...args, '--json', '--out', fs.mkdtempSync(path.join(tmpRoot, 'runs-')), '--no-store']);
}

describe('connection slots are the machine\'s', () => {
  it('a correct solution refused every connection by a server others filled is inconclusive (exit 5), not failed', async () => {
    expect(await hog.fillLeaving(0)).toBeGreaterThan(0);
    const run = await gauntletGrade(['examples/reference-submission', '--scenario', 'last-seat', '--profile', 'quick', '--seed', '1']);
    const doc = JSON.parse(run.stdout);
    const scenario = doc.challenges[0].scenarios[0];
    expect(scenario.status, run.stderr).toBe('inconclusive');
    expect(scenario.inconclusive).toMatch(/PostgreSQL refused .* connections? of this scenario for want of free slots .* while the scenario held at most 0 of its \d+ usable connections/);
    expect(scenario.inconclusive).toMatch(/not the submission's/);
    expect(doc.verdict).toBe('inconclusive');
    expect(doc.redFlags).toEqual([]);
    expect(run.code).toBe(5);
  }, 240_000);

  it('starved under load (4 slots left for 503 callers on 4 instances), a correct solution is never failed', async () => {
    // The reference retries refused connections, so it may get through anyway (a pass is right too); what must not
    // happen is a failed check blamed on the submission. Which checks break when it does not get through varies
    // from run to run (the winner's durability, definite rejections): each is excused.
    expect(await hog.fillLeaving(4)).toBeGreaterThan(0);
    const run = await gauntletGrade(['examples/reference-submission', '--scenario', 'last-seat', '--profile', 'quick', '--seed', '1']);
    const doc = JSON.parse(run.stdout);
    const scenario = doc.challenges[0].scenarios[0];
    expect(['inconclusive', 'passed'], run.stderr).toContain(scenario.status);
    expect(scenario.checks.filter((c: { passed: boolean | null }) => c.passed === false).length === 0 || scenario.status === 'inconclusive').toBe(true);
    if (scenario.status === 'inconclusive') {
      expect(scenario.inconclusive).toMatch(/PostgreSQL refused .* connections? of this scenario for want of free slots .* while the scenario held at most [0-4] of its \d+ usable connections/);
    }
    expect(doc.redFlags).toEqual([]);
    expect(run.code).toBe(scenario.status === 'passed' ? 0 : 5);
  }, 240_000);

  it('two grades side by side on one server take turns, and both pass', async () => {
    // Room for one scenario's connections (4 instances × 10, setup, the final reads), not for two at once.
    await hog.fillLeaving(66);
    const args = ['examples/reference-submission', '--challenge', 'seat-reservation', '--scenario', 'last-seat,many-seats', '--profile', 'quick'];
    const first = gauntletGrade([...args, '--seed', '1']);
    await new Promise((r) => setTimeout(r, 1500));
    const second = gauntletGrade([...args, '--seed', '2']);
    const [a, b] = await Promise.all([first, second]);
    for (const run of [a, b]) {
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout).verdict).toBe('pass');
    }
    // One of them waited for the other, and said so on stderr (a line of its own: stderr is not a terminal here).
    expect(`${a.stderr}\n${b.stderr}`).toMatch(/waiting for PostgreSQL connection slots \(max_connections \d+\): gauntlet pid \d+ holds them; grades on one server take turns/);
  }, 300_000);
});
