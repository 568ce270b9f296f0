// honours-retry-after: after a 429 (or 503) carrying Retry-After, the same process does not try that call again
// before the time it was told. Judged per instance and identity (CONTRACT §8): two instances that each follow
// their own answers are fine; a second worker in one process that ignores what the first was told is not.

import type { Checker } from '../../../harness/scenario.ts';
import { ms, summarise, unknown } from '../../../harness/checkers/verdict.ts';
import { attemptView, groupAttempts, groupLabel, retryAfterToleranceMs, toldRetryAfter } from './attempts.ts';

export const honoursRetryAfter: Checker = {
  id: 'honours-retry-after',
  check({ ledger }) {
    if (!ledger) return unknown('honours-retry-after', 'no mock service ledger was recorded for this scenario');
    const violations = [];
    let told = 0;
    for (const g of groupAttempts(ledger)) {
      for (const a of g.attempts) {
        if (!toldRetryAfter(a)) continue;
        told++;
        // The next try is the first one sent after this answer went out (one sent before could not have known).
        const next = g.attempts.find((b) => b !== a && b.startUs >= a.endUs);
        if (!next) continue;
        const earliestUs = a.endUs + a.retryAfterMs! * 1000;
        if (next.startUs >= earliestUs - retryAfterToleranceMs(a.retryAfterMs!) * 1000) continue;
        violations.push({
          reason: `${groupLabel(g)} was told at ${ms(a.endUs)} ms to retry after ${a.retryAfterMs} ms (${a.status} with Retry-After), but tried again ${ms(next.startUs - a.endUs)} ms later, at ${ms(next.startUs)} ms`,
          service: g.service,
          route: g.route,
          instance: g.instance,
          identity: g.identity,
          told: attemptView(a),
          retry: attemptView(next),
          earlyByMs: ms(earliestUs - next.startUs),
        });
      }
    }
    return summarise('honours-retry-after', violations, told ? `every one of ${told} Retry-After answer(s) was honoured by the instance that got it` : 'no call was answered with Retry-After', (v) => v.reason);
  },
};
