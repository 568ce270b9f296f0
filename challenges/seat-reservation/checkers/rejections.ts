// Judges every rejection: a SEAT_TAKEN must be justified by another user's claim that may have been in force
// while the call ran. An unjustified one is filed under the check that explains it: a claim that could only
// have been in force had the hold never expired → hold-expires; had the release not freed the seat →
// release-frees-seat; otherwise → definite-rejections.

import type { Op } from '../../../harness/types.ts';
import { claimsBySeat, endOf, INF, mainOps, seatOf, type Claim } from './model.ts';

export type RejectionVerdict = 'justified' | 'unjustified' | 'needs-expired-hold' | 'needs-released-claim';

export interface JudgedRejection {
  op: Op;
  verdict: RejectionVerdict;
  /** The claim that would have justified it under the lenient reading. */
  blamed?: Claim;
}

function overlaps(c: Claim, from: number, until: number, ignoreEnd: boolean): boolean {
  const end = ignoreEnd ? INF : c.mayUntil;
  return c.mayFrom <= until && end >= from;
}

/** Every SEAT_TAKEN answer to a claim op (reserve, hold, confirm), judged. */
export function judgeRejections(ops: Op[]): JudgedRejection[] {
  const main = mainOps(ops);
  const claims = claimsBySeat(main);
  const judged: JudgedRejection[] = [];
  for (const op of main) {
    if (op.type !== 'fail' || op.code !== 'SEAT_TAKEN' || !['reserve', 'hold', 'confirm'].includes(op.f)) continue;
    const user = String(op.args.userId);
    const others = (claims.get(seatOf(op)) ?? []).filter((c) => c.userId !== user && c.op.index !== op.index);
    const from = op.startUs;
    const until = endOf(op);
    if (others.some((c) => overlaps(c, from, until, false))) {
      judged.push({ op, verdict: 'justified' });
      continue;
    }
    const lenient = others.find((c) => overlaps(c, from, until, true));
    if (!lenient) judged.push({ op, verdict: 'unjustified' });
    else judged.push({ op, verdict: lenient.endedBy === 'release' ? 'needs-released-claim' : 'needs-expired-hold', blamed: lenient });
  }
  return judged;
}
