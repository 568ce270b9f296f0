// preferences-respected: nothing is sent on a channel the user did not want for the event's kind when the event
// was published (the last preferences acknowledged before publish was called; one call in flight may apply or not),
// and nothing is sent for an event that was never published.

import type { Checker } from '../../../harness/scenario.ts';
import { brief, summarise, unknown } from '../../../harness/checkers/verdict.ts';
import { expectations, messageView, sentMessages } from './model.ts';

export const preferencesRespected: Checker = {
  id: 'preferences-respected',
  check({ ops, data, ledger }) {
    if (!ledger) return unknown('preferences-respected', 'no provider ledger was recorded for this scenario');
    const expected = expectations({ ops, data });
    const { byDelivery } = sentMessages(ledger);
    const violations = [];
    let checked = 0;
    for (const [k, sent] of byDelivery) {
      const cut = k.lastIndexOf('|');
      const eventId = k.slice(0, cut);
      const channel = k.slice(cut + 1) as 'email' | 'sms' | 'push';
      const exp = expected.get(eventId);
      if (!exp) continue; // delivered-exactly-once names messages for unknown events
      checked++;
      if (!exp.publishes.length) {
        violations.push({ eventId, channel, reason: `${eventId} was sent by ${channel} but never published`, messages: sent.map(messageView) });
        continue;
      }
      if (!exp.allowed.has(channel)) {
        violations.push({
          eventId, channel, userId: exp.user.userId, kind: exp.event.kind,
          reason: `${eventId} (${exp.event.kind}) was sent to ${exp.user.userId} by ${channel}, a channel they did not want for '${exp.event.kind}' when it was published (wanted: ${exp.versions.map((v) => `[${v.prefs.join(', ')}] by ${v.setBy}`).join(' or ')}) — read the preferences when the event is published, not from a copy taken earlier`,
          wanted: exp.versions, publish: exp.publishes.map(brief), messages: sent.map(messageView),
        });
      }
    }
    return summarise('preferences-respected', violations, `every one of the ${checked} delivery(ies) sent went on a channel its user wanted for that kind when the event was published`, (v) => v.reason);
  },
};
