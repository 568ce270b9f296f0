// The mock inventory (CONTRACT §4): reservations that price a purchase and hold stock, commit, release, expiry after
// a TTL, and commits that fail for good (`reservation_expired`) for the reservations a scenario chooses.

import type { Rng } from '../seed.ts';
import type { Ledger } from './ledger.ts';
import type { RouteResult, ServiceDef } from './request-flow.ts';
import { seededChance } from './fault-schedule.ts';
import { idMaker, invalid, isObject, nonEmptyString, notFound, positiveInteger, refused } from './responses.ts';
import type { CommitFailureRule, ReservationRecord, ReservationState, ReservationTransition, StockLevel } from './types.ts';

export const DEFAULT_RESERVATION_TTL_MS = 30_000;

export interface InventoryControl {
  stockOf(productId: string): StockLevel | undefined;
  failCommits(rule: CommitFailureRule): void;
  /** Stop the expiry timers (on close). */
  stop(): void;
}

export function createInventory(ledger: Ledger, rng: Rng, options: { ttlMs?: number; commitFailures?: CommitFailureRule[] } = {}): { def: ServiceDef; control: InventoryControl } {
  const ttlMs = options.ttlMs ?? DEFAULT_RESERVATION_TTL_MS;
  if (!(ttlMs > 0)) throw new Error(`reservationTtlMs must be positive, got ${ttlMs}`);
  const reservationId = idMaker('rsv');
  const rules = [...(options.commitFailures ?? [])];
  const byId = new Map<string, ReservationRecord>();
  const timers = new Map<string, NodeJS.Timeout>();

  const move = (r: ReservationRecord, state: ReservationState, t: Omit<ReservationTransition, 'state'>) => {
    r.state = state;
    r.transitions.push({ state, ...t });
    clearTimeout(timers.get(r.id));
    timers.delete(r.id);
    ledger.changed();
  };

  /** A live reservation past its TTL expires (at its expiry time), whether or not its timer fired yet. */
  const refresh = (r: ReservationRecord, force = false) => {
    if (r.state === 'reserved' && (force || ledger.nowUs() >= r.expiresAtUs)) move(r, 'expired', { atUs: r.expiresAtUs, instance: -1, cause: 'ttl' });
  };

  const commitFails = (r: ReservationRecord) =>
    rules.some(
      (rule) =>
        rule.products?.includes(r.productId) ||
        rule.reservationIds?.includes(r.id) ||
        (rule.probability !== undefined && seededChance(rng, `commit-fail|${r.key ?? r.id}`) < rule.probability) ||
        rule.match?.(r) === true,
    );

  const view = (r: ReservationRecord) => ({
    id: r.id,
    productId: r.productId,
    quantity: r.quantity,
    amount: r.amount,
    currency: r.currency,
    status: r.state,
    ...(r.state === 'reserved' ? { expiresInMs: Math.max(0, Math.round((r.expiresAtUs - ledger.nowUs()) / 1000)) } : {}),
  });

  const find = (id: string) => {
    const r = byId.get(id);
    if (r) refresh(r);
    return r;
  };

  const def: ServiceDef = {
    name: 'inventory',
    routes: [
      {
        method: 'POST',
        pattern: '/reservations',
        mutating: true,
        handle({ body, instance, key, attempt }): RouteResult {
          if (!isObject(body)) return invalid('expected a JSON body {productId, quantity}');
          if (!nonEmptyString(body.productId)) return invalid('productId must be a non-empty string');
          if (!positiveInteger(body.quantity)) return invalid('quantity must be a positive whole number');
          const product = ledger.products[body.productId];
          if (!product) return notFound('product_not_found', `no product ${body.productId}`);
          for (const r of ledger.reservations) if (r.productId === body.productId) refresh(r);
          const level = ledger.stockOf(body.productId)!;
          if (level.available < body.quantity) return refused(409, 'out_of_stock', `only ${level.available} of ${body.productId} left`, { available: level.available });
          const atUs = ledger.nowUs();
          const r = ledger.addReservation({
            id: reservationId(),
            productId: body.productId,
            quantity: body.quantity,
            amount: product.price * body.quantity,
            currency: product.currency ?? 'usd',
            key,
            instance,
            atUs,
            expiresAtUs: atUs + ttlMs * 1000,
            state: 'reserved',
            transitions: [{ state: 'reserved', atUs, instance, cause: 'reserve', attempt: attempt.seq }],
            attempt: attempt.seq,
          });
          byId.set(r.id, r);
          const timer = setTimeout(() => refresh(r, true), ttlMs);
          timer.unref();
          timers.set(r.id, timer);
          return { status: 201, body: view(r) };
        },
      },
      {
        method: 'GET',
        pattern: '/reservations/:id',
        mutating: false,
        handle({ params }): RouteResult {
          const r = find(params.id);
          return r ? { status: 200, body: view(r) } : notFound('reservation_not_found', `no reservation ${params.id}`);
        },
      },
      {
        method: 'POST',
        pattern: '/reservations/:id/commit',
        mutating: true,
        handle({ params, instance, attempt }): RouteResult {
          const r = find(params.id);
          if (!r) return notFound('reservation_not_found', `no reservation ${params.id}`);
          if (r.state === 'committed') return { status: 200, body: view(r) };
          if (r.state === 'reserved' && commitFails(r)) move(r, 'expired', { atUs: ledger.nowUs(), instance, cause: 'commit-refused', attempt: attempt.seq });
          if (r.state !== 'reserved') return refused(409, 'reservation_expired', `reservation ${r.id} is ${r.state} and can no longer be committed (final)`, { status: r.state });
          move(r, 'committed', { atUs: ledger.nowUs(), instance, cause: 'commit', attempt: attempt.seq });
          return { status: 200, body: view(r) };
        },
      },
      {
        method: 'DELETE',
        pattern: '/reservations/:id',
        mutating: true,
        handle({ params, instance, attempt }): RouteResult {
          const r = find(params.id);
          if (!r) return notFound('reservation_not_found', `no reservation ${params.id}`);
          if (r.state === 'reserved' || r.state === 'committed') move(r, 'released', { atUs: ledger.nowUs(), instance, cause: 'release', attempt: attempt.seq });
          return { status: 200, body: view(r) };
        },
      },
    ],
  };

  const control: InventoryControl = {
    stockOf(productId) {
      for (const r of ledger.reservations) if (r.productId === productId) refresh(r);
      return ledger.stockOf(productId);
    },
    failCommits(rule) {
      rules.push(rule);
    },
    stop() {
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
    },
  };
  return { def, control };
}
