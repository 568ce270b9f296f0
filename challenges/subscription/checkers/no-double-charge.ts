// no-double-charge: per requestId, the money kept (succeeded charges minus refunds, from the payment ledger) is
// at most one purchase's price. A retry after a ghost success, a duplicate call on another instance, or a recovery
// after a crash must find the first charge again (same Idempotency-Key), never make a second one.

import type { Checker } from '../../../harness/scenario.ts';
import { summarise, unknown } from '../../../harness/checkers/verdict.ts';
import { attributeCharges, callsOf, createsByRequest, keptCharges, netCharged, productsOf, purchasesOf } from './model.ts';

export const noDoubleCharge: Checker = {
  id: 'no-double-charge',
  check({ ops, data, ledger }) {
    if (!ledger) return unknown('no-double-charge', 'no payment ledger was recorded for this scenario');
    const purchases = purchasesOf(data);
    const products = productsOf(data);
    const { byRequest } = attributeCharges(ledger, purchases);
    const creates = createsByRequest(ops);
    const violations = [];
    for (const p of purchases) {
      const charges = byRequest.get(p.requestId) ?? [];
      const kept = keptCharges(charges);
      const net = netCharged(charges);
      const price = products[p.productId]?.price ?? Math.max(0, ...kept.map((c) => c.amount));
      if (kept.length <= 1 && net <= price) continue;
      const list = kept.map((c) => `${c.id} by instance ${c.instance} at ${c.atMs} ms (${c.key ? `key ${c.key}` : 'no Idempotency-Key'})`).join(', ');
      violations.push({
        requestId: p.requestId,
        reason: `${p.requestId} (user ${p.userId}) was charged ${kept.length} times and none of them refunded: ${net} kept for a ${price} purchase — ${list}`,
        userId: p.userId,
        price,
        netCharged: net,
        charges,
        calls: callsOf(creates, p.requestId),
      });
    }
    const charged = purchases.filter((p) => keptCharges(byRequest.get(p.requestId)).length > 0).length;
    return summarise('no-double-charge', violations, `no purchase kept more than one charge (${charged} of ${purchases.length} kept exactly one)`, (v) => v.reason);
  },
};
