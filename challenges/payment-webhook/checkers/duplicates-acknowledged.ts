// duplicates-acknowledged: every delivery of a valid event (first deliveries, sequential and concurrent duplicates,
// late and redelivered events) ends in a 2xx. A 4xx is final for the provider, so the event is refused for good; a
// 5xx, a timeout or a dropped connection counts unless a database fault or a killed instance explains it (CONTRACT
// §8) — a failing notification service never excuses it.

import type { Checker } from '../../../harness/scenario.ts';
import { summarise } from '../../../harness/checkers/verdict.ts';
import { answerOf, answersOf, briefDelivery, chains, describeAttempt, excusedByInfra, is2xx, is4xx, isUnanswered, isValidKind, q, serviceWindowDuring, tally, type Chain } from './model.ts';

type Problem = 'refused' | 'never-acknowledged' | 'unexcused-error';

interface Violation {
  problem: Problem;
  delivery: string;
  paymentId: string;
  idempotencyKey: string;
  attempts: Record<string, unknown>[];
  message: string;
}

const what = (c: Chain) =>
  `${c.args.kind === 'duplicate' ? `the duplicate delivery ${c.id} (${c.args.variant})` : c.args.variant === 'late' ? `the late delivery ${c.id}` : `delivery ${c.id}`} of the ${c.args.eventStatus} event ${c.args.idempotencyKey} (payment ${q(c.args.paymentId)})`;

export const duplicatesAcknowledged: Checker = {
  id: 'duplicates-acknowledged',
  check({ ops, faults, instanceEvents }) {
    const valid = chains(ops).filter(isValidKind);
    const violations: Violation[] = [];
    let excusedCount = 0;
    for (const c of valid) {
      const base = { delivery: c.id, paymentId: c.args.paymentId, idempotencyKey: c.args.idempotencyKey, attempts: c.attempts.slice(0, 4).map(briefDelivery) };
      if (is4xx(c.last)) {
        violations.push({ ...base, problem: 'refused', message: `${what(c)} was refused: ${describeAttempt(c.last)}. A valid event must be acknowledged with a 2xx every time it arrives (duplicates and late events too); the provider treats a 4xx as final` });
        continue;
      }
      const unexcused = c.attempts.find((op) => isUnanswered(op) && !excusedByInfra(op, faults, instanceEvents));
      if (unexcused) {
        const service = serviceWindowDuring(unexcused, faults);
        violations.push({
          ...base,
          problem: 'unexcused-error',
          message:
            `${what(c)} got ${answerOf(unexcused)}: ${describeAttempt(unexcused)}, while the database was not being broken` +
            (service ? ` (the ${String(service.detail?.service ?? 'notification')} service was failing then: a failing notification service must never fail the webhook)` : '') +
            `; answers in order: ${answersOf(c)}`,
        });
        continue;
      }
      if (!is2xx(c.last)) {
        if (c.attempts.every((op) => excusedByInfra(op, faults, instanceEvents) || !isUnanswered(op))) {
          excusedCount++;
          continue;
        }
        violations.push({ ...base, problem: 'never-acknowledged', message: `${what(c)} was never acknowledged after ${c.attempts.length} attempts (${answersOf(c)})` });
      }
    }
    const kinds = tally(violations.map((v) => v.problem));
    return summarise('duplicates-acknowledged', violations, `all ${valid.length} deliveries of valid events ended in a 2xx${excusedCount ? ` (${excusedCount} cut short by injected database faults are not counted)` : ''}`, (v) => v.message + kinds);
  },
};
