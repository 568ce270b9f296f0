// HTTP mode's structured log (CONTRACT §6): a server in any language has no ctx.log; a line of its stdout or stderr
// that is one JSON object is counted as a ctx.log line is. A plain Python solution that logged JSON to stderr (where
// Python's logging writes by default) lost the monitoring points and drew "No monitoring": only stdout was read.
// Graded through the real pipeline (the http-node seat reference with its logger pointed elsewhere), on real
// PostgreSQL and Redis.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { grade } from '../harness/app/grade.ts';
import { acquireInfra, type Infra } from '../harness/infra/index.ts';
import { instanceProcesses, leftoverDatabases } from './helpers.ts';

const REFERENCE = path.resolve('reference/seat-reservation/http-node');
const STDOUT_LOGGER = 'const log = (message, fields) => process.stdout.write(';
let infra: Infra;
let tmp: string;

/** The reference with its logger's line replaced. */
function variant(name: string, logger: string): string {
  const dir = path.join(tmp, name);
  fs.cpSync(REFERENCE, dir, { recursive: true });
  const file = path.join(dir, 'server.mjs');
  const src = fs.readFileSync(file, 'utf8');
  expect(src).toContain(STDOUT_LOGGER);
  fs.writeFileSync(file, src.replace(STDOUT_LOGGER, logger));
  return dir;
}

async function gradeVariant(dir: string) {
  const r = await grade({ submission: dir, challenges: ['seat-reservation'], scenarios: ['last-seat'], profile: 'quick', seed: 1, instances: 2, infra, outDir: path.join(tmp, 'runs') });
  const scenario = r.challenges[0].scenarios[0];
  const monitoring = r.rubric.find((l) => l.id === 'monitoring' && l.awarded !== null);
  return { r, scenario, monitoring };
}

beforeAll(async () => {
  infra = await acquireInfra();
  // Inside the repository, so the copies' `import pg` finds the repository's node_modules as the reference's does.
  fs.mkdirSync(path.resolve('.gauntlet'), { recursive: true });
  tmp = fs.mkdtempSync(path.resolve('.gauntlet', 'http-mode-logs-'));
}, 120_000);
afterAll(async () => {
  await infra?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
  expect(instanceProcesses()).toEqual([]);
  expect(await leftoverDatabases()).toEqual([]);
});

describe('HTTP mode: a JSON object per line on stdout or stderr is the structured log', () => {
  it('JSON lines on stderr are counted: the monitoring points, no "No monitoring" concern', async () => {
    const { scenario, monitoring, r } = await gradeVariant(variant('stderr-json', 'const log = (message, fields) => process.stderr.write('));
    expect(scenario.status, scenario.error).toBe('passed');
    expect(scenario.metrics.ctxLogLines).toBeGreaterThan(400); // a line per granted or refused reserve of 500 callers
    expect(monitoring?.awarded).toBe(monitoring?.points);
    expect(monitoring?.detail).toMatch(/logged as JSON lines on stdout or stderr during the run/);
    expect((r.concerns ?? []).map((c) => c.id)).not.toContain('no-monitoring');
  }, 120_000);

  it('plain text lines are not structured: none counted, and the detail says what would be', async () => {
    // A plain line per event (the original JSON expression is left behind `||`, never evaluated while writes succeed).
    const { scenario, monitoring, r } = await gradeVariant(variant('stderr-text', 'const log = (message, fields) => process.stderr.write(`${message} ${fields?.seatId ?? ""}\\n`) || ('));
    expect(scenario.status).toBe('passed');
    expect(scenario.metrics.ctxLogLines).toBe(0);
    expect(monitoring?.awarded).toBe(0);
    expect(monitoring?.detail).toMatch(/an HTTP-mode server logs as one JSON object per line on stdout or stderr \(CONTRACT §6\), and no line was one/);
    expect((r.concerns ?? []).map((c) => c.id)).toContain('no-monitoring');
  }, 120_000);
});
