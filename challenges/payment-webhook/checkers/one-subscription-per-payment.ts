// one-subscription-per-payment: no read, during the run or after it, ever shows a payment with more than one
// subscription. Duplicated or concurrent deliveries that each created their own subscription are the classic
// webhook bug (red flag no-idempotency).

import type { Checker } from '../../../harness/scenario.ts';
import { ms, summarise } from '../../../harness/checkers/verdict.ts';
import { briefDelivery, briefRead, chains, chainsByPayment, describeEventDeliveries, describeSubs, distinctSubs, q, readsByPayment, subsOf } from './model.ts';

export const oneSubscriptionPerPayment: Checker = {
  id: 'one-subscription-per-payment',
  check({ ops }) {
    const byPayment = chainsByPayment(chains(ops));
    const violations: { paymentId: string; count: number; read: Record<string, unknown>; deliveries: Record<string, unknown>[]; message: string }[] = [];
    let read = 0;
    for (const [paymentId, reads] of readsByPayment(ops)) {
      const ok = reads.filter((r) => r.type === 'ok');
      read += ok.length ? 1 : 0;
      // Prefer the final read as evidence (after the system went quiet), else the first read that shows it.
      const bad = [...ok].reverse().find((r) => r.phase === 'final' && distinctSubs(subsOf(r)).length > 1) ?? ok.find((r) => distinctSubs(subsOf(r)).length > 1);
      if (!bad) continue;
      const subs = distinctSubs(subsOf(bad));
      const list = byPayment.get(paymentId) ?? [];
      const when = bad.phase === 'final' ? 'after the run' : `during the run`;
      violations.push({
        paymentId,
        count: subs.length,
        read: briefRead(bad),
        deliveries: list.slice(0, 6).flatMap((c) => c.attempts.slice(0, 2).map(briefDelivery)),
        message:
          `payment ${q(paymentId)} has ${subs.length} subscriptions (${describeSubs(subs)}), read from instance ${bad.instance} at ${ms(bad.startUs)} ms ${when}; ` +
          `its deliveries: ${describeEventDeliveries(list)}. Each delivery of the same payment must find the subscription the first one created`,
      });
    }
    return summarise('one-subscription-per-payment', violations, `every one of the ${read} payments read back has at most one subscription`, (v) => v.message);
  },
};
