// Which machine graded a run (GradeResult.machine, stored in the run store's runs.machine): the host name and the
// host facts the bench reports (bench/machine.ts), with `id` a short hash of them. A fleet's runs come from several
// machines; `gauntlet compare` says when timing figures (throughput, latency) are not comparable for that reason.

import crypto from 'node:crypto';
import os from 'node:os';
import type { MachineId } from '../../rubric/result.ts';
import { hostFacts } from './bench/machine.ts';

export function machineId(): MachineId {
  const { cpuModel, ...facts } = hostFacts();
  const rest = { host: os.hostname(), cpu: cpuModel, cores: facts.cores, memoryGb: facts.memoryGb, node: facts.node, os: facts.os };
  return { id: crypto.createHash('sha256').update(JSON.stringify(rest)).digest('hex').slice(0, 12), ...rest };
}

export type { MachineId } from '../../rubric/result.ts';
