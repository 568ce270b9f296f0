// The HTML report in real headless Chromium (Debian `chromium`): it renders, its script ran without an error,
// the charts have marks (timeline ops and histogram bars), nothing was fetched (the CSP would log a violation),
// the outcome filters work, and a screenshot comes out. Skipped, saying so, where no Chromium is installed.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GradeResult } from '../../../rubric/result.ts';
import { renderHtml } from './html.ts';
import { CHROMIUM, dumpDom, screenshot } from './browser-helpers.ts';
import { syntheticRun } from './test-report.ts';

let result: GradeResult;
let dir: string;
let file: string;

describe.skipIf(!CHROMIUM)('report.html in headless Chromium', () => {
  beforeAll(async () => {
    ({ result, dir } = await syntheticRun(6000));
    file = path.join(dir, 'report.html');
    fs.writeFileSync(file, renderHtml(result));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('renders, runs its script without errors, draws non-empty charts, fetches nothing', { timeout: 90_000 }, () => {
    const { dom, console: logged, status } = dumpDom(file);
    expect(status).toBe(0);
    expect(logged).toEqual([]);
    expect(dom).toMatch(/<html lang="en" data-chart-marks="\d+" data-rendered="ok">/);
    const marks = Number(/data-chart-marks="(\d+)"/.exec(dom)![1]);
    expect(marks).toBeGreaterThan(2500);
    expect(dom).not.toContain('gauntlet-error"');
    expect(dom).toMatch(/<svg id="tl-0" class="chart timeline"/);
    expect(dom).toContain('REJECT');
  });

  it('reports a script error in the page itself (the check above can fail)', { timeout: 90_000 }, () => {
    const broken = path.join(dir, 'broken.html');
    fs.writeFileSync(broken, renderHtml(result).replace('<script>', '<script>setTimeout(function () { missingFunction(); }, 0);'));
    const { dom, console: logged } = dumpDom(broken);
    expect(dom).toMatch(/<div id="gauntlet-error">report script error: Uncaught ReferenceError: missingFunction is not defined<\/div>/);
    expect(logged.join('\n')).toMatch(/missingFunction is not defined/);
  });

  it('takes a screenshot of the whole report', { timeout: 90_000 }, () => {
    const png = path.join(dir, 'report.png');
    const r = screenshot(file, png);
    expect(r.status).toBe(0);
    expect(r.console).toEqual([]);
    const head = fs.readFileSync(png).subarray(0, 8);
    expect(head.toString('hex')).toBe('89504e470d0a1a0a');
    expect(fs.statSync(png).size).toBeGreaterThan(50_000);
  });
});
