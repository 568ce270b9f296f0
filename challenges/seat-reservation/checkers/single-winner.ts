// single-winner: no two users are ever told they hold the same seat at the same time, and the final reads of
// all instances agree on at most one holder. Two claims conflict only when both were surely in force at once.

import type { Checker } from '../../../harness/scenario.ts';
import { brief, fail, ms, pass, who } from '../../../harness/checkers/verdict.ts';
import { claimsBySeat, finalReads, holderOf, mainOps, surelyActive, type Claim } from './model.ts';

export const singleWinner: Checker = {
  id: 'single-winner',
  check({ ops }) {
    const conflicts: { seat: string; a: Claim; b: Claim }[] = [];
    for (const [seat, claims] of claimsBySeat(mainOps(ops))) {
      const sure = claims.filter(surelyActive).sort((x, y) => x.sureFrom - y.sureFrom);
      // Report each later claim against the first earlier claim of another user still surely in force.
      for (let j = 0; j < sure.length; j++) {
        const b = sure[j];
        const a = sure.slice(0, j).find((c) => c.userId !== b.userId && c.sureUntil > b.sureFrom && b.sureUntil > c.sureFrom);
        if (a) conflicts.push({ seat, a, b });
      }
    }
    const splits: { seat: string; holders: Map<string, number[]> }[] = [];
    for (const [seat, reads] of finalReads(ops)) {
      const holders = new Map<string, number[]>();
      for (const r of reads) {
        const h = r.type === 'ok' ? holderOf(r) : null;
        if (h !== null) (holders.get(h) ?? holders.set(h, []).get(h)!).push(r.instance);
      }
      if (holders.size > 1) splits.push({ seat, holders });
    }
    if (!conflicts.length && !splits.length) return pass('single-winner', 'no seat ever had two users told they hold it, and every final read agrees');
    const parts: string[] = [];
    if (conflicts.length) {
      const { seat, a, b } = conflicts[0];
      parts.push(
        `${a.userId} (${who(a.op)}) and ${b.userId} (${who(b.op)}) were both told they hold ${seat}; ` +
          `${a.userId}'s ${a.kind} was still in force at ${ms(b.sureFrom)} ms` +
          (conflicts.length > 1 ? ` — ${conflicts.length} such conflicts on ${new Set(conflicts.map((c) => c.seat)).size} seat(s)` : ''),
      );
    }
    if (splits.length) {
      const { seat, holders } = splits[0];
      parts.push(`after the run the instances disagree on ${seat}: ${[...holders].map(([u, inst]) => `${u} on instance ${inst.join(', ')}`).join(' vs ')}`);
    }
    return fail(
      'single-winner',
      parts.join('; '),
      {
        conflicts: conflicts.slice(0, 5).map((c) => ({ seat: c.seat, first: brief(c.a.op), second: brief(c.b.op) })),
        finalReadSplits: splits.slice(0, 5).map((s) => ({ seat: s.seat, holders: Object.fromEntries(s.holders) })),
      },
      conflicts.length + splits.length,
    );
  },
};
