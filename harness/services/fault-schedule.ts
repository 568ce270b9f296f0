// The seeded per-request fault schedule: each attempt's fault is a pure function of the seed and the attempt's
// identity (service, route, instance, idempotency key or body, n-th attempt of it), so concurrency cannot reorder it.

import type { Rng } from '../seed.ts';
import type { FaultKind, FaultRates, ServiceFaults } from './types.ts';
import { canonicalJson } from './idempotency.ts';

export interface FaultDecision {
  kind: Exclude<FaultKind, 'outage'> | 'none';
  latencyMs: number;
  retryAfterMs?: number;
  holdMs?: number;
}

export interface AttemptIdentity {
  service: string;
  route: string;
  instance: number;
  /** `key:<Idempotency-Key>` for keyed mutating calls, `body:<canonical body>` for keyless ones, `get:<path>` for reads. */
  identity: string;
  /** 1 for the first attempt of this identity on this (service, route, instance), 2 for its first retry ... */
  attempt: number;
}

const DEFAULT_LATENCY_MS: [number, number] = [50, 300];
const DEFAULT_RETRY_AFTER_MS: [number, number] = [200, 1000];

const ORDER: [keyof FaultRates, FaultDecision['kind']][] = [
  ['error500', 'error-500'],
  ['error503', 'error-503'],
  ['rateLimit429', 'rate-limit-429'],
  ['reset', 'reset'],
  ['hold', 'hold'],
  ['ghost', 'ghost'],
];

/** The identity of a request for the schedule (see AttemptIdentity.identity). */
export function identityOf(mutating: boolean, key: string | null, pathAndQuery: string, body: unknown, rawBody: string): string {
  if (!mutating) return `get:${pathAndQuery}`;
  if (key !== null) return `key:${key}`;
  return `body:${pathAndQuery.split('?')[0]}:${body === undefined ? rawBody : canonicalJson(body)}`;
}

/** A service's rates for one route: the route's override merged over the service's own. */
export function ratesFor(faults: ServiceFaults | null, route: string): FaultRates | null {
  if (!faults) return null;
  const { routes, ...base } = faults;
  const override = routes?.[route];
  return override ? { ...base, ...override } : base;
}

export function validateRates(where: string, rates: FaultRates): void {
  let sum = 0;
  for (const [field] of ORDER) {
    const p = rates[field] as number | undefined;
    if (p === undefined) continue;
    if (!(p >= 0 && p <= 1)) throw new Error(`${where}: ${field} must be a probability in [0, 1], got ${p}`);
    sum += p;
  }
  if (sum > 1 + 1e-9) throw new Error(`${where}: the exclusive fault probabilities add up to ${sum}, more than 1`);
  if (rates.latency !== undefined && !(rates.latency >= 0 && rates.latency <= 1)) throw new Error(`${where}: latency must be a probability in [0, 1]`);
  for (const range of ['latencyMs', 'retryAfterMs'] as const) {
    const r = rates[range];
    if (r && !(r.length === 2 && r[0] >= 0 && r[1] >= r[0])) throw new Error(`${where}: ${range} must be [min, max] with 0 ≤ min ≤ max`);
  }
}

/** Decide one attempt's fault. Draws are fixed in number and order, so a rate changing never shifts another draw. */
export function decideFault(rng: Rng, rates: FaultRates | null, id: AttemptIdentity): FaultDecision {
  const r = rng.fork(`${id.service}|${id.route}|${id.instance}|${id.identity}|${id.attempt}`);
  const uLatency = r.next();
  const uLatencyAmount = r.next();
  const uKind = r.next();
  const uRetryAfter = r.next();
  if (!rates) return { kind: 'none', latencyMs: 0 };
  const [lmin, lmax] = rates.latencyMs ?? DEFAULT_LATENCY_MS;
  const latencyMs = uLatency < (rates.latency ?? 0) ? Math.round(lmin + uLatencyAmount * (lmax - lmin)) : 0;
  let acc = 0;
  for (const [field, kind] of ORDER) {
    acc += (rates[field] as number | undefined) ?? 0;
    if (uKind < acc) {
      const decision: FaultDecision = { kind, latencyMs };
      if (kind === 'rate-limit-429') {
        const [amin, amax] = rates.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS;
        decision.retryAfterMs = Math.round(amin + uRetryAfter * (amax - amin));
      }
      if (kind === 'hold' && rates.holdMs !== undefined) decision.holdMs = rates.holdMs;
      return decision;
    }
  }
  return { kind: 'none', latencyMs };
}

/** Counts attempts per identity, in arrival order, so each gets its ordinal. */
export class AttemptCounter {
  private readonly counts = new Map<string, number>();

  next(service: string, route: string, instance: number, identity: string): number {
    const k = `${service}|${route}|${instance}|${identity}`;
    const n = (this.counts.get(k) ?? 0) + 1;
    this.counts.set(k, n);
    return n;
  }
}

/** A seeded draw in [0, 1) for a label (declines per customer, commit failures per reservation). */
export function seededChance(rng: Rng, label: string): number {
  return rng.fork(label).next();
}
