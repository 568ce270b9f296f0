// Redis locks as the recorded commands show them: keys taken with SET … NX (with or without an expiry), and
// how they were let go — a plain DEL (which can delete a lock another holder took after this one expired) or a
// script that checks the owner first.

import type { RedisRecord } from '../../../harness/wire/redis-records.ts';
import type { ScenarioWireEvidence } from './types.ts';

export interface RedisLockTap {
  record(r: RedisRecord): void;
  result(): ScenarioWireEvidence['redisLocks'];
}

const MAX_KEYS = 50_000;

export function createRedisLockTap(): RedisLockTap {
  const locks = new Set<string>();
  let acquired = 0;
  let withoutExpiry = 0;
  let releasedByDel = 0;
  let releasedByScript = 0;
  let example: string | undefined;
  return {
    record(r) {
      if (r.kind !== 'command' || r.tag === 'setup' || !r.args?.length) return;
      const [name, ...args] = r.args;
      if (name === 'SET' && args.length >= 2) {
        const flags = args.slice(2).map((a) => a.toUpperCase());
        if (!flags.includes('NX')) return;
        acquired++;
        if (!flags.some((f) => f === 'PX' || f === 'EX' || f === 'PXAT' || f === 'EXAT')) withoutExpiry++;
        example ??= r.args.slice(0, 6).join(' ');
        if (locks.size < MAX_KEYS) locks.add(args[0]);
      } else if ((name === 'SETNX') && args.length >= 1) {
        acquired++;
        withoutExpiry++;
        if (locks.size < MAX_KEYS) locks.add(args[0]);
      } else if ((name === 'DEL' || name === 'UNLINK') && args.some((k) => locks.has(k))) {
        releasedByDel++;
      } else if ((name === 'EVAL' || name === 'EVALSHA' || name === 'FCALL') && args.length >= 3) {
        const n = Number(args[1]);
        if (Number.isInteger(n) && args.slice(2, 2 + n).some((k) => locks.has(k))) releasedByScript++;
      }
    },
    result: () => (acquired ? { acquired, withoutExpiry, releasedByDel, releasedByScript, ...(example ? { example } : {}) } : null),
  };
}
