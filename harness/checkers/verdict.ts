// Shared checker helpers: verdicts, compact op descriptions for counterexamples, and the rule deciding
// whether an injected fault excuses an indeterminate call (CONTRACT §8: faults count against a call only
// when the contract says the call must survive them).

import type { CheckResult, FaultWindow, InstanceEvent, Op } from '../types.ts';

export function pass(id: string, message: string): CheckResult {
  return { id, passed: true, message };
}

export function fail(id: string, message: string, counterexample: unknown, violations = 1): CheckResult {
  return { id, passed: false, message, counterexample, violations };
}

export function unknown(id: string, message: string): CheckResult {
  return { id, passed: null, message };
}

/** Milliseconds with one decimal, for people. */
export const ms = (us: number) => Math.round(us / 100) / 10;

/** A compact, JSON-friendly view of an op for counterexamples. */
export function brief(op: Op): Record<string, unknown> {
  return {
    op: op.index,
    process: op.process,
    instance: op.instance,
    f: op.f,
    args: op.args,
    outcome: op.type === 'fail' ? `fail ${op.code ?? ''}`.trim() : op.type === 'info' ? `indeterminate (${op.error ?? op.code ?? 'unknown'})` : 'ok',
    ...(op.type === 'ok' && op.value !== undefined ? { value: op.value } : {}),
    startMs: ms(op.startUs),
    endMs: ms(op.endUs),
  };
}

/** One line naming an op, for messages: `user-17 on instance 2 (op 41, 12.3–15.0 ms)`. */
export function who(op: Op): string {
  return `${op.process} on instance ${op.instance} (op ${op.index}, ${ms(op.startUs)}–${ms(op.endUs)} ms)`;
}

/** Margin after a fault heals during which calls may still feel it (broken pool connections being replaced). */
export const FAULT_MARGIN_US = 1_000_000;

/** Faults a correct solution rides through without any error: they never excuse an indeterminate answer. */
export const NON_BREAKING_FAULTS = new Set(['db-latency']);

/**
 * True when the op overlapped an injected fault (with a margin after it), a harness kill of its instance, or a
 * crash of its instance (counted by `no-crash` instead): such an indeterminate outcome is not held against
 * the call itself.
 */
export function excused(op: Op, faults: FaultWindow[], events: InstanceEvent[]): boolean {
  const end = op.endUs < 0 ? Number.MAX_SAFE_INTEGER : op.endUs;
  for (const w of faults) {
    if (NON_BREAKING_FAULTS.has(w.fault)) continue;
    if (op.startUs <= w.endUs + FAULT_MARGIN_US && end >= w.startUs) return true;
  }
  for (const e of events) {
    if (e.instance !== op.instance) continue;
    if ((e.kind === 'killed' || e.kind === 'exited') && e.atUs >= op.startUs - FAULT_MARGIN_US && e.atUs <= end + FAULT_MARGIN_US) return true;
  }
  return false;
}

/** Group violations, keep the first few as the counterexample, count the rest. */
export function summarise<T>(id: string, violations: T[], okMessage: string, describeFirst: (v: T) => string, limit = 5): CheckResult {
  if (violations.length === 0) return pass(id, okMessage);
  const more = violations.length > 1 ? ` (and ${violations.length - 1} more violation${violations.length > 2 ? 's' : ''})` : '';
  return fail(id, describeFirst(violations[0]) + more, violations.slice(0, limit), violations.length);
}

/** The call's instance was killed or died during it (±`marginUs`): an unanswered call is then not held against it. */
export function instanceLost(op: Op, events: InstanceEvent[], marginUs = 1_000_000): boolean {
  const end = op.endUs < 0 ? Number.MAX_SAFE_INTEGER : op.endUs;
  return events.some((e) => e.instance === op.instance && (e.kind === 'killed' || e.kind === 'exited') && e.atUs >= op.startUs - marginUs && e.atUs <= end + marginUs);
}

/** The lower median (the middle value, or the lower of the two middle ones); 0 for none. */
export function lowerMedian(xs: number[]): number {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}
