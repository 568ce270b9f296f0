// The facts a benchmark figure depends on: cores, CPU, memory, Node, OS, and which PostgreSQL and Redis
// were used (their source and version). Figures from different machines are only comparable with these.

import os from 'node:os';
import type { Infra } from '../../infra/index.ts';
import type { MachineFacts } from './report.ts';

/** What of the infrastructure the facts name: which PostgreSQL and Redis, and their versions. */
export type MachineInfra = Pick<Infra, 'postgres' | 'redis' | 'redisProblem'>;

/** The host's own facts (no infrastructure): cores, CPU model, memory, Node, OS. */
export function hostFacts(): Pick<MachineFacts, 'cores' | 'cpuModel' | 'memoryGb' | 'node' | 'os'> {
  const cpus = os.cpus();
  return {
    cores: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    cpuModel: cpus[0]?.model?.trim() ?? 'unknown',
    memoryGb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

export function machineFacts(infra: MachineInfra, loadAtStart: number): MachineFacts {
  // The key order is part of reference-figures.ts's figure key: keep the host's facts first, in this order.
  return {
    ...hostFacts(),
    postgres: `${infra.postgres.source} (PostgreSQL ${infra.postgres.version})`,
    redis: infra.redis ? `${infra.redis.source} (Redis ${infra.redis.version})` : `none: ${infra.redisProblem ?? 'not found'}`,
    loadAverage: { start: loadAtStart, end: loadAverage1m() },
  };
}

export const loadAverage1m = (): number => Math.round(os.loadavg()[0] * 100) / 100;
