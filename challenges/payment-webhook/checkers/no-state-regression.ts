// no-state-regression: once a read showed a payment's subscription active, no read invoked after that read
// completed shows it pending, failed or gone. A late or redelivered `pending` must never downgrade an `active`.

import type { Checker } from '../../../harness/scenario.ts';
import { ms, summarise } from '../../../harness/checkers/verdict.ts';
import type { Op } from '../../../harness/types.ts';
import { activeOf, answersOf, briefDelivery, briefRead, chains, chainsByPayment, describeState, q, readsByPayment, subsOf } from './model.ts';

export const noStateRegression: Checker = {
  id: 'no-state-regression',
  check({ ops }) {
    const byPayment = chainsByPayment(chains(ops));
    const violations: { paymentId: string; activeRead: Record<string, unknown>; laterRead: Record<string, unknown>; between: Record<string, unknown>[]; message: string }[] = [];
    let seenActive = 0;
    for (const [paymentId, reads] of readsByPayment(ops)) {
      let active: Op | null = null;
      for (const r of reads) {
        if (r.type !== 'ok') continue;
        const subs = subsOf(r);
        if (activeOf(subs).length) {
          active ??= r;
          continue;
        }
        if (!active || r.startUs <= active.endUs) continue;
        const a = active;
        const between = (byPayment.get(paymentId) ?? []).filter((c) => c.attempts.some((op) => op.startUs < r.startUs && op.endUs > a.startUs));
        const late = between.find((c) => c.args.eventStatus !== 'success');
        const now = subs.length ? describeState(subs) : 'no subscription at all';
        violations.push({
          paymentId,
          activeRead: briefRead(a),
          laterRead: briefRead(r),
          between: between.slice(0, 4).flatMap((c) => c.attempts.slice(0, 2).map(briefDelivery)),
          message:
            `payment ${q(paymentId)} went back from active to ${now}: instance ${a.instance} read it active at ${ms(a.startUs)} ms, then instance ${r.instance} read ${now} at ${ms(r.startUs)} ms` +
            (late ? ` — in between its ${late.args.eventStatus} event ${late.args.idempotencyKey} arrived${late.args.variant === 'late' ? ' late' : late.args.kind === 'duplicate' ? ' again' : ''} (${late.id} to instance ${late.attempts[0].instance} at ${ms(late.attempts[0].startUs)} ms, answered ${answersOf(late)})` : '') +
            '. Events arrive out of order: a subscription only moves forward (pending → active/failed)',
        });
        break;
      }
      if (active) seenActive++;
    }
    return summarise('no-state-regression', violations, `no subscription ever went back from active (${seenActive} payments were read active)`, (v) => v.message);
  },
};
