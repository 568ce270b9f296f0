// The three workflows through the real CLI (node bin/gauntlet.mjs, real databases): the CI job (reports, store,
// exit codes), the interviewer (history, show, score, questions, compare) and the candidate (practice output
// that teaches). Every run goes to a temporary folder and store, removed at the end.

import { readHistory } from '../harness/history/history.ts';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectContractShape } from './helpers.ts';
import { CHROMIUM, dumpDom } from '../harness/app/reporters/browser-helpers.ts';
import { inquirerPrompter, scoreInteractively, type Prompter } from '../bin/score-prompt.ts';
import { RUBRIC } from '../rubric/rubric.ts';
import type { GradeResult } from '../rubric/result.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-workflows-'));
// The graded instances make their private folders under TMPDIR: point it here, so they are findable (and removed).
const osTmp = path.join(tmp, 'tmp');
fs.mkdirSync(osTmp);
fs.chmodSync(tmp, 0o755);
fs.chmodSync(osTmp, 0o1777);
const store = path.join(tmp, 'gauntlet.db');
const out = path.join(tmp, 'runs');

function gauntlet(args: string[], opts: { input?: string } = {}) {
  const r = spawnSync(process.execPath, ['bin/gauntlet.mjs', ...args], { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', TMPDIR: osTmp }, timeout: 120_000, input: opts.input ?? '' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let good: GradeResult;
let rejected: GradeResult;

beforeAll(() => {
  const g = gauntlet(['grade', 'examples/reference-submission', '--json', '--profile', 'quick', '--scenario', 'last-seat', '--seed', '4', '--report', 'html,md', '--report', 'junit', '--store', store, '--out', out]);
  if (g.code !== 0) throw new Error(`grading the reference failed (${g.code}): ${g.stderr}`);
  good = JSON.parse(g.stdout);
  const b = gauntlet(['grade', 'fixtures/submissions/seat-read-then-write', '--json', '--profile', 'quick', '--scenario', 'last-seat', '--seed', '1', '--store', store, '--out', out]);
  if (b.code !== 1) throw new Error(`grading the read-then-write fixture should exit 1, got ${b.code}: ${b.stderr}`);
  rejected = JSON.parse(b.stdout);
}, 240_000);

/** Live processes of this file's grades: their command line or environment names its temporary folder (other
 * suites may be grading at the same time, so a global look for instance processes would see theirs). */
function ownProcesses(): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)) {
    try {
      const text = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8') + fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
      if (text.includes(tmp)) found.push(`${pid}: ${fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').slice(0, 160)}`);
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

afterAll(() => {
  expect(ownProcesses()).toEqual([]);
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('CI: grade with reports and the store', () => {
  it('fills the rubric of CONTRACT §7 and adds concerns, evidence and the inspection', { timeout: 10_000 }, () => {
    expectContractShape(good);
    expect(good.rubric.map((l) => l.item)).toContain('Database design rationale');
    // Items with nothing measured in this one-scenario run leave the maximum (their lines say so).
    const left = good.rubric.filter((l) => l.points === 0 && /leave the automated maximum/.test(l.detail ?? '')).reduce((s, l) => s + (RUBRIC.find((i) => i.id === l.id)?.points ?? 0), 0);
    expect(good.score.automatedMax + good.score.manualMax + left).toBe(100);
    expect(good.score.manual).toBeNull();
    expect(good.concerns).toEqual([]);
    expect(good.evidence?.static?.typescript).toMatchObject({ checked: true, errors: 0 });
    expect(good.challenges[0].scenarios[0].inspection?.tables.map((t) => t.name)).toEqual(['seats']);
    expect(rejected.verdict).toBe('reject');
    expect(rejected.concerns?.map((c) => c.id)).toContain('no-transaction-handling');
  });

  it('writes report.html, report.md and junit.xml into the run folder and names them in the result', { timeout: 10_000 }, () => {
    expect(good.reports).toEqual({ html: path.join(good.runDir!, 'report.html'), md: path.join(good.runDir!, 'report.md'), junit: path.join(good.runDir!, 'junit.xml') });
    expect(fs.readFileSync(good.reports!.md!, 'utf8')).toMatch(/^## ✅ gauntlet: PASS/);
    expect(fs.readFileSync(good.reports!.junit!, 'utf8')).toMatch(/<testcase classname="gauntlet.seat-reservation.last-seat" name="single-winner"/);
  });

  it.skipIf(!CHROMIUM)('the graded run\'s report.html renders in Chromium with its charts and no console error', { timeout: 90_000 }, () => {
    const { dom, console: logged } = dumpDom(good.reports!.html!);
    expect(logged).toEqual([]);
    expect(dom).toMatch(/data-rendered="ok"/);
    expect(Number(/data-chart-marks="(\d+)"/.exec(dom)![1])).toBeGreaterThan(500);
  });

  it('refuses an unknown report format (exit 2) and stores nothing with --no-store', { timeout: 60_000 }, () => {
    const r = gauntlet(['grade', 'examples/reference-submission', '--report', 'pdf']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown report format pdf/);
    const other = path.join(tmp, 'unused.db');
    const g = gauntlet(['grade', 'examples/reference-submission', '--json', '--profile', 'quick', '--scenario', 'last-seat', '--seed', '2', '--store', other, '--no-store', '--out', out]);
    expect(g.code).toBe(0);
    expect(fs.existsSync(other)).toBe(false);
  });
});

describe('the interviewer: history, show, score, questions, compare', () => {
  it('history lists the stored runs, newest first', { timeout: 30_000 }, () => {
    const h = gauntlet(['history', '--store', store]);
    expect(h.code).toBe(0);
    expect(h.stdout.indexOf(rejected.runId!)).toBeLessThan(h.stdout.indexOf(good.runId!));
    expect(h.stdout).toMatch(/reject/);
    const json = JSON.parse(gauntlet(['history', '--store', store, '--json']).stdout);
    expect(json.map((r: { id: string }) => r.id)).toEqual([rejected.runId, good.runId]);
    expect(gauntlet(['history', '--store', path.join(tmp, 'none.db')]).stdout).toMatch(/no runs recorded/);
  });

  it('show re-renders any report from the store', { timeout: 30_000 }, () => {
    const json = gauntlet(['show', good.runId!, '--report', 'json', '--store', store]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(good);
    expect(gauntlet(['show', good.runId!.slice(0, 24), '--report', 'md', '--store', store]).stdout).toBe(fs.readFileSync(good.reports!.md!, 'utf8'));
    expect(gauntlet(['show', 'last', '--report', 'junit', '--store', store]).stdout).toMatch(/failure message="rejected: no-concurrency-handling"/);
    const term = gauntlet(['show', 'last', '--store', store]);
    expect(term.stdout).toMatch(/REJECT/);
    expect(term.stdout).toMatch(/why it matters:/);
    const html = path.join(tmp, 'again.html');
    expect(gauntlet(['show', 'last~1', '--report', 'html', '--out', html, '--store', store]).code).toBe(0);
    expect(fs.readFileSync(html, 'utf8')).toMatch(/<span class="verdict pass">PASS<\/span>/);
  });

  it('show --sql prints the statements one call sent, as the fault proxy recorded them', { timeout: 30_000 }, () => {
    const scenario = good.challenges[0].scenarios[0];
    const ops = readHistory(scenario.historyFile!);
    const reserve = ops.find((o) => o.f === 'reserve' && o.type === 'ok')!;
    const r = gauntlet(['show', good.runId!, '--sql', `${scenario.id}:${reserve.index}`, '--store', store]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^op ${reserve.index} reserve .* on instance ${reserve.instance}, .*: ok`));
    const userId = String(reserve.args.userId);
    expect(r.stdout).toContain(userId);
    expect(r.stdout).toMatch(/→ (UPDATE|INSERT|SELECT|COMMIT)/);
    // Nothing of another caller: every bound value list that names a user names this one.
    for (const line of r.stdout.split('\n').filter((l) => /bind \[/.test(l) && /user-/.test(l))) expect(line).toContain(userId);
    const bad = gauntlet(['show', good.runId!, '--sql', 'no-such-scenario:1', '--store', store]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/has no scenario no-such-scenario/);
    expect(gauntlet(['show', good.runId!, '--sql', 'nonsense', '--store', store]).stderr).toMatch(/--sql takes <scenario>:<op>/);
  });

  it('show and score say what to do about unknown runs or a missing store (exit 2)', { timeout: 30_000 }, () => {
    const r = gauntlet(['show', 'nope', '--store', store]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no run "nope".*\n.*gauntlet history/);
    expect(gauntlet(['score', 'last', '--store', path.join(tmp, 'none.db')]).stderr).toMatch(/no run store at/);
    const tty = gauntlet(['score', 'last', '--store', store]);
    expect(tty.code).toBe(2);
    expect(tty.stderr).toMatch(/needs a terminal[\s\S]*--manual scores\.json/);
  });

  it('score --manual stores the scores, recomputes totals, and updates result.json and the reports', { timeout: 30_000 }, () => {
    const file = path.join(tmp, 'scores.json');
    fs.writeFileSync(file, JSON.stringify({ interviewer: 'Ada', scores: { 'technology-choices': 4, 'database-design': { score: 5, note: 'explained the primary key as the invariant' }, caching: 3 } }));
    const r = gauntlet(['score', good.runId!, '--manual', file, '--store', store, '--json']);
    expect(r.code).toBe(0);
    const updated: GradeResult = JSON.parse(r.stdout);
    const manualLine = (id: string) => updated.rubric.find((l) => l.id === id && l.source === 'manual')!;
    expect(manualLine('technology-choices').awarded).toBe(4);
    expect(manualLine('database-design')).toMatchObject({ awarded: 3, detail: 'scored 5/5 by Ada: explained the primary key as the invariant' });
    expect(updated.score.manual).toBe(10);
    expect(updated.score.total).toBe(Math.round((good.score.automated + 10) * 10) / 10);
    expect(JSON.parse(fs.readFileSync(path.join(good.runDir!, 'result.json'), 'utf8')).score.manual).toBe(10);
    expect(fs.readFileSync(good.reports!.md!, 'utf8')).toMatch(/manual \*\*10\/36\*\*/);
    expect(fs.readFileSync(good.reports!.html!, 'utf8')).toContain('explained the primary key as the invariant');
    // A second file merges item by item; null removes a score.
    fs.writeFileSync(file, JSON.stringify({ caching: null, 'clean-code': 5 }));
    const again: GradeResult = JSON.parse(gauntlet(['score', good.runId!, '--manual', file, '--store', store, '--json']).stdout);
    expect(again.score.manual).toBe(4 + 3 + 5);
    expect(again.manual?.interviewer).toBe('Ada');
    expect(JSON.parse(gauntlet(['history', '--store', store, '--json']).stdout).find((x: { id: string }) => x.id === good.runId).scoreManual).toBe(12);
    fs.writeFileSync(file, JSON.stringify({ scores: { caching: 9 } }));
    const badFile = gauntlet(['score', good.runId!, '--manual', file, '--store', store]);
    expect(badFile.code).toBe(2);
    expect(badFile.stderr).toMatch(/must be a number from 0 to 5/);
  });

  it('questions: the bank, and ordered by a run (a failed single-winner puts concurrency first)', { timeout: 30_000 }, () => {
    const bank = gauntlet(['questions']);
    expect(bank.code).toBe(0);
    expect(bank.stdout).toMatch(/^1\. Concurrency deep-dive/);
    expect(bank.stdout).toMatch(/Payment orchestration and sagas/);
    expect(bank.stdout).toMatch(/listen for:/);
    const ordered = gauntlet(['questions', rejected.runId!, '--store', store]);
    expect(ordered.stdout).toMatch(/1\. Concurrency deep-dive {2}← single-winner failed in seat-reservation\/last-seat/);
    const json = JSON.parse(gauntlet(['questions', rejected.runId!, '--store', store, '--json', '--limit', '3']).stdout);
    expect(json).toHaveLength(3);
    expect(json[0].id).toBe('concurrency');
  });

  it('compare puts runs side by side and marks where they differ', { timeout: 30_000 }, () => {
    const c = gauntlet(['compare', good.runId!, rejected.runId!, '--store', store]);
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/verdict\s+pass\s+reject/);
    expect(c.stdout).toMatch(/seat-reservation: single-winner\s+1\/1\s+0\/1/);
    expect(c.stdout).toMatch(/red flags\s+–\s+no-concurrency-handling/);
    const json = JSON.parse(gauntlet(['compare', 'last', 'last~1', '--store', store, '--json']).stdout);
    expect(json.runs).toEqual([rejected.runId, good.runId]);
    expect(gauntlet(['compare', 'last', '--store', store]).code).toBe(2);
  });
});

describe('the candidate: practice runs teach', () => {
  it('--profile quick explains each failed check: why it matters and a hint', { timeout: 60_000 }, () => {
    const r = gauntlet(['grade', 'fixtures/submissions/seat-read-then-write', '--profile', 'quick', '--scenario', 'last-seat', '--seed', '1', '--no-store', '--out', out, '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ single-winner[\s\S]*why it matters: Two people with a ticket for one seat[\s\S]*hint: Make the decision and the write one atomic step/);
    expect(r.stdout).toMatch(/Major concerns[\s\S]*No transaction handling/);
  });
});

describe('interactive scoring', () => {
  it('walks every manual item with its guide, evidence and questions; skip leaves one unscored', { timeout: 10_000 }, async () => {
    const answers = new Map<string, number | null>([['Caching', 2], ['Clean code', null]]);
    const asked: string[] = [];
    const fake: Prompter = {
      score: async (message) => {
        asked.push(message);
        const item = message.split(':')[0];
        return answers.has(item) ? answers.get(item)! : 5;
      },
      note: async () => 'ok',
      confirm: async () => true,
    };
    const printed: string[] = [];
    const scoring = await scoreInteractively({ result: good, prompter: fake, print: (t) => printed.push(t), interviewer: 'Grace' });
    const manualItems = RUBRIC.filter((i) => i.manual);
    expect(asked).toHaveLength(manualItems.length);
    expect(Object.keys(scoring!.scores)).toHaveLength(manualItems.length - 1);
    expect(scoring!.scores.caching).toEqual({ score: 2, note: 'ok' });
    expect(scoring!.scores['clean-code']).toBeUndefined();
    expect(scoring!.interviewer).toBe('Grace');
    const text = printed.join('\n');
    expect(text).toMatch(/Database design rationale[\s\S]*3 {2}Primary keys and unique constraints/);
    expect(text).toMatch(/evidence from the run:[\s\S]*table seats: primary key \(seat_id\)/);
    expect(text).toMatch(/ask:\n.*1\. Which constraint in your schema makes a double booking impossible/);
    const declined = await scoreInteractively({ result: good, prompter: { ...fake, confirm: async () => false }, print: () => {} });
    expect(declined).toBeNull();
  });

  it('the real prompts (@inquirer/prompts) read a score, a note and a confirmation from a terminal stream', { timeout: 10_000 }, async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    output.resume();
    const p = await inquirerPrompter({ input, output });
    const type = (keys: string[]) => setTimeout(() => keys.forEach((k) => input.write(k)), 50);
    const score = p.score('Caching: score 0–5', 2);
    type(['\x1B[B', '\r']); // arrow down from the current score (2), then enter
    expect(await score).toBe(3);
    const skip = p.score('Clean code: score 0–5', undefined);
    type(['\r']); // the default of an unscored item is "skip"
    expect(await skip).toBeNull();
    const note = p.note('note', undefined);
    type(['g', 'o', 'o', 'd', '\r']);
    expect(await note).toBe('good');
    const yes = p.confirm('Save?');
    type(['\r']);
    expect(await yes).toBe(true);
  });
});
