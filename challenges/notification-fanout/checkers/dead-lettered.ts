// dead-lettered: what the service gave up is listed by getDeadLetters, once each, with a reason; nothing delivered and
// nothing given up without a cause the contract allows is listed; and every delivery that can only be given up (an
// invalid or poison recipient, an SMS over the user's limit) is listed — the poison ones after at most 10 attempts
// (POISON_ATTEMPT_SLACK more are allowed for a lease that expired while a call was out). A delivery both sent and
// listed is wrong only if some answer told the service it was sent: a ghost success on the last try never did.

import type { Checker } from '../../../harness/scenario.ts';
import { summarise, unknown } from '../../../harness/checkers/verdict.ts';
import { CHANNELS } from '../operations.ts';
import { addressOf, allowedGiveUp, ATTEMPTS_BEFORE_GIVING_UP, attemptsByDelivery, attemptView, deliveryKey, expectations, failedAttempt, fanoutData, messageView, reportedDeadLetters, sentMessages, smsByUser } from './model.ts';

export const POISON_ATTEMPT_SLACK = 2;

export const deadLettered: Checker = {
  id: 'dead-lettered',
  check({ ops, data, ledger }) {
    if (!ledger) return unknown('dead-lettered', 'no provider ledger was recorded for this scenario');
    const dead = reportedDeadLetters(ops);
    if (dead === null) return unknown('dead-lettered', 'getDeadLetters could not be read after the run (see the final reads in the history)');
    const d = fanoutData(data);
    const expected = expectations({ ops, data });
    const { byDelivery } = sentMessages(ledger);
    const attempts = attemptsByDelivery(ledger);
    const sms = smsByUser(d, ledger);
    const violations = [];
    const seen = new Map<string, number>();
    for (const x of dead) {
      const k = deliveryKey(x.eventId, x.channel);
      seen.set(k, (seen.get(k) ?? 0) + 1);
      const exp = expected.get(x.eventId);
      if (!exp || !(CHANNELS as readonly string[]).includes(x.channel)) {
        violations.push({ reason: `the dead letter ${JSON.stringify(x)} names no delivery of this run (an unknown event or channel)`, deadLetter: x });
        continue;
      }
      if (!x.reason.trim()) violations.push({ reason: `the dead letter for ${x.eventId} by ${x.channel} has no reason`, deadLetter: x });
      const sent = byDelivery.get(k) ?? [];
      // Sent, but no answer ever told the service so (a ghost success on its last try): giving up was all it could do.
      const toldSent = (attempts.get(k) ?? []).some((a) => a.status >= 200 && a.status < 300);
      if (sent.length && toldSent) {
        violations.push({ reason: `${x.eventId} by ${x.channel} is listed as given up, yet it was delivered (${sent.map((m) => m.id).join(', ')})`, deadLetter: x, messages: sent.map(messageView) });
        continue;
      }
      if (sent.length) continue;
      if (!exp.allowed.has(x.channel as 'email')) {
        violations.push({ reason: `${x.eventId} by ${x.channel} is listed as given up, but the event never owed a ${x.channel} delivery (its user did not want ${x.channel} for '${exp.event.kind}')`, deadLetter: x });
      } else if (!allowedGiveUp(exp, x.channel as 'email', d, ledger, sms, attempts)) {
        const tried = (attempts.get(k) ?? []).map(attemptView);
        violations.push({ reason: `${x.eventId} by ${x.channel} was given up ("${x.reason}") with no cause the contract allows: ${tried.filter((a) => a.status >= 500 || a.status === 0).length} failed attempt(s) — retry transient failures for at least 5 s`, deadLetter: x, attempts: tried.slice(0, 12) });
      }
    }
    for (const [k, n] of seen) if (n > 1) violations.push({ reason: `${k.replace('|', ' by ')} is listed ${n} times among the dead letters: once is the contract`, delivery: k });
    for (const [eventId, exp] of expected) {
      for (const channel of exp.required) {
        const k = deliveryKey(eventId, channel);
        if ((byDelivery.get(k) ?? []).length || seen.has(k)) continue;
        const address = addressOf(exp.user, channel);
        const why = d.invalid.includes(address) ? 'its recipient is invalid (422)' : d.poison.includes(address) ? 'its recipient fails every time' : null;
        if (why) violations.push({ eventId, channel, reason: `${eventId} by ${channel} can only be given up (${why}), yet it is not among the dead letters`, attempts: (attempts.get(k) ?? []).slice(0, 12).map(attemptView) });
      }
    }
    for (const [k, tried] of attempts) {
      const [eventId, channel] = [k.slice(0, k.lastIndexOf('|')), k.slice(k.lastIndexOf('|') + 1)];
      const exp = expected.get(eventId);
      if (!exp || !d.poison.includes(addressOf(exp.user, channel as 'email'))) continue;
      const failed = tried.filter(failedAttempt);
      if (failed.length > ATTEMPTS_BEFORE_GIVING_UP + POISON_ATTEMPT_SLACK) violations.push({ eventId, channel, reason: `${eventId} by ${channel} failed ${failed.length} times before anything gave up: give a delivery up after 10 failed attempts (a poison message retried forever is a retry storm)`, attempts: failed.slice(0, 6).map(attemptView) });
    }
    return summarise('dead-lettered', violations, `${dead.length} dead letter(s), each given up for a reason the contract allows and listed once; every delivery that could only be given up is among them`, (v) => v.reason);
  },
};
