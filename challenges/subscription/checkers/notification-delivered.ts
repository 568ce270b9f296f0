// notification-delivered: once outages healed and the system went quiet, every active purchase has exactly one
// `subscription-created` confirmation (to its user, by email, data.requestId naming it) in the notification
// ledger, and nothing else was confirmed: not a failed purchase, not one twice (a retry after a ghost success
// must reuse its Idempotency-Key).

import type { Checker } from '../../../harness/scenario.ts';
import { summarise, unknown } from '../../../harness/checkers/verdict.ts';
import { confirmations, describeFinal, finalOf, finalStates, messageView, purchasesOf, TEMPLATE } from './model.ts';

export const notificationDelivered: Checker = {
  id: 'notification-delivered',
  check({ ops, data, ledger }) {
    if (!ledger) return unknown('notification-delivered', 'no notification ledger was recorded for this scenario');
    const purchases = purchasesOf(data);
    const finals = finalStates(ops);
    const { byRequest, strays } = confirmations(ledger);
    const known = new Set(purchases.map((p) => p.requestId));
    const violations = [];
    let active = 0;
    for (const p of purchases) {
      const f = finalOf(finals, p.requestId);
      const sent = byRequest.get(p.requestId) ?? [];
      const detail = { requestId: p.requestId, userId: p.userId, final: describeFinal(f), messages: sent.map(messageView) };
      if (f.kind === 'unreadable') continue; // eventually-created / crash-recovered say so; here it is undecidable
      if (f.kind !== 'active') {
        if (sent.length) violations.push({ reason: `${p.requestId} is not an active subscription (${describeFinal(f)}), yet ${sent.length} '${TEMPLATE}' confirmation(s) were sent for it`, ...detail });
        continue;
      }
      active++;
      if (sent.length === 0) violations.push({ reason: `${p.requestId} is active but its '${TEMPLATE}' confirmation never arrived (the notification service accepted none naming it)`, ...detail });
      else if (sent.length > 1) violations.push({ reason: `${p.requestId} was confirmed ${sent.length} times (${sent.map((m) => `${m.id} from instance ${m.instance}, ${m.key ? `key ${m.key}` : 'no key'}`).join('; ')}): exactly once is the contract`, ...detail });
      else if (sent[0].to !== p.userId || sent[0].channel !== 'email') violations.push({ reason: `${p.requestId}'s confirmation went to ${sent[0].channel} ${sent[0].to}, not email ${p.userId}`, ...detail });
    }
    for (const [rid, sent] of byRequest) {
      if (!known.has(rid)) violations.push({ reason: `'${TEMPLATE}' confirmation(s) name ${rid}, which no purchase of this run has`, requestId: rid, messages: sent.map(messageView) });
    }
    for (const m of strays) violations.push({ reason: `a '${TEMPLATE}' confirmation (${m.id} from instance ${m.instance}) carries no data.requestId`, messages: [messageView(m)] });
    return summarise('notification-delivered', violations, `each of the ${active} active purchase(s) was confirmed exactly once, and nothing else was`, (v) => v.reason);
  },
};
