// The report's charts as inline SVG strings (no script needed to see them, nothing fetched): the timeline of
// operations (time × instance, coloured by outcome, fault windows shaded, counterexample ops outlined), the
// latency histogram, and small horizontal bars.

import type { FaultWindow } from '../../types.ts';
import type { HistogramBin, ScenarioView } from './report-data.ts';

export const COLORS = { ok: '#2f9e44', fail: '#7b8bb2', info: '#e03131', fault: '#ffa8a8', highlight: '#111' } as const;

export function esc(s: unknown): string {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const fmt = (n: number) => (n >= 100 ? Math.round(n).toString() : n >= 10 ? n.toFixed(1) : n >= 1 ? n.toFixed(2) : n.toFixed(3));

function ticks(from: number, to: number, count: number): number[] {
  const span = Math.max(1e-9, to - from);
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to + 1e-9; t += step) out.push(t);
  return out;
}

/** Deterministic spread of an op within its lane, so overlapping calls stay visible. */
const jitter = (i: number) => ((i * 2654435761) % 997) / 997;

export function timelineSvg(v: ScenarioView, faults: FaultWindow[], lag: { t: number; bytes: number | null }[] = []): string {
  const W = 1000;
  const left = 92;
  const right = 12;
  // One label row per kind of fault, so overlapping windows (latency during a reset) keep readable labels.
  const kinds = [...new Set(faults.map((f) => f.fault))];
  const top = 18 + 11 * Math.max(1, kinds.length);
  const laneH = Math.max(34, Math.min(70, 260 / Math.max(1, v.instances.length)));
  const H = top + laneH * v.instances.length + 30;
  const fromMs = v.fromUs / 1000;
  const toMs = Math.max(fromMs + 0.001, v.toUs / 1000);
  const x = (us: number) => left + ((us / 1000 - fromMs) / (toMs - fromMs)) * (W - left - right);
  const laneOf = new Map(v.instances.map((inst, i) => [inst, i]));
  const parts: string[] = [];
  parts.push(`<svg class="chart timeline" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="timeline of ${v.totalOps} operations" xmlns="http://www.w3.org/2000/svg">`);
  // Lanes.
  v.instances.forEach((inst, i) => {
    const y = top + i * laneH;
    parts.push(`<rect x="${left}" y="${y}" width="${W - left - right}" height="${laneH - 4}" fill="${i % 2 ? '#f8f9fa' : '#f1f3f5'}"/>`);
    parts.push(`<text x="${left - 8}" y="${y + laneH / 2}" text-anchor="end" class="axis">${inst < 0 ? 'harness' : `instance ${inst}`}</text>`);
  });
  // Fault windows, under the ops.
  const lastLabelX = new Map<string, number>();
  for (const f of faults) {
    const x0 = Math.max(left, x(f.startUs));
    const x1 = Math.min(W - right, Math.max(x0 + 2, x(f.endUs)));
    const row = kinds.indexOf(f.fault);
    parts.push(`<rect class="fault" data-fault="${esc(f.fault)}" x="${x0.toFixed(1)}" y="${top - 4}" width="${(x1 - x0).toFixed(1)}" height="${laneH * v.instances.length}" fill="${COLORS.fault}" fill-opacity="0.35"><title>${esc(f.fault)}: ${fmt(f.startUs / 1000)}–${fmt(f.endUs / 1000)} ms</title></rect>`);
    parts.push(`<line x1="${x0.toFixed(1)}" x2="${x1.toFixed(1)}" y1="${top - 8 - row * 11}" y2="${top - 8 - row * 11}" stroke="#e03131" stroke-width="2"/>`);
    // A label where there is room for it; every window keeps its tooltip.
    if (x0 - (lastLabelX.get(f.fault) ?? -Infinity) > 8 * f.fault.length) {
      parts.push(`<text x="${(x0 + 2).toFixed(1)}" y="${top - 11 - row * 11}" class="fault-label">${esc(f.fault)}</text>`);
      lastLabelX.set(f.fault, x0);
    }
  }
  // The replica's lag (challenges with a replica): a curve over the lanes, scaled to its own maximum.
  const lagMax = Math.max(0, ...lag.map((p) => p.bytes ?? 0));
  if (lag.length > 1) {
    const yOf = (b: number) => top + laneH * v.instances.length - 6 - (b / Math.max(1, lagMax)) * (laneH * v.instances.length - 12);
    const points = lag.filter((p) => p.bytes !== null && p.t >= v.fromUs && p.t <= v.toUs).map((p) => `${x(p.t).toFixed(1)},${yOf(p.bytes!).toFixed(1)}`);
    if (points.length > 1) parts.push(`<polyline class="replica-lag" points="${points.join(' ')}" fill="none" stroke="#7048e8" stroke-width="1.5" stroke-opacity="0.8"><title>replica lag (WAL bytes behind the primary), max ${lagMax} bytes</title></polyline>`);
    parts.push(`<text x="${W - right - 4}" y="${top + 10}" text-anchor="end" class="fault-label" fill="#7048e8">replica lag, max ${lagMax >= 1024 ? `${Math.round(lagMax / 1024)} KiB` : `${lagMax} B`}</text>`);
  }
  // Ops: a line from invocation to completion; a call that never completed runs dashed to the end.
  const highlighted = new Set(v.highlighted);
  // Drawn in layers: definite failures (usually the many losers), then ok, then indeterminate, then counterexample ops on top.
  const layer = (o: ScenarioView['ops'][number]) => (highlighted.has(o.index) ? 3 : o.type === 'info' ? 2 : o.type === 'ok' ? 1 : 0);
  const drawn = [...v.ops].sort((a, b) => layer(a) - layer(b) || a.index - b.index);
  for (const o of drawn) {
    const lane = laneOf.get(o.instance) ?? 0;
    const y = top + lane * laneH + 3 + jitter(o.index) * (laneH - 10);
    const x0 = x(o.startUs);
    const x1 = Math.max(x0 + 1.5, o.endUs >= 0 ? x(o.endUs) : W - right);
    const hi = highlighted.has(o.index);
    const title = `op ${o.index} · ${o.process} · instance ${o.instance} · ${o.f} ${JSON.stringify(o.args).slice(0, 80)} · ${o.type}${o.code ? ` ${o.code}` : ''}${o.error ? ` (${o.error.slice(0, 80)})` : ''} · ${fmt(o.startUs / 1000)}–${o.endUs >= 0 ? fmt(o.endUs / 1000) : '…'} ms`;
    parts.push(
      `<line class="op op-${o.type}${hi ? ' op-cx' : ''}" data-op="${o.index}" x1="${x0.toFixed(1)}" y1="${y.toFixed(1)}" x2="${x1.toFixed(1)}" y2="${y.toFixed(1)}" stroke="${COLORS[o.type]}" stroke-width="${hi ? 3 : 1.6}" stroke-opacity="${hi ? 1 : 0.6}"${o.endUs < 0 ? ' stroke-dasharray="4 3"' : ''}><title>${esc(title)}</title></line>`,
    );
    if (hi) parts.push(`<circle cx="${x1.toFixed(1)}" cy="${y.toFixed(1)}" r="3.5" fill="none" stroke="${COLORS.highlight}" stroke-width="1.5"/>`);
  }
  // Time axis.
  const axisY = top + laneH * v.instances.length + 4;
  parts.push(`<line x1="${left}" y1="${axisY}" x2="${W - right}" y2="${axisY}" stroke="#adb5bd"/>`);
  for (const t of ticks(fromMs, toMs, 8)) {
    const tx = left + ((t - fromMs) / (toMs - fromMs)) * (W - left - right);
    parts.push(`<line x1="${tx.toFixed(1)}" y1="${axisY}" x2="${tx.toFixed(1)}" y2="${axisY + 4}" stroke="#adb5bd"/><text x="${tx.toFixed(1)}" y="${axisY + 16}" text-anchor="middle" class="axis">${fmt(t)} ms</text>`);
  }
  parts.push('</svg>');
  return parts.join('');
}

/** `deadlineMs`: the answer deadline, marked when calls were answered after it (slow, not failed: CONTRACT §8). */
export function histogramSvg(bins: HistogramBin[], p50Ms?: number, p99Ms?: number, deadlineMs?: number): string {
  const W = 1000;
  const H = 210;
  const left = 52;
  const right = 12;
  const top = 14;
  const bottom = 40;
  const max = Math.max(1, ...bins.map((b) => b.ok + b.fail + b.info));
  const bw = (W - left - right) / Math.max(1, bins.length);
  const y = (n: number) => top + (H - top - bottom) * (1 - n / max);
  const parts: string[] = [`<svg class="chart histogram" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="latency histogram" xmlns="http://www.w3.org/2000/svg">`];
  for (const t of ticks(0, max, 4)) parts.push(`<line x1="${left}" x2="${W - right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#e9ecef"/><text x="${left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end" class="axis">${t}</text>`);
  bins.forEach((b, i) => {
    let base = 0;
    for (const k of ['ok', 'fail', 'info'] as const) {
      if (!b[k]) continue;
      const y0 = y(base + b[k]);
      const h = y(base) - y0;
      parts.push(`<rect class="bar bar-${k}" x="${(left + i * bw + 1).toFixed(1)}" y="${y0.toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${Math.max(0.5, h).toFixed(1)}" fill="${COLORS[k]}"><title>${fmt(b.fromMs)}–${fmt(b.toMs)} ms: ${b[k]} ${k}</title></rect>`);
      base += b[k];
    }
    if (i % 2 === 0) parts.push(`<text x="${(left + i * bw).toFixed(1)}" y="${H - bottom + 16}" text-anchor="middle" class="axis">${fmt(b.fromMs)}</text>`);
  });
  const xOf = (ms: number) => {
    const i = bins.findIndex((b) => ms >= b.fromMs && ms < b.toMs);
    if (i < 0) return null;
    const b = bins[i];
    return left + (i + Math.log2(ms / b.fromMs) / Math.log2(b.toMs / b.fromMs)) * bw;
  };
  for (const [n, [label, v]] of ([['p50', p50Ms], ['p99', p99Ms], ['answer deadline (later answers still count)', deadlineMs]] as const).entries()) {
    const px = v !== undefined && v > 0 ? xOf(v) : null;
    if (px === null) continue;
    const anchor = px > W - 140 ? 'end' : 'start';
    parts.push(`<line x1="${px.toFixed(1)}" x2="${px.toFixed(1)}" y1="${top}" y2="${H - bottom}" stroke="#495057" stroke-dasharray="3 3"/><text x="${(px + (anchor === 'end' ? -4 : 4)).toFixed(1)}" y="${top + 10 + n * 14}" text-anchor="${anchor}" class="axis">${label} ${fmt(v!)} ms</text>`);
  }
  parts.push(`<text x="${(W + left) / 2}" y="${H - 6}" text-anchor="middle" class="axis">latency (ms, log scale)</text></svg>`);
  return parts.join('');
}

/** A horizontal bar: awarded of points, with the unscored (pending) part hatched. */
export function scoreBar(awarded: number, points: number, pending = 0): string {
  const pct = (n: number) => (points ? Math.max(0, Math.min(100, (n / points) * 100)) : 0).toFixed(1);
  return `<div class="bar-track" role="img" aria-label="${awarded} of ${points}"><div class="bar-fill" style="width:${pct(awarded)}%"></div><div class="bar-pending" style="width:${pct(pending)}%"></div></div>`;
}
