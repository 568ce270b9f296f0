// primary-offload: in a read-only phase with the replica healthy and caught up, the primary answered at most one
// SELECT for every two reads (counted on the wire: CommandComplete tags of the instances' connections, setup's
// excluded). The rest came from the replica or the cache.

import type { Checker } from '../../../harness/scenario.ts';
import { fail, pass, unknown } from '../../../harness/checkers/verdict.ts';
import type { ReadsFinal } from './model.ts';

/** Published (challenge README): primary SELECTs per read in the read-only phase. */
export const MAX_PRIMARY_SELECTS_PER_READ = 0.5;

export const primaryOffload: Checker<ReadsFinal> = {
  id: 'primary-offload',
  check({ final }) {
    const o = final?.offload;
    if (!o) return pass('primary-offload', 'this scenario has no read-only phase');
    if (o.reads < 20) return unknown('primary-offload', `only ${o.reads} read(s) were answered in the read-only phase: too few to measure`);
    const perRead = o.primarySelects / o.reads;
    const figures = `${o.primarySelects} primary SELECT(s) and ${o.replicaSelects} replica SELECT(s) for ${o.reads} read(s)`;
    if (perRead <= MAX_PRIMARY_SELECTS_PER_READ) return pass('primary-offload', `${figures} in the read-only phase: ${perRead.toFixed(2)} per read (at most ${MAX_PRIMARY_SELECTS_PER_READ})`);
    return fail('primary-offload', `in the read-only phase, with the replica healthy, the primary answered ${figures}: ${perRead.toFixed(2)} per read, above ${MAX_PRIMARY_SELECTS_PER_READ}; serve reads from the replica or a cache`, { ...o, perRead: Number(perRead.toFixed(3)) });
  },
};
