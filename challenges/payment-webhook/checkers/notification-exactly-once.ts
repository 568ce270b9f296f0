// notification-exactly-once: the notification service's ledger holds exactly one `subscription-confirmed` message
// (counted as the mock counts them: one per Idempotency-Key, every keyless call on its own) for each payment whose
// subscription reads active after the run, sent by email to its user, and none for any other payment.

import type { Checker } from '../../../harness/scenario.ts';
import { ms, summarise, unknown } from '../../../harness/checkers/verdict.ts';
import type { MessageRecord } from '../../../harness/services/types.ts';
import { activeOf, chains, chainsByPayment, finalReads, isValidKind, q, readsByPayment, subsOf, tally } from './model.ts';

export const CONFIRMATION_TEMPLATE = 'subscription-confirmed';

const describeMessage = (m: MessageRecord) => `${m.id} from instance ${m.instance} at ${ms(m.atUs)} ms (${m.key === null ? 'no Idempotency-Key' : `key ${q(m.key)}`})`;
const briefMessage = (m: MessageRecord) => ({ id: m.id, channel: m.channel, to: m.to, template: m.template, data: m.data, key: m.key, instance: m.instance, atMs: ms(m.atUs) });

export const notificationExactlyOnce: Checker = {
  id: 'notification-exactly-once',
  check({ ops, ledger }) {
    if (!ledger) return unknown('notification-exactly-once', 'the notification ledger is missing (a gauntlet bug)');
    // One message per key (the mock never executes a key twice), every keyless message counted.
    const byPayment = new Map<string, MessageRecord[]>();
    const keys = new Set<string>();
    for (const m of ledger.messages) {
      if (m.template !== CONFIRMATION_TEMPLATE) continue;
      if (m.key !== null) {
        if (keys.has(m.key)) continue;
        keys.add(m.key);
      }
      const id = String((m.data as { paymentId?: unknown } | null)?.paymentId);
      (byPayment.get(id) ?? byPayment.set(id, []).get(id)!).push(m);
    }
    const violations: { paymentId: string; problem: string; messages: ReturnType<typeof briefMessage>[]; message: string }[] = [];
    const active = new Map<string, string>(); // payment → userId of its active subscription
    const unknownState = new Set<string>();
    for (const paymentId of readsByPayment(ops).keys()) {
      const reads = finalReads(ops, paymentId);
      if (!reads.length) continue;
      const ok = reads.find((r) => r.type === 'ok');
      if (!ok) {
        unknownState.add(paymentId);
        continue;
      }
      const a = activeOf(subsOf(ok))[0];
      if (a) active.set(paymentId, String(a.userId));
    }
    const deliveries = chainsByPayment(chains(ops).filter(isValidKind));
    for (const [paymentId, userId] of active) {
      const sent = byPayment.get(paymentId) ?? [];
      if (sent.length === 0) {
        const acked = (deliveries.get(paymentId) ?? []).find((c) => c.args.eventStatus === 'success' && c.last.type === 'ok');
        const when = acked ? ` (its success event was acknowledged by instance ${acked.last.instance} at ${ms(acked.last.endUs)} ms, ${acked.id})` : '';
        violations.push({ paymentId, problem: 'missing', messages: [], message: `payment ${q(paymentId)} has an active subscription${when} but no subscription-confirmed message was ever accepted by the notification service (a failing notification service must never lose the confirmation: keep it and retry)` });
      } else if (sent.length > 1) {
        violations.push({ paymentId, problem: 'duplicated', messages: sent.slice(0, 4).map(briefMessage), message: `payment ${q(paymentId)} was confirmed ${sent.length} times: ${sent.slice(0, 3).map(describeMessage).join('; ')} — send it with one Idempotency-Key derived from the payment, and retry with the same key` });
      } else {
        const m = sent[0];
        if (m.to !== userId || m.channel !== 'email') {
          violations.push({ paymentId, problem: 'wrong-recipient', messages: [briefMessage(m)], message: `the confirmation of payment ${q(paymentId)} went to ${m.channel} ${q(m.to)}, not to email ${q(userId)} (the subscription's user, byte for byte)` });
        }
      }
    }
    for (const [paymentId, sent] of byPayment) {
      if (active.has(paymentId) || unknownState.has(paymentId)) continue;
      violations.push({ paymentId, problem: 'unwarranted', messages: sent.slice(0, 3).map(briefMessage), message: `payment ${q(paymentId)} has no active subscription after the run, yet ${sent.length} confirmation${sent.length > 1 ? 's were' : ' was'} sent: ${sent.slice(0, 2).map(describeMessage).join('; ')}` });
    }
    const kinds = tally(violations.map((v) => v.problem));
    return summarise('notification-exactly-once', violations, `each of the ${active.size} active subscriptions was confirmed exactly once, to its user, and nothing else was confirmed`, (v) => v.message + kinds);
  },
};
