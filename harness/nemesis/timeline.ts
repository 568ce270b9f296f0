// The nemesis's record of when each fault was active (FaultWindow), for the report's timeline and for checks
// that excuse calls the contract lets fail under a fault (CONTRACT §8).

import type { FaultWindow } from '../types.ts';

/** A one-off fault (a reset, a kill) gets at least this long a window, so overlap checks can see it. */
export const MIN_WINDOW_US = 1000;

export class FaultTimeline {
  /** Every window, in the order recorded; an open window has `endUs: Infinity` until it is closed. */
  readonly windows: FaultWindow[] = [];
  private readonly open = new Set<FaultWindow>();

  constructor(private readonly nowUs: () => number) {}

  /** Open a window now; the returned function closes it (idempotent) and may add to its detail. */
  start(fault: string, detail?: Record<string, unknown>, startUs: number = this.nowUs()): (extra?: Record<string, unknown>) => void {
    const window: FaultWindow = { fault, startUs, endUs: Number.POSITIVE_INFINITY, ...(detail ? { detail } : {}) };
    this.windows.push(window);
    this.open.add(window);
    return (extra) => {
      if (!this.open.delete(window)) return;
      window.endUs = Math.max(this.nowUs(), window.startUs + 1);
      if (extra) window.detail = { ...window.detail, ...extra };
    };
  }

  /** Record a fault that happened between startUs and now, at least MIN_WINDOW_US long. */
  instant(fault: string, startUs: number, detail?: Record<string, unknown>): FaultWindow {
    const window: FaultWindow = {
      fault,
      startUs,
      endUs: Math.max(this.nowUs(), startUs + MIN_WINDOW_US),
      ...(detail ? { detail } : {}),
    };
    this.windows.push(window);
    return window;
  }

  /** Close every window still open (after the faults behind them were healed). */
  closeAll(): void {
    const endUs = this.nowUs();
    for (const window of this.open) window.endUs = Math.max(endUs, window.startUs + 1);
    this.open.clear();
  }

  get active(): number {
    return this.open.size;
  }
}
