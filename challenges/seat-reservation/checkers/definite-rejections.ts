// definite-rejections: every call that did not win got a definite answer (SEAT_TAKEN, SEAT_NOT_FOUND,
// HOLD_EXPIRED), not a 500 or a timeout, unless an injected fault excuses it; every SEAT_TAKEN was true when
// given; a caller told SEAT_TAKEN never ends up holding the seat; an unknown seat gets SEAT_NOT_FOUND; and an
// ok never hands the caller someone else's reservation.

import type { Checker } from '../../../harness/scenario.ts';
import { brief, excused, summarise, who } from '../../../harness/checkers/verdict.ts';
import { finalReads, grantedUser, holderOf, mainOps, seatOf } from './model.ts';
import { judgeRejections } from './rejections.ts';

interface Violation {
  reason: string;
  ops: ReturnType<typeof brief>[];
}

const MUTATING = ['reserve', 'hold', 'confirm', 'release'];

export const definiteRejections: Checker = {
  id: 'definite-rejections',
  check({ ops, faults, instanceEvents, data }) {
    const seats = new Set((data.seats as string[] | undefined) ?? []);
    const main = mainOps(ops);
    const violations: Violation[] = [];
    for (const op of main) {
      if (!MUTATING.includes(op.f)) continue;
      if (op.type === 'info') {
        // An indeterminate answer is excused only by an injected fault or an instance's death (no-crash counts those).
        if (op.code !== 'GAUNTLET_NO_REDIS' && !excused(op, faults, instanceEvents)) {
          violations.push({ reason: `${who(op)} got no definite answer to ${op.f} ${seatOf(op)}: ${op.error ?? 'indeterminate'} — a loser must be told SEAT_TAKEN, not an error`, ops: [brief(op)] });
        }
      } else if (op.type === 'fail' && op.code === 'SEAT_NOT_FOUND' && seats.has(seatOf(op))) {
        violations.push({ reason: `${who(op)} was told SEAT_NOT_FOUND for ${seatOf(op)}, which exists`, ops: [brief(op)] });
      } else if (op.type === 'ok' && op.f !== 'release' && seats.size && !seats.has(seatOf(op))) {
        violations.push({ reason: `${who(op)} ${op.f} on the unknown seat ${seatOf(op)} got ok instead of SEAT_NOT_FOUND`, ops: [brief(op)] });
      } else if (op.type === 'ok' && op.f !== 'release' && grantedUser(op) !== String(op.args.userId)) {
        violations.push({ reason: `${who(op)} asked to ${op.f} ${seatOf(op)} and got ok with ${grantedUser(op)}'s reservation — the loser must get SEAT_TAKEN`, ops: [brief(op)] });
      }
    }
    for (const j of judgeRejections(ops)) {
      if (j.verdict === 'unjustified') {
        violations.push({ reason: `${who(j.op)} was told SEAT_TAKEN for ${seatOf(j.op)}, but no other user could have held it then`, ops: [brief(j.op)] });
      }
    }
    // A caller that only ever got definite rejections must not be the holder afterwards.
    const attempts = new Map<string, { anyNonFail: boolean; ops: typeof main }>();
    for (const op of main) {
      if (!['reserve', 'hold', 'confirm'].includes(op.f)) continue;
      const key = `${seatOf(op)}|${String(op.args.userId)}`;
      const a = attempts.get(key) ?? attempts.set(key, { anyNonFail: false, ops: [] }).get(key)!;
      a.ops.push(op);
      if (op.type !== 'fail') a.anyNonFail = true;
    }
    for (const [seat, reads] of finalReads(ops)) {
      for (const r of reads) {
        const h = r.type === 'ok' ? holderOf(r) : null;
        const a = h ? attempts.get(`${seat}|${h}`) : undefined;
        if (a && !a.anyNonFail) {
          violations.push({ reason: `${h} was told ${a.ops[0].code} for ${seat} (${who(a.ops[0])}), yet instance ${r.instance} reads them as its holder after the run`, ops: [brief(a.ops[0]), brief(r)] });
          break;
        }
      }
    }
    return summarise('definite-rejections', violations, 'every losing call got a definite, truthful answer', (v) => v.reason);
  },
};
