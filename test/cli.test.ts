// The command line as CI scripts use it: exit codes of CONTRACT §7 (0, 1, 2, 3), `--json` alone on stdout
// and matching the fixed shape, and the list, init and doctor commands. Real processes, real databases.

import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expectContractShape, instanceProcesses } from './helpers.ts';

function gauntlet(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['bin/gauntlet.mjs', ...args], { encoding: 'utf8', env: { ...process.env, ...env, FORCE_COLOR: '0' }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('usage errors exit 2 with a message that says what to do', () => {
  it.each([
    [['grade'], /missing required argument 'submission'/],
    [['grade', 'x', '--instances', '0'], /--instances must be from 1 to 16/],
    [['grade', 'x', '--seed', 'abc'], /--seed must be a whole number/],
    [['grade', 'x', '--profile', 'fast'], /Allowed choices are quick, standard, thorough/],
    [['grade', '/nonexistent/submission'], /submission folder not found/],
    [['grade', 'examples/reference-submission', '--challenge', 'nope'], /unknown challenge "nope"/],
    [['grade', 'examples/reference-submission', '--scenario', 'nope'], /unknown scenario nope/],
    [['frobnicate'], /unknown command/],
  ])('%j', (args, message) => {
    const r = gauntlet(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('--help teaches with examples and exit statuses', () => {
    const r = gauntlet(['grade', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Examples:/);
    expect(r.stdout).toMatch(/Exit status: 0/);
  });
});

describe('grade --json', () => {
  it('prints exactly one JSON document of the contract shape on stdout; progress goes to stderr', () => {
    const r = gauntlet(['grade', 'examples/reference-submission', '--json', '--profile', 'quick', '--scenario', 'last-seat', '--seed', '4']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expectContractShape(doc);
    expect(doc.seed).toBe(4);
    expect(doc.verdict).toBe('pass');
    expect(doc.challenges.find((c: any) => c.id === 'seat-reservation').status).toBe('passed');
    expect(r.stderr).toMatch(/last-seat/);
    expect(fs.existsSync(path.join(doc.runDir, 'result.json'))).toBe(true);
    expect(fs.existsSync(path.join(doc.runDir, 'seat-reservation', 'last-seat', 'history.jsonl'))).toBe(true);
    expect(instanceProcesses()).toEqual([]);
  });

  it('--install runs npm ci in a submission handed in without node_modules, then grades it; npm stays off stdout', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-install-test-'));
    try {
      for (const f of ['package.json', 'package-lock.json', 'seat-reservation.ts']) fs.copyFileSync(path.join('fixtures/stacks/knex', f), path.join(dir, f));
      const r = gauntlet(['grade', dir, '--install', '--profile', 'quick', '--scenario', 'last-seat', '--seed', '1', '--json', '--no-store']);
      expect(r.stderr).toMatch(/installed the submission's dependencies \(npm ci --ignore-scripts/);
      const doc = JSON.parse(r.stdout);
      expect(doc.challenges[0].scenarios[0].status).toBe('passed');
      expect(r.code).toBe(0);
      expect(fs.existsSync(path.join(dir, 'node_modules', 'knex', 'package.json'))).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);

  it('exits 1 below --min-score', () => {
    const r = gauntlet(['grade', 'examples/reference-submission', '--json', '--profile', 'quick', '--scenario', 'last-seat', '--seed', '4', '--min-score', '90']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).score.total).toBeLessThan(90);
  });

  it('exits 1 on a red flag (a read-then-write reservation fails single-winner)', () => {
    const r = gauntlet(['grade', 'fixtures/submissions/seat-read-then-write', '--json', '--profile', 'quick', '--scenario', 'last-seat', '--seed', '1']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.verdict).toBe('reject');
    expect(doc.redFlags.map((f: any) => f.id)).toContain('no-concurrency-handling');
  });

  it('exits 3 when no database can be had', () => {
    const r = gauntlet(['grade', 'examples/reference-submission', '--json', '--profile', 'quick', '--scenario', 'last-seat'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/postgres' });
    expect(r.code).toBe(3);
    // --json: still one document on stdout, the error with its code and remedy (test/errors.test.ts has the shape).
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'INFRA_UNAVAILABLE', message: expect.stringMatching(/DATABASE_URL/) });
    expect(r.stderr).toMatch(/DATABASE_URL.*\[INFRA_UNAVAILABLE\]/);
  });
});

describe('list, init, doctor', () => {
  it('list names every challenge, scenario and check', () => {
    const r = gauntlet(['list']);
    expect(r.code).toBe(0);
    for (const id of ['seat-reservation', 'last-seat', 'many-seats', 'holds', 'db-faults', 'load', 'single-winner', 'winner-durable', 'definite-rejections', 'no-lost-seats', 'idempotent-rereserve', 'hold-expires', 'release-frees-seat', 'no-crash', 'loads']) {
      expect(r.stdout).toContain(id);
    }
    const doc = JSON.parse(gauntlet(['list', '--json']).stdout);
    expect(doc[0].scenarios.map((s: any) => s.id)).toEqual(['last-seat', 'many-seats', 'holds', 'db-faults', 'load']);
  });

  it('init writes a starter kit whose stubs load (and fail honestly), and refuses a non-empty folder', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-init-'));
    fs.rmSync(dir, { recursive: true });
    const r = gauntlet(['init', dir]);
    expect(r.code).toBe(0);
    for (const f of ['seat-reservation.ts', 'payment-webhook.ts', 'subscription.ts', 'gauntlet.d.ts', 'README.md']) expect(fs.existsSync(path.join(dir, f))).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'gauntlet.d.ts'), 'utf8')).toMatch(/declare module 'gauntlet'[\s\S]*interface SeatService/);
    expect(gauntlet(['init', dir]).code).toBe(2);
    const graded = gauntlet(['grade', dir, '--json', '--profile', 'quick', '--scenario', 'last-seat', '--seed', '1']);
    // A stub that does not run is a failed grade (exit 1), earns no automatic points, and raises no concerns.
    expect(graded.code).toBe(1);
    const doc = JSON.parse(graded.stdout);
    expect(doc.verdict).toBe('fail');
    expect(doc.challenges[0].scenarios[0].checks[0]).toMatchObject({ id: 'loads', passed: false });
    expect(doc.score.automated).toBe(0);
    expect(doc.concerns).toEqual([]);
    expect(doc.rubric.filter((l: any) => l.source === 'auto' && /nothing to judge/.test(l.detail ?? '')).length).toBeGreaterThan(3);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the first grade of a starter kit: one message per challenge saying what to do first, exit 1', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-first-'));
    fs.rmSync(dir, { recursive: true });
    expect(gauntlet(['init', dir]).code).toBe(0);
    const r = gauntlet(['grade', dir, '--challenge', 'seat-reservation', '--profile', 'quick', '--scenario', 'last-seat,many-seats', '--seed', '1', '--no-store']);
    expect(r.code).toBe(1);
    expect(r.stdout.match(/every scenario stopped at the same place: setup\(ctx\) failed: Error: setup: not implemented yet/g)?.length).toBe(1);
    expect(r.stdout).toMatch(/start here: implement setup\(\) \(your schema\) and create\(\)/);
    expect(r.stdout).toMatch(/nothing to judge/);
    expect(r.stdout).not.toMatch(/\n\s+at /); // no stack traces
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('doctor reports the databases it would use', () => {
    const r = gauntlet(['doctor']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/PostgreSQL/);
    expect(r.stdout).toMatch(/Redis/);
  });
});
