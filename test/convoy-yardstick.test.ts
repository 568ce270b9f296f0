// The answer deadline on this machine (CONTRACT §8, harness/app/convoy-yardstick.ts), end to end through the CLI: a
// plain FOR UPDATE solution graded as a candidate's, with an answer deadline its lock convoy passes on any machine
// (1 s for 503 callers), is judged against the plainest correct design run on the same scenario: no slow call, no
// concern, and the reference's run and figure are said and kept. The convoy fixture that must stay slow
// (fixtures/submissions/seat-lock-convoy, a lock held across a 30 ms call) is graded by the seat suite's self-test.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { instanceProcesses, leftoverDatabases, runGauntlet } from './helpers.ts';

let tmp: string;
let submission: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-convoy-'));
  // The reference's code in a candidate's folder: not the convoy reference's path, so the grade times the reference.
  submission = path.join(tmp, 'submission');
  fs.mkdirSync(submission);
  fs.copyFileSync('reference/seat-reservation/plain-for-update.ts', path.join(submission, 'seat-reservation.ts'));
});

afterAll(async () => {
  fs.rmSync(tmp, { recursive: true, force: true });
  expect(instanceProcesses()).toEqual([]);
  expect(await leftoverDatabases()).toEqual([]);
});

describe('the answer deadline on this machine', () => {
  it('a plain FOR UPDATE lock convoy is judged against the plainest correct design on this machine: no slow call, no concern', async () => {
    const out = path.join(tmp, 'runs');
    const run = await runGauntlet(['grade', submission, '--challenge', 'seat-reservation', '--scenario', 'last-seat', '--profile', 'quick', '--seed', '1', '--call-timeout-ms', '1000', '--json', '--out', out, '--store', path.join(tmp, 'store.db')]);
    expect(run.code, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout);
    const m = doc.challenges[0].scenarios[0].metrics;
    // Past 1 s on the answer deadline, as a convoy of 503 is on any machine...
    expect(m.slowCallsAfterAnswerDeadline).toBeGreaterThan(0);
    expect(m.answerDeadlineMs).toBe(1000);
    // ...and none past 1.5× the reference's slowest answer, measured now on the same scenario.
    expect(m.convoyReferenceMeasured).toBe('now');
    expect(m.convoyReferenceSlowestMs).toBeGreaterThan(1000);
    expect(m.machineDeadlineMs).toBe(Math.round(m.convoyReferenceSlowestMs * 1.5));
    expect(m.slowCalls).toBe(0);
    expect(doc.concerns.map((c: { id: string }) => c.id)).not.toContain('slow-under-contention');
    expect(doc.verdict).toBe('pass');
    expect(run.stderr).toMatch(/seat-reservation\/last-seat: \d+ call\(s\) answered after 1000 ms; timing the plainest correct design \(plain-for-update\) on the same scenario/);
    // The reference's run is kept beside the submission's, like every run.
    const [runDir] = fs.readdirSync(out);
    expect(fs.existsSync(path.join(out, runDir, 'convoy-reference'))).toBe(true);
  }, 300_000);
});
