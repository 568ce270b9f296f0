// The mock services' attempts grouped the way the retry checks judge them: per service, route, instance and
// identity (the Idempotency-Key; for a keyless call its body; for a read its path), split into failure streaks.
// The retry budget's numbers live here, so the docs, the checks and their tests quote one source.

import type { AttemptRecord, LedgerSnapshot } from '../../../harness/services/types.ts';
import { canonicalJson } from '../../../harness/services/idempotency.ts';
import { ms } from '../../../harness/checkers/verdict.ts';

/**
 * The retry budget (CONTRACT §8). Capped exponential backoff with full jitter (base 20–50 ms, cap ~1 s) that honours
 * Retry-After passes it with a false-alarm probability far below 1e-8 per key (Monte Carlo, docs/checkers.md);
 * retrying at once or at a fixed interval under 250 ms fails it whenever a service stays down for a second or more.
 */
export const BUDGET = {
  /** A streak of n attempts spanning D seconds (first start to last start) may hold at most BASE + PER_S·D attempts. */
  streakBase: 12,
  streakPerS: 8,
  /** Pooled growth, per service route: judged once at least this many waits from the 6th retry on exist. */
  lateMin: 16,
  /** Waits before the 1st, 2nd and 3rd retry ("early") and from the 6th retry on ("late"), by retry index. */
  earlyIndexes: 3,
  lateFromIndex: 5,
  /** Early waits averaging at least this long are not "short": any fixed interval ≥ 250 ms passes growth. */
  shortMs: 250,
  /** Late waits must average at least GROWTH × the early ones, and at least LATE_FLOOR ms. */
  growth: 2,
  lateFloorMs: 100,
  /** While a service is down (outage window W): attempts ≤ PER_UNIT × units × (BASE + PER_S·|W|) + SLACK. */
  outagePerUnit: 2,
  outageSlack: 10,
  /**
   * Retry-After is judged with a tolerance of max(this, RETRY_AFTER_TOLERANCE_SHARE × the wait): a client honouring the
   * wait exactly can still start its retry early by the server's clock, by its own timer granularity and event-loop
   * lag (Node times a setTimeout from the loop's cached clock, stale by however long the current turn has run — tens
   * of ms on a busy 2-core machine). A client that ignores Retry-After is early by most of the wait.
   */
  retryAfterToleranceMs: 50,
  retryAfterToleranceShare: 0.1,
} as const;

/** How early (ms, by the server's clock) a retry after a Retry-After of `waitMs` may start and still honour it. */
export const retryAfterToleranceMs = (waitMs: number) => Math.max(BUDGET.retryAfterToleranceMs, BUDGET.retryAfterToleranceShare * waitMs);

/** The most attempts a streak spanning `spanUs` may hold. */
export const streakAllowance = (spanUs: number) => Math.floor(BUDGET.streakBase + (BUDGET.streakPerS * spanUs) / 1e6);

export interface Group {
  service: string;
  route: string;
  instance: number;
  /** `key:K`, `body:{...}` or `get:/path`. */
  identity: string;
  attempts: AttemptRecord[];
}

export function identityOf(a: AttemptRecord): string {
  if (a.key) return `key:${a.key}`;
  if (a.method === 'GET') return `get:${a.path}`;
  return `body:${a.path.split('?')[0]}:${typeof a.body === 'string' ? a.body : canonicalJson(a.body ?? null)}`;
}

/** Attempts per (service, route, instance, identity), each in start order. Unknown routes are left out. */
export function groupAttempts(ledger: LedgerSnapshot): Group[] {
  const groups = new Map<string, Group>();
  for (const a of ledger.attempts) {
    if (!a.route) continue;
    const identity = identityOf(a);
    const id = `${a.service}|${a.route}|${a.instance}|${identity}`;
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { service: a.service, route: a.route, instance: a.instance, identity, attempts: [] }));
    g.attempts.push(a);
  }
  for (const g of groups.values()) g.attempts.sort((x, y) => x.startUs - y.startUs || x.seq - y.seq);
  return [...groups.values()];
}

/** A failure that calls for a retry later: no answer, a 5xx, a 429, or 409 request_in_progress. */
export function retryable(a: AttemptRecord): boolean {
  if (a.outcome !== 'answered') return true;
  return a.status >= 500 || a.status === 429 || (a.status === 409 && a.code === 'request_in_progress');
}

/** The time the caller learned the attempt's fate (answer, reset, or its own timeout); pending: its start. */
export const endOf = (a: AttemptRecord) => (a.endUs >= 0 ? a.endUs : a.startUs);

/** An answer that told the caller when to come back. */
export const toldRetryAfter = (a: AttemptRecord) => a.retryAfterMs !== undefined && a.outcome === 'answered' && (a.status === 429 || a.status === 503);

/** Maximal runs of attempts in which every attempt but the last failed retryably (length ≥ 2: at least one retry). */
export function streaks(g: Group): AttemptRecord[][] {
  const out: AttemptRecord[][] = [];
  let cur: AttemptRecord[] = [];
  for (const a of g.attempts) {
    cur.push(a);
    if (!retryable(a)) {
      if (cur.length >= 2) out.push(cur);
      cur = [];
    }
  }
  if (cur.length >= 2) out.push(cur);
  return out;
}

/** The wait before each retry of a streak (next start − previous end, never negative), with whether Retry-After set it. */
export function waits(streak: AttemptRecord[]): { index: number; waitUs: number; forced: boolean }[] {
  const out = [];
  for (let i = 0; i + 1 < streak.length; i++) out.push({ index: i, waitUs: Math.max(0, streak[i + 1].startUs - endOf(streak[i])), forced: toldRetryAfter(streak[i]) });
  return out;
}

export function attemptView(a: AttemptRecord) {
  return {
    seq: a.seq,
    instance: a.instance,
    key: a.key,
    startMs: ms(a.startUs),
    endMs: ms(endOf(a)),
    answer: a.outcome === 'answered' ? `${a.status}${a.code ? ` ${a.code}` : ''}` : a.outcome,
    ...(a.fault !== 'none' ? { fault: a.fault } : {}),
    ...(a.retryAfterMs !== undefined ? { retryAfterMs: a.retryAfterMs } : {}),
  };
}

export function groupLabel(g: Pick<Group, 'service' | 'route' | 'instance' | 'identity'>): string {
  const id = g.identity.startsWith('key:') ? `key ${g.identity.slice(4)}` : g.identity.startsWith('get:') ? g.identity.slice(4) : `keyless ${g.identity.slice(5, 120)}`;
  return `${g.service} ${g.route} from instance ${g.instance} (${id})`;
}
