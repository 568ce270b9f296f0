// read-your-writes: a read made by the user's session (carrying their token, when the service gave one) returns
// the user's latest acknowledged write of their own, or something newer — on any instance, right after the write.

import type { Checker } from '../../../harness/scenario.ts';
import { brief, summarise } from '../../../harness/checkers/verdict.ts';
import type { ReadValue } from '../operations.ts';
import { answeredReads, describeVersion, identify, newestAcked, readsData, seconds, versionModel } from './model.ts';

export const readYourWrites: Checker = {
  id: 'read-your-writes',
  check({ ops, data }) {
    const d = readsData(data);
    const model = versionModel(ops, d);
    const reads = answeredReads(ops).filter((o) => o.args.by === 'session');
    const violations = [];
    for (const op of reads) {
      const u = model.get(String(op.args.userId));
      if (!u) continue;
      const id = identify(u, op.value as ReadValue);
      if (!id.ok) continue; // bounded-staleness reports a state no write produced
      const own = newestAcked(u, op.startUs, (v) => v.by === 'session');
      if (id.version.index >= own.index) continue;
      const sinceMs = Math.round((op.startUs - (own.ackUs ?? 0)) / 1000);
      const wroteOn = own.op ? ` on instance ${own.op.instance}` : '';
      violations.push({
        reason: `${u.userId} wrote ${describeVersion(own)}${wroteOn} (acknowledged at ${seconds(own.ackUs ?? 0)}); ${sinceMs} ms later their read on instance ${op.instance}${op.args.token ? ' with their token' : ''} returned ${describeVersion(id.version)}`,
        read: brief(op), write: own.op ? brief(own.op) : own.requestId, sinceMs,
      });
    }
    return summarise('read-your-writes', violations, `${reads.length} read(s) by users' own sessions, each returned their latest acknowledged write or newer`, (v) => v.reason);
  },
};
