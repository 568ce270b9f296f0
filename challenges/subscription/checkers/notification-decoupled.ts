// notification-decoupled: while the notification service fails or is down, purchases neither fail nor wait for
// it. Every purchase that could succeed and ran during a notification fault window answers with its subscription,
// and is not held up: slower than the bound, max(decoupledBoundMs, 3 × the median of the healthy baseline), while its
// instance called the notification service for it at least twice meanwhile (waiting for the email), or slower than
// twice the bound whatever the reason. A slow machine alone is not a violation.

import type { Checker } from '../../../harness/scenario.ts';
import type { Op } from '../../../harness/types.ts';
import { brief, lowerMedian, pass, summarise } from '../../../harness/checkers/verdict.ts';
import { attemptView } from './attempts.ts';
import { isCrashPurchase } from './eventually-created.ts';
import { instanceLost, mainOps, purchasesOf } from './model.ts';

export const DEFAULT_DECOUPLED_BOUND_MS = 1500;

export const notificationDecoupled: Checker = {
  id: 'notification-decoupled',
  check({ ops, data, faults, params, ledger, instanceEvents }) {
    const windows = faults.filter((w) => (w.fault === 'service-outage' || w.fault === 'service-faults') && w.detail?.service === 'notifications');
    if (!windows.length) return pass('notification-decoupled', 'the notification service never failed in this scenario');
    const canSucceed = new Set(purchasesOf(data).filter((p) => (p.expect === 'active' || p.expect === 'active-or-out-of-stock') && !isCrashPurchase(p.group)).map((p) => p.requestId));
    const creates = mainOps(ops).filter((o) => o.f === 'create' && canSucceed.has(String(o.args.requestId)));
    const baseline = creates.filter((o) => o.phase === 'baseline' && o.type === 'ok').map((o) => (o.endUs - o.startUs) / 1000);
    // The median, not a high percentile: the baseline runs first, on cold instances, and its slowest calls are warm-up.
    const boundMs = Math.max(params.decoupledBoundMs ?? DEFAULT_DECOUPLED_BOUND_MS, 3 * lowerMedian(baseline));
    const during = creates.filter((o) => windows.some((w) => o.startUs <= w.endUs && (o.endUs < 0 || o.endUs >= w.startUs)));
    const violations = [];
    for (const op of during) {
      const tookMs = op.endUs < 0 ? Infinity : (op.endUs - op.startUs) / 1000;
      const inline = notificationCalls(op, ledger?.attempts ?? []);
      const evidence = inline.length ? ` (meanwhile instance ${op.instance} called the notification service ${inline.length} time(s) for it)` : '';
      if (op.type !== 'ok') {
        if (instanceLost(op, instanceEvents)) continue;
        violations.push({ requestId: op.args.requestId, reason: `the purchase ${String(op.args.requestId)} on instance ${op.instance} was answered ${op.type === 'fail' ? op.code : `with an error (${op.error ?? op.code ?? 'unknown'})`} while notifications were failing${evidence}: a notification must never fail a purchase`, call: brief(op), notificationCalls: inline.slice(0, 6).map(attemptView) });
      } else if (tookMs > boundMs && (inline.length >= 2 || tookMs > 2 * boundMs)) {
        violations.push({ requestId: op.args.requestId, reason: `the purchase ${String(op.args.requestId)} on instance ${op.instance} took ${Math.round(tookMs)} ms while notifications were failing, more than the ${Math.round(boundMs)} ms bound${evidence}: send confirmations after answering (an outbox), not inside the purchase`, tookMs: Math.round(tookMs), boundMs: Math.round(boundMs), call: brief(op), notificationCalls: inline.slice(0, 6).map(attemptView) });
      }
    }
    return summarise('notification-decoupled', violations, `${during.length} purchase(s) ran while notifications failed; all answered with their subscription without waiting for the notification service (bound ${Math.round(boundMs)} ms)`, (v) => v.reason);
  },
};

/** Notification attempts the op's instance made for this purchase while the call ran. */
function notificationCalls(op: Op, attempts: NonNullable<Parameters<Checker['check']>[0]['ledger']>['attempts']) {
  const rid = String(op.args.requestId);
  const end = op.endUs < 0 ? Number.MAX_SAFE_INTEGER : op.endUs;
  return attempts.filter((a) => a.service === 'notifications' && a.instance === op.instance && a.startUs >= op.startUs && a.startUs <= end && JSON.stringify(a.body ?? '').includes(rid));
}

