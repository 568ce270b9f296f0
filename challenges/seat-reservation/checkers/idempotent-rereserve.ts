// idempotent-rereserve: a user who surely holds a seat and reserves it again gets their own reservation back,
// not SEAT_TAKEN or another error (a retry after a timeout must be safe).

import type { Checker } from '../../../harness/scenario.ts';
import { brief, excused, summarise, who } from '../../../harness/checkers/verdict.ts';
import { claimsBySeat, grantedUser, mainOps, seatOf, surelyActive } from './model.ts';

export const idempotentRereserve: Checker = {
  id: 'idempotent-rereserve',
  check({ ops, faults, instanceEvents }) {
    const main = mainOps(ops);
    const claims = claimsBySeat(main);
    const violations: { reason: string; ops: unknown[] }[] = [];
    let exercised = 0;
    for (const op of main) {
      if (op.f !== 'reserve') continue;
      const user = String(op.args.userId);
      const own = (claims.get(seatOf(op)) ?? []).find((c) => c.userId === user && c.op.index !== op.index && surelyActive(c) && c.sureFrom < op.startUs && c.sureUntil > op.endUs);
      if (!own) continue;
      exercised++;
      if (op.type === 'fail' || (op.type === 'ok' && grantedUser(op) !== user) || (op.type === 'info' && !excused(op, faults, instanceEvents))) {
        const got = op.type === 'fail' ? op.code : op.type === 'ok' ? `${grantedUser(op)}'s reservation` : op.error;
        violations.push({ reason: `${user} already held ${seatOf(op)} (${who(own.op)}) and reserving it again (${who(op)}) got ${got} instead of their own reservation`, ops: [brief(own.op), brief(op)] });
      }
    }
    if (!violations.length && exercised === 0) return { id: 'idempotent-rereserve', passed: true, message: 'not exercised in this scenario (no user re-reserved a seat it surely held)' };
    return summarise('idempotent-rereserve', violations, `all ${exercised} repeated reservations by the holder returned the holder's reservation`, (v) => v.reason);
  },
};
