// A synthetic graded run for the reporter tests (not a test file): a failing and a passing scenario with real
// JSONL history files (thousands of calls across instances, some indeterminate), fault windows, a counterexample
// naming ops, a skipped scenario, a not-attempted challenge, and text that must be escaped.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { History } from '../../history/history.ts';
import type { GradeResult } from '../../../rubric/result.ts';
import { scoreChallenges, verdictOf } from '../../../rubric/score.ts';
import { bad, challenge, expectedChecks, notAttempted, ok, scenario, staticEvidence, SEATS_INSPECTION } from '../../../rubric/test-results.ts';

export async function writeHistory(file: string, n: number, instances: number): Promise<void> {
  const h = new History(file, 0n);
  for (let i = 0; i < n; i++) {
    const startUs = 1000 + (i % 200) * 50 + Math.floor(i / 200) * 20_000;
    const op = h.invoke({ process: `user-${i}`, instance: i % instances, f: 'reserve', args: { seatId: 'last-seat', userId: `user-${i}` }, phase: 'burst' }, startUs);
    const endUs = startUs + 500 + ((i * 7919) % 30_000);
    if (i === 3 || i === 7) h.complete(op, { type: 'ok', value: { seatId: 'last-seat', userId: `user-${i}` }, status: 200 }, endUs);
    else if (i % 97 === 0) h.complete(op, { type: 'info', error: 'status 500: connection reset', status: 500 }, endUs);
    else h.complete(op, { type: 'fail', code: 'SEAT_TAKEN', status: 409 }, endUs);
  }
  await h.close();
}

export async function syntheticRun(ops = 4000): Promise<{ result: GradeResult; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-report-'));
  const f1 = path.join(dir, 'last-seat.jsonl');
  const f2 = path.join(dir, 'many-seats.jsonl');
  await writeHistory(f1, ops, 4);
  await writeHistory(f2, 300, 4);
  const cx = { conflicts: [{ seat: 'last-seat', first: { op: 3, process: 'user-3', instance: 3, f: 'reserve', args: { seatId: 'last-seat', userId: 'user-3' }, outcome: 'ok', value: { userId: 'user-3' }, startMs: 1.2, endMs: 9.9 }, second: { op: 7, process: 'user-7', instance: 3, f: 'reserve', args: { seatId: 'last-seat', userId: 'user-7' }, outcome: 'ok', startMs: 1.4, endMs: 12.1 } }] };
  const metrics = { operations: ops, ok: 2, fail: ops - 50, indeterminate: 48, p50Ms: 12.5, p99Ms: 29.8, throughputPerS: 900, maxInFlight: 400, ctxLogLines: 3 };
  const lastSeat = scenario('last-seat', [ok('loads'), { ...bad('single-winner', cx), message: 'user-3 and user-7 were both told they hold <last-seat> | & "quoted"' }, ok('winner-durable'), ok('definite-rejections'), ok('no-lost-seats'), ok('no-crash')], {
    metrics,
    historyFile: f1,
    durationMs: 2100,
    faults: [{ fault: 'db-latency', startUs: 500, endUs: 40_000 }, { fault: 'kill-backends', startUs: 60_000, endUs: 61_000 }],
    inspection: SEATS_INSPECTION,
  });
  const manySeats = scenario('many-seats', ['loads', 'single-winner', 'winner-durable', 'definite-rejections', 'no-lost-seats', 'idempotent-rereserve', 'no-crash'].map(ok), { metrics: { ...metrics, operations: 300, throughputRatio: 0.6, referenceThroughputPerS: 1500, loadThroughputPerS: 900 }, historyFile: f2, durationMs: 900 });
  const holds = scenario('holds', [], { skipped: 'not implemented: holdSeat, confirmHold, releaseSeat (optional; this scenario\'s checks score 0)' });
  const challenges = [challenge('seat-reservation', [lastSeat, manySeats, holds]), notAttempted('payment-webhook')];
  const evidence = staticEvidence({ hardcoded: [{ file: 'seat-reservation.ts', line: 4, text: "'postgres://app@localhost/x'", kind: 'database-url' }] });
  const scored = scoreChallenges(challenges, { evidence, expectedChecks });
  const result: GradeResult = {
    schemaVersion: 1,
    tool: 'gauntlet',
    submission: '/candidates/<ada>',
    seed: 7,
    profile: 'quick',
    verdict: verdictOf(challenges, scored.redFlags, scored.score, 50),
    score: scored.score,
    redFlags: scored.redFlags,
    challenges,
    rubric: scored.rubric,
    concerns: scored.concerns,
    evidence,
    minScore: 50,
    runId: '20260101T000000-7-abcdef',
    runDir: dir,
    instances: 4,
    startedAt: '2026-01-01T00:00:00.000Z',
    durationMs: 3100,
  };
  return { result, dir };
}
