// Tests of the latency summary: µs in, ms with three decimals out, percentiles within HDR precision,
// exact mean and max, empty and bad input.

import { describe, expect, it } from 'vitest';
import { LatencyRecorder, latencySummary } from './latency.ts';

describe('latencySummary', () => {
  it('is all zeros for no values', () => {
    expect(latencySummary([])).toEqual({ count: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, maxMs: 0, meanMs: 0 });
  });

  it('reports ms with µs precision', () => {
    const s = latencySummary([1234]);
    expect(s).toEqual({ count: 1, p50Ms: 1.234, p90Ms: 1.234, p99Ms: 1.234, maxMs: 1.234, meanMs: 1.234 });
  });

  it('gets percentiles within 0.1 % and mean and max exactly', () => {
    const values = Array.from({ length: 1000 }, (_, i) => (i + 1) * 100); // 0.1 ms .. 100 ms
    const s = latencySummary(values);
    expect(s.count).toBe(1000);
    expect(s.p50Ms).toBeCloseTo(50, 0);
    expect(Math.abs(s.p50Ms - 50) / 50).toBeLessThan(0.002);
    expect(Math.abs(s.p90Ms - 90) / 90).toBeLessThan(0.002);
    expect(Math.abs(s.p99Ms - 99) / 99).toBeLessThan(0.002);
    expect(s.maxMs).toBe(100);
    expect(s.meanMs).toBe(50.05);
    for (const v of [s.p50Ms, s.p90Ms, s.p99Ms, s.meanMs]) expect(Math.round(v * 1000) / 1000).toBe(v);
  });

  it('never reports a percentile above the maximum', () => {
    const s = latencySummary([999_999, 1_000_001, 1_234_567]);
    expect(s.p99Ms).toBeLessThanOrEqual(s.maxMs);
    expect(s.maxMs).toBe(1234.567);
  });

  it('ignores negative and non-finite values', () => {
    expect(latencySummary([-5, Number.NaN, Infinity, 2000]).count).toBe(1);
  });
});

describe('LatencyRecorder', () => {
  it('records, merges and resets', () => {
    const a = new LatencyRecorder();
    const b = new LatencyRecorder();
    a.recordUs(1000);
    a.recordUs(3000);
    b.recordUs(2000.4);
    a.add(b);
    expect(a.count).toBe(3);
    expect(a.summary()).toMatchObject({ count: 3, p50Ms: 2, maxMs: 3, meanMs: 2 });
    a.reset();
    expect(a.summary().count).toBe(0);
  });

  it('handles very long latencies (past the initial range)', () => {
    const r = new LatencyRecorder();
    r.recordUs(3_600_000_000); // an hour
    expect(r.summary().maxMs).toBe(3_600_000);
    expect(Math.abs(r.summary().p50Ms - 3_600_000) / 3_600_000).toBeLessThan(0.001);
  });
});
