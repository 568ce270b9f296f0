// Latency statistics over HDR histograms (hdr-histogram-js): values recorded in whole microseconds, reported in
// milliseconds with three decimals (so µs survive), as the metrics and the benchmark print them.

import { build } from 'hdr-histogram-js';
import type { LatencySummary } from '../types.ts';

/** Three significant digits: a recorded value is off by at most 0.1 % (1 µs at 1 ms, 1 ms at 1 s). */
const SIGNIFICANT_DIGITS = 3;
/** Initial range (60 s in µs); the histogram grows past it by itself. */
const INITIAL_HIGHEST_US = 60_000_000;

const usToMs = (us: number): number => Math.round(us) / 1000;

export const EMPTY_LATENCY: Readonly<LatencySummary> = Object.freeze({ count: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, maxMs: 0, meanMs: 0 });

/** Records latencies in µs; mean and max are kept exactly, percentiles come from the histogram. */
export class LatencyRecorder {
  private histogram = build({
    bitBucketSize: 32,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: INITIAL_HIGHEST_US,
    numberOfSignificantValueDigits: SIGNIFICANT_DIGITS,
  });
  private sumUs = 0;
  private maxUs = 0;
  private n = 0;

  /** Record one latency in µs (negative or non-finite values are ignored: a clock bug, not a latency). */
  recordUs(valueUs: number): void {
    if (!Number.isFinite(valueUs) || valueUs < 0) return;
    const us = Math.round(valueUs);
    this.histogram.recordValue(us);
    this.sumUs += us;
    if (us > this.maxUs) this.maxUs = us;
    this.n++;
  }

  get count(): number {
    return this.n;
  }

  /** Add every value of another recorder (e.g. one per instance into a total). */
  add(other: LatencyRecorder): void {
    if (other.n === 0) return;
    this.histogram.add(other.histogram);
    this.sumUs += other.sumUs;
    this.maxUs = Math.max(this.maxUs, other.maxUs);
    this.n += other.n;
  }

  summary(): LatencySummary {
    if (this.n === 0) return { ...EMPTY_LATENCY };
    // A percentile is the top of its histogram bucket, which can lie a hair above the true maximum.
    const at = (p: number) => usToMs(Math.min(this.histogram.getValueAtPercentile(p), this.maxUs));
    return {
      count: this.n,
      p50Ms: at(50),
      p90Ms: at(90),
      p99Ms: at(99),
      maxMs: usToMs(this.maxUs),
      meanMs: usToMs(this.sumUs / this.n),
    };
  }

  reset(): void {
    this.histogram.reset();
    this.sumUs = 0;
    this.maxUs = 0;
    this.n = 0;
  }
}

/** Summary of a list of latencies in µs. */
export function latencySummary(valuesUs: number[]): LatencySummary {
  const recorder = new LatencyRecorder();
  for (const value of valuesUs) recorder.recordUs(value);
  return recorder.summary();
}
