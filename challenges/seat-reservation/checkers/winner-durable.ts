// winner-durable: the user surely holding a seat at the end of the run is what every instance, and one
// started fresh afterwards, reads back; and no read shows a holder who could not have been granted the seat.
// Several users told they hold one seat, none released (single-winner's violation), cannot all be read back: each
// one a read does not show lost a reservation it was told it had, so this check fails too, whatever order the
// writes landed in (it used to compare the reads with the first of them only, and passed when that one happened to
// be the last writer).

import type { Checker } from '../../../harness/scenario.ts';
import { brief, summarise } from '../../../harness/checkers/verdict.ts';
import { claimsBySeat, finalReads, holderOf, INF, mainOps, surelyActive } from './model.ts';

interface Violation {
  seat: string;
  expected: string | null;
  read: ReturnType<typeof brief>;
  reason: string;
}

export const winnerDurable: Checker = {
  id: 'winner-durable',
  check({ ops }) {
    const claims = claimsBySeat(mainOps(ops));
    const violations: Violation[] = [];
    for (const [seat, reads] of finalReads(ops)) {
      const seatClaims = claims.get(seat) ?? [];
      const lasting = seatClaims.filter((c) => surelyActive(c) && c.sureUntil === INF);
      const winners = [...new Set(lasting.map((c) => c.userId))];
      const winner = winners.length ? winners[0] : null;
      const possible = new Set(seatClaims.filter((c) => c.mayUntil === INF || c.kind === 'hold').map((c) => c.userId));
      for (const r of reads) {
        if (r.type !== 'ok') {
          violations.push({ seat, expected: winner, read: brief(r), reason: `instance ${r.instance} could not read ${seat} after the run (${r.error ?? r.code})` });
          continue;
        }
        const h = holderOf(r);
        const lost = winners.filter((w) => w !== h);
        if (lost.length) {
          for (const w of lost) violations.push({ seat, expected: w, read: brief(r), reason: `${w} was told they hold ${seat} and nothing released it, but instance ${r.instance} reads ${h ?? 'no reservation'} after the run` });
        } else if (winner === null && h !== null && !possible.has(h)) {
          violations.push({ seat, expected: null, read: brief(r), reason: `instance ${r.instance} reads ${h} as the holder of ${seat}, but ${h} never made a request that could have reserved it` });
        }
      }
    }
    return summarise('winner-durable', violations, 'every winner is read back by every instance and by a freshly started one', (v) => v.reason);
  },
};
