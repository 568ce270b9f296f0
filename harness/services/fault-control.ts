// Starts and heals the mock services' faults (per-request rates, outages, held responses) and records the
// windows they were active for, like the nemesis does for database faults (FaultWindow, `service-*` names).

import type { FaultWindow } from '../types.ts';
import { FaultTimeline } from '../nemesis/timeline.ts';
import { validateRates } from './fault-schedule.ts';
import type { FaultControl, OutageOptions, ServiceFaults, ServiceName } from './types.ts';

/** The `fault` names the services record in FaultWindow. */
export const SERVICE_FAULT = {
  /** Per-request faults were active (detail: service and rates). */
  faults: 'service-faults',
  /** Every call to the service failed (detail: service, mode, instances). */
  outage: 'service-outage',
} as const;

interface Outage {
  mode: '503' | 'reset';
  retryAfterMs?: number;
  instances?: number[];
  close(extra?: Record<string, unknown>): void;
  timer?: NodeJS.Timeout;
}

/** A response kept back; `release` answers it (idempotent). */
export interface HeldResponse {
  service: ServiceName;
  release(): void;
}

export class FaultController implements FaultControl {
  private readonly timeline: FaultTimeline;
  private readonly rates = new Map<ServiceName, { faults: ServiceFaults; close: () => void }>();
  private readonly outages = new Map<ServiceName, Set<Outage>>();
  readonly held = new Set<HeldResponse>();

  constructor(nowUs: () => number) {
    this.timeline = new FaultTimeline(nowUs);
  }

  get windows(): FaultWindow[] {
    return this.timeline.windows;
  }

  set(service: ServiceName, faults: ServiceFaults | null): void {
    if (faults) {
      validateRates(`${service} faults`, faults);
      for (const [route, r] of Object.entries(faults.routes ?? {})) validateRates(`${service} faults for ${route}`, { ...faults, ...r });
    }
    this.rates.get(service)?.close();
    this.rates.delete(service);
    if (!faults || !hasAnyFault(faults)) return;
    const copy = structuredClone(faults);
    this.rates.set(service, { faults: copy, close: this.timeline.start(SERVICE_FAULT.faults, { service, rates: copy }) });
  }

  get(service: ServiceName): ServiceFaults | null {
    return this.rates.get(service)?.faults ?? null;
  }

  outage(service: ServiceName, options: OutageOptions = {}): () => Promise<void> {
    const mode = options.mode ?? '503';
    const outage: Outage = {
      mode,
      retryAfterMs: options.retryAfterMs,
      instances: options.instances,
      close: this.timeline.start(SERVICE_FAULT.outage, { service, mode, ...(options.instances ? { instances: options.instances } : {}), ...(options.retryAfterMs !== undefined ? { retryAfterMs: options.retryAfterMs } : {}) }),
    };
    const set = this.outages.get(service) ?? new Set<Outage>();
    set.add(outage);
    this.outages.set(service, set);
    const heal = async () => {
      clearTimeout(outage.timer);
      if (set.delete(outage)) outage.close();
    };
    if (options.durationMs !== undefined) {
      outage.timer = setTimeout(() => void heal(), options.durationMs);
      outage.timer.unref();
    }
    return heal;
  }

  /** The outage hitting a call from this instance, if any (the newest wins). */
  activeOutage(service: ServiceName, instance: number): { mode: '503' | 'reset'; retryAfterMs?: number } | null {
    let hit: Outage | null = null;
    for (const o of this.outages.get(service) ?? []) if (!o.instances || o.instances.includes(instance)) hit = o;
    return hit && { mode: hit.mode, retryAfterMs: hit.retryAfterMs };
  }

  async heal(service?: ServiceName): Promise<void> {
    for (const [name, set] of this.outages) {
      if (service && name !== service) continue;
      for (const o of set) {
        clearTimeout(o.timer);
        o.close();
      }
      set.clear();
    }
    for (const [name, entry] of [...this.rates]) {
      if (service && name !== service) continue;
      entry.close();
      this.rates.delete(name);
    }
    for (const h of [...this.held]) if (!service || h.service === service) h.release();
  }
}

function hasAnyFault(f: ServiceFaults): boolean {
  const positive = (r: ServiceFaults | undefined) =>
    !!r && ['error500', 'error503', 'rateLimit429', 'reset', 'hold', 'ghost', 'latency'].some((k) => ((r as Record<string, unknown>)[k] as number) > 0);
  return positive(f) || Object.values(f.routes ?? {}).some((r) => positive(r));
}
