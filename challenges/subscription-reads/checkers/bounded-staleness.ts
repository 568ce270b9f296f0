// bounded-staleness: every answered read (with or without a token, the final reads too) is a state some write
// produced, no write it names was sent after the read ended, and it is no older than the newest write of that user
// acknowledged more than stalenessMs before the read began.

import type { Checker } from '../../../harness/scenario.ts';
import { brief, summarise } from '../../../harness/checkers/verdict.ts';
import type { ReadValue } from '../operations.ts';
import { answeredReads, describeVersion, identify, newestAcked, readsData, seconds, versionModel } from './model.ts';

export const boundedStaleness: Checker = {
  id: 'bounded-staleness',
  check({ ops, data }) {
    const d = readsData(data);
    const boundUs = d.stalenessMs * 1000;
    const model = versionModel(ops, d);
    const reads = answeredReads(ops);
    const violations = [];
    for (const op of reads) {
      const u = model.get(String(op.args.userId));
      if (!u) continue;
      const value = op.value as ReadValue;
      const who = `a read of ${u.userId} on instance ${op.instance} at ${seconds(op.startUs)}`;
      const id = identify(u, value);
      if (!id.ok) {
        violations.push({ reason: `${who} returned a state no write produced: ${id.problem}`, read: brief(op) });
        continue;
      }
      if (id.version.invokeUs > op.endUs) {
        violations.push({ reason: `${who} returned ${describeVersion(id.version)}, a write sent only after the read had ended`, read: brief(op) });
        continue;
      }
      const owed = newestAcked(u, op.startUs - boundUs);
      if (id.version.index < owed.index) {
        const behindMs = Math.round((op.startUs - (owed.ackUs ?? 0)) / 1000);
        violations.push({
          reason: `${who} returned ${describeVersion(id.version)}, but ${describeVersion(owed)} had been acknowledged at ${seconds(owed.ackUs ?? 0)}, ${behindMs} ms before the read began (bound ${d.stalenessMs} ms)`,
          read: brief(op), owed: owed.op ? brief(owed.op) : owed.requestId, behindMs,
        });
      }
    }
    return summarise('bounded-staleness', violations, `${reads.length} answered read(s), each a state some write produced and at most ${d.stalenessMs} ms behind the acknowledged writes`, (v) => v.reason);
  },
};
