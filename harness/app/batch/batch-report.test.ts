// The batch report on synthetic runs: ranking by verdict, total and run id with shared ranks on ties, failed checks
// as challenge/scenario:check (inconclusive scenarios apart), the machine read defensively, the notes (machines,
// missing source, several runs of one submission), a disguised copy listed against its reference while a small
// submission is "too small to compare", a JSON round trip, and both renderings carrying the key facts. No database.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { GradeResult } from '../../../rubric/result.ts';
import { boilerplateHashes } from './boilerplate.ts';
import { buildBatchReport, rankRuns, type BatchEntry } from './batch-report.ts';
import { loadReferences } from './references.ts';
import { renderBatchMarkdown, renderBatchTerminal } from './render.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const ignore = boilerplateHashes();
const references = loadReferences().filter((r) => r.challenge === 'seat-reservation');
const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

interface RunSpec {
  verdict: GradeResult['verdict'];
  total: number;
  manual?: number | null;
  redFlags?: string[];
  failed?: string[];
  inconclusive?: string[];
  machine?: { id: string; host: string };
  profile?: string;
}

const metrics = { operations: 10, ok: 10, fail: 0, indeterminate: 0, p50Ms: 1, p99Ms: 2, throughputPerS: 100, maxInFlight: 4 };

function result(spec: RunSpec): GradeResult {
  const scenario = (id: string, status: string, failed: string[]) => ({
    id,
    status,
    checks: [{ id: 'loads', passed: true, message: 'ok' }, ...failed.map((c) => ({ id: c, passed: false, message: `${c} failed` })), { id: 'undecided', passed: null, message: '?' }],
    metrics,
  });
  const failedByScenario = new Map<string, string[]>();
  for (const f of spec.failed ?? []) {
    const [scen, check] = f.split(':');
    failedByScenario.set(scen, [...(failedByScenario.get(scen) ?? []), check]);
  }
  return {
    schemaVersion: 1,
    tool: 'gauntlet',
    submission: '/tmp/x',
    seed: 1,
    profile: spec.profile ?? 'standard',
    verdict: spec.verdict,
    score: { automated: spec.total - (spec.manual ?? 0), automatedMax: 70, manual: spec.manual === undefined ? null : spec.manual, manualMax: 30, total: spec.total, max: 100 },
    redFlags: (spec.redFlags ?? []).map((id) => ({ id, check: 'x', evidence: 'e' })),
    challenges: [
      {
        id: 'seat-reservation',
        status: spec.verdict === 'pass' ? 'passed' : 'failed',
        scenarios: [
          scenario('last-seat', 'failed', failedByScenario.get('last-seat') ?? []),
          scenario('hold-expiry', 'passed', failedByScenario.get('hold-expiry') ?? []),
          ...(spec.inconclusive ?? []).map((s) => scenario(s, 'inconclusive', ['throughput'])),
        ],
      },
    ],
    rubric: [],
    ...(spec.machine ? { machine: { ...spec.machine, cpu: 'x', cores: 2, memoryGb: 4, node: 'v20', os: 'linux' } } : {}),
  } as unknown as GradeResult;
}

const entry = (runId: string, spec: RunSpec, source: Record<string, string> | null = null, label = `cand/${runId}`): BatchEntry => ({ runId, label, result: result(spec), source });

describe('ranking', () => {
  it('orders by verdict, then total, then run id; equal verdict and total share a rank', () => {
    const rows = rankRuns([
      entry('r-rej', { verdict: 'reject', total: 90, redFlags: ['lost-update'] }),
      entry('r-fail-b', { verdict: 'fail', total: 60 }),
      entry('r-pass-low', { verdict: 'pass', total: 70 }),
      entry('r-incon', { verdict: 'inconclusive', total: 95 }),
      entry('r-fail-a', { verdict: 'fail', total: 60 }),
      entry('r-pass-high', { verdict: 'pass', total: 88.5 }),
      entry('r-fail-top', { verdict: 'fail', total: 61 }),
    ]);
    expect(rows.map((r) => [r.rank, r.runId])).toEqual([
      [1, 'r-pass-high'],
      [2, 'r-pass-low'],
      [3, 'r-incon'],
      [4, 'r-fail-top'],
      [5, 'r-fail-a'],
      [5, 'r-fail-b'],
      [7, 'r-rej'],
    ]);
    expect(rows.find((r) => r.runId === 'r-rej')!.redFlags).toEqual(['lost-update']);
  });

  it('lists failed checks as challenge/scenario:check, undecided ones not, inconclusive scenarios apart', () => {
    const [row] = rankRuns([entry('r1', { verdict: 'fail', total: 40, failed: ['last-seat:single-winner', 'hold-expiry:hold-release'], inconclusive: ['steady-load'] })]);
    expect(row.failedChecks).toEqual(['seat-reservation/last-seat:single-winner', 'seat-reservation/hold-expiry:hold-release']);
    expect(row.inconclusive).toEqual(['seat-reservation/steady-load']);
  });

  it('reads the machine when the run records it, null when not', () => {
    const rows = rankRuns([entry('a', { verdict: 'pass', total: 80, machine: { id: 'm-1', host: 'ci-1' } }), entry('b', { verdict: 'pass', total: 70 })]);
    expect(rows.map((r) => [r.machine, r.host])).toEqual([['m-1', 'ci-1'], [null, null]]);
  });
});

describe('the batch report', () => {
  const original = fs.readFileSync(path.join(root, 'reference/seat-reservation/plain-for-update.ts'), 'utf8');
  // A renamed copy of the reference: no reference name survives, every token does.
  const copy = original.replace(/\bseatId\b/g, 'sid').replace(/\buserId\b/g, 'who').replace(/\bclient\b/g, 'c').replace(/^\s*\/\/.*$/gm, '');
  const small = "export default async function create(ctx) {\n  return { async reserveSeat(s, u) { return { seatId: s, userId: u, timestamp: new Date() }; }, async getReservation() { return null; } };\n}\n";
  const report = buildBatchReport(
    [
      entry('run-copy', { verdict: 'pass', total: 81, manual: 20, machine: { id: 'm-1', host: 'ci-1' } }, { 'seat-reservation.ts': copy }, 'candidates/alice'),
      entry('run-small', { verdict: 'fail', total: 12, failed: ['last-seat:single-winner'], machine: { id: 'm-2', host: 'ci-2' } }, { 'seat-reservation.ts': small }, 'candidates/bob'),
      entry('run-nosrc', { verdict: 'reject', total: 50, redFlags: ['double-booking'], machine: { id: 'm-1', host: 'ci-1' } }, null, 'candidates/carol'),
      entry('run-copy-2', { verdict: 'fail', total: 55, machine: { id: 'm-1', host: 'ci-1' } }, { 'seat-reservation.ts': copy }, 'candidates/alice'),
    ],
    { tag: 'round-7', references, ignore },
  );

  it('pairs the copy with its reference, never two runs of one submission, and names what is too small or has no source', () => {
    const withRef = report.similar.filter((p) => p.b === 'reference:seat-reservation/plain-for-update');
    expect(withRef.map((p) => p.a).sort()).toEqual(['run-copy', 'run-copy-2']);
    expect(withRef[0].similarity).toBeGreaterThanOrEqual(90);
    expect(withRef[0].regions[0].b.file).toBe('reference/seat-reservation/plain-for-update.ts');
    expect(report.similar.some((p) => p.a === 'run-copy' && p.b === 'run-copy-2')).toBe(false);
    expect(report.tooSmall.filter((t) => t.kind === 'run').map((t) => t.id)).toEqual(['run-small']);
    expect(report.noSource).toEqual([{ runId: 'run-nosrc', label: 'candidates/carol' }]);
    expect(report.verdicts).toEqual({ pass: 1, inconclusive: 0, fail: 2, reject: 1 });
  });

  it('says what a reader must know: never a verdict, several machines, no source, several runs of one submission', () => {
    const notes = report.notes.join('\n');
    expect(notes).toMatch(/never a verdict/);
    expect(notes).toMatch(/Runs come from 2 machines .*not comparable across machines/);
    expect(notes).toMatch(/no stored source.*candidates\/carol/);
    expect(notes).toMatch(/candidates\/alice has 2 runs/);
    expect(notes).toMatch(/1 submission is too small to compare/);
  });

  it('is plain data: a JSON round trip gives it back unchanged', () => {
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
    expect(JSON.stringify(report)).not.toMatch(/undefined/);
  });

  it('renders for a terminal with the key facts', () => {
    const text = strip(renderBatchTerminal(report));
    expect(text).toContain('batch round-7 · 4 runs');
    expect(text).toMatch(/1 +PASS +81 .*run-copy .*candidates\/alice +m-1/);
    expect(text).toMatch(/REJECT .*run-nosrc/);
    expect(text).toContain('red flags: double-booking');
    expect(text).toContain('failed: seat-reservation/last-seat:single-winner');
    expect(text).toMatch(/never a verdict/);
    expect(text).toMatch(/\d+ %  run-copy \(candidates\/alice\)  ↔  reference:seat-reservation\/plain-for-update/);
    expect(text).toMatch(/seat-reservation\.ts:\d+–\d+  ↔  reference\/seat-reservation\/plain-for-update\.ts:\d+–\d+/);
    expect(text).toContain('too small to compare: candidates/bob (run-small');
    expect(text).toContain('Runs come from 2 machines');
  });

  it('renders Markdown tables with the same facts', () => {
    const md = renderBatchMarkdown(report);
    expect(md).toContain('## gauntlet · batch round-7 · 4 runs');
    expect(md).toContain('| 1 | ✅ pass | 81 | 61/70 | 20/30 | `run-copy` | candidates/alice | m-1 | – | – |');
    expect(md).toContain('`seat-reservation/last-seat:single-winner`');
    expect(md).toMatch(/\| \d+ % \| \d+ % \| run-copy \(candidates\/alice\) \| reference:seat-reservation\/plain-for-update \|/);
    expect(md).toContain('**Too small to compare:** candidates/bob');
    expect(md).toContain('never a verdict');
  });

  it('two candidates whose submissions share a name are still compared when their candidate ids differ', () => {
    const twins = buildBatchReport(
      [
        { ...entry('x1', { verdict: 'pass', total: 70 }, { 'seat-reservation.ts': copy }, 'submission'), candidate: 'ada' },
        { ...entry('x2', { verdict: 'pass', total: 70 }, { 'seat-reservation.ts': copy }, 'submission'), candidate: 'bo' },
      ],
      { references: [], ignore },
    );
    expect(twins.similar.map((p) => [p.a, p.b, p.similarity])).toEqual([['x1', 'x2', 100]]);
    expect(twins.notes.join('\n')).not.toMatch(/has 2 runs/);
  });

  it('an empty batch is a report too', () => {
    const empty = buildBatchReport([], { references: [], ignore });
    expect(empty.ranking).toEqual([]);
    expect(strip(renderBatchTerminal(empty))).toContain('no pair at or above');
  });
});
