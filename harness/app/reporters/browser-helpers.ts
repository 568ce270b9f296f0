// Test helpers (not a test file): open a report in real headless Chromium (Debian `chromium`), with a fresh
// profile, no network services and no sandbox (containers); return the DOM after scripts ran, the console
// lines Chromium logged, and optionally a screenshot.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => fs.existsSync(p)) ?? null;

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync', '--disable-default-apps', '--mute-audio'];

function run(args: string[], timeoutMs: number): { stdout: string; stderr: string; status: number | null } {
  if (!CHROMIUM) throw new Error('no chromium: apt-get install chromium');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-chromium-'));
  try {
    const r = spawnSync(CHROMIUM, [...FLAGS, `--user-data-dir=${profile}`, '--enable-logging=stderr', '--v=0', ...args], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
    return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status };
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

/** Console messages (and uncaught errors) Chromium logged for the page. */
const consoleLines = (stderr: string) => stderr.split('\n').filter((l) => /:CONSOLE[:(]/.test(l));

export function dumpDom(file: string, timeoutMs = 60_000): { dom: string; console: string[]; status: number | null } {
  const r = run(['--virtual-time-budget=3000', '--dump-dom', `file://${path.resolve(file)}`], timeoutMs);
  return { dom: r.stdout, console: consoleLines(r.stderr), status: r.status };
}

export function screenshot(file: string, png: string, size = '1400,2400', timeoutMs = 60_000): { console: string[]; status: number | null } {
  const r = run(['--virtual-time-budget=3000', `--window-size=${size}`, `--screenshot=${path.resolve(png)}`, `file://${path.resolve(file)}`], timeoutMs);
  return { console: consoleLines(r.stderr), status: r.status };
}
