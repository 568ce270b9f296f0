// poison-dead-lettered: a signed but invalid event (missing fields, wrong types, unknown status, negative amount,
// not JSON) is answered 2xx or 4xx — never 5xx — lands in the dead-letter list every instance reads back, and creates
// no subscription; and no valid event is left in the dead-letter list after the run.

import type { Checker } from '../../../harness/scenario.ts';
import { ms, summarise } from '../../../harness/checkers/verdict.ts';
import type { Op } from '../../../harness/types.ts';
import { answerOf, briefDelivery, briefRead, chains, describeState, excusedByInfra, finalDeadLetterReads, finalReads, isUnanswered, isValidKind, q, subsOf, tally, type Chain } from './model.ts';

interface DeadLetter {
  idempotencyKey?: unknown;
  reason?: unknown;
  rawBody?: unknown;
}

const same = (a: unknown, b: string) => typeof a === 'string' && (a === b || a.trim() === b.trim());

/** Whether a dead-letter entry is this delivery: the same raw bytes, or (when it had one) the same idempotency key. */
function lists(entry: DeadLetter, c: Chain): boolean {
  return same(entry.rawBody, c.args.rawBody) || (!!c.args.idempotencyKey && entry.idempotencyKey === c.args.idempotencyKey);
}

export const poisonDeadLettered: Checker = {
  id: 'poison-dead-lettered',
  check({ ops, faults, instanceEvents }) {
    const all = chains(ops);
    const poison = all.filter((c) => c.args.kind === 'poison');
    const valid = all.filter(isValidKind);
    const other = all.filter((c) => !isValidKind(c));
    const violations: { problem: string; delivery?: string; evidence: Record<string, unknown>; message: string }[] = [];

    for (const c of poison) {
      const bad = c.attempts.find((op) => isUnanswered(op) && !excusedByInfra(op, faults, instanceEvents));
      if (bad) {
        violations.push({
          problem: 'answered-5xx',
          delivery: c.id,
          evidence: briefDelivery(bad),
          message: `the poison event ${c.id} (${c.args.variant}: ${JSON.stringify(c.args.rawBody.slice(0, 70))}) got ${answerOf(bad)} from instance ${bad.instance} at ${ms(bad.startUs)} ms; a signed event that can never be processed must be answered 2xx or 4xx (a 5xx makes the provider redeliver it forever) and dead-lettered`,
        });
      }
    }

    const dlReads = finalDeadLetterReads(ops);
    const okReads: Op[] = [];
    for (const r of dlReads) {
      if (r.type === 'ok') okReads.push(r);
      else if (r.code === 'NOT_IMPLEMENTED') {
        violations.push({ problem: 'no-dead-letters', evidence: briefRead(r), message: 'the service has no getDeadLetters(): signed events that cannot be processed must be kept in a dead-letter list someone can inspect and replay' });
        break;
      } else violations.push({ problem: 'unreadable', evidence: briefRead(r), message: `instance ${r.instance} could not list the dead letters after the run (${answerOf(r)}${r.error ? `: ${r.error}` : ''})` });
    }

    for (const c of poison) {
      const missing = okReads.filter((r) => !(r.value as DeadLetter[]).some((e) => e && typeof e === 'object' && lists(e, c)));
      if (missing.length) {
        const where = missing.length === okReads.length ? 'in the dead-letter list of any instance' : `in the dead-letter list of instance ${missing.map((r) => r.instance).join(', ')} (other instances list it: kept in process memory?)`;
        violations.push({ problem: 'not-listed', delivery: c.id, evidence: briefDelivery(c.last), message: `the poison event ${c.id} (${c.args.variant}, delivered to instance ${c.last.instance} at ${ms(c.last.startUs)} ms, answered ${answerOf(c.last)}) is not ${where} after the run; every signed event that cannot be processed must be dead-lettered with its raw body` });
      }
      const reads = finalReads(ops, String(c.args.paymentId)).filter((r) => r.type === 'ok' && subsOf(r).length);
      if (reads.length) violations.push({ problem: 'processed', delivery: c.id, evidence: briefRead(reads[0]), message: `the poison event ${c.id} (${c.args.variant}, delivered to instance ${c.last.instance} at ${ms(c.last.startUs)} ms) was processed: payment ${q(c.args.paymentId)} reads ${describeState(subsOf(reads[0]))} after the run` });
    }

    // Valid events must not stay dead-lettered: a raw body that a valid delivery carried, or a valid event's key on an
    // entry that no hostile or poison delivery explains.
    const flagged = new Set<string>();
    for (const r of okReads) {
      for (const e of r.value as DeadLetter[]) {
        if (!e || typeof e !== 'object') continue;
        const c = valid.find((v) => same(e.rawBody, v.args.rawBody)) ?? (other.some((o) => lists(e, o)) ? undefined : valid.find((v) => e.idempotencyKey === v.args.idempotencyKey));
        if (!c || flagged.has(c.args.idempotencyKey)) continue;
        flagged.add(c.args.idempotencyKey);
        violations.push({ problem: 'valid-dead-lettered', delivery: c.id, evidence: { entry: e, read: briefRead(r) }, message: `the valid ${c.args.eventStatus} event ${c.args.idempotencyKey} (payment ${q(c.args.paymentId)}) is still in the dead-letter list of instance ${r.instance} after the run (reason: ${q(e.reason)}); only events that can never be processed belong there` });
      }
    }

    const ok = poison.length
      ? `all ${poison.length} poison events were answered without a 5xx and are listed by every instance's getDeadLetters(); no valid event is left there`
      : 'no poison in this scenario, and no valid event is left in the dead-letter list';
    const kinds = tally(violations.map((v) => v.problem));
    return summarise('poison-dead-lettered', violations, ok, (v) => v.message + kinds);
  },
};
