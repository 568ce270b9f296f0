// replica-fallback and cache-fallback: while the replica (or Redis) is down, reads still answer — from somewhere
// else — and, for Redis, writes still succeed. Whether those answers are fresh enough is for the other checks of the
// same scenario; these look at calls that overlapped the window and were not answered. A call lost with an instance
// the harness killed is not counted.

import type { Checker } from '../../../harness/scenario.ts';
import type { FaultWindow } from '../../../harness/types.ts';
import { brief, instanceLost, pass, summarise } from '../../../harness/checkers/verdict.ts';
import { seconds } from './model.ts';

function fallbackChecker(id: string, fault: string, what: string, fs: string[]): Checker {
  return {
    id,
    check({ ops, faults, instanceEvents }) {
      const windows = faults.filter((w) => w.fault === fault);
      if (!windows.length) return pass(id, `${what} was never down in this scenario`);
      const overlaps = (startUs: number, endUs: number, w: FaultWindow) => startUs <= w.endUs && (endUs < 0 || endUs >= w.startUs);
      const during = ops.filter((o) => fs.includes(o.f) && o.phase !== 'final' && windows.some((w) => overlaps(o.startUs, o.endUs, w)));
      const violations = during
        .filter((o) => o.type !== 'ok' && !instanceLost(o, instanceEvents))
        .map((o) => ({ reason: `a ${o.f} of ${String(o.args.userId)} on instance ${o.instance} at ${seconds(o.startUs)}, while ${what} was down, was not answered (${o.error ?? o.code ?? 'no answer'})`, call: brief(o) }));
      return summarise(id, violations, `${during.length} call(s) ran while ${what} was down; all were answered`, (v) => v.reason);
    },
  };
}

export const replicaFallback = fallbackChecker('replica-fallback', 'replica-down', 'the replica', ['read']);
export const cacheFallback = fallbackChecker('cache-fallback', 'redis-down', 'Redis', ['read', 'change-plan', 'cancel']);
