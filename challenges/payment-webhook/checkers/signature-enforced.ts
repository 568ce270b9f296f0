// signature-enforced: every forged or stale delivery (unsigned, wrong signature, another secret, malformed header,
// older than 300 s, a refreshed timestamp, a real delivery replayed with its body changed) is refused with a 4xx, and
// none of them changed anything: decoy payments have no subscription, tampered fields never show up (red flag
// security-vulnerability).

import type { Checker } from '../../../harness/scenario.ts';
import { ms, summarise } from '../../../harness/checkers/verdict.ts';
import { answerOf, briefDelivery, briefRead, chains, describeState, excusedByInfra, finalReads, is4xx, isHostileKind, neverSent, q, subsOf, tally, truth, type Chain } from './model.ts';

const VARIANT_TEXT: Record<string, string> = {
  unsigned: 'an unsigned delivery (no gauntlet-signature header)',
  'wrong-signature': 'a delivery whose v1 is not the HMAC of its body',
  'other-secret': 'a delivery signed with another secret',
  'malformed-header': 'a delivery whose signature header is not in the t=…,v1=… form',
  stale: 'a correctly signed delivery whose timestamp is older than 300 s (a replay)',
  'refreshed-timestamp': 'a replay whose t was changed to now while v1 still signs the old timestamp',
  'empty-signature': 'a delivery with an empty v1',
};

export function describeHostile(c: Chain): string {
  const t = c.args.tampered;
  if (t) return `a replay of a real delivery of payment ${q(c.args.paymentId)} with its ${t.field} changed to ${q(t.value)} (signature header copied from the original)`;
  const v = VARIANT_TEXT[c.args.variant] ?? `a forged delivery (${c.args.variant})`;
  return `${v} of a ${c.args.eventStatus} event for payment ${q(c.args.paymentId)}`;
}

export const signatureEnforced: Checker = {
  id: 'signature-enforced',
  check({ ops, faults, instanceEvents, ledger }) {
    const hostile = chains(ops).filter(isHostileKind);
    const known = truth(ledger?.payments);
    const violations: { delivery: string; problem: string; attempt?: Record<string, unknown>; read?: Record<string, unknown>; message: string }[] = [];
    for (const c of hostile) {
      for (const op of c.attempts) {
        if (neverSent(op) || is4xx(op)) continue;
        if (op.type === 'info' && excusedByInfra(op, faults, instanceEvents)) continue;
        const accepted = op.type === 'ok';
        violations.push({
          delivery: c.id,
          problem: accepted ? 'accepted' : 'not-refused',
          attempt: briefDelivery(op),
          message: `${describeHostile(c)} was answered ${answerOf(op)} by instance ${op.instance} at ${ms(op.startUs)} ms (${c.id}); it must be refused with a 4xx before any work${accepted ? '' : ' (a 5xx makes a provider retry it)'}`,
        });
      }
    }
    // Changed nothing: decoys have no subscription; tampered values never show.
    const checkedPayments = new Set<string>();
    for (const c of hostile) {
      const paymentId = String(c.args.paymentId);
      const reads = finalReads(ops, paymentId).filter((r) => r.type === 'ok');
      if (!reads.length) continue;
      const key = `${paymentId}|${c.args.tampered?.field ?? ''}`;
      if (checkedPayments.has(key)) continue;
      checkedPayments.add(key);
      const real = known.get(paymentId);
      for (const r of reads) {
        const subs = subsOf(r);
        let problem: string | null = null;
        if (!real && subs.length) problem = `payment ${q(paymentId)} never existed at the provider (only forged deliveries named it), yet instance ${r.instance} reads ${describeState(subs)} after the run`;
        else if (real && c.args.tampered) {
          const t = c.args.tampered;
          const hit = subs.find((s) => (t.field === 'status' ? s.status === 'active' && real.status !== 'success' : (s as Record<string, unknown>)[t.field] === t.value && (real as unknown as Record<string, unknown>)[t.field] !== t.value));
          if (hit) problem = `the tampered replay of payment ${q(paymentId)} took effect: after the run instance ${r.instance} reads ${t.field === 'status' ? 'an active subscription for a payment that failed' : `${t.field} ${q(t.value)} instead of ${q((real as unknown as Record<string, unknown>)[t.field])}`}`;
        }
        if (problem) {
          violations.push({ delivery: c.id, problem: 'changed-data', read: briefRead(r), message: `${problem} (${describeHostile(c)}, ${c.id} at ${ms(c.attempts[0].startUs)} ms, answered ${answerOf(c.last)})` });
          break;
        }
      }
    }
    const kinds = tally(violations.map((v) => v.problem));
    return summarise(
      'signature-enforced',
      violations,
      hostile.length ? `all ${hostile.length} forged, stale or tampered deliveries were refused with a 4xx and changed nothing` : 'no forged delivery in this scenario',
      (v) => v.message + kinds,
    );
  },
};
