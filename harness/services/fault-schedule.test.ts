// The seeded fault schedule: the same seed gives the same decision for the same (service, route, instance, key,
// attempt) whatever the order requests arrive in; another seed gives others; the rates come out as configured.

import { describe, expect, it } from 'vitest';
import { createRng } from '../seed.ts';
import { decideFault, ratesFor } from './fault-schedule.ts';
import { charge, startServices } from './test-helpers.ts';
import type { FaultRates, MockServices } from './types.ts';

const RATES: FaultRates = { error500: 0.15, error503: 0.15, rateLimit429: 0.1, reset: 0.1, ghost: 0.1, latency: 0.3, latencyMs: [1, 5], retryAfterMs: [10, 20] };

/** Each key tried `tries` times; the per-key fault sequence. */
function faultsByKey(s: MockServices): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const a of s.ledger.attempts) (out[a.key!] ??= []).push(`${a.fault}${a.latencyMs ? `+${a.latencyMs}ms` : ''}${a.retryAfterMs ? `/${a.retryAfterMs}` : ''}`);
  return out;
}

async function run(seed: number, keys: string[], concurrent: boolean): Promise<Record<string, string[]>> {
  const s = await startServices({ faults: { payments: RATES } }, { seed });
  for (let attempt = 0; attempt < 3; attempt++) {
    if (concurrent) await Promise.all(keys.map((k) => charge(s, k, undefined, { timeoutMs: 2000 })));
    else for (const k of keys) await charge(s, k, undefined, { timeoutMs: 2000 });
  }
  return faultsByKey(s);
}

describe('seeded fault schedule', () => {
  it('same seed, same keys and attempts → the same decisions, sequential or concurrent, in any order', async () => {
    const keys = Array.from({ length: 30 }, (_, i) => `purchase-${i}`);
    const a = await run(7, keys, false);
    const b = await run(7, [...keys].reverse(), true);
    expect(b).toEqual(a);
    expect(new Set(Object.values(a).flat()).size).toBeGreaterThan(3);
    const c = await run(8, keys, false);
    expect(c).not.toEqual(a);
  }, 30_000);

  it('decisions are a pure function of the seed and the attempt identity', () => {
    const id = { service: 'payments', route: 'POST /charges', instance: 1, identity: 'key:k', attempt: 2 };
    const d1 = decideFault(createRng(3), RATES, id);
    const d2 = decideFault(createRng(3), RATES, id);
    expect(d2).toEqual(d1);
    // a different instance, attempt or route is a different draw
    const others = [{ ...id, instance: 0 }, { ...id, attempt: 3 }, { ...id, route: 'POST /refunds' }].map((x) => decideFault(createRng(3), { error500: 0.5 }, x).kind);
    const many = Array.from({ length: 50 }, (_, i) => decideFault(createRng(3), { error500: 0.5 }, { ...id, attempt: i }).kind);
    expect(new Set(many).size).toBe(2);
    expect(others).toHaveLength(3);
    expect(decideFault(createRng(3), null, id)).toEqual({ kind: 'none', latencyMs: 0 });
  });

  it('draws faults at the configured rates', () => {
    const rng = createRng(11);
    const counts: Record<string, number> = {};
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const d = decideFault(rng, RATES, { service: 'payments', route: 'POST /charges', instance: i % 4, identity: `key:req-${i}`, attempt: 1 });
      counts[d.kind] = (counts[d.kind] ?? 0) + 1;
      if (d.latencyMs) counts.latency = (counts.latency ?? 0) + 1;
    }
    const share = (k: string) => (counts[k] ?? 0) / n;
    expect(share('error-500')).toBeCloseTo(0.15, 1);
    expect(share('error-503')).toBeCloseTo(0.15, 1);
    expect(share('rate-limit-429')).toBeCloseTo(0.1, 1);
    expect(share('ghost')).toBeCloseTo(0.1, 1);
    expect(share('none')).toBeCloseTo(0.4, 1);
    expect(share('latency')).toBeCloseTo(0.3, 1);
  });

  it('route overrides merge over the service rates', () => {
    expect(ratesFor({ error500: 0.2, latency: 0.5, routes: { 'POST /charges': { error500: 0, ghost: 0.3 } } }, 'POST /charges')).toEqual({ error500: 0, latency: 0.5, ghost: 0.3 });
    expect(ratesFor({ error500: 0.2, routes: { 'POST /charges': { ghost: 0.3 } } }, 'GET /charges/:id')).toEqual({ error500: 0.2 });
    expect(ratesFor(null, 'x')).toBeNull();
  });
});
