// backlog-drained: a burst is delivered within the published bounds, each channel at its own pace. Counted from the
// answer to the burst's last publish: every email and push delivery within drainMs, every SMS within
// ⌈SMS sent / R⌉ s + drainMs (R: the SMS provider's published rate). A delivery given up for a reason the contract
// allows is not waited for; one neither sent nor given up is late forever. One channel held back by another's rate
// limit shows here.

import type { Checker } from '../../../harness/scenario.ts';
import { pass, summarise, unknown } from '../../../harness/checkers/verdict.ts';
import { allowedGiveUp, attemptsByDelivery, deliveryKey, expectations, fanoutData, mainOps, sentMessages, smsByUser } from './model.ts';

export const backlogDrained: Checker = {
  id: 'backlog-drained',
  check({ ops, data, params, ledger }) {
    if (!ledger) return unknown('backlog-drained', 'no provider ledger was recorded for this scenario');
    const d = fanoutData(data);
    const burst = mainOps(ops).filter((o) => o.f === 'publish' && o.phase === 'burst');
    if (!burst.length) return pass('backlog-drained', 'this scenario sent no burst');
    const burstEndUs = Math.max(...burst.map((o) => (o.endUs < 0 ? o.startUs : o.endUs)));
    const burstIds = new Set(d.events.filter((e) => e.group === 'burst').map((e) => e.eventId));
    const expected = expectations({ ops, data });
    const { byDelivery } = sentMessages(ledger);
    const attempts = attemptsByDelivery(ledger);
    const sms = smsByUser(d, ledger);
    const smsSent = [...byDelivery].filter(([k]) => k.endsWith('|sms') && burstIds.has(k.slice(0, k.lastIndexOf('|')))).length;
    const boundUs = {
      email: burstEndUs + params.drainMs * 1000,
      push: burstEndUs + params.drainMs * 1000,
      sms: burstEndUs + (Math.ceil(smsSent / params.smsPerSecond) * 1000 + params.drainMs) * 1000,
    };
    const last: Record<string, number> = { email: 0, sms: 0, push: 0 };
    const violations: { eventId: string; channel: string; late: number; reason: string }[] = [];
    for (const id of burstIds) {
      const exp = expected.get(id);
      if (!exp) continue;
      for (const channel of exp.required) {
        const sent = byDelivery.get(deliveryKey(id, channel)) ?? [];
        if (!sent.length) {
          if (allowedGiveUp(exp, channel, d, ledger, sms, attempts)) continue;
          violations.push({ eventId: id, channel, late: Infinity, reason: `${id}'s ${channel} delivery was never sent (bound: ${Math.round((boundUs[channel] - burstEndUs) / 1000)} ms after the burst)` });
          continue;
        }
        const at = Math.min(...sent.map((m) => m.atUs));
        last[channel] = Math.max(last[channel], at);
        if (at > boundUs[channel]) violations.push({ eventId: id, channel, late: at - boundUs[channel], reason: `${id}'s ${channel} was delivered ${Math.round((at - burstEndUs) / 1000)} ms after the burst, past its ${Math.round((boundUs[channel] - burstEndUs) / 1000)} ms bound` });
      }
    }
    const summary = (['email', 'push', 'sms'] as const).map((c) => `${c} done at +${Math.max(0, Math.round((last[c] - burstEndUs) / 1000))} ms (bound ${Math.round((boundUs[c] - burstEndUs) / 1000)} ms)`).join(', ');
    const perChannel = (['email', 'push', 'sms'] as const).map((c) => ({ channel: c, late: violations.filter((v) => v.channel === c).length }));
    if (violations.length) {
      // The latest first: it shows how far behind the backlog fell, and on which channel.
      violations.sort((a, b) => b.late - a.late);
      const first = violations[0];
      return summarise('backlog-drained', violations.map((v, i) => (i === 0 ? { ...v, reason: `${first.reason}; ${violations.length} delivery(ies) late in all (${perChannel.filter((p) => p.late).map((p) => `${p.channel}: ${p.late}`).join(', ')}): ${summary} — give each channel its own workers, so one provider's limit never holds the others back` } : v)), '', (v) => v.reason);
    }
    return pass('backlog-drained', `the burst of ${burstIds.size} event(s) drained in time: ${summary}`);
  },
};
