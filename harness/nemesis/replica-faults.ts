// Replica faults, for challenges that read from a streaming standby (ChallengeDef.replica): the replication stream
// slowed (real lag: every WAL byte arrives late), stopped (the standby keeps answering, further and further behind),
// and the standby itself stopped (its sessions end, new connections are refused). Each is a fault window; healing
// puts the stream or the server back and waits until the standby streams again.

import type { ReplicaPair } from '../infra/replica-pair.ts';
import type { FaultProxy } from './fault-proxy.ts';
import type { FaultTimeline } from './timeline.ts';

export const REPLICA_FAULT = { lag: 'replica-lag', stall: 'replica-stall', down: 'replica-down' } as const;

export interface ReplicaTarget {
  pair: ReplicaPair;
  /** The proxy in front of the standby that the instances reach it through. */
  proxy: FaultProxy;
}

export interface ReplicaFaults {
  /** Every replication packet delayed by latencyMs ± jitterMs: the standby lags by about that much. */
  lag(latencyMs: number, jitterMs?: number): () => Promise<void>;
  /** Replication stops (the stream is blackholed); the standby answers with what it had. Healing resumes it. */
  stall(): () => Promise<void>;
  /** The standby stopped (fast shutdown): sessions end, connections refused. Healing starts it and waits for streaming. */
  down(): Promise<() => Promise<void>>;
  healAll(): Promise<void>;
}

const NO_REPLICA = 'this challenge has no replica (ChallengeDef.replica)';

export function createReplicaFaults(o: { target?: ReplicaTarget; timeline: FaultTimeline; rng: { next(): number } }): ReplicaFaults {
  const { target, timeline } = o;
  let lag: { close: () => void } | null = null;
  let stall: { close: (extra?: Record<string, unknown>) => void } | null = null;
  let down: { close: () => void; restart: Promise<void> | null } | null = null;
  const need = (): ReplicaTarget => {
    if (!target) throw new Error(NO_REPLICA);
    return target;
  };
  const healLag = () => {
    if (!lag) return;
    target?.pair.walProxy.clearLatency();
    lag.close();
    lag = null;
  };
  const healStall = () => {
    if (!stall) return;
    stall.close({ connectionsReset: target?.pair.walProxy.blackhole(false) ?? 0 });
    stall = null;
  };
  const healDown = async (): Promise<void> => {
    if (!down) return;
    const token = down;
    token.restart ??= need().pair.startStandby({ timeoutMs: 30_000 });
    try {
      await token.restart;
    } finally {
      if (down === token) {
        token.close();
        down = null;
      }
    }
  };
  return {
    lag(latencyMs, jitterMs = 0) {
      const { pair } = need();
      healLag();
      pair.walProxy.setLatency(latencyMs, jitterMs, o.rng);
      const token = { close: timeline.start(REPLICA_FAULT.lag, { latencyMs, jitterMs }) };
      lag = token;
      return async () => {
        if (lag === token) healLag();
      };
    },
    stall() {
      const { pair } = need();
      if (!stall) {
        pair.walProxy.blackhole(true);
        stall = { close: timeline.start(REPLICA_FAULT.stall) };
      }
      return async () => healStall();
    },
    async down() {
      const { pair, proxy } = need();
      if (!down) {
        const close = timeline.start(REPLICA_FAULT.down);
        down = { close, restart: null };
        await pair.stopStandby();
        proxy.resetAll(); // what the proxy still held toward the stopped server
      }
      return () => healDown();
    },
    async healAll() {
      healLag();
      healStall();
      await healDown();
    },
  };
}
