// retry-backoff: retries of a failing call back off. Three rules over the mock ledgers (CONTRACT §8's budget):
// (1) per streak (one key from one instance while it keeps failing): at most 12 + 8/s attempts; (2) per service
// route, pooled over streaks: when the first waits are short, the waits from the 6th retry on must have grown;
// (3) while a service is down: all attempts to it stay within 2 × purchases in flight × the streak allowance.

import type { Checker } from '../../../harness/scenario.ts';
import type { FaultWindow, Op } from '../../../harness/types.ts';
import type { AttemptRecord, LedgerSnapshot } from '../../../harness/services/types.ts';
import { ms, summarise, unknown } from '../../../harness/checkers/verdict.ts';
import { BUDGET, attemptView, groupAttempts, groupLabel, streakAllowance, streaks, waits, type Group } from './attempts.ts';
import { confirmations, createsByRequest } from './model.ts';

interface Violation {
  rule: 'attempts-per-key' | 'no-growth' | 'outage-traffic';
  reason: string;
  [detail: string]: unknown;
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
const round = (x: number) => Math.round(x * 10) / 10;

/** Rule 1: one streak of one key from one instance. */
function perStreak(groups: Group[]): Violation[] {
  const out: Violation[] = [];
  for (const g of groups) {
    for (const s of streaks(g)) {
      const spanUs = s[s.length - 1].startUs - s[0].startUs;
      const allowed = streakAllowance(spanUs);
      if (s.length <= allowed) continue;
      const w = waits(s).map((x) => x.waitUs / 1000);
      out.push({
        rule: 'attempts-per-key',
        reason: `${groupLabel(g)} was tried ${s.length} times in ${ms(spanUs)} ms while it kept failing (the budget allows ${allowed}: ${BUDGET.streakBase} + ${BUDGET.streakPerS} per second); waits between tries: ${w.slice(0, 8).map((x) => `${round(x)} ms`).join(', ')}${w.length > 8 ? ' …' : ''}`,
        service: g.service,
        route: g.route,
        instance: g.instance,
        identity: g.identity,
        attempts: s.length,
        spanMs: ms(spanUs),
        allowed,
        first: s.slice(0, 4).map(attemptView),
        last: attemptView(s[s.length - 1]),
      });
    }
  }
  return out;
}

/** Rule 2: pooled over every streak of one service route, do the waits grow from the first retries to the later ones? */
function growth(groups: Group[]): Violation[] {
  const byRoute = new Map<string, { early: number[]; late: number[]; example?: { g: Group; s: AttemptRecord[] } }>();
  for (const g of groups) {
    for (const s of streaks(g)) {
      const id = `${g.service} ${g.route}`;
      const pool = byRoute.get(id) ?? byRoute.set(id, { early: [], late: [] }).get(id)!;
      for (const w of waits(s)) {
        if (w.forced) continue; // Retry-After set this wait, not the backoff
        if (w.index < BUDGET.earlyIndexes) pool.early.push(w.waitUs / 1000);
        else if (w.index >= BUDGET.lateFromIndex) pool.late.push(w.waitUs / 1000);
      }
      if (s.length > BUDGET.lateFromIndex + 1 && (!pool.example || s.length > pool.example.s.length)) pool.example = { g, s };
    }
  }
  const out: Violation[] = [];
  for (const [route, pool] of byRoute) {
    if (pool.late.length < BUDGET.lateMin || !pool.early.length) continue;
    const early = mean(pool.early);
    const late = mean(pool.late);
    if (early >= BUDGET.shortMs) continue;
    const needed = Math.max(BUDGET.growth * early, BUDGET.lateFloorMs);
    if (late >= needed) continue;
    const ex = pool.example;
    out.push({
      rule: 'no-growth',
      reason: `retries of ${route} do not back off: the waits before the first ${BUDGET.earlyIndexes} retries average ${round(early)} ms and the waits from the ${BUDGET.lateFromIndex + 1}th retry on still average ${round(late)} ms (${pool.late.length} of them; they should have grown to at least ${round(needed)} ms)`,
      route,
      earlyMeanMs: round(early),
      lateMeanMs: round(late),
      lateWaits: pool.late.length,
      neededMs: round(needed),
      ...(ex ? { example: { streak: groupLabel(ex.g), attempts: ex.s.slice(0, 10).map(attemptView) } } : {}),
    });
  }
  return out;
}

/** Purchases in flight while a service was down: a create call overlapping the window, or (notifications) a confirmation still owed. */
function unitsInFlight(w: FaultWindow, service: string, ops: Op[], ledger: LedgerSnapshot): number {
  const units = new Set<string>();
  for (const [rid, creates] of createsByRequest(ops)) {
    if (creates.some((o) => o.startUs <= w.endUs && (o.endUs < 0 || o.endUs >= w.startUs))) units.add(rid);
  }
  if (service === 'notifications') {
    const sent = confirmations(ledger).byRequest;
    for (const [rid, creates] of createsByRequest(ops)) {
      const created = creates.find((o) => o.type === 'ok' && o.endUs <= w.endUs);
      const first = sent.get(rid)?.[0];
      if (created && (!first || first.atUs >= w.startUs)) units.add(rid);
    }
  }
  return units.size;
}

/** Rule 3: the whole traffic to a service while it is down. */
function outageTraffic(faults: FaultWindow[], ops: Op[], ledger: LedgerSnapshot): Violation[] {
  const out: Violation[] = [];
  for (const w of faults) {
    if (w.fault !== 'service-outage' || !Number.isFinite(w.endUs)) continue;
    const service = String(w.detail?.service ?? '');
    const only = w.detail?.instances as number[] | undefined;
    const hits = ledger.attempts.filter((a) => a.service === service && a.startUs >= w.startUs && a.startUs <= w.endUs && (!only || only.includes(a.instance)));
    const units = unitsInFlight(w, service, ops, ledger);
    const allowed = Math.floor(BUDGET.outagePerUnit * units * streakAllowance(w.endUs - w.startUs) + BUDGET.outageSlack);
    if (hits.length <= allowed) continue;
    const perInstance: Record<string, number> = {};
    for (const a of hits) perInstance[a.instance] = (perInstance[a.instance] ?? 0) + 1;
    out.push({
      rule: 'outage-traffic',
      reason: `while ${service} was down for ${ms(w.endUs - w.startUs)} ms it received ${hits.length} calls for ${units} purchase(s) in flight (the budget allows ${allowed}); per instance: ${Object.entries(perInstance).map(([i, n]) => `${i}: ${n}`).join(', ')}`,
      service,
      window: { startMs: ms(w.startUs), endMs: ms(w.endUs) },
      attempts: hits.length,
      unitsInFlight: units,
      allowed,
      perInstance,
      sample: hits.slice(0, 6).map(attemptView),
    });
  }
  return out;
}

export const retryBackoff: Checker = {
  id: 'retry-backoff',
  check({ ops, faults, ledger }) {
    if (!ledger) return unknown('retry-backoff', 'no mock service ledger was recorded for this scenario');
    const groups = groupAttempts(ledger);
    const violations = [...perStreak(groups), ...growth(groups), ...outageTraffic(faults, ops, ledger)];
    const retried = groups.reduce((n, g) => n + streaks(g).length, 0);
    return summarise('retry-backoff', violations, `every retry backed off within the budget (${retried} failure streak${retried === 1 ? '' : 's'} judged)`, (v) => v.reason);
  },
};
