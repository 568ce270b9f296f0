// The proof that a challenge is one folder plus one registry line: copy the repository, add the toy challenge of
// fixtures/new-challenge as challenges/toy-counter/ and one line in challenges/index.ts — nothing else — and see it
// listed, in the starter kit, graded (a plain correct solution passes, a lost-update one fails), scored (its check
// earns and loses rubric points) and in the reports. Real PostgreSQL and instances; the copy is removed afterwards.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instanceProcesses } from './helpers.ts';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const toy = path.join(root, 'fixtures', 'new-challenge');
const REGISTRY_LINE = "  (await import('./toy-counter/index.ts')).default,";
let copy = '';
let tmp = '';

/** The CLI of the copy, as a user runs it; stdout must be one JSON document where asked. */
async function gauntlet(args: string[], timeout = 240_000): Promise<{ stdout: string; stderr: string; code: number }> {
  return run(process.execPath, [path.join(copy, 'bin', 'gauntlet.mjs'), ...args], { cwd: copy, timeout, maxBuffer: 64 << 20, env: { ...process.env, FORCE_COLOR: '0' } }).then(
    (r) => ({ ...r, code: 0 }),
    (e) => e as { stdout: string; stderr: string; code: number },
  );
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-new-challenge-'));
  copy = path.join(tmp, 'repo');
  // The working tree as git sees it (tracked and new files, nothing ignored), so the test checks this checkout.
  const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, maxBuffer: 64 << 20 });
  for (const f of stdout.split('\0').filter(Boolean)) {
    const from = path.join(root, f);
    if (!fs.existsSync(from) || fs.lstatSync(from).isDirectory()) continue;
    fs.mkdirSync(path.dirname(path.join(copy, f)), { recursive: true });
    fs.copyFileSync(from, path.join(copy, f));
  }
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(copy, 'node_modules'));
  // The whole change: one folder and one line.
  fs.cpSync(path.join(toy, 'toy-counter'), path.join(copy, 'challenges', 'toy-counter'), { recursive: true });
  const registry = path.join(copy, 'challenges', 'index.ts');
  const text = fs.readFileSync(registry, 'utf8');
  const anchor = "  (await import('./subscription/index.ts')).default,\n";
  expect(text).toContain(anchor);
  fs.writeFileSync(registry, text.replace(anchor, `${anchor}${REGISTRY_LINE}\n`));
  const diff = await run('git', ['diff', '--no-index', '--numstat', path.join(root, 'challenges', 'index.ts'), registry]).catch((e) => e as { stdout: string });
  expect(diff.stdout.trim().split('\t').slice(0, 2)).toEqual(['1', '0']);
}, 120_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  expect(instanceProcesses()).toEqual([]);
});

describe('a new challenge is one folder plus one registry line', () => {
  it('is listed with its own check and the pipeline\'s', async () => {
    const r = await gauntlet(['list', '--json']);
    const doc = JSON.parse(r.stdout) as { id: string; checks: { id: string }[]; scenarios: { id: string }[] }[];
    const t = doc.find((c) => c.id === 'toy-counter');
    expect(t, r.stderr).toBeDefined();
    expect(t!.checks.map((k) => k.id)).toEqual(['no-lost-increments', 'loads', 'no-crash']);
    expect(t!.scenarios.map((s) => s.id)).toEqual(['burst']);
  }, 120_000);

  it('is in the starter kit: its stub and its contract\'s types', async () => {
    const kit = path.join(tmp, 'kit');
    const r = await gauntlet(['init', kit]);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(path.join(kit, 'toy-counter.ts'), 'utf8')).toContain('CounterService');
    expect(fs.readFileSync(path.join(kit, 'gauntlet.d.ts'), 'utf8')).toMatch(/export interface CounterService \{/);
  }, 120_000);

  it('grades and scores it: a plain correct solution passes and its check earns points; a lost update fails and loses them', async () => {
    const out = path.join(tmp, 'runs');
    const lost = path.join(tmp, 'lost');
    fs.mkdirSync(lost);
    fs.writeFileSync(
      path.join(lost, 'toy-counter.ts'),
      fs.readFileSync(path.join(toy, 'submission', 'toy-counter.ts'), 'utf8').replace(
        "const { rows } = await ctx.pg.query('UPDATE counters SET value = value + 1 WHERE name = $1 RETURNING value', [counter]);",
        "const cur = await ctx.pg.query('SELECT value FROM counters WHERE name = $1', [counter]);\n      const { rows } = await ctx.pg.query('UPDATE counters SET value = $2 WHERE name = $1 RETURNING value', [counter, cur.rows[0].value + 1]);",
      ),
    );
    expect(fs.readFileSync(path.join(lost, 'toy-counter.ts'), 'utf8')).toContain('SELECT value FROM counters');
    const grades = [];
    for (const sub of [path.join(toy, 'submission'), lost]) {
      const r = await gauntlet(['grade', sub, '--challenge', 'toy-counter', '--profile', 'quick', '--seed', '3', '--json', '--quiet', '--no-store', '--out', out, '--report', 'md,html']);
      grades.push({ r, doc: JSON.parse(r.stdout) });
    }
    const [good, bad] = grades;
    const toyOf = (d: { challenges: { id: string; status: string; scenarios: { checks: { id: string; passed: boolean | null }[] }[] }[] }) => d.challenges.find((c) => c.id === 'toy-counter')!;
    expect(toyOf(good.doc).status, good.r.stderr).toBe('passed');
    expect(Object.fromEntries(toyOf(good.doc).scenarios[0].checks.map((c) => [c.id, c.passed]))).toEqual({ 'no-lost-increments': true, loads: true, 'no-crash': true });
    expect(toyOf(bad.doc).scenarios[0].checks.find((c) => c.id === 'no-lost-increments')!.passed).toBe(false);
    const line = (d: { rubric: { id: string; source: string; awarded: number | null; points: number; evidence: string[] }[] }) => d.rubric.find((l) => l.id === 'race-prevention' && l.source === 'auto')!;
    expect(line(good.doc).evidence).toContain('no-lost-increments');
    expect(line(good.doc).awarded).toBe(line(good.doc).points);
    expect(line(bad.doc).awarded!).toBeLessThan(line(good.doc).awarded!);
    expect(good.r.code).toBe(0);
    expect(bad.r.code).toBe(1);
    // The reports name it, with the check's own words.
    const md = fs.readFileSync(path.join(bad.doc.runDir, 'report.md'), 'utf8');
    expect(md).toContain('toy-counter');
    expect(md).toContain('no-lost-increments');
    expect(fs.readFileSync(path.join(bad.doc.runDir, 'report.html'), 'utf8')).toContain('no-lost-increments');
  }, 300_000);
});
