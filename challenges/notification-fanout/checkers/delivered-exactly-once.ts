// delivered-exactly-once: every delivery an accepted event owes (its user's wanted channels when it was published)
// is sent exactly once, to the user's address on that channel — or given up for a reason the contract allows (an
// invalid recipient, the per-user SMS limit, 10 failed attempts) and listed as a dead letter. Never twice: a retry
// after a ghost success must reuse its Idempotency-Key.

import type { Checker } from '../../../harness/scenario.ts';
import { summarise, unknown } from '../../../harness/checkers/verdict.ts';
import { CHANNELS } from '../operations.ts';
import { addressOf, allowedGiveUp, satisfiedOption, attemptsByDelivery, attemptView, deliveryKey, expectations, fanoutData, messageView, reportedDeadLetters, sentMessages, smsByUser } from './model.ts';

export const deliveredExactlyOnce: Checker = {
  id: 'delivered-exactly-once',
  check({ ops, data, ledger }) {
    if (!ledger) return unknown('delivered-exactly-once', 'no provider ledger was recorded for this scenario');
    const d = fanoutData(data);
    const expected = expectations({ ops, data });
    const { byDelivery, strays } = sentMessages(ledger);
    const attempts = attemptsByDelivery(ledger);
    const sms = smsByUser(d, ledger);
    const dead = reportedDeadLetters(ops);
    const listed = new Set((dead ?? []).map((x) => deliveryKey(x.eventId, x.channel)));
    const violations = [];
    let delivered = 0;
    let givenUp = 0;
    for (const [eventId, exp] of expected) {
      for (const channel of CHANNELS) {
        const k = deliveryKey(eventId, channel);
        const sent = byDelivery.get(k) ?? [];
        const base = { eventId, userId: exp.user.userId, kind: exp.event.kind, channel };
        if (sent.length > 1) {
          violations.push({ ...base, reason: `${eventId} went out ${sent.length} times by ${channel} (${sent.map((m) => `${m.id} from instance ${m.instance}, ${m.key ? `key ${m.key}` : 'no key'}`).join('; ')}): exactly once is the contract — retry with the same Idempotency-Key`, messages: sent.map(messageView) });
          continue;
        }
        if (sent.length === 1) {
          if (exp.allowed.has(channel)) delivered++;
          const want = addressOf(exp.user, channel);
          if (sent[0].to !== want) violations.push({ ...base, reason: `${eventId}'s ${channel} went to ${sent[0].to}, not to the user's ${channel} address ${want}`, messages: sent.map(messageView) });
          else if (sent[0].template !== exp.event.kind) violations.push({ ...base, reason: `${eventId}'s ${channel} was sent with template '${sent[0].template}', not its kind '${exp.event.kind}'`, messages: sent.map(messageView) });
          continue;
        }
        if (!exp.required.has(channel)) continue;
        const why = allowedGiveUp(exp, channel, d, ledger, sms, attempts);
        const tried = (attempts.get(k) ?? []).map(attemptView);
        if (listed.has(k)) {
          if (why) givenUp++;
          else violations.push({ ...base, reason: `${eventId}'s ${channel} delivery was given up (a dead letter) though nothing the contract allows explains it: ${tried.length} attempt(s), none for long enough — retry transient failures with backoff for at least 5 s`, attempts: tried.slice(0, 12) });
          continue;
        }
        if (why && dead === null) continue; // may have been given up; the dead letters could not be read to tell
        violations.push({ ...base, reason: `${eventId} (${exp.event.kind} for ${exp.user.userId}, acknowledged at ${Math.round((exp.acceptedUs ?? 0) / 1000)} ms) was never sent by ${channel}${why ? ` and, though it could be given up (${why}), it is not among the dead letters` : ''}${tried.length ? ` (${tried.length} attempt(s), none accepted)` : ' (never even tried)'}`, wanted: exp.versions, attempts: tried.slice(0, 12) });
      }
    }
    // Racing versions: the channels sent or given up must add up to one whole version (CONTRACT: old or new applies).
    for (const [eventId, exp] of expected) {
      if (exp.options.length < 2) continue;
      const done = (c: 'email' | 'sms' | 'push') => (byDelivery.get(deliveryKey(eventId, c)) ?? []).length > 0 || (listed.has(deliveryKey(eventId, c)) && !!allowedGiveUp(exp, c, d, ledger, sms, attempts)) || (dead === null && !!allowedGiveUp(exp, c, d, ledger, sms, attempts));
      if (!satisfiedOption(exp, done)) {
        const got = CHANNELS.filter(done);
        violations.push({ eventId, userId: exp.user.userId, kind: exp.event.kind, reason: `${eventId} (${exp.event.kind} for ${exp.user.userId}) was published while its preferences changed; it was owed one of ${exp.options.map((o) => `[${o.join(', ')}]`).join(' or ')}, but what was sent or given up ([${got.join(', ')}]) is neither`, wanted: exp.versions });
      }
    }
    for (const m of strays) violations.push({ reason: `a ${m.channel} message (${m.id} from instance ${m.instance}) carries no data.eventId: every send names its event`, messages: [messageView(m)] });
    for (const [k, sent] of byDelivery) {
      const eventId = k.slice(0, k.lastIndexOf('|'));
      if (!expected.has(eventId)) violations.push({ reason: `${sent.length} message(s) name ${eventId}, which no event of this run has`, messages: sent.map(messageView) });
    }
    const accepted = [...expected.values()].filter((e) => e.accepted).length;
    return summarise('delivered-exactly-once', violations, `the ${accepted} accepted event(s) owed their deliveries: ${delivered} sent exactly once, ${givenUp} given up for a reason the contract allows`, (v) => v.reason);
  },
};
