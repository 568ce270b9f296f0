// no-stampede: while many concurrent reads hit a few hot users and the cache is emptied under them, no instance sends
// the primary more than two statements naming one hot user (its id in the text or a parameter) in any 250 ms.
// Concurrent misses must wait for one refill; reads the replica answers are not counted.

import type { Checker } from '../../../harness/scenario.ts';
import { fail, pass } from '../../../harness/checkers/verdict.ts';
import { seconds, type ReadsFinal } from './model.ts';

/** Published (challenge README): per instance, per hot user, in any window of STAMPEDE_WINDOW_MS. */
export const MAX_PRIMARY_QUERIES_PER_WINDOW = 2;
export const STAMPEDE_WINDOW_MS = 250;

export const noStampede: Checker<ReadsFinal> = {
  id: 'no-stampede',
  check({ final }) {
    const s = final?.stampede;
    if (!s) return pass('no-stampede', 'no hot key was emptied under load in this scenario');
    const over = s.worst.filter((w) => w.count > MAX_PRIMARY_QUERIES_PER_WINDOW);
    const top = [...s.worst].sort((a, b) => b.count - a.count)[0];
    if (!over.length) {
      return pass('no-stampede', `the cache was emptied ${s.flushes} time(s) under load; at most ${top?.count ?? 0} primary statement(s) named a hot user from one instance in any ${s.windowMs} ms`);
    }
    const first = [...over].sort((a, b) => b.count - a.count)[0];
    return fail(
      'no-stampede',
      `instance ${first.instance} sent the primary ${first.count} statements naming hot user ${first.userId} within ${s.windowMs} ms (from ${seconds(first.atUs)}), more than ${MAX_PRIMARY_QUERIES_PER_WINDOW}: concurrent cache misses each went to the database; let them share one refill`,
      { worst: over.slice(0, 8), flushes: s.flushes },
      over.length,
    );
  },
};
