// Test helpers: assert that nothing a grade started is left behind (instance processes, scenario databases),
// and check a result document against the shape CONTRACT §7 fixes.

import { RUBRIC } from '../rubric/rubric.ts';
import { challenges } from '../challenges/index.ts';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { expect } from 'vitest';

/**
 * PIDs of live candidate instance processes started from bundles, or of processes whose command line matches
 * `pattern` (e.g. the private TMPDIR a test's instances run from). Only this process's descendants and orphans
 * (reparented to pid 1) count, so grades run at the same time by other processes on the machine are not
 * mistaken for leftovers of ours; `everyone` lists them all.
 */
export function instanceProcesses(pattern = 'instance.bundle.mjs', everyone = false): number[] {
  let pids: number[];
  try {
    const out = execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' });
    pids = out.split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
  return everyone ? pids : pids.filter((pid) => { const up = ancestry(pid); return up[0] === 1 || up.includes(process.pid); });
}

/** The chain of parent pids of `pid` (Linux /proc), nearest first; empty once it exited. */
function ancestry(pid: number): number[] {
  const chain: number[] = [];
  for (let p = pid; p > 1 && chain.length < 64; ) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      p = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      chain.push(p);
    } catch {
      break;
    }
  }
  return chain;
}

/** Scenario databases created by this process (named gauntlet_<pid>_...). */
export async function leftoverDatabases(pid = process.pid, url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'): Promise<string[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => {});
  await client.connect();
  try {
    const r = await client.query("SELECT datname FROM pg_database WHERE datname LIKE $1", [`gauntlet\\_${pid}\\_%`]);
    return r.rows.map((x) => x.datname);
  } finally {
    await client.end();
  }
}

const CHECK_STATUS = ['passed', 'failed', 'error', 'inconclusive'];

/** The fields and enums CONTRACT §7 fixes for the --json document. */
export function expectContractShape(doc: any): void {
  expect(doc.schemaVersion).toBe(1);
  expect(doc.tool).toBe('gauntlet');
  expect(typeof doc.submission).toBe('string');
  expect(Number.isInteger(doc.seed)).toBe(true);
  expect(['quick', 'standard', 'thorough']).toContain(doc.profile);
  expect(['pass', 'fail', 'reject', 'inconclusive']).toContain(doc.verdict);
  for (const k of ['automated', 'automatedMax', 'manualMax', 'total']) expect(typeof doc.score[k]).toBe('number');
  expect(doc.score.manual === null || typeof doc.score.manual === 'number').toBe(true);
  expect(doc.score.max).toBe(100);
  expect(Array.isArray(doc.redFlags)).toBe(true);
  for (const f of doc.redFlags) {
    expect(typeof f.id).toBe('string');
    expect(typeof f.check).toBe('string');
    expect(typeof f.evidence).toBe('string');
  }
  for (const ch of doc.challenges) {
    expect(challenges.map((c) => c.id)).toContain(ch.id);
    expect(['passed', 'failed', 'error', 'not-attempted', 'inconclusive']).toContain(ch.status);
    for (const s of ch.scenarios) {
      expect(typeof s.id).toBe('string');
      expect(CHECK_STATUS).toContain(s.status);
      for (const c of s.checks) {
        expect(typeof c.id).toBe('string');
        expect(typeof c.passed === 'boolean' || c.passed === null).toBe(true);
        expect(typeof c.message).toBe('string');
      }
      for (const k of ['operations', 'ok', 'fail', 'indeterminate', 'p50Ms', 'p99Ms', 'throughputPerS', 'maxInFlight']) expect(typeof s.metrics[k]).toBe('number');
    }
  }
  for (const line of doc.rubric) {
    expect(typeof line.section).toBe('string');
    expect(typeof line.item).toBe('string');
    expect(typeof line.points).toBe('number');
    expect(line.awarded === null || typeof line.awarded === 'number').toBe(true);
    expect(['auto', 'manual']).toContain(line.source);
    expect(Array.isArray(line.evidence)).toBe(true);
  }
  // The rubric is 100 points; an automatic item with nothing measured although code ran leaves the maximum (its
  // line shows 0 points and says so), so the lines sum to 100 less those items' points.
  const left = doc.rubric.filter((l: any) => l.points === 0 && /leave the automated maximum/.test(l.detail ?? '')).reduce((s: number, l: any) => s + (RUBRIC.find((i) => i.id === l.id)?.points ?? 0), 0);
  expect(doc.rubric.reduce((s: number, l: any) => s + l.points, 0) + left).toBe(100);
}

/**
 * `gauntlet <args>` as a user runs it (this checkout's bin, colours off), killed after `timeoutMs`; resolves with its
 * exit code and everything it wrote.
 */
export function runGauntlet(args: string[], timeoutMs = 240_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['bin/gauntlet.mjs', ...args], { env: { ...process.env, FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => child.once('exit', (code) => (clearTimeout(timer), resolve({ code, stdout, stderr }))));
}
