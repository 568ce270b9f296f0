// eventually-processed: after the faults healed and the system went quiet, every payment the provider reports as
// successful has an active subscription with its amount (a number) and its user byte for byte (injection strings
// intact), read back from an instance; no payment that did not succeed has an active one.

import type { Checker } from '../../../harness/scenario.ts';
import { summarise } from '../../../harness/checkers/verdict.ts';
import { activeOf, answerOf, briefDelivery, briefRead, chains, chainsByPayment, describeEventDeliveries, describeState, finalReads, tally, q, subsOf, truth } from './model.ts';
import { unknown } from '../../../harness/checkers/verdict.ts';
import { INJECTION_PAYMENT_IDS, INJECTION_USER_IDS } from '../provider/payloads.ts';
import type { PaymentRecord } from '../../../harness/services/types.ts';

/** The payment carried one of the provider's injection strings (evidence for a security review of a wrong-fields violation). */
export const isInjectionProbe = (p: PaymentRecord) => INJECTION_USER_IDS.some((u) => p.userId.startsWith(u)) || INJECTION_PAYMENT_IDS.some((id) => p.paymentId.startsWith(id));

export const eventuallyProcessed: Checker = {
  id: 'eventually-processed',
  check({ ops, ledger }) {
    if (!ledger) return unknown('eventually-processed', 'the provider ledger is missing (a gauntlet bug)');
    const byPayment = chainsByPayment(chains(ops));
    const violations: { paymentId: string; problem: string; injectionProbe?: true; read?: Record<string, unknown>; deliveries?: Record<string, unknown>[]; message: string }[] = [];
    const payments = [...truth(ledger.payments).values()];
    for (const p of payments) {
      const list = byPayment.get(p.paymentId) ?? [];
      const deliveries = list.slice(0, 4).map((c) => briefDelivery(c.last));
      const reads = finalReads(ops, p.paymentId);
      if (!reads.length) continue; // not read back in this scenario
      const who = `payment ${q(p.paymentId)} (${p.status}, amount ${p.amount}, user ${q(p.userId)})`;
      for (const r of reads) {
        if (r.type !== 'ok') {
          violations.push({ paymentId: p.paymentId, problem: 'unreadable', read: briefRead(r), message: `instance ${r.instance} could not read the subscriptions of ${who} after the run (${answerOf(r)}${r.error ? `: ${r.error}` : ''})` });
          break;
        }
        const subs = subsOf(r);
        const foreign = subs.find((s) => s.paymentId !== p.paymentId);
        const active = activeOf(subs);
        let problem: string | null = null;
        let kind = '';
        if (foreign) {
          kind = 'wrong-payment';
          problem = `getSubscriptionsByPaymentId(${q(p.paymentId)}) on instance ${r.instance} returned a subscription of payment ${q(foreign.paymentId)}`;
        } else if (p.status === 'success' && !active.length) {
          kind = 'not-active';
          problem = `${who} has ${subs.length ? `only ${describeState(subs)}` : 'no subscription'} on instance ${r.instance} after the run; its deliveries: ${describeEventDeliveries(list)}`;
        } else if (p.status !== 'success' && active.length) {
          kind = 'wrongly-active';
          problem = `${who} did not succeed, yet instance ${r.instance} reads an active subscription after the run; its deliveries: ${describeEventDeliveries(list)}`;
        } else if (p.status === 'success') {
          const wrong = active.find((s) => s.amount !== p.amount || s.userId !== p.userId);
          if (wrong) {
            kind = 'wrong-fields';
            const bits = [
              wrong.amount !== p.amount ? `amount ${q(wrong.amount)}${typeof wrong.amount !== 'number' ? ` (a ${typeof wrong.amount}, not a number)` : ''} instead of ${p.amount}` : '',
              wrong.userId !== p.userId ? `userId ${q(wrong.userId)} instead of ${q(p.userId)}` : '',
            ].filter(Boolean);
            problem = `the active subscription of payment ${q(p.paymentId)} on instance ${r.instance} has ${bits.join(' and ')} (strings must come back byte for byte)`;
          }
        }
        if (problem) {
          violations.push({ paymentId: p.paymentId, problem: kind, ...(isInjectionProbe(p) ? { injectionProbe: true as const } : {}), read: briefRead(r), deliveries, message: problem });
          break;
        }
      }
    }
    const succeeded = payments.filter((p) => p.status === 'success').length;
    const kinds = tally(violations.map((v) => v.problem));
    return summarise('eventually-processed', violations, `all ${succeeded} successful payments ended with their active subscription (amount and user exact), and none of the other ${payments.length - succeeded} did`, (v) => v.message + kinds);
  },
};
