// The nemesis a scenario drives (NemesisHandle): composes the database faults, one file each, over the fault
// proxy and the admin connection, and records the window each fault was active for.

import type { NemesisHandle } from '../scenario.ts';
import type { FaultWindow } from '../types.ts';
import type { FaultProxy } from './fault-proxy.ts';
import { startDbLatency } from './db-latency.ts';
import { resetDbConnections } from './db-reset.ts';
import { startDbBlackhole } from './db-blackhole.ts';
import { terminateBackends } from './kill-backends.ts';
import { FaultTimeline } from './timeline.ts';
import { createRedisFaults, REDIS_FAULT } from './redis-faults.ts';
import type { RedisProxy } from '../wire/redis-proxy.ts';
import { createReplicaFaults, REPLICA_FAULT, type ReplicaTarget } from './replica-faults.ts';
import { withRedis } from '../infra/redis-client.ts';

export { startFaultProxy, type FaultProxy, type FaultProxyOptions, type ListenOptions, type ProxyListener } from './fault-proxy.ts';
export { killBackends, terminateBackends } from './kill-backends.ts';
export { MIN_WINDOW_US } from './timeline.ts';
export type { ReplicaTarget } from './replica-faults.ts';

/** The `fault` names recorded in FaultWindow, for checks and reports. */
export const FAULT = {
  dbLatency: 'db-latency',
  dbReset: 'db-reset',
  dbBlackhole: 'db-blackhole',
  killBackends: 'kill-backends',
  redisReset: REDIS_FAULT.reset,
  redisLatency: REDIS_FAULT.latency,
  redisBlackhole: REDIS_FAULT.blackhole,
  redisDown: REDIS_FAULT.down,
  redisFlush: 'redis-flush',
  replicaLag: REPLICA_FAULT.lag,
  replicaStall: REPLICA_FAULT.stall,
  replicaDown: REPLICA_FAULT.down,
} as const;

export interface NemesisOptions {
  /** The proxy the candidate's database URL points at. */
  proxy: FaultProxy;
  /** The scenario's Redis proxy, when it has Redis. */
  redisProxy?: RedisProxy;
  /** Whether the instances sent Redis commands of their own so far. */
  redisUsed?(): boolean;
  /** The scenario's own Redis logical database, straight (not through the proxy): what `redisFlush` empties. */
  redisNamespaceUrl?: string;
  /** The streaming standby and the proxy in front of it, for challenges with a replica. */
  replica?: ReplicaTarget;
  /** A superuser (or pg_signal_backend) URL straight to PostgreSQL, not through the proxy. */
  adminUrl: string;
  /** The candidate's role, whose backends `killBackends` terminates. */
  role: string;
  /** The history's clock (µs since the scenario started). */
  nowUs(): number;
  /** Seeded randomness (latency jitter). */
  rng: { next(): number; fork?(label: string): { next(): number } };
}

export function createNemesis(options: NemesisOptions): NemesisHandle {
  const { proxy, adminUrl, role, nowUs } = options;
  const jitterRng = options.rng.fork ? options.rng.fork('nemesis:db-latency') : options.rng;
  const timeline = new FaultTimeline(nowUs);
  const replica = createReplicaFaults({ target: options.replica, timeline, rng: options.rng.fork ? options.rng.fork('nemesis:replica') : options.rng });
  const redis = createRedisFaults({ proxy: options.redisProxy, used: options.redisUsed ?? (() => false), timeline, nowUs, rng: options.rng.fork ? options.rng.fork('nemesis:redis') : options.rng });

  // The proxy has one latency setting: a new dbLatency supersedes the one before (its window closes then).
  let latency: { heal: () => void; close: (extra?: Record<string, unknown>) => void } | null = null;
  // Blackholes nest: traffic flows again when the last one heals.
  const blackholes = new Map<object, { heal: () => number; close: (extra?: Record<string, unknown>) => void }>();
  // Kills still running, so healAll can wait for their windows.
  const pending = new Set<Promise<unknown>>();

  const nemesis: NemesisHandle = {
    get windows(): FaultWindow[] {
      return timeline.windows;
    },

    dbLatency(latencyMs, jitterMs = 0) {
      latency?.close({ superseded: true });
      const heal = startDbLatency(proxy, { latencyMs, jitterMs, rng: jitterRng });
      const token = { heal, close: timeline.start(FAULT.dbLatency, { latencyMs, jitterMs }) };
      latency = token;
      return async () => {
        if (latency !== token) return; // superseded or healed already
        latency = null;
        token.heal();
        token.close();
      };
    },

    async dbReset() {
      const startUs = nowUs();
      const connections = resetDbConnections(proxy);
      timeline.instant(FAULT.dbReset, startUs, { connections });
    },

    dbBlackhole() {
      const token = {};
      const close = timeline.start(FAULT.dbBlackhole);
      blackholes.set(token, { heal: startDbBlackhole(proxy), close });
      return async () => {
        const entry = blackholes.get(token);
        if (!entry) return; // healed already
        blackholes.delete(token);
        entry.close({ connectionsReset: blackholes.size === 0 ? entry.heal() : 0 });
      };
    },

    redisInUse: () => redis.inUse(),
    redisReset: () => redis.reset(),
    redisLatency: (ms, jitter) => redis.latency(ms, jitter),
    redisBlackhole: () => redis.blackhole(),
    redisDown: () => redis.down(),
    async redisFlush() {
      if (!options.redisNamespaceUrl) return;
      const startUs = nowUs();
      const keys = await withRedis(options.redisNamespaceUrl, async (c) => {
        const size = await c.dbsize();
        await c.flushdb();
        return size;
      });
      timeline.instant(FAULT.redisFlush, startUs, { keys });
    },
    replicaLag: (ms, jitter) => replica.lag(ms, jitter),
    replicaStall: () => replica.stall(),
    replicaDown: () => replica.down(),

    async killBackends() {
      const startUs = nowUs();
      const run = terminateBackends(adminUrl, role);
      pending.add(run);
      try {
        const { killed, byState } = await run;
        timeline.instant(FAULT.killBackends, startUs, { role, killed, byState });
        return killed;
      } catch (err) {
        timeline.instant(FAULT.killBackends, startUs, { role, killed: null, error: (err as Error).message });
        throw err;
      } finally {
        pending.delete(run);
      }
    },

    async healAll() {
      if (latency) {
        const token = latency;
        latency = null;
        token.heal();
        token.close();
      }
      const holes = [...blackholes.values()];
      blackholes.clear();
      // nested blackholes share one switch: the last heal resets the connections, the others count none
      const connectionsReset = holes.length > 0 ? holes[holes.length - 1].heal() : 0;
      holes.forEach((hole, i) => hole.close({ connectionsReset: i === holes.length - 1 ? connectionsReset : 0 }));
      redis.healAll();
      await replica.healAll();
      await Promise.allSettled([...pending]);
      timeline.closeAll();
    },
  };
  return nemesis;
}
