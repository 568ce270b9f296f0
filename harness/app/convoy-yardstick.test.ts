// The machine's answer deadline where callers queue by design (convoy-yardstick.ts): which scenarios are judged
// against the convoy reference, the deadline it gives, and the recount of slow calls against it. No database: the
// reference's run itself is exercised by test/convoy-yardstick.test.ts.

import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { applyConvoyYardstick, machineDeadlineMs, slowCallsAfter, wantsYardstick } from './convoy-yardstick.ts';
import { figureKey, type ReferenceFigure } from './reference-figures.ts';
import type { ScenarioRunOptions } from '../scenario-runner.ts';
import { slowDeadlineText } from '../machine-watch.ts';
import type { ChallengeDef } from '../scenario.ts';
import type { ScenarioResult } from '../types.ts';

const seat = { id: 'seat-reservation', convoyReference: '/x/plain-for-update.ts' } as unknown as ChallengeDef;
const result = (metrics: Record<string, unknown>, status: ScenarioResult['status'] = 'passed') =>
  ({ id: 'last-seat', status, checks: [], metrics: { operations: 503, ok: 1, fail: 502, indeterminate: 0, p50Ms: 5000, p99Ms: 9000, throughputPerS: 50, maxInFlight: 503, answerDeadlineMs: 10000, ...metrics } }) as ScenarioResult;

describe('convoy yardstick', () => {
  it('judges only slow calls of a challenge with a convoy reference, on a quiet machine, in a scenario that ran', () => {
    expect(wantsYardstick({ challenge: seat, result: result({ slowCalls: 12, otherCpuCores: 0.05, harnessLagMaxMs: 30 }) })).toBe(true);
    expect(wantsYardstick({ challenge: seat, result: result({ slowCalls: 12 }, 'failed') })).toBe(true);
    expect(wantsYardstick({ challenge: seat, result: result({ slowCalls: 0 }) })).toBe(false);
    expect(wantsYardstick({ challenge: seat, result: result({}) })).toBe(false);
    expect(wantsYardstick({ challenge: seat, result: result({ slowCalls: 12 }, 'error') })).toBe(false);
    // Busy or starved: the slow calls are already the machine's, nothing to measure.
    expect(wantsYardstick({ challenge: seat, result: result({ slowCalls: 12, harnessLagMaxMs: 1500 }) })).toBe(false);
    expect(wantsYardstick({ challenge: seat, result: result({ slowCalls: 12, otherCpuCores: 1.2, workloadMs: 9000 }) })).toBe(false);
    expect(wantsYardstick({ challenge: { ...seat, convoyReference: undefined }, result: result({ slowCalls: 12 }) })).toBe(false);
  });

  it('stretches the deadline to 1.5× the reference\'s slowest answer, never below the answer deadline', () => {
    expect(machineDeadlineMs(10_000, 19_200)).toBe(28_800);
    expect(machineDeadlineMs(10_000, 6_000)).toBe(10_000);
    expect(machineDeadlineMs(2_000, 6_809)).toBe(10_214);
  });

  it('recounts the workload\'s calls answered after the deadline (not warm-up, not final reads, not unanswered)', () => {
    const op = (ms: number, phase?: string, endUs?: number) => ({ startUs: 1_000_000, endUs: endUs ?? 1_000_000 + ms * 1000, ...(phase ? { phase } : {}) });
    const ops = [op(100), op(10_001), op(28_800), op(28_801), op(40_000), op(40_000, 'final'), op(40_000, 'warmup'), op(0, undefined, -1)];
    expect(slowCallsAfter(ops, 10_000)).toBe(4);
    expect(slowCallsAfter(ops, 28_800)).toBe(2);
    expect(slowCallsAfter(ops, 50_000)).toBe(0);
  });

  it('says the deadline as the reports print it', () => {
    expect(slowDeadlineText({ answerDeadlineMs: 10_000 })).toBe('10000 ms');
    expect(slowDeadlineText({ answerDeadlineMs: 10_000, machineDeadlineMs: 10_000, convoyReferenceSlowestMs: 6000 })).toBe('10000 ms');
    expect(slowDeadlineText({ answerDeadlineMs: 10_000, machineDeadlineMs: 28_800, convoyReferenceSlowestMs: 19_200 })).toMatch(/^28800 ms \(the 10000 ms answer deadline, stretched on this machine to 1\.5× the 19200 ms/);
  });

  it('takes a figure remembered on this machine instead of running the reference, and recounts from the history', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-convoy-'));
    try {
      // 1000 callers answered one every 20 ms: 500 after 10 s, none after 1.5 × 19 980 ms.
      const lines: string[] = [];
      for (let i = 0; i < 1000; i++) {
        lines.push(JSON.stringify({ event: 'invoke', index: i, process: `c${i}`, instance: i % 4, f: 'reserveSeat', args: {}, phase: 'burst', timeUs: 0 }));
        lines.push(JSON.stringify({ event: i ? 'fail' : 'ok', index: i, timeUs: (i + 1) * 20_000 }));
      }
      const historyFile = path.join(dir, 'history.jsonl');
      fs.writeFileSync(historyFile, `${lines.join('\n')}\n`);
      const infra = { postgres: { source: 'local', version: '15.20' }, redis: null, redisProblem: 'none' } as unknown as ScenarioRunOptions['infra'];
      const options = { profile: 'standard', instances: 4, infra, runDir: dir, callTimeoutMs: 10_000 } as unknown as ScenarioRunOptions;
      const r = result({ slowCalls: 500, maxLatencyMs: 20_000, otherCpuCores: 0.05, harnessLagMaxMs: 30 });
      r.historyFile = historyFile;
      const reference = path.resolve('reference/seat-reservation/plain-for-update.ts');
      const key = figureKey({ reference, challenge: 'seat-reservation', scenario: 'last-seat', profile: 'standard', instances: 4, infra, measure: 'slowest-answer' });
      const stored = new Map<string, ReferenceFigure>([[key, { value: 19_980, busy: 0.05, measuredAt: new Date(Date.now() - 3600_000).toISOString() }]]);
      const said: string[] = [];
      const memory = { busy: 0.05, figures: { get: async (k: string) => stored.get(k), put: async () => { throw new Error('nothing is measured'); } } };
      await applyConvoyYardstick([{ challenge: { ...seat, convoyReference: reference }, result: r, options, file: '/elsewhere/seat-reservation.ts' }], () => { throw new Error('the reference must not run'); }, memory, (m) => said.push(m));
      expect(r.metrics).toMatchObject({ slowCalls: 0, slowCallsAfterAnswerDeadline: 500, machineDeadlineMs: 29_970, convoyReferenceSlowestMs: 19_980, convoyReferenceMeasured: stored.get(key)!.measuredAt });
      expect(said.join('\n')).toMatch(/500 call\(s\) answered after 10000 ms; the plainest correct design \(plain-for-update\) answers its slowest caller there in 19980 ms on this machine/);
      // The reference itself, graded: its own slowest answer is the yardstick, nothing is run or remembered.
      const own = result({ slowCalls: 500, maxLatencyMs: 20_000 });
      own.historyFile = historyFile;
      await applyConvoyYardstick([{ challenge: { ...seat, convoyReference: reference }, result: own, options, file: reference }], () => { throw new Error('the reference must not run'); }, undefined, () => {});
      expect(own.metrics).toMatchObject({ slowCalls: 0, machineDeadlineMs: 30_000, convoyReferenceMeasured: 'now' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
