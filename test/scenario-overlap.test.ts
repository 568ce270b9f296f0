// Once a scenario's workload is over, the next scenario is provisioned and started beside its settle, final reads and
// teardown (issue 14, harness/app/scenario-pipeline.ts): this checks that it happens, holds the line that keeps it
// fair — no workload runs beside another scenario's processes — and that the grade still ends with nothing left
// behind, on real PostgreSQL and Redis. The same between grades in a row (self-test, harness/app/grade-chain.ts).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { grade, type ProgressEvent } from '../harness/app/grade.ts';
import { GradeChain } from '../harness/app/grade-chain.ts';
import { runSelfTest } from '../harness/app/self-test.ts';
import { acquireInfra, type Infra } from '../harness/infra/index.ts';
import { instanceProcesses, leftoverDatabases } from './helpers.ts';

let infra: Infra;
let submission: string;
beforeAll(async () => {
  infra = await acquireInfra();
  submission = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-overlap-'));
  fs.writeFileSync(path.join(submission, 'gauntlet.json'), JSON.stringify({ paths: { 'seat-reservation': path.resolve('reference/seat-reservation/conditional-update.ts') } }));
});
afterAll(async () => {
  await infra?.close();
  fs.rmSync(submission, { recursive: true, force: true });
});

describe('the next scenario prepared while the previous one settles and tears down', () => {
  it('is provisioned ahead, yet its workload starts only once the previous scenario\'s instances are gone; nothing is left at the end', async () => {
    // Instance processes alive when each scenario's workload begins (its first progress line after the start).
    const atWorkload = new Map<string, number>();
    // Scenarios whose 'running setup' was held back until their start was announced: their database was created
    // while the previous scenario settled (otherwise creating it takes real time after the start).
    const preparedAhead: string[] = [];
    let justStarted = false;
    let started = '';
    const onProgress = (e: ProgressEvent) => {
      if (e.kind === 'scenario-start') {
        justStarted = true;
        setImmediate(() => (justStarted = false));
      }
      if (e.kind === 'scenario-progress' && e.message === 'running setup' && justStarted) preparedAhead.push(e.scenario);
      if (e.kind === 'scenario-progress' && /^starting \d+ instances$/.test(e.message)) started = e.scenario;
      else if (e.kind === 'scenario-progress' && started === e.scenario && !atWorkload.has(e.scenario)) atWorkload.set(e.scenario, instanceProcesses().length);
    };
    const r = await grade({ submission, challenges: ['seat-reservation'], scenarios: ['holds', 'many-seats', 'last-seat'], profile: 'quick', seed: 1, infra, outDir: '.gauntlet/test-runs', onProgress });
    // In the challenge's own order.
    expect(r.challenges[0].scenarios.map((s) => [s.id, s.status])).toEqual([['last-seat', 'passed'], ['many-seats', 'passed'], ['holds', 'passed']]);
    // Exactly the scenario's own four instances: the previous scenario's (four, and its fresh fifth) were stopped first.
    expect(Object.fromEntries(atWorkload)).toEqual({ 'last-seat': 4, 'many-seats': 4, holds: 4 });
    // The second and third were provisioned while the one before settled (the first had to bundle first).
    expect(preparedAhead).toEqual(['many-seats', 'holds']);
    expect(instanceProcesses()).toEqual([]);
    expect(await leftoverDatabases()).toEqual([]);
    expect(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith(`gauntlet-instance-${process.pid}-`))).toEqual([]);
  }, 120_000);

  it('between grades in a row: the next grade starts its instances beside the previous one\'s settle, and its workload only once that grade has ended', async () => {
    const chain = new GradeChain();
    const events: { at: number; grade: string; what: string; instances: number }[] = [];
    const ended = new Map<string, number>();
    const onProgressOf = (g: string) => {
      let started = false;
      return (e: ProgressEvent) => {
        if (e.kind !== 'scenario-progress') return;
        if (/^starting \d+ instances$/.test(e.message)) {
          started = true;
          events.push({ at: Date.now(), grade: g, what: 'start', instances: 0 });
        } else if (started) {
          started = false;
          events.push({ at: Date.now(), grade: g, what: 'workload', instances: instanceProcesses().length });
        }
      };
    };
    const results = [];
    for (const g of ['first', 'second']) {
      const { result } = await chain.next({ submission, challenges: ['seat-reservation'], scenarios: ['holds'], profile: 'quick', seed: 1, infra, outDir: '.gauntlet/test-runs', onProgress: onProgressOf(g) });
      results.push(result.then((r) => (ended.set(g, Date.now()), r)));
    }
    const [a, b] = await Promise.all(results);
    await chain.idle();
    expect([a.verdict, b.verdict]).toEqual(['pass', 'pass']);
    const at = (g: string, what: string) => events.find((e) => e.grade === g && e.what === what)!;
    // The second grade's instances were started before the first grade had ended (the overlap happened) ...
    expect(at('second', 'start').at).toBeLessThan(ended.get('first')!);
    // ... and its workload began after it, beside its own four instances only.
    expect(at('second', 'workload').at).toBeGreaterThanOrEqual(ended.get('first')!);
    expect(at('second', 'workload').instances).toBe(4);
    expect(fs.existsSync(path.join(a.runDir!, 'result.json'))).toBe(true);
    expect(instanceProcesses()).toEqual([]);
    expect(await leftoverDatabases()).toEqual([]);
  }, 120_000);

  it('self-test grades a case and its one-instance variant in a row, overlapped by default and strictly one after another with overlap: false', async () => {
    // When each grade of a run began and ended (its run folder), in the order they began.
    const spans = (dir: string) => fs.readdirSync(dir).map((d) => {
      const r = JSON.parse(fs.readFileSync(path.join(dir, d, 'result.json'), 'utf8')) as { startedAt: string; durationMs: number; instances: number };
      return { start: Date.parse(r.startedAt), end: Date.parse(r.startedAt) + r.durationMs, instances: r.instances };
    }).sort((x, y) => x.start - y.start);
    for (const overlap of [true, false]) {
      const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-overlap-runs-'));
      try {
        const rows = await runSelfTest({ seed: 1, seeds: 1, profile: 'quick', only: ['seat-process-mutex'], infra, outDir, overlap });
        expect(rows.map((r) => [r.kind, r.instances, r.ok])).toEqual([['fixture', 4, true], ['fixture@instances', 1, true]]);
        const [first, second] = spans(outDir);
        expect([first.instances, second.instances]).toEqual([4, 1]);
        if (overlap) expect(second.start).toBeLessThan(first.end);
        else expect(second.start).toBeGreaterThanOrEqual(first.end);
      } finally {
        fs.rmSync(outDir, { recursive: true, force: true });
      }
    }
    expect(instanceProcesses()).toEqual([]);
    expect(await leftoverDatabases()).toEqual([]);
  }, 120_000);
});
