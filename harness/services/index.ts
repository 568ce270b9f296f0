// The mock services of a scenario (CONTRACT §4): payments, notifications, inventory and the channel providers (email,
// sms, push) over node:http, one port per (service, instance) so every call is attributed, with Stripe-style
// idempotency, a seeded fault schedule and ledgers.

import type { Rng } from '../seed.ts';
import { onCleanup } from '../cleanup.ts';
import { Ledger } from './ledger.ts';
import { IdempotencyStore } from './idempotency.ts';
import { AttemptCounter } from './fault-schedule.ts';
import { FaultController } from './fault-control.ts';
import { startHost, type Host } from './http-host.ts';
import { requestHandler, type FlowDeps, type ServiceDef } from './request-flow.ts';
import { createPayments } from './payments.ts';
import { createNotifications } from './notifications.ts';
import { createInventory } from './inventory.ts';
import { createProviders } from './providers.ts';
import { waitForQuiet } from './quiescence.ts';
import { SERVICE_NAMES, type MockServices, type ProductSpec, type ServiceName, type ServicesOptions, type ServicesSpec, type ServiceUrls } from './types.ts';

export * from './types.ts';
export { SERVICE_FAULT } from './fault-control.ts';
export { waitForQuiet } from './quiescence.ts';
export { DEFAULT_RESERVATION_TTL_MS } from './inventory.ts';

export const DEFAULT_QUIET_MS = 500;
export const DEFAULT_MAX_SETTLE_MS = 10_000;

export interface StartMockServicesOptions {
  /** Seeded randomness (fault schedule, declines, commit failures); fork it per scenario. */
  rng: Rng;
  /** The history's clock (µs since the scenario started). */
  nowUs(): number;
  /** The scenario's instance count; ports are opened for -1 (setup), 0 .. instances-1 and `spareInstances` more. */
  instances: number;
  options?: ServicesOptions;
}

/** Resolve a scenario's `services` declaration into options. */
export function resolveServicesSpec(spec: ServicesSpec, data: Record<string, unknown>, params: Record<string, number>): ServicesOptions {
  return typeof spec === 'function' ? spec(data, params) : spec;
}

export async function startMockServices(o: StartMockServicesOptions): Promise<MockServices> {
  const options = o.options ?? {};
  validateProducts(options.products ?? {});
  const ledger = new Ledger(o.nowUs, options.products ?? {});
  const faults = new FaultController(o.nowUs);
  for (const name of SERVICE_NAMES) {
    const f = options.faults?.[name];
    if (f) faults.set(name, f);
  }
  const payments = createPayments(ledger, o.rng.fork('payments'), options.declines ? [options.declines] : []);
  const notifications = createNotifications(ledger);
  const inventory = createInventory(ledger, o.rng.fork('inventory'), { ttlMs: options.reservationTtlMs, commitFailures: options.commitFailures ? [options.commitFailures] : [] });
  const providers = createProviders(ledger, options.providers);
  for (const p of options.payments ?? []) payments.control.setPayment(p);

  const counter = new AttemptCounter();
  const inFlight = { count: 0 };
  const scheduleRng = o.rng.fork('fault-schedule');
  const defs: ServiceDef[] = [payments.def, notifications.def, inventory.def, ...providers.defs];
  const hosts = new Map<string, Host>();
  const spare = options.spareInstances ?? 2;
  const last = o.instances - 1 + spare;

  let unregister = () => {};
  let closed: Promise<void> | null = null;
  const close = () =>
    (closed ??= (async () => {
      unregister();
      inventory.control.stop();
      // Connections first (held responses die with them, unanswered), then the fault windows close.
      await Promise.all([...hosts.values()].map((h) => h.close()));
      await faults.heal();
    })());
  unregister = onCleanup(close);

  try {
    await Promise.all(
      defs.flatMap((def) => {
        const deps: FlowDeps = { ledger, faults, store: new IdempotencyStore(), counter, rng: scheduleRng, nowUs: o.nowUs, inFlight };
        return Array.from({ length: last + 2 }, async (_, k) => {
          const instance = k - 1;
          hosts.set(`${def.name}/${instance}`, await startHost(requestHandler(def, instance, deps)));
        });
      }),
    );
  } catch (err) {
    await close();
    throw err;
  }

  const url = (name: ServiceName, instance: number) => {
    const host = hosts.get(`${name}/${instance}`);
    if (!host) throw new Error(`the mock services have ports for instances -1 (setup) to ${last}, not ${instance}; raise services.spareInstances`);
    return host.url;
  };

  return {
    urlsFor: (instance): ServiceUrls => Object.fromEntries(SERVICE_NAMES.map((name) => [name, url(name, instance)])) as ServiceUrls,
    ledger,
    faults,
    get windows() {
      return faults.windows;
    },
    payments: payments.control,
    inventory: { stockOf: (id) => inventory.control.stockOf(id), failCommits: (rule) => inventory.control.failCommits(rule) },
    providers: providers.control,
    healAll: () => faults.heal(),
    async waitQuiet(w = {}) {
      const quietMs = w.quietMs ?? options.settle?.quietMs ?? DEFAULT_QUIET_MS;
      const maxMs = w.maxMs ?? options.settle?.maxMs ?? DEFAULT_MAX_SETTLE_MS;
      const result = await waitForQuiet({
        quietMs,
        maxMs,
        probe: async () => [ledger.version(), w.probe ? await w.probe() : null],
        idle: () => inFlight.count === 0,
      });
      return { ...result, version: ledger.version() };
    },
    close,
  };
}

function validateProducts(products: Record<string, ProductSpec>): void {
  for (const [id, p] of Object.entries(products)) {
    if (!(Number.isInteger(p.stock) && p.stock >= 0)) throw new Error(`product ${id}: stock must be a whole number ≥ 0, got ${p.stock}`);
    if (!(Number.isInteger(p.price) && p.price >= 0)) throw new Error(`product ${id}: price must be a whole number of minor units ≥ 0, got ${p.price}`);
  }
}
