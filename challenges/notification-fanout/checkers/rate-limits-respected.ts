// rate-limits-respected: at most `smsPerUserPerMinute` SMS per user in any 60 s (the service's own limit, counted
// over every instance), and after a provider answered 429 with Retry-After, the instance that got it sends that
// provider nothing until the time has passed (a call that may have been on its way when the 429 arrived is allowed:
// GRACE_MS). Retry-After is judged per instance and provider: two instances each following their own answers are fine.
// The same delivery sent again (same Idempotency-Key) by the instance that was told 429 needs no such grace: that
// instance had read the 429 when it decided to send it again (an instance that ignores Retry-After may send nothing
// else to that provider within the window: judged by other calls alone, whether it showed was down to traffic).

import type { Checker } from '../../../harness/scenario.ts';
import type { AttemptRecord } from '../../../harness/services/types.ts';
import { summarise, unknown } from '../../../harness/checkers/verdict.ts';
import { CHANNELS } from '../operations.ts';
import { attemptView, fanoutData, smsByUser } from './model.ts';

/**
 * A call that reaches the provider this soon after a 429 was answered may have been decided before the instance read
 * that 429: its worker checked the pause, then the request spent time in the instance's event loop and on the wire,
 * or the 429's answer waited there before the instance saw it. On a loaded two-core machine that is over 100 ms
 * (seen: a plain solution that checks the pause right before each send, 126 ms; with two busy loops beside the
 * grade, a queue worker that checked it before its database reads, 345 ms). That is also why this check is not a
 * safety check: a starved machine can make an honest instance look early.
 */
export const GRACE_MS = 500;
/**
 * Slack at the end of a Retry-After: timer lateness. Node arms a setTimeout from the event loop's cached clock, tens of
 * ms stale on a busy machine, so a policy that waits exactly as told can start that much "early" by the provider's
 * clock (the subscription challenge's honours-retry-after learned this in CI).
 */
export const retryAfterSlackMs = (retryAfterMs: number) => Math.max(50, retryAfterMs * 0.1);
const MINUTE_US = 60_000_000;
/** The same key again: it was decided after the 429 was read, so only the two clocks' order needs slack. */
export const SAME_KEY_GRACE_MS = 10;

export const rateLimitsRespected: Checker = {
  id: 'rate-limits-respected',
  check({ data, ledger }) {
    if (!ledger) return unknown('rate-limits-respected', 'no provider ledger was recorded for this scenario');
    const d = fanoutData(data);
    const limit = d.limits.smsPerUserPerMinute;
    const violations = [];
    for (const [userId, sent] of smsByUser(d, ledger)) {
      for (let i = 0; i + limit < sent.length; i++) {
        if (sent[i + limit].atUs - sent[i].atUs < MINUTE_US) {
          violations.push({ userId, reason: `${userId} was sent ${sent.length} SMS within ${Math.round((sent[sent.length - 1].atUs - sent[0].atUs) / 1e5) / 10} s (events ${sent.map((s) => s.eventId).join(', ')}): at most ${limit} per user in any 60 s — count them across instances before sending`, sms: sent });
          break;
        }
      }
    }
    let told = 0;
    const attempts = ledger.attempts.filter((a) => (CHANNELS as readonly string[]).includes(String(a.service)));
    for (const a of attempts) {
      if (a.status !== 429 || a.retryAfterMs === undefined || a.endUs < 0) continue;
      told++;
      const from = a.endUs + GRACE_MS * 1000;
      const sameKeyFrom = a.endUs + SAME_KEY_GRACE_MS * 1000;
      const until = a.endUs + (a.retryAfterMs - retryAfterSlackMs(a.retryAfterMs)) * 1000;
      if (until <= sameKeyFrom) continue;
      const again = (b: AttemptRecord) => a.key !== null && b.key === a.key && b.startUs > sameKeyFrom;
      const early = attempts.filter((b) => b.service === a.service && b.instance === a.instance && b.startUs < until && (b.startUs > from || again(b)));
      if (early.length) {
        const retried = early.filter(again).length;
        violations.push({
          service: a.service, instance: a.instance,
          reason: `instance ${a.instance} was told by ${a.service} to wait ${a.retryAfterMs} ms (429 at ${Math.round(a.endUs / 1000)} ms), yet sent it ${early.length} more call(s) within that time${retried ? ` (${retried} of them the same delivery again)` : ''}, the first ${Math.round((early[0].startUs - a.endUs) / 1000)} ms after — a 429 from a provider pauses that provider for the whole instance`,
          rateLimited: attemptView(a), early: early.slice(0, 6).map(attemptView),
        });
      }
    }
    return summarise('rate-limits-respected', violations, `no user got more than ${limit} SMS in a minute, and every one of the ${told} 429 answer(s) was waited out by its instance`, (v) => v.reason);
  },
};
