// The file reporters on a synthetic run: JUnit (one testcase per check, failures with counterexamples, skipped
// and not-attempted work, the verdict and the gate; well-formed), Markdown (job-summary shape, escaping), the
// HTML page's content (self-contained, escaped, timelines downsampled), the counterexample flattener, the
// terminal summary's teaching, writeReports, and compare's machine row and note.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GradeResult } from '../../../rubric/result.ts';
import { renderJunit } from './junit.ts';
import { renderMarkdown } from './markdown.ts';
import { renderHtml } from './html.ts';
import { renderTerminal } from './terminal.ts';
import { flattenCounterexample } from './counterexample.ts';
import { downsample, latencyHistogram, loadReportData } from './report-data.ts';
import { parseReportList, writeReports } from './index.ts';
import { compareNotes, compareRows, renderCompare } from './compare.ts';
import { syntheticRun } from './test-report.ts';
import { readHistory } from '../../history/history.ts';
import { reproduceCommand } from './reproduce.ts';
import { esc } from './html-charts.ts';
import { challenges as registry } from '../../../challenges/index.ts';

let result: GradeResult;
let dir: string;
const T = { timeout: 20_000 };

beforeAll(async () => {
  ({ result, dir } = await syntheticRun());
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Well-formedness without a parser: every element closed in order, attributes quoted, no raw `<` or `&`. */
function assertWellFormedXml(text: string): void {
  const stack: string[] = [];
  const body = text.replace(/^<\?xml[^>]*\?>/, '');
  const tag = /<(\/?)([A-Za-z][\w.-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<|&(?!(amp|lt|gt|quot|apos|#\d+);)/g;
  for (let m = tag.exec(body); m; m = tag.exec(body)) {
    if (!m[2]) throw new Error(`unescaped markup at ${m.index}: ${body.slice(m.index, m.index + 40)}`);
    if (m[1]) {
      const open = stack.pop();
      if (open !== m[2]) throw new Error(`</${m[2]}> closes <${open}>`);
    } else if (!m[4]) stack.push(m[2]);
  }
  if (stack.length) throw new Error(`unclosed: ${stack.join(', ')}`);
}

describe('junit', () => {
  it('one testcase per check, with failures carrying message and counterexample; well-formed XML', T, () => {
    const xml = renderJunit(result);
    assertWellFormedXml(xml);
    expect(xml.match(/<testcase /g)).toHaveLength(6 + 7 + 1 + 1 + 2);
    expect(xml).toMatch(/<testsuite name="seat-reservation\/last-seat" tests="6" failures="1" errors="0" skipped="0" time="2.100"/);
    const failure = /<testcase classname="gauntlet.seat-reservation.last-seat" name="single-winner" time="0"><failure message="([^"]*)" type="single-winner">([\s\S]*?)<\/failure>/.exec(xml)!;
    expect(failure[1]).toBe('user-3 and user-7 were both told they hold &lt;last-seat&gt; | &amp; &quot;quoted&quot;');
    expect(failure[2]).toMatch(/counterexample:\n\{\n {2}&quot;conflicts&quot;/);
    expect(failure[2]).toMatch(/&quot;op&quot;: 7/);
    expect(xml).toMatch(/name="scenario" time="0"><skipped message="not implemented: holdSeat/);
    expect(xml).toMatch(/<testsuite name="payment-webhook"[\s\S]*?<skipped message="not attempted/);
    expect(xml).toMatch(/name="verdict" time="0"><failure message="rejected: no-concurrency-handling" type="red-flag">/);
    expect(xml).toMatch(/name="min-score" time="0"><failure message="score [\d.]+ is below --min-score 50" type="min-score"\/>/);
    expect(xml).toMatch(/<testsuites name="gauntlet" tests="17" failures="3" errors="0" skipped="2"/);
  });

  it('an undecided check is an error, a scenario error without checks is an error testcase', T, () => {
    const r = structuredClone(result);
    r.challenges[0].scenarios[1].checks[1] = { id: 'single-winner', passed: null, message: 'could not decide' };
    r.challenges[0].scenarios.push({ id: 'db-faults', status: 'error', error: 'the scenario did not finish: boom\nstack', checks: [], metrics: result.challenges[0].scenarios[0].metrics });
    const xml = renderJunit(r);
    assertWellFormedXml(xml);
    expect(xml).toMatch(/name="single-winner" time="0"><error message="could not decide" type="undecided">/);
    expect(xml).toMatch(/<testsuite name="seat-reservation\/db-faults"[^>]*errors="1"[\s\S]*?<error message="the scenario did not finish: boom" type="scenario">/);
  });
});

describe('markdown', () => {
  it('reads as a job summary: verdict, sections, red flags, concerns, failed checks with counterexample tables', T, () => {
    const md = renderMarkdown(result);
    expect(md.split('\n')[0]).toBe(`## 🚫 gauntlet: REJECT — ${result.score.total}/100`);
    expect(md).toMatch(/\| Concurrency & Data Integrity \| [\d.]+\/25 \|/);
    expect(md).toMatch(/### 🚩 Red flags[\s\S]*\*\*no-concurrency-handling\*\* \(`single-winner`\)/);
    expect(md).toMatch(/### ⚠️ Major concerns[\s\S]*\*\*Hard-coded values\*\*: database-url at seat-reservation\.ts:4/);
    expect(md).toMatch(/\| last-seat \| ❌ failed \| 5\/6 \| 4000 \| 12\.5 ms \| 29\.8 ms \|/);
    expect(md).toMatch(/\| many-seats \| ✅ passed \| 7\/7 \| 300 \|.*0\.6× reference throughput/);
    expect(md).toMatch(/\| holds \| ⏭️ skipped \|/);
    expect(md).toMatch(/#### ❌ `single-winner` in last-seat/);
    expect(md).toMatch(/> \*\*Why it matters:\*\*/);
    expect(md).toMatch(/\| first \| 3 \| user-3 \| 3 \| `reserve \{"seatId":"last-seat","userId":"user-3"\}` \| ok \| 1\.2 \| 9\.9 \|/);
    expect(md).toContain('hold <last-seat> \\| & "quoted"');
    expect(md).toMatch(/### payment-webhook — not-attempted\n\n_not attempted/);
    expect(md).toMatch(/<details><summary>Rubric<\/summary>[\s\S]*\| Advanced \| Security \| auto \|/);
    expect(md.trimEnd().split('\n').pop()).toBe('Reproduce: `gauntlet grade /candidates/<ada> --seed 7 --profile quick`');
  });
});

describe('html', () => {
  it('is one self-contained page: no external resource, a CSP that forbids fetching, everything escaped', T, () => {
    const html = renderHtml(result);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"`);
    expect(html).not.toMatch(/\s(src|href)="(?!#)/);
    expect(html).not.toMatch(/@import|url\(/);
    expect(html).toContain('/candidates/&lt;ada&gt;');
    expect(html).not.toContain('<ada>');
    expect(html).toContain('hold &lt;last-seat&gt; | &amp; &quot;quoted&quot;');
  });

  it('shows verdict, sections, red flags, concerns, timelines with faults, histograms, counterexamples, reference comparison and the rubric', T, () => {
    const html = renderHtml(result);
    expect(html).toMatch(/<span class="verdict reject">REJECT<\/span>/);
    expect(html.match(/<div class="row"><span>/g)).toHaveLength(5);
    expect(html).toMatch(/Red flags \(immediate rejection\)/);
    expect(html).toMatch(/Major concerns[\s\S]*Hard-coded values/);
    expect(html.match(/<svg id="tl-\d+" class="chart timeline"/g)).toHaveLength(2);
    expect(html.match(/class="chart histogram"/g)).toHaveLength(2);
    expect(html.match(/<rect class="fault" data-fault="db-latency"/g)).toHaveLength(1);
    expect(html).toContain('data-fault="kill-backends"');
    expect(html).toMatch(/class="op op-ok op-cx" data-op="3"/);
    expect(html).toMatch(/class="op op-info/);
    expect(html).toMatch(/showing 2500 of 4000 calls/);
    expect(html).toMatch(/<table class="cx">[\s\S]*<td>second<\/td><td>7<\/td>/);
    expect(html).toMatch(/Reference comparison[\s\S]*900 req\/s[\s\S]*1500 req\/s/);
    expect(html).toMatch(/guide and follow-up questions/);
    expect(html).toMatch(/<h2>Rubric<\/h2>/);
    expect(html).toMatch(/Schema \(from the catalog\)[\s\S]*seats_pkey/);
  });

  it('without a history file the page still renders, and says why there is no timeline', T, () => {
    const r = structuredClone(result);
    r.challenges[0].scenarios[0].historyFile = path.join(dir, 'gone.jsonl');
    const html = renderHtml(r);
    expect(html).toContain('the history file is gone');
    expect(html.match(/class="chart timeline"/g)).toHaveLength(1);
  });

  it('marks slow answers (the deadline on the histogram, slow, not failed) and says why a scenario is inconclusive', T, () => {
    const r = structuredClone(result);
    const s = r.challenges[0].scenarios[0];
    Object.assign(s.metrics, { slowCalls: 12, answerDeadlineMs: 1, maxLatencyMs: 17800 });
    const slow = renderHtml(r);
    expect(slow).toContain('12 call(s) answered after the 1 ms answer deadline (slowest 17800 ms)');
    expect(slow).toContain('answer deadline (later answers still count)');
    expect(slow).toContain('scored as slow under Database optimisation');
    // Taken on a busy machine: shown, but said not to be scored, and why.
    Object.assign(s.metrics, { otherCpuCores: 1.3 });
    expect(renderHtml(r)).toContain('not scored: the machine was busy (other programs used 1.3 cores&#39; worth');
    expect(renderTerminal(r)).toContain('12 answered after 1 ms (slowest 17800 ms; not scored, the machine was busy)');
    Object.assign(s.metrics, { otherCpuCores: 0 });
    // Judged against this machine's plainest correct design: the stretched deadline is the one said.
    Object.assign(s.metrics, { slowCalls: 3, machineDeadlineMs: 28800, convoyReferenceSlowestMs: 19200, slowCallsAfterAnswerDeadline: 12 });
    expect(renderHtml(r)).toContain('3 call(s) answered after 28800 ms (the 1 ms answer deadline, stretched on this machine to 1.5× the 19200 ms');
    expect(renderTerminal(r)).toContain('3 answered after 28800 ms (the 1 ms answer deadline, stretched');
    Object.assign(s.metrics, { slowCalls: 0 });
    expect(renderHtml(r)).toContain('12 call(s) answered after the 1 ms answer deadline, none after 28800 ms (the 1 ms answer deadline, stretched');
    expect(renderTerminal(r)).toContain('12 answered after 1 ms, none after 28800 ms');
    Object.assign(s, { status: 'inconclusive', inconclusive: 'the grading machine was starved: gauntlet froze' });
    r.verdict = 'inconclusive';
    expect(renderHtml(r)).toContain('<b>inconclusive</b>: the grading machine was starved');
    expect(renderMarkdown(r)).toContain('❔ inconclusive');
    expect(renderTerminal(r)).toMatch(/INCONCLUSIVE/);
  });
});

describe('report data', () => {
  it('downsampling keeps every counterexample and indeterminate op, is deterministic and bounded', T, () => {
    const ops = readHistory(result.challenges[0].scenarios[0].historyFile!);
    const kept = downsample(ops, 500, new Set([3, 7, 3999]));
    expect(kept).toHaveLength(500);
    const idx = new Set(kept.map((o) => o.index));
    for (const i of [3, 7, 3999]) expect(idx.has(i)).toBe(true);
    for (const o of ops.filter((x) => x.type === 'info')) expect(idx.has(o.index)).toBe(true);
    expect(downsample(ops, 500, new Set([3, 7, 3999])).map((o) => o.index)).toEqual(kept.map((o) => o.index));
    expect(downsample(ops.slice(0, 10), 500, new Set())).toHaveLength(10);
  });

  it('the histogram counts every completed op once, by outcome', T, () => {
    const ops = readHistory(result.challenges[0].scenarios[0].historyFile!);
    const bins = latencyHistogram(ops);
    const total = bins.reduce((n, b) => n + b.ok + b.fail + b.info, 0);
    expect(total).toBe(ops.length);
    expect(bins.reduce((n, b) => n + b.ok, 0)).toBe(2);
    for (let i = 1; i < bins.length; i++) expect(bins[i].fromMs).toBeCloseTo(bins[i - 1].toMs);
    expect(loadReportData(result).get('seat-reservation/last-seat')!.highlighted.sort()).toEqual([3, 7]);
  });

  it('flattens counterexamples of the shapes checkers produce', T, () => {
    const conflicts = flattenCounterexample(result.challenges[0].scenarios[0].checks[1].counterexample);
    expect(conflicts.groups).toHaveLength(1);
    expect(conflicts.groups[0].facts).toEqual(['seat: last-seat']);
    expect(conflicts.groups[0].ops.map((o) => [o.role, o.op])).toEqual([['first', 3], ['second', 7]]);
    const list = flattenCounterexample([{ reason: 'no definite answer', ops: [{ op: 0, process: 'u', instance: 2, f: 'reserve', args: {}, outcome: 'indeterminate (status 500)', startMs: 1, endMs: 2 }] }]);
    expect(list.groups[0]).toMatchObject({ reason: 'no definite answer', ops: [{ role: 'ops', op: 0, instance: 2 }] });
    expect(flattenCounterexample({ error: 'does not compile' }).groups).toEqual([{ facts: ['error: does not compile'], ops: [], reason: undefined }]);
    expect(flattenCounterexample(Array.from({ length: 20 }, (_, i) => ({ reason: `r${i}` }))).truncated).toBe(12);
    expect(flattenCounterexample(undefined).groups).toEqual([]);
  });
});

describe('terminal and files', () => {
  it('the terminal summary teaches on request, and shows concerns and the score by section', T, () => {
    const plain = renderTerminal(result);
    const teach = renderTerminal(result, { teach: true });
    expect(plain).not.toMatch(/why it matters/);
    expect(teach).toMatch(/why it matters: Two people with a ticket/);
    expect(teach).toMatch(/hint: Make the decision and the write one atomic step/);
    expect(plain).toMatch(/Major concerns/);
    expect(plain).toMatch(/score by section: Concurrency & Data Integrity/);
  });

  it('writeReports writes each format into the run folder, atomically, and names them', T, () => {
    const written = writeReports(result, ['html', 'md', 'junit']);
    expect(written).toEqual({ html: path.join(dir, 'report.html'), md: path.join(dir, 'report.md'), junit: path.join(dir, 'junit.xml') });
    for (const f of Object.values(written)) expect(fs.statSync(f!).size).toBeGreaterThan(500);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(parseReportList(['html,md', 'junit', 'md'])).toEqual(['html', 'md', 'junit']);
    expect(() => parseReportList('pdf')).toThrow(/unknown report format pdf/);
  });
});

describe('reproduce: the command that grades the run again the same way', () => {
  const scenario = (id: string) => ({ id, status: 'passed' as const, checks: [], metrics: {} as never });
  const all = (id: string) => registry.find((c) => c.id === id)!.scenarios.map((s) => scenario(s.id));
  const run = (challenges: { id: string; scenarios: ReturnType<typeof scenario>[] }[], instances = 4) =>
    ({ submission: 'sub', seed: 7, profile: 'quick' as const, instances, challenges: challenges.map((c) => ({ ...c, status: c.scenarios.length ? ('passed' as const) : ('not-attempted' as const) })) }) as unknown as GradeResult;

  it('names the challenges and scenarios the run was narrowed to', () => {
    // --challenge payment-webhook (a helper's plain solution): without it the command graded every challenge.
    expect(reproduceCommand(run([{ id: 'payment-webhook', scenarios: all('payment-webhook') }]))).toBe('gauntlet grade sub --challenge payment-webhook --seed 7 --profile quick');
    // --scenario last-seat: the result holds only the challenge that has it, with that scenario.
    expect(reproduceCommand(run([{ id: 'seat-reservation', scenarios: [scenario('last-seat')] }], 2))).toBe('gauntlet grade sub --challenge seat-reservation --scenario last-seat --seed 7 --profile quick --instances 2');
  });

  it('adds nothing for a whole grade, also when some challenges had no module', () => {
    const whole = registry.map((c) => ({ id: c.id, scenarios: c.id === 'subscription' ? [] : all(c.id) }));
    expect(reproduceCommand(run(whole))).toBe('gauntlet grade sub --seed 7 --profile quick');
  });

  it('the terminal summary and the HTML report print it', T, () => {
    const expected = reproduceCommand(result);
    expect(renderTerminal(result)).toContain(`reproduce: ${expected}`);
    expect(renderHtml(result)).toContain(`reproduce: <code>${esc(expected)}</code>`);
  });
});

describe('timeline: the replica lag curve', () => {
  it('draws the lag over the lanes, scaled to its maximum, only with two samples or more', async () => {
    const { timelineSvg } = await import('./html-charts.ts');
    const view = { challenge: 'subscription-reads', scenario: 'lag-spike', ops: [], totalOps: 0, highlighted: [], instances: [0, 1], fromUs: 0, toUs: 10_000_000, histogram: [] };
    const lag = [{ t: 0, bytes: 0 }, { t: 2_000_000, bytes: 4096 }, { t: 3_000_000, bytes: null }, { t: 6_000_000, bytes: 0 }];
    const svg = timelineSvg(view, [{ fault: 'replica-lag', startUs: 1_000_000, endUs: 5_000_000 }], lag);
    expect(svg).toMatch(/<polyline class="replica-lag" points="[\d.]+,[\d.]+ [\d.]+,[\d.]+ [\d.]+,[\d.]+"/);
    expect(svg).toContain('replica lag, max 4 KiB');
    expect(timelineSvg(view, [], [{ t: 0, bytes: 5 }])).not.toContain('replica-lag');
    expect(timelineSvg(view, [])).not.toContain('replica-lag');
  });
});

describe('compare', () => {
  it('names each run\'s machine, and notes that timing figures do not compare when the machines differ', T, () => {
    const machine = { id: 'aaaaaaaaaaaa', host: 'worker-1', cpu: 'cpu', cores: 2, memoryGb: 4, node: 'v20', os: 'Linux' };
    const a = { ...result, machine };
    const b = { ...result, machine: { ...machine, id: 'bbbbbbbbbbbb', host: 'worker-2' } };
    expect(compareRows([a, b]).find((r) => r.label === 'machine')!.values).toEqual(['worker-1 (aaaaaaaaaaaa)', 'worker-2 (bbbbbbbbbbbb)']);
    expect(compareNotes([a, { ...a }])).toEqual([]);
    expect(compareNotes([a, b])).toEqual([expect.stringMatching(/2 different machines: timing figures \(throughput, latency\) are not comparable/)]);
    // A run recorded before gauntlet named its machine says nothing either way.
    expect(compareNotes([a, { ...result, machine: undefined }])).toEqual([]);
    expect(renderCompare([a, b], ['one', 'two'])).toMatch(/note: these runs were graded on 2 different machines/);
  });
});
