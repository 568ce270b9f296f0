// Machine-readable output read through a pipe, as CI reads it: documents far larger than a pipe's 64 KiB buffer
// arrive whole with their exit code (issue: `--json` cut at 64 KiB), also for a reader slower than the process,
// and stderr's last lines are not lost either. Real processes, real databases.

import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { instanceProcesses } from './helpers.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-pipes-'));
const store = path.join(tmp, 'runs.db');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Run the CLI with stdout and stderr on pipes; a slow reader pauses stdout for `readDelayMs` before reading. */
function gauntletPiped(args: string[], readDelayMs = 0): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/gauntlet.mjs', ...args], { env: { ...process.env, FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const kill = setTimeout(() => child.kill('SIGKILL'), 150_000);
    if (readDelayMs) {
      child.stdout.pause();
      setTimeout(() => child.stdout.resume(), readDelayMs);
    }
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(kill);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

describe('documents on stdout arrive whole through a pipe', () => {
  let runId = '';

  it('grade --json of a failing submission: > 64 KiB, valid JSON, exit 1, read by a slow reader', async () => {
    const r = await gauntletPiped(['grade', 'fixtures/cli/verbose-seat', '--json', '--profile', 'quick', '--scenario', 'last-seat', '--seed', '3', '--store', store, '--out', path.join(tmp, 'runs')], 1500);
    expect(Buffer.byteLength(r.stdout)).toBeGreaterThan(64 * 1024);
    const doc = JSON.parse(r.stdout);
    expect(doc.verdict).toBe('reject');
    expect(r.code).toBe(1);
    // stderr's progress reached the reader too, up to the scenario's end.
    expect(r.stderr).toMatch(/last-seat/);
    runId = doc.runId;
    expect(instanceProcesses()).toEqual([]);
  }, 160_000);

  it('show --report json of that run: whole, for a fast and for a slow reader', async () => {
    expect(runId).not.toBe('');
    const fast = await gauntletPiped(['show', runId, '--report', 'json', '--store', store]);
    const slow = await gauntletPiped(['show', runId, '--report', 'json', '--store', store], 1000);
    for (const r of [fast, slow]) {
      expect(r.code).toBe(0);
      expect(Buffer.byteLength(r.stdout)).toBeGreaterThan(64 * 1024);
      expect(JSON.parse(r.stdout).runId).toBe(runId);
    }
    expect(slow.stdout).toBe(fast.stdout);
  }, 60_000);

  it('a usage error (exit 2) still delivers its whole message on stderr', async () => {
    const r = await gauntletPiped(['grade', 'x', '--instances', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--instances must be from 1 to 16/);
  });

  it('a reader that closes early ends the output quietly, without a stack trace', async () => {
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['bin/gauntlet.mjs', 'show', runId, '--report', 'json', '--store', store], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.stdout.once('data', () => child.stdout.destroy());
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(r.stderr).not.toMatch(/EPIPE|at .*\.ts:\d+/);
    expect([0, null]).toContain(r.code);
  }, 30_000);
});
