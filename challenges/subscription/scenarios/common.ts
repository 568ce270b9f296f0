// What the subscription scenarios share: the catalogue, seeded purchases (one user per purchase, so a charge's
// customer names its purchase), the services' common options (compressed reservation TTL, settle bounds), issuing
// purchases with a seeded spread, and the final reads after the system went quiet.

import type { ScenarioContext } from '../../../harness/scenario.ts';
import type { Rng } from '../../../harness/seed.ts';
import type { ServicesOptions } from '../../../harness/services/types.ts';
import type { Op } from '../../../harness/types.ts';
import { create, get } from '../operations.ts';
import { attributeCharges, confirmations, keptCharges, reservationsByRequest, type Expect, type ProductInfo, type PurchaseSpec } from '../checkers/model.ts';
import type { LedgerSnapshot } from '../../../harness/services/types.ts';
import { runLimited } from '../../../harness/generator/run-limited.ts';

/** Prices in minor units. `scarce` runs out; `doomed` cannot be committed (its commit fails for good). */
export const CATALOGUE: Record<string, ProductInfo> = {
  basic: { price: 1900, stock: 1000 },
  pro: { price: 4900, stock: 1000 },
  team: { price: 9900, stock: 1000 },
  scarce: { price: 2900, stock: 2 },
  doomed: { price: 3900, stock: 1000 },
};
export const PLANS = ['basic', 'pro', 'team'];

/** 30 s in production; runs are short, and a reservation still `reserved` when the run settles is a leak. */
export const RESERVATION_TTL_MS = 15_000;

export interface SubFinal {
  /** Nothing was owed and the system went quiet (no service call for `quietMs`) before the final reads. */
  quiet: boolean;
  settleMs: number;
  /** What was still owed when the published bound ran out (empty when the system finished). */
  owed?: string[];
}

/**
 * What the ledgers show a purchase still owes (CONTRACT §8, "silence is not completion"): a reservation neither
 * committed nor released, a charge kept without a committed reservation (to be committed or refunded), or an
 * active purchase's confirmation not yet accepted. Purchases the ledgers cannot attribute owe nothing here.
 */
export function owedWork(ledger: LedgerSnapshot, purchases: PurchaseSpec[]): string[] {
  const charges = attributeCharges(ledger, purchases).byRequest;
  const reservations = reservationsByRequest(ledger, purchases);
  const confirmed = confirmations(ledger).byRequest;
  const owed: string[] = [];
  for (const p of purchases) {
    const rs = reservations.get(p.requestId) ?? [];
    const kept = keptCharges(charges.get(p.requestId));
    const committed = rs.some((r) => r.state === 'committed');
    if (rs.some((r) => r.state === 'reserved')) owed.push(`${p.requestId}: its inventory reservation is neither committed nor released`);
    else if (kept.length && !committed) owed.push(`${p.requestId}: charged, but neither committed nor refunded`);
    else if (kept.length && committed && !confirmed.get(p.requestId)?.length) owed.push(`${p.requestId}: active, but its confirmation was not sent`);
  }
  return owed;
}

/** Hostile strings some buyers' user ids carry; found in SQL text outside a literal, they show SQL built from input. */
export const SUBSCRIPTION_INJECTION_PROBES = [`o'hara"; --`, `'); DELETE FROM purchases; --`];

/** The purchases' ids: fixed width with a seeded suffix, so no requestId occurs inside another (keys are matched by substring). */
export function purchaseMaker(rng: Rng) {
  const suffix = () => Math.floor(rng.next() * 0x10000).toString(16).padStart(4, '0');
  let n = 0;
  return (productId: string, expect: Expect, group?: string): PurchaseSpec => {
    const num = String(++n).padStart(4, '0');
    const tag = suffix();
    // Every 5th buyer's id carries an injection probe (the contract allows any string): harmless when bound.
    const userId = n % 5 === 2 ? `user-${num}-${tag} ${SUBSCRIPTION_INJECTION_PROBES[Math.floor(n / 5) % SUBSCRIPTION_INJECTION_PROBES.length]}` : `user-${num}-${tag}`;
    return { requestId: `req-${num}-${tag}`, userId, productId, expect, ...(group ? { group } : {}) };
  };
}

export function productsFor(purchases: PurchaseSpec[], overrides: Record<string, Partial<ProductInfo>> = {}): Record<string, ProductInfo> {
  const out: Record<string, ProductInfo> = {};
  for (const id of new Set(purchases.map((p) => p.productId))) out[id] = { ...CATALOGUE[id], ...overrides[id] };
  return out;
}

/** The options every subscription scenario gives the mock services. */
export function baseServices(data: Record<string, unknown>, params: Record<string, number>): ServicesOptions {
  return {
    products: data.products as Record<string, ProductInfo>,
    reservationTtlMs: RESERVATION_TTL_MS,
    // The pipeline's own settle is short and bounded: finalReads then waits for silence on every service call
    // (settleAndRead), counted from the last call, so the two waits do not add up.
    settle: { quietMs: 200, maxMs: Math.min(5_000, params.settleMaxMs) },
  };
}

/** Round-robin over the instances from a seeded start. */
export function roundRobin(rng: Rng, size: number): () => number {
  let next = rng.int(0, Math.max(0, size - 1));
  return () => {
    const i = next;
    next = (next + 1) % size;
    return i;
  };
}

export interface Planned {
  purchase: PurchaseSpec;
  instance: number;
  phase: string;
  /** Sent this long after the batch starts. */
  delayMs: number;
}

/** Send each planned purchase after its delay; resolves with every op once all are answered (or timed out). */
export function send(ctx: ScenarioContext, planned: Planned[]): Promise<Op[]> {
  const timeoutMs = ctx.params.callTimeoutMs;
  return Promise.all(
    planned.map(async (x) => {
      if (x.delayMs > 0) await ctx.sleep(x.delayMs);
      const { requestId, userId, productId } = x.purchase;
      return ctx.client.call(create(requestId, x.instance, { requestId, userId, productId }, x.phase, timeoutMs));
    }),
  );
}

/** Plan purchases round-robin over the instances, spread over `spreadMs`. */
export function plan(ctx: ScenarioContext, purchases: PurchaseSpec[], phase: string, spreadMs: number, rng: Rng): Planned[] {
  const pick = roundRobin(rng, ctx.cluster.size);
  return purchases.map((purchase) => ({ purchase, instance: pick(), phase, delayMs: rng.int(0, Math.max(0, spreadMs)) }));
}

/**
 * Final reads (CONTRACT §8): wait until nothing is owed (owedWork) and no instance has called any mock service for
 * `quietMs` (nothing in flight), or until the published bound `settleMaxMs` ran out — silence alone never ends the
 * wait while a purchase still owes work (a recovery lease that has not expired yet is silent). Then read every
 * purchase once (again on another instance if the read fails).
 */
export async function settleAndRead(ctx: ScenarioContext): Promise<SubFinal> {
  ctx.progress('waiting until every purchase is finished and the services go quiet');
  const purchases = ctx.data.purchases as PurchaseSpec[];
  let owed: string[] = [];
  const finished = () => (owed = owedWork(ctx.services!.ledger.snapshot(), purchases)).length === 0;
  const quiet = await waitSilence(ctx, ctx.params.quietMs, ctx.params.settleMaxMs, finished);
  ctx.metric('settleMs', quiet.waitedMs);
  ctx.metric('settled', quiet.quiet ? 1 : 0);
  if (owed.length) ctx.metric('owedAtFinalRead', owed.length);
  const size = ctx.cluster.size;
  await runLimited(
    purchases.map((p, i) => async () => {
      const first = await ctx.client.call(get('final-read', i % size, p.requestId, 'final', 5000));
      if (first.type !== 'ok' && size > 1) await ctx.client.call(get('final-read', (i + 1) % size, p.requestId, 'final', 5000));
    }),
    16,
  );
  ctx.metric('serviceCalls', ctx.services!.ledger.attempts.length);
  return { quiet: quiet.quiet, settleMs: quiet.waitedMs, ...(owed.length ? { owed: owed.slice(0, 20) } : {}) };
}

/**
 * Silence on every mock service: no call started or ended for `quietMs`, none in flight, and `finished()` (when
 * given) true; bounded by `maxMs`.
 */
export async function waitSilence(ctx: ScenarioContext, quietMs: number, maxMs: number, finished: () => boolean = () => true): Promise<{ quiet: boolean; waitedMs: number }> {
  const ledger = ctx.services!.ledger;
  const started = Date.now();
  for (;;) {
    let lastUs = 0;
    let inFlight = false;
    for (const a of ledger.attempts) {
      if (a.endUs < 0) inFlight = true;
      lastUs = Math.max(lastUs, a.startUs, a.endUs);
    }
    const silentMs = (ctx.nowUs() - lastUs) / 1000;
    const waitedMs = Date.now() - started;
    if (!inFlight && silentMs >= quietMs && finished()) return { quiet: true, waitedMs };
    if (waitedMs >= maxMs) return { quiet: false, waitedMs };
    await ctx.sleep(inFlight || silentMs >= quietMs ? 50 : Math.max(10, Math.min(100, quietMs - silentMs + 5)));
  }
}


/** Wait for `p`, but no longer than `ms` (resolves either way). */
export async function atMost(ctx: ScenarioContext, p: Promise<unknown>, ms: number): Promise<void> {
  await Promise.race([p, ctx.sleep(ms)]);
}
