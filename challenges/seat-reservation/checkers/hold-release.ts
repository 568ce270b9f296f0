// hold-expires and release-frees-seat: a seat held past its TTL, or given back, is free for others; and an
// expired hold cannot be confirmed. Built on the rejection judge: a SEAT_TAKEN that only an expired hold (or a
// released claim) could explain is a seat that was not freed.

import type { Checker } from '../../../harness/scenario.ts';
import { brief, summarise, who, ms } from '../../../harness/checkers/verdict.ts';
import { holdSlackUs, mainOps, seatOf } from './model.ts';
import { judgeRejections } from './rejections.ts';

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
    // Confirming a hold that surely expired must fail (HOLD_EXPIRED, or SEAT_TAKEN if someone else took it).
    const main = mainOps(ops);
    for (const c of main) {
      if (c.f !== 'confirm' || c.type !== 'ok') continue;
      const user = String(c.args.userId);
      const holds = main.filter((h) => h.f === 'hold' && h.type === 'ok' && String(h.args.userId) === user && seatOf(h) === seatOf(c) && h.endUs <= c.startUs);
      const last = holds[holds.length - 1];
      if (!last) continue;
      const ttlMs = Number(last.args.ttlMs);
      const expiredAt = last.endUs + ttlMs * 1000 + holdSlackUs(ttlMs);
      const renewed = main.some((o) => o.f === 'reserve' && o.type !== 'fail' && String(o.args.userId) === user && seatOf(o) === seatOf(c) && o.startUs > last.startUs && o.startUs < c.startUs);
      if (c.startUs > expiredAt && !renewed) {
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
