// publish-decoupled: while providers fail or are down, publish still answers, fast. Every publish that overlapped a
// provider fault window is acknowledged, within max(publishBoundMs, 3 × the median calm publish of the run) — a
// slower one fails when its instance called a provider for that event meanwhile (it waited for delivery), or when it
// took more than twice the bound whatever the reason. A slow machine alone is not a violation (inconclusive).

import type { Checker } from '../../../harness/scenario.ts';
import type { Op } from '../../../harness/types.ts';
import type { AttemptRecord } from '../../../harness/services/types.ts';
import { brief, instanceLost, lowerMedian, pass, summarise } from '../../../harness/checkers/verdict.ts';
import { CHANNELS } from '../operations.ts';
import { attemptView, mainOps } from './model.ts';

export const DEFAULT_PUBLISH_BOUND_MS = 1000;

export const publishDecoupled: Checker = {
  id: 'publish-decoupled',
  check({ ops, faults, params, ledger, instanceEvents }) {
    const windows = faults.filter((w) => (w.fault === 'service-outage' || w.fault === 'service-faults') && (CHANNELS as readonly string[]).includes(String(w.detail?.service)));
    if (!windows.length) return pass('publish-decoupled', 'no provider failed in this scenario');
    const publishes = mainOps(ops).filter((o) => o.f === 'publish');
    const calm = publishes.filter((o) => o.phase === 'calm' && o.type === 'ok').map((o) => (o.endUs - o.startUs) / 1000);
    const boundMs = Math.max(params.publishBoundMs ?? DEFAULT_PUBLISH_BOUND_MS, 3 * lowerMedian(calm));
    const during = publishes.filter((o) => windows.some((w) => o.startUs <= w.endUs && (o.endUs < 0 || o.endUs >= w.startUs)));
    const violations = [];
    for (const op of during) {
      const tookMs = op.endUs < 0 ? Infinity : (op.endUs - op.startUs) / 1000;
      const inline = providerCalls(op, ledger?.attempts ?? []);
      const evidence = inline.length ? ` (meanwhile instance ${op.instance} called the providers ${inline.length} time(s) for it)` : '';
      if (op.type !== 'ok') {
        if (instanceLost(op, instanceEvents)) continue;
        violations.push({ eventId: op.args.eventId, reason: `publishing ${String(op.args.eventId)} on instance ${op.instance} was answered with an error (${op.error ?? op.code ?? 'unknown'}) while a provider was failing${evidence}: accept the event and deliver it later`, call: brief(op), providerCalls: inline.slice(0, 6).map(attemptView) });
      } else if (tookMs > boundMs && (inline.length >= 1 || tookMs > 2 * boundMs)) {
        violations.push({ eventId: op.args.eventId, reason: `publishing ${String(op.args.eventId)} on instance ${op.instance} took ${Math.round(tookMs)} ms while a provider was failing, more than the ${Math.round(boundMs)} ms bound${evidence}: store the event, answer, and deliver in the background`, tookMs: Math.round(tookMs), boundMs: Math.round(boundMs), call: brief(op), providerCalls: inline.slice(0, 6).map(attemptView) });
      }
    }
    return summarise('publish-decoupled', violations, `${during.length} publish(es) ran while a provider failed; all were acknowledged within ${Math.round(boundMs)} ms without waiting for delivery`, (v) => v.reason);
  },
};

/** Provider attempts the op's instance made for this event while the call ran. */
function providerCalls(op: Op, attempts: readonly AttemptRecord[]): AttemptRecord[] {
  const id = String(op.args.eventId);
  const end = op.endUs < 0 ? Number.MAX_SAFE_INTEGER : op.endUs;
  return attempts.filter((a) => (CHANNELS as readonly string[]).includes(String(a.service)) && a.instance === op.instance && a.startUs >= op.startUs && a.startUs <= end && JSON.stringify(a.body ?? '').includes(id));
}
