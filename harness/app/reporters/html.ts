// The self-contained HTML report (`--report html`): verdict, score by section, red flags and concerns; per
// scenario its checks, counterexample tables, a timeline of operations with fault windows, a latency histogram
// and the reference comparison; the rubric with its evidence, guides and follow-up questions. One file, no
// network (a Content-Security-Policy forbids any fetch); charts are inline SVG, the script only adds filters.

import { libraryNotes } from './library-notes.ts';
import { reproduceCommand } from './reproduce.ts';
import { wireOf } from '../../../rubric/measures.ts';
import type { ScenarioResult } from '../../types.ts';
import type { GradeResult } from '../../../rubric/result.ts';
import { challenges as registry } from '../../../challenges/index.ts';
import { RUBRIC } from '../../../rubric/rubric.ts';
import { sectionTotals } from '../../../rubric/score.ts';
import { busyTimingReason, slowDeadlineText } from '../../machine-watch.ts';
import { flattenCounterexample } from './counterexample.ts';
import { COLORS, esc, histogramSvg, scoreBar, timelineSvg } from './html-charts.ts';
import { loadReportData, type ScenarioView } from './report-data.ts';

const CSS = `
:root { --ok: ${COLORS.ok}; --fail: ${COLORS.fail}; --info: ${COLORS.info}; --ink: #212529; --dim: #6c757d; --line: #dee2e6; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); margin: 0; background: #fff; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 20px 64px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 32px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 22px 0 8px; } h4 { font-size: 13px; margin: 14px 0 6px; color: var(--dim); text-transform: uppercase; letter-spacing: .04em; }
.dim { color: var(--dim); } code, pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
pre { background: #f8f9fa; padding: 8px; overflow-x: auto; border-radius: 4px; }
.header { display: flex; gap: 24px; align-items: center; flex-wrap: wrap; }
.verdict { font-weight: 700; font-size: 20px; padding: 6px 14px; border-radius: 6px; color: #fff; }
.verdict.pass { background: var(--ok); } .verdict.fail { background: #f08c00; } .verdict.reject { background: var(--info); } .verdict.inconclusive { background: #868e96; }
.total { font-size: 30px; font-weight: 700; } .total small { font-size: 14px; font-weight: 400; color: var(--dim); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); gap: 16px; margin-top: 16px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.card.red { border-color: var(--info); background: #fff5f5; } .card.amber { border-color: #f08c00; background: #fff9db; }
.sections .row { display: grid; grid-template-columns: minmax(0, 1.2fr) minmax(90px, 1fr) 72px; gap: 10px; align-items: center; margin: 6px 0; font-size: 13px; }
.bar-track { height: 12px; background: #f1f3f5; border-radius: 6px; overflow: hidden; display: flex; }
.bar-fill { background: var(--ok); } .bar-pending { background: repeating-linear-gradient(45deg, #ced4da, #ced4da 4px, #e9ecef 4px, #e9ecef 8px); }
table { border-collapse: collapse; width: 100%; margin: 6px 0; } th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--dim); font-weight: 600; }
.pass-mark { color: var(--ok); font-weight: 700; } .fail-mark { color: var(--info); font-weight: 700; } .unknown-mark { color: #f08c00; font-weight: 700; }
.tag { display: inline-block; padding: 0 6px; border-radius: 9px; font-size: 12px; background: #e9ecef; margin: 1px 2px; }
.tag.passed { background: #d3f9d8; } .tag.failed, .tag.error { background: #ffe3e3; } .tag.skipped, .tag.not-attempted { background: #f1f3f5; color: var(--dim); }
.scenario { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; margin: 12px 0; }
.metrics { color: var(--dim); font-size: 12px; } .teach { background: #e7f5ff; border-radius: 4px; padding: 4px 8px; margin: 4px 0; font-size: 13px; }
.legend span { display: inline-flex; align-items: center; gap: 4px; margin-right: 14px; font-size: 12px; }
.legend i { width: 14px; height: 4px; display: inline-block; } .legend label { margin-right: 10px; font-size: 12px; }
svg.chart { display: block; margin: 6px 0 10px; } svg .axis { font-size: 11px; fill: #495057; } svg .fault-label { font-size: 10px; fill: #c92a2a; }
.timeline.hide-ok .op-ok, .timeline.hide-fail .op-fail, .timeline.hide-info .op-info { display: none; }
details summary { cursor: pointer; } .guide td:first-child { width: 40px; font-weight: 700; }
.ratio { display: grid; grid-template-columns: 140px 1fr 110px; gap: 8px; align-items: center; margin: 3px 0; font-size: 13px; }
.ratio .ref .bar-fill { background: #adb5bd; }
footer { margin-top: 40px; color: var(--dim); font-size: 12px; }
#gauntlet-error { position: fixed; top: 0; left: 0; right: 0; background: #c92a2a; color: #fff; padding: 6px 10px; }
`;

// The only script: outcome filters on timelines; marks the page rendered; any error shows (and is findable in the DOM).
const SCRIPT = `
(function () {
  function fail(msg) {
    var d = document.getElementById('gauntlet-error') || document.body.appendChild(document.createElement('div'));
    d.id = 'gauntlet-error'; d.textContent = 'report script error: ' + msg;
  }
  window.addEventListener('error', function (e) { fail(e.message || String(e)); });
  window.addEventListener('unhandledrejection', function (e) { fail(String(e.reason)); });
  document.querySelectorAll('[data-filter]').forEach(function (box) {
    box.addEventListener('change', function () {
      var svg = document.getElementById(box.getAttribute('data-target'));
      if (svg) svg.classList.toggle('hide-' + box.getAttribute('data-filter'), !box.checked);
    });
  });
  var marks = document.querySelectorAll('svg.chart line.op, svg.chart rect.bar').length;
  document.documentElement.setAttribute('data-chart-marks', String(marks));
  document.documentElement.setAttribute('data-rendered', 'ok');
})();
`;

/** Violations shown open; the rest fold away. */
const VISIBLE_GROUPS = 2;

const mark = (p: boolean | null) => (p === true ? '<span class="pass-mark">✓</span>' : p === false ? '<span class="fail-mark">✗</span>' : '<span class="unknown-mark">?</span>');

function counterexampleHtml(cx: unknown): string {
  const flat = flattenCounterexample(cx);
  if (!flat.groups.length) return '';
  const out: string[] = [];
  for (const [i, g] of flat.groups.entries()) {
    if (i === VISIBLE_GROUPS) out.push(`<details><summary class="dim">${flat.groups.length - VISIBLE_GROUPS} more violation(s)</summary>`);
    if (g.reason || g.facts.length) out.push(`<p>${g.reason ? esc(g.reason) : ''}${g.facts.length ? ` <span class="dim">${esc(g.facts.join(' · '))}</span>` : ''}</p>`);
    if (g.ops.length) {
      out.push('<table class="cx"><tr><th>role</th><th>op</th><th>process</th><th>instance</th><th>call</th><th>outcome</th><th>start ms</th><th>end ms</th></tr>');
      for (const o of g.ops) out.push(`<tr><td>${esc(o.role)}</td><td>${o.op}</td><td>${esc(o.process)}</td><td>${o.instance}</td><td><code>${esc(o.f)} ${esc(o.args)}</code></td><td>${esc(o.outcome)}${o.value ? `<br><code class="dim">${esc(o.value)}</code>` : ''}</td><td>${Number.isFinite(o.startMs) ? o.startMs : ''}</td><td>${Number.isFinite(o.endMs) ? o.endMs : ''}</td></tr>`);
      out.push('</table>');
    }
  }
  if (flat.groups.length > VISIBLE_GROUPS) out.push('</details>');
  if (flat.truncated) out.push(`<p class="dim">… and ${flat.truncated} more violation(s) in result.json.</p>`);
  if (!flat.groups.some((g) => g.ops.length)) out.push(`<details><summary class="dim">raw counterexample</summary><pre>${esc(JSON.stringify(cx, null, 2).slice(0, 6000))}</pre></details>`);
  return `<div class="counterexample">${out.join('')}</div>`;
}

function metricsText(s: ScenarioResult): string {
  const m = s.metrics;
  const parts = [`${m.operations} ops`, `${m.ok} ok`, `${m.fail} fail`, `${m.indeterminate} indeterminate`, `p50 ${m.p50Ms} ms`, `p99 ${m.p99Ms} ms`, `${m.throughputPerS}/s`, `peak in flight ${m.maxInFlight}`];
  if (m.releaseSkewMs !== undefined) parts.push(`release skew ${m.releaseSkewMs} ms`);
  if (m.loadThroughputPerS !== undefined) parts.push(`load ${m.loadThroughputPerS} req/s`);
  if (typeof m.ctxLogLines === 'number') parts.push(`${m.ctxLogLines} ctx.log lines`);
  return parts.join(' · ');
}

function referenceHtml(s: ScenarioResult): string {
  const own = Number(s.metrics.loadThroughputPerS ?? s.metrics.throughputPerS);
  const ref = Number(s.metrics.referenceThroughputPerS);
  if (!ref) return '';
  const max = Math.max(own, ref);
  return `<h4>Reference comparison</h4>
<div class="ratio"><span>this submission</span>${scoreBar(own, max)}<span>${own} req/s</span></div>
<div class="ratio ref"><span>fastest reference</span>${scoreBar(ref, max)}<span>${ref} req/s</span></div>
<p class="dim">ratio ${esc(s.metrics.throughputRatio)} (${s.metrics.referenceMeasured && s.metrics.referenceMeasured !== 'now' ? `reference measured on this machine at ${esc(s.metrics.referenceMeasured)}, as quiet as now` : 'same run, same load, same machine'})</p>`;
}

function scenarioHtml(challenge: string, s: ScenarioResult, view: ScenarioView | undefined, idx: string): string {
  const info = registry.find((c) => c.id === challenge);
  const status = s.skipped ? 'skipped' : s.status;
  const out: string[] = [`<section class="scenario" id="s-${idx}"><h3>${esc(s.id)} <span class="tag ${status}">${status}</span>${s.durationMs !== undefined ? ` <span class="dim">${(s.durationMs / 1000).toFixed(1)} s</span>` : ''}</h3>`];
  if (s.skipped) out.push(`<p class="dim">${esc(s.skipped)}</p>`);
  if (s.error) out.push(`<pre>${esc(s.error.split('\n').slice(0, 12).join('\n'))}</pre>`);
  if (s.inconclusive) out.push(`<p class="dim"><b>inconclusive</b>: ${esc(s.inconclusive)}</p>`);
  if (s.checks.length) {
    out.push('<table class="checks"><tr><th></th><th>check</th><th>result</th></tr>');
    for (const c of s.checks) {
      const ci = info?.checks.find((x) => x.id === c.id);
      out.push(`<tr class="check ${c.passed === false ? 'failed' : ''}"><td>${mark(c.passed)}</td><td><code>${esc(c.id)}</code></td><td>${esc(c.message)}${c.violations && c.violations > 1 ? ` <span class="dim">(${c.violations} violations)</span>` : ''}`);
      if (c.passed === false && ci) out.push(`<div class="teach"><b>Why it matters:</b> ${esc(ci.why)}<br><b>Hint:</b> ${esc(ci.hint)}</div>`);
      for (const note of libraryNotes(c)) out.push(`<div class="teach"><b>Library:</b> ${esc(note)}</div>`);
      if (c.passed === false) out.push(counterexampleHtml(c.counterexample));
      out.push('</td></tr>');
    }
    out.push('</table>');
  }
  if (!s.skipped && s.metrics.operations) out.push(`<p class="metrics">${esc(metricsText(s))}</p>`);
  if (view && view.ops.length) {
    const id = `tl-${idx}`;
    out.push(`<h4>Timeline</h4><div class="legend">
<span><i style="background:${COLORS.ok}"></i>ok</span><span><i style="background:${COLORS.fail}"></i>fail (definite, e.g. SEAT_TAKEN)</span><span><i style="background:${COLORS.info}"></i>indeterminate</span><span><i style="background:${COLORS.fault}"></i>fault window</span><span><i style="background:${COLORS.highlight}"></i>in a counterexample</span>
<label><input type="checkbox" checked data-filter="ok" data-target="${id}"> ok</label><label><input type="checkbox" checked data-filter="fail" data-target="${id}"> fail</label><label><input type="checkbox" checked data-filter="info" data-target="${id}"> indeterminate</label></div>`);
    out.push(timelineSvg(view, s.faults ?? [], s.replicaLag).replace('<svg class="chart timeline"', `<svg id="${id}" class="chart timeline"`));
    if (view.ops.length < view.totalOps) out.push(`<p class="dim">showing ${view.ops.length} of ${view.totalOps} calls (every indeterminate and counterexample call, and an even sample of the rest)</p>`);
    const slow = typeof s.metrics.slowCalls === 'number' && s.metrics.slowCalls > 0;
    if (view.histogram.length) out.push(`<h4>Latency</h4>${histogramSvg(view.histogram, view.p50Ms, view.p99Ms, slow ? Number(s.metrics.machineDeadlineMs ?? s.metrics.answerDeadlineMs) : undefined)}`);
    const busy = busyTimingReason(s.metrics);
    if (slow) out.push(`<p class="dim">${s.metrics.slowCalls} call(s) answered after ${Number(s.metrics.machineDeadlineMs) > Number(s.metrics.answerDeadlineMs) ? esc(slowDeadlineText(s.metrics)) : `the ${s.metrics.answerDeadlineMs} ms answer deadline`} (slowest ${s.metrics.maxLatencyMs} ms): judged on their answers, and ${busy ? `not scored: ${esc(busy)}` : 'scored as slow under Database optimisation'}.</p>`);
    else if (Number(s.metrics.slowCallsAfterAnswerDeadline) > 0) out.push(`<p class="dim">${s.metrics.slowCallsAfterAnswerDeadline} call(s) answered after the ${s.metrics.answerDeadlineMs} ms answer deadline, none after ${esc(slowDeadlineText(s.metrics))}: not slow on this machine.</p>`);
  } else if (view?.missing && !s.skipped) out.push(`<p class="dim">${esc(view.missing)}</p>`);
  if (s.faults?.length) out.push(`<p class="dim">faults: ${s.faults.map((f) => `${esc(f.fault)} ${(f.startUs / 1000).toFixed(0)}–${(f.endUs / 1000).toFixed(0)} ms`).join(' · ')}</p>`);
  out.push(referenceHtml(s));
  out.push('</section>');
  return out.join('\n');
}

function rubricHtml(r: GradeResult): string {
  const out: string[] = ['<table class="rubric"><tr><th>section</th><th>item</th><th>source</th><th>awarded</th><th>how</th></tr>'];
  for (const l of r.rubric) {
    const item = RUBRIC.find((i) => i.id === l.id || (i.section === l.section && i.item === l.item));
    const guide = l.source === 'manual' && item?.guide
      ? `<details><summary class="dim">guide and follow-up questions</summary><table class="guide">${([0, 3, 5] as const).map((k) => `<tr><td>${k}</td><td>${esc(item.guide![k])}</td></tr>`).join('')}</table><ul>${item.questions.map((q) => `<li>${esc(q)}</li>`).join('')}</ul></details>`
      : '';
    out.push(`<tr><td class="dim">${esc(l.section)}</td><td>${esc(l.item)}${l.mixed ? ' <span class="dim">(mixed)</span>' : ''}</td><td><span class="tag">${l.source}</span></td><td><b>${l.awarded === null ? '–' : l.awarded}</b>/${l.points}${l.autoAwarded !== undefined ? ` <span class="dim">(was ${l.autoAwarded})</span>` : ''}</td><td>${esc(l.detail ?? '')}${l.evidence.length ? `<br>${l.evidence.map((e) => `<span class="tag">${esc(e)}</span>`).join('')}` : ''}${guide}</td></tr>`);
  }
  out.push('</table>');
  return out.join('\n');
}

/** Concurrency-control techniques seen on the wire in any scenario. */
function techniquesOf(r: GradeResult): string[] {
  return [...new Set(r.challenges.flatMap((c) => c.scenarios.flatMap((x) => wireOf(x)?.techniques.map((t) => t.technique) ?? [])))];
}

function evidenceHtml(r: GradeResult): string {
  const s = r.evidence?.static;
  if (!s) return r.evidence?.staticError ? `<p class="dim">${esc(r.evidence.staticError)}</p>` : '';
  const refs = (xs: { file: string; line: number; text?: string }[]) => xs.slice(0, 6).map((x) => `<li><code>${esc(`${x.file}:${x.line}`)}</code> ${esc(x.text ?? '')}</li>`).join('');
  const rows: [string, string][] = [
    ['files', `${s.files.length} (${s.linesOfCode} lines of code)`],
    ['TypeScript --strict', s.typescript.checked ? `${s.typescript.errors} error(s), ${s.typescript.explicitAny} explicit any` : esc(s.typescript.reason ?? 'not checked')],
    ['concurrency control (wire)', techniquesOf(r).map(esc).join(', ') || 'none seen'],
    ['retries', s.retries.length ? `found (${s.retries.length} place(s))` : 'none found'],
    ['ctx.log calls', String(s.ctxLogCalls)],
    ['own tests', `${s.tests.files.length} file(s), ${s.tests.concurrencyTests} with concurrency, ${s.tests.failureTests} with failures`],
    ['transactions through the pool', s.poolTransactions.length ? `${s.poolTransactions.length} place(s)` : 'none'],
  ];
  const out = [`<table>${rows.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join('')}</table>`];
  if (s.typescript.errorSamples.length) out.push(`<h4>Type errors</h4><ul>${s.typescript.errorSamples.map((e) => `<li><code>${esc(`${e.file}:${e.line}`)}</code> ${esc(e.message)}</li>`).join('')}</ul>`);
  if (s.hardcoded.length) out.push(`<h4>Hard-coded configuration</h4><ul>${refs(s.hardcoded)}</ul>`);
  if (s.interpolatedSql.length) out.push(`<h4>SQL built from input</h4><ul>${refs(s.interpolatedSql)}</ul>`);
  if (s.swallowedErrors.length) out.push(`<h4>Errors of writes dropped</h4><ul>${refs(s.swallowedErrors)}</ul>`);
  const tables = new Map<string, NonNullable<ScenarioResult['inspection']>['tables'][number]>();
  for (const ch of r.challenges) for (const sc of ch.scenarios) for (const t of sc.inspection?.tables ?? []) if (!tables.has(t.name)) tables.set(t.name, t);
  if (tables.size) {
    out.push('<h4>Schema (from the catalog)</h4><table><tr><th>table</th><th>primary key</th><th>indexes</th><th>foreign keys</th></tr>');
    for (const t of tables.values()) out.push(`<tr><td><code>${esc(t.name)}</code></td><td>${t.primaryKey ? esc(t.primaryKey.join(', ')) : '<b>none</b>'}</td><td>${t.indexes.map((i) => `${esc(i.name)} (${esc(i.columns.join(', '))})${i.unique ? ' unique' : ''}`).join('<br>')}</td><td>${t.foreignKeys.map((f) => `${esc(f.columns.join(', '))} → ${esc(f.references)}`).join('<br>') || '–'}</td></tr>`);
    out.push('</table>');
  }
  return out.join('\n');
}

export interface HtmlOptions {
  /** Pre-loaded scenario views (tests); loaded from the history files otherwise. */
  views?: Map<string, ScenarioView>;
  maxTimelineOps?: number;
}

export function renderHtml(r: GradeResult, opts: HtmlOptions = {}): string {
  const views = opts.views ?? loadReportData(r, opts.maxTimelineOps);
  const sections = sectionTotals(r.rubric);
  const body: string[] = [];
  body.push(`<div class="header"><div><h1>gauntlet report</h1><div class="dim">${esc(r.submission)}</div><div class="dim">profile ${esc(r.profile)} · seed ${r.seed} · ${r.instances ?? '?'} instances · ${esc(r.startedAt ?? '')}${r.runId ? ` · run ${esc(r.runId)}` : ''}</div></div>
<span class="verdict ${r.verdict}">${r.verdict.toUpperCase()}</span>
<div class="total">${r.score.total}<small> / 100 · automated ${r.score.automated}/${r.score.automatedMax} · manual ${r.score.manual === null ? 'not scored yet' : `${r.score.manual}/${r.score.manualMax}`}</small></div></div>`);
  body.push('<div class="cards">');
  body.push(`<div class="card sections"><h4>Score by section</h4>${sections.map((s) => `<div class="row"><span>${esc(s.section)}</span>${scoreBar(s.awarded, s.points, s.pending)}<span>${s.awarded}/${s.points}${s.pending ? ' <span class="dim">*</span>' : ''}</span></div>`).join('')}${sections.some((s) => s.pending) ? '<p class="dim">* hatched: manual points not scored yet (gauntlet score)</p>' : ''}</div>`);
  if (r.redFlags.length) body.push(`<div class="card red"><h4>Red flags (immediate rejection)</h4><ul>${r.redFlags.map((f) => `<li><b>${esc(f.id)}</b> (<code>${esc(f.check)}</code>): ${esc(f.evidence)}</li>`).join('')}</ul></div>`);
  if (r.concerns?.length) body.push(`<div class="card amber"><h4>Major concerns</h4><ul>${r.concerns.map((c) => `<li><b>${esc(c.title)}</b><ul>${c.evidence.map((e) => (e.includes('\n') ? `<li><pre class="evidence">${esc(e)}</pre></li>` : `<li>${esc(e)}</li>`)).join('')}</ul></li>`).join('')}</ul></div>`);
  body.push('</div>');
  body.push('<h2>Challenges</h2>');
  let n = 0;
  for (const ch of r.challenges) {
    body.push(`<h3>${esc(ch.id)} <span class="tag ${ch.status}">${ch.status}</span>${ch.file ? ` <span class="dim">${esc(ch.file)}</span>` : ''}</h3>`);
    if (ch.error) body.push(`<p class="dim">${esc(ch.error)}</p>`);
    for (const s of ch.scenarios) body.push(scenarioHtml(ch.id, s, views.get(`${ch.id}/${s.id}`), String(n++)));
  }
  body.push('<h2>Rubric</h2>', rubricHtml(r));
  body.push('<h2>Evidence from the source</h2>', evidenceHtml(r));
  body.push(`<footer>reproduce: <code>${esc(reproduceCommand(r))}</code>${r.runDir ? ` · run folder <code>${esc(r.runDir)}</code>` : ''}</footer>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gauntlet · ${esc(r.verdict)} · ${r.score.total}/100 · ${esc(r.submission.split('/').pop() ?? '')}</title>
<style>${CSS}</style></head>
<body><main>
${body.join('\n')}
</main>
<script>${SCRIPT}</script>
</body></html>
`;
}
