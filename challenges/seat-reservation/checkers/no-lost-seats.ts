// no-lost-seats: a seat that someone reserved (and nobody released), or that a caller was turned away from,
// ends reserved. A SEAT_TAKEN says someone held the seat; if nobody holds it afterwards, only a hold that
// could have expired or a claim that could have been released explains it. A seat whose every attempt was
// indeterminate may end either way.

import type { Checker } from '../../../harness/scenario.ts';
import { brief, summarise, who } from '../../../harness/checkers/verdict.ts';
import { claimsBySeat, endOf, finalReads, holderOf, mainOps, seatOf } from './model.ts';
import type { Op } from '../../../harness/types.ts';

export const noLostSeats: Checker = {
  id: 'no-lost-seats',
  check({ ops }) {
    const main = mainOps(ops);
    const bySeat = new Map<string, Op[]>();
    for (const op of main) {
      if (['reserve', 'hold', 'confirm', 'release'].includes(op.f)) (bySeat.get(seatOf(op)) ?? bySeat.set(seatOf(op), []).get(seatOf(op))!).push(op);
    }
    const claims = claimsBySeat(main);
    const violations: { seat: string; reason: string; evidence: unknown[] }[] = [];
    for (const [seat, reads] of finalReads(ops)) {
      const seatOps = bySeat.get(seat) ?? [];
      const okReads = reads.filter((r) => r.type === 'ok');
      if (!okReads.length || okReads.some((r) => holderOf(r) !== null)) continue;
      const releasedBy = (user: string, after: number) => seatOps.some((o) => o.f === 'release' && o.type !== 'fail' && String(o.args.userId) === user && endOf(o) >= after);
      const won = seatOps.find((o) => (o.f === 'reserve' || o.f === 'confirm') && o.type === 'ok' && !releasedBy(String(o.args.userId), o.startUs));
      if (won) {
        violations.push({ seat, reason: `${won.process} reserved ${seat} (op ${won.index}) and never released it, but after the run nobody holds it`, evidence: [brief(won), brief(okReads[0])] });
        continue;
      }
      // Every SEAT_TAKEN needs a claim by someone else that may have been in force then and could have ended since.
      const rejected = seatOps.find((o) => {
        if (o.type !== 'fail' || o.code !== 'SEAT_TAKEN' || !['reserve', 'hold', 'confirm'].includes(o.f)) return false;
        const user = String(o.args.userId);
        return !(claims.get(seat) ?? []).some((c) => c.userId !== user && c.mayFrom <= endOf(o) && c.mayUntil >= o.startUs && (c.kind === 'hold' || releasedBy(c.userId, c.op.startUs)));
      });
      if (rejected) {
        violations.push({
          seat,
          reason: `${who(rejected)} was told SEAT_TAKEN for ${seat}, yet after the run nobody holds it, and no hold that could expire or release could have freed it`,
          evidence: [brief(rejected), brief(okReads[0])],
        });
      }
    }
    return summarise('no-lost-seats', violations, 'every seat that was won or fought over ends reserved', (v) => v.reason);
  },
};
