// no-lost-seats: a seat that someone reserved (and nobody released), or that every caller was turned away
// from, ends reserved. A seat whose every attempt was indeterminate may end either way.

import type { Checker } from '../../../harness/scenario.ts';
import { brief, summarise } from '../../../harness/checkers/verdict.ts';
import { finalReads, holderOf, mainOps, seatOf } from './model.ts';
import type { Op } from '../../../harness/types.ts';

export const noLostSeats: Checker = {
  id: 'no-lost-seats',
  check({ ops }) {
    const bySeat = new Map<string, Op[]>();
    for (const op of mainOps(ops)) {
      if (['reserve', 'hold', 'confirm', 'release'].includes(op.f)) (bySeat.get(seatOf(op)) ?? bySeat.set(seatOf(op), []).get(seatOf(op))!).push(op);
    }
    const violations: { seat: string; reason: string; evidence: unknown[] }[] = [];
    for (const [seat, reads] of finalReads(ops)) {
      const seatOps = bySeat.get(seat) ?? [];
      const okReads = reads.filter((r) => r.type === 'ok');
      if (!okReads.length || okReads.some((r) => holderOf(r) !== null)) continue;
      const released = (after: number, user?: string) => seatOps.some((o) => o.f === 'release' && o.type !== 'fail' && (user === undefined || String(o.args.userId) === user) && o.endUs >= after);
      const won = seatOps.find((o) => (o.f === 'reserve' || o.f === 'confirm') && o.type === 'ok' && !released(o.startUs, String(o.args.userId)));
      if (won) {
        violations.push({ seat, reason: `${won.process} reserved ${seat} (op ${won.index}) and never released it, but after the run nobody holds it`, evidence: [brief(won), brief(okReads[0])] });
        continue;
      }
      const reserves = seatOps.filter((o) => o.f === 'reserve');
      const hasHoldsOrReleases = seatOps.some((o) => o.f !== 'reserve');
      if (!hasHoldsOrReleases && reserves.length && reserves.every((o) => o.type === 'fail' && o.code === 'SEAT_TAKEN')) {
        violations.push({ seat, reason: `all ${reserves.length} callers of ${seat} were told SEAT_TAKEN, yet nobody holds it after the run`, evidence: [brief(reserves[0]), brief(okReads[0])] });
      }
    }
    return summarise('no-lost-seats', violations, 'every seat that was won or fought over ends reserved', (v) => v.reason);
  },
};
