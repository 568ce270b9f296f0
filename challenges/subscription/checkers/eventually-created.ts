// eventually-created: every purchase that can succeed (a product in stock, a card that pays) ends active once
// the faults healed, and every call for it was answered with that one subscription: createSubscriptionWithRetry
// absorbs transient service faults itself. Purchases an injected crash interrupted are judged by crash-recovered.

import type { Checker } from '../../../harness/scenario.ts';
import type { Op } from '../../../harness/types.ts';
import { brief, summarise } from '../../../harness/checkers/verdict.ts';
import { callsOf, createsByRequest, describeFinal, finalOf, finalStates, instanceLost, purchasesOf } from './model.ts';
import type { PurchaseValue } from '../operations.ts';

interface Violation {
  requestId: string;
  reason: string;
  final: string;
  calls: ReturnType<typeof brief>[];
}

/** Crash purchases (`crash-*` groups) are judged by crash-recovered, not here. */
export const isCrashPurchase = (group?: string) => !!group && group.startsWith('crash-');

export const eventuallyCreated: Checker = {
  id: 'eventually-created',
  check({ ops, data, instanceEvents }) {
    const finals = finalStates(ops);
    const creates = createsByRequest(ops);
    const violations: Violation[] = [];
    let judged = 0;
    for (const p of purchasesOf(data)) {
      if ((p.expect !== 'active' && p.expect !== 'active-or-out-of-stock') || isCrashPurchase(p.group)) continue;
      judged++;
      const rid = p.requestId;
      const f = finalOf(finals, rid);
      const calls = creates.get(rid) ?? [];
      const v = (reason: string) => violations.push({ requestId: rid, reason, final: describeFinal(f), calls: callsOf(creates, rid) });
      const outOfStock = calls.some((o) => o.type === 'fail' && o.code === 'OUT_OF_STOCK');
      if (f.kind === 'none' && p.expect === 'active-or-out-of-stock' && outOfStock && !calls.some((o) => o.type === 'ok')) continue;
      if (f.kind !== 'active') {
        v(
          f.kind === 'none'
            ? `${rid} (user ${p.userId}, ${p.productId}) never became a subscription: after the faults healed and the system went quiet, getSubscription returns nothing`
            : f.kind === 'unreadable'
              ? `${rid} could not be read after the run: getSubscription ${f.op ? `answered ${f.op.error ?? f.op.code}` : 'was never answered'}`
              : `${rid} reads back as something other than its active subscription: ${describeFinal(f)}`,
        );
        continue;
      }
      for (const op of calls) {
        const lost = instanceLost(op, instanceEvents);
        if (op.type === 'ok') {
          const got = op.value as PurchaseValue;
          if (got.id !== f.value.id || got.chargeId !== f.value.chargeId) v(`${describeCall(op)} answered subscription ${got.id} (charge ${got.chargeId}), but ${rid} is subscription ${f.value.id} (charge ${f.value.chargeId}): one requestId must always be the same purchase`);
        } else if (op.type === 'fail' && op.code === 'OUT_OF_STOCK' && p.expect === 'active-or-out-of-stock') {
          v(`${describeCall(op)} answered OUT_OF_STOCK, yet ${rid} is active`);
        } else if (!lost) {
          v(`${describeCall(op)} was answered ${op.type === 'fail' ? op.code : `with an error (${op.error ?? op.code ?? 'unknown'})`} although ${rid} could succeed and did: createSubscriptionWithRetry must ride out transient service faults and answer with the subscription`);
        }
      }
    }
    return summarise('eventually-created', violations, `all ${judged} purchase(s) that could succeed ended active, and every call for them answered with their subscription`, (x) => x.reason);
  },
};

function describeCall(op: Op): string {
  return `the call for ${String(op.args.requestId)} on instance ${op.instance} (op ${op.index}, ${Math.round(op.startUs / 1000)}–${Math.round(op.endUs / 1000)} ms)`;
}
