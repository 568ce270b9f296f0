// hold-expires and release-frees-seat: a seat held past its TTL, or given back, is free for others; and an
// expired hold cannot be confirmed. Built on the rejection judge: a SEAT_TAKEN that only an expired hold (or a
// released claim) could explain is a seat that was not freed.

import type { Checker } from '../../../harness/scenario.ts';
import { brief, summarise, who, ms } from '../../../harness/checkers/verdict.ts';
import { endOf, holdSlackUs, INF, mainOps, seatOf } from './model.ts';
import type { Op } from '../../../harness/types.ts';
import { judgeRejections } from './rejections.ts';

/** The latest a hold op may have kept its seat: completion + TTL + slack (never, while still in flight). */
const holdMayUntil = (h: Op) => (endOf(h) === INF ? INF : endOf(h) + Number(h.args.ttlMs) * 1000 + holdSlackUs(Number(h.args.ttlMs)));

export const holdExpires: Checker = {
  id: 'hold-expires',
  check({ ops }) {
    const violations: { reason: string; ops: unknown[] }[] = [];
    for (const j of judgeRejections(ops)) {
      if (j.verdict !== 'needs-expired-hold' || !j.blamed) continue;
      const h = j.blamed.op;
      violations.push({
        reason: `${j.blamed.userId}'s ${Number(h.args.ttlMs)} ms hold on ${seatOf(h)} (${who(h)}) had expired by ${ms(j.blamed.mayUntil)} ms, yet ${who(j.op)} was told SEAT_TAKEN`,
        ops: [brief(h), brief(j.op)],
      });
    }
    // Confirming a hold that surely expired must fail (HOLD_EXPIRED, or SEAT_TAKEN if someone else took it). The
    // user's own calls that may have run before the confirm keep it alive: any hold (ok or indeterminate) until its
    // own expiry; a reserve, or an earlier confirm, for good (the seat became a reservation).
    const main = mainOps(ops);
    for (const c of main) {
      if (c.f !== 'confirm' || c.type !== 'ok') continue;
      const user = String(c.args.userId);
      const mine = main.filter((o) => o.index !== c.index && o.type !== 'fail' && String(o.args.userId) === user && seatOf(o) === seatOf(c) && o.startUs < endOf(c));
      const last = mine.filter((h) => h.f === 'hold' && h.type === 'ok' && h.endUs <= c.startUs).at(-1);
      if (!last) continue;
      const liveUntil = Math.max(...mine.map((o) => (o.f === 'hold' ? holdMayUntil(o) : o.f === 'reserve' || o.f === 'confirm' ? INF : -1)));
      if (c.startUs > liveUntil) {
        const ttlMs = Number(last.args.ttlMs);
        violations.push({ reason: `${user} confirmed a ${ttlMs} ms hold on ${seatOf(c)} ${ms(c.startUs - last.endUs)} ms after getting it (${who(c)}): an expired hold must get HOLD_EXPIRED`, ops: [brief(last), brief(c)] });
      }
    }
    return summarise('hold-expires', violations, 'expired holds freed their seats and could not be confirmed', (v) => v.reason);
  },
};

export const releaseFreesSeat: Checker = {
  id: 'release-frees-seat',
  check({ ops }) {
    const violations = judgeRejections(ops)
      .filter((j) => j.verdict === 'needs-released-claim' && j.blamed)
      .map((j) => ({ reason: `${j.blamed!.userId} released ${seatOf(j.op)} (ended by ${ms(j.blamed!.mayUntil)} ms), yet ${who(j.op)} was told SEAT_TAKEN`, ops: [brief(j.blamed!.op), brief(j.op)] }));
    return summarise('release-frees-seat', violations, 'every released seat could be taken by someone else', (v) => v.reason);
  },
};
