// The facts a benchmark figure depends on: cores, CPU, memory, Node, OS, and which PostgreSQL and Redis
// were used (their source and version). Figures from different machines are only comparable with these.

import os from 'node:os';
import type { Infra } from '../../infra/index.ts';
import type { MachineFacts } from './report.ts';

/** What of the infrastructure the facts name: which PostgreSQL and Redis, and their versions. */
export type MachineInfra = Pick<Infra, 'postgres' | 'redis' | 'redisProblem'>;

export function machineFacts(infra: MachineInfra, loadAtStart: number): MachineFacts {
  const cpus = os.cpus();
  return {
    cores: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    cpuModel: cpus[0]?.model?.trim() ?? 'unknown',
    memoryGb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    postgres: `${infra.postgres.source} (PostgreSQL ${infra.postgres.version})`,
    redis: infra.redis ? `${infra.redis.source} (Redis ${infra.redis.version})` : `none: ${infra.redisProblem ?? 'not found'}`,
    loadAverage: { start: loadAtStart, end: loadAverage1m() },
  };
}

export const loadAverage1m = (): number => Math.round(os.loadavg()[0] * 100) / 100;
