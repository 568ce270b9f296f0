// Redis faults, over the scenario's Redis proxy (harness/wire/redis-proxy.ts), for submissions that use Redis:
// every connection reset at once, added latency, and a blackhole that heals by resetting what it held — the same
// three faults as for PostgreSQL, with the same fairness rules (CONTRACT §8). Each is recorded as a fault window.

import type { RedisProxy } from '../wire/redis-proxy.ts';
import type { FaultTimeline } from './timeline.ts';

export const REDIS_FAULT = { reset: 'redis-reset', latency: 'redis-latency', blackhole: 'redis-blackhole', down: 'redis-down' } as const;

export interface RedisFaults {
  /** Whether the instances sent Redis any command of their own (beyond connecting): only then are faults worth injecting. */
  inUse(): boolean;
  reset(): Promise<void>;
  latency(latencyMs: number, jitterMs?: number): () => Promise<void>;
  blackhole(): () => Promise<void>;
  /** Redis down: open connections reset, new ones refused, until healed (works whether or not Redis was used yet). */
  down(): () => Promise<void>;
  healAll(): void;
}

export function createRedisFaults(o: { proxy?: RedisProxy; used(): boolean; timeline: FaultTimeline; nowUs(): number; rng: { next(): number } }): RedisFaults {
  const { proxy, timeline } = o;
  let latency: { close: () => void } | null = null;
  let hole: { close: (extra?: Record<string, unknown>) => void } | null = null;
  const healLatency = () => {
    if (!latency) return;
    proxy?.clearLatency();
    latency.close();
    latency = null;
  };
  let down: { close: (extra?: Record<string, unknown>) => void } | null = null;
  const healDown = () => {
    if (!down) return;
    proxy?.refuse(false);
    down.close();
    down = null;
  };
  const healHole = () => {
    if (!hole) return;
    const connectionsReset = proxy?.blackhole(false) ?? 0;
    hole.close({ connectionsReset });
    hole = null;
  };
  return {
    inUse: () => !!proxy && o.used(),
    async reset() {
      if (!proxy) return;
      const startUs = o.nowUs();
      const connections = proxy.resetAll();
      timeline.instant(REDIS_FAULT.reset, startUs, { connections });
    },
    latency(latencyMs, jitterMs = 0) {
      if (!proxy) return async () => {};
      healLatency();
      proxy.setLatency(latencyMs, jitterMs, o.rng);
      const token = { close: timeline.start(REDIS_FAULT.latency, { latencyMs, jitterMs }) };
      latency = token;
      return async () => {
        if (latency === token) healLatency();
      };
    },
    blackhole() {
      if (!proxy) return async () => {};
      if (!hole) {
        proxy.blackhole(true);
        hole = { close: timeline.start(REDIS_FAULT.blackhole) };
      }
      return async () => healHole();
    },
    down() {
      if (!proxy) return async () => {};
      if (!down) {
        const connectionsReset = proxy.refuse(true);
        down = { close: timeline.start(REDIS_FAULT.down, { connectionsReset }) };
      }
      return async () => healDown();
    },
    healAll() {
      healLatency();
      healHole();
      healDown();
    },
  };
}
