// no-loss-on-crash: an event an instance acknowledged before it was killed is still delivered (or given up for a
// reason the contract allows): accepting an event means it survives the process.

import type { Checker } from '../../../harness/scenario.ts';
import { brief, pass, summarise, unknown } from '../../../harness/checkers/verdict.ts';
import { allowedGiveUp, attemptsByDelivery, deliveryKey, expectations, fanoutData, sentMessages, smsByUser } from './model.ts';

export const noLossOnCrash: Checker = {
  id: 'no-loss-on-crash',
  check({ ops, data, ledger, instanceEvents }) {
    if (!ledger) return unknown('no-loss-on-crash', 'no provider ledger was recorded for this scenario');
    const kills = instanceEvents.filter((e) => e.kind === 'killed' || e.kind === 'exited');
    if (!kills.length) return pass('no-loss-on-crash', 'no instance was killed in this scenario');
    const d = fanoutData(data);
    const expected = expectations({ ops, data });
    const { byDelivery } = sentMessages(ledger);
    const attempts = attemptsByDelivery(ledger);
    const sms = smsByUser(d, ledger);
    const violations = [];
    let atRisk = 0;
    for (const [eventId, exp] of expected) {
      // Acknowledged by an instance before that instance was killed.
      const ack = exp.publishes.find((p) => p.type === 'ok' && kills.some((k) => k.instance === p.instance && k.atUs >= p.endUs));
      if (!ack) continue;
      atRisk++;
      const kill = kills.find((k) => k.instance === ack.instance && k.atUs >= ack.endUs)!;
      for (const channel of exp.required) {
        if ((byDelivery.get(deliveryKey(eventId, channel)) ?? []).length) continue;
        if (allowedGiveUp(exp, channel, d, ledger, sms, attempts)) continue;
        violations.push({ eventId, channel, reason: `${eventId} was acknowledged by instance ${ack.instance} ${Math.round((kill.atUs - ack.endUs) / 1000)} ms before it was killed, and its ${channel} delivery was never sent: an accepted event must be stored durably (a database outbox), not in the process's memory`, publish: brief(ack), killedAtMs: Math.round(kill.atUs / 1000) });
      }
    }
    return summarise('no-loss-on-crash', violations, `all ${atRisk} event(s) acknowledged by instances that were then killed were delivered`, (v) => v.reason);
  },
};
