// monotonic-reads: a read made by the user's session never returns an older state than one an earlier answer of
// that session (a read, or the user's own write) had already shown — another writer's change included.

import type { Checker } from '../../../harness/scenario.ts';
import type { Op } from '../../../harness/types.ts';
import { brief, summarise } from '../../../harness/checkers/verdict.ts';
import type { ReadValue } from '../operations.ts';
import { answeredReads, answersShown, describeVersion, identify, newestAcked, readsData, seconds, shownBefore, versionModel, type AnswersShown, type Shown, type UserVersions } from './model.ts';

export const monotonicReads: Checker = {
  id: 'monotonic-reads',
  check({ ops, data }) {
    const d = readsData(data);
    const model = versionModel(ops, d);
    const sessions = answersShown(ops.filter((o) => o.args.by === 'session'), model);
    const reads = answeredReads(ops).filter((o) => o.args.by === 'session');
    const violations = [];
    for (const op of reads) {
      const u = model.get(String(op.args.userId));
      if (!u) continue;
      const id = identify(u, op.value as ReadValue);
      if (!id.ok) continue;
      // A read older than the user's own write is read-your-writes' failure; this check is about what answers showed.
      if (id.version.index < newestAcked(u, op.startUs, (v) => v.by === 'session').index) continue;
      const seen = shownToSession(sessions.get(u.userId), op, u);
      if (!seen || id.version.index >= seen.version.index) continue;
      violations.push({
        reason: `${u.userId}'s session was shown ${describeVersion(seen.version)} by a ${seen.op.f} on instance ${seen.op.instance} ending at ${seconds(seen.op.endUs)}; their next read on instance ${op.instance}${op.args.token ? ' (with their token)' : ''} went back to ${describeVersion(id.version)}`,
        earlier: brief(seen.op), read: brief(op),
      });
    }
    return summarise('monotonic-reads', violations, `${reads.length} session read(s), none went back to a state older than one the session had already been shown`, (v) => v.reason);
  },
};

/** The newest state the session had been shown by answers that ended before `op` began (not `op` itself). */
function shownToSession(s: AnswersShown | undefined, op: Op, u: UserVersions): Shown | null {
  const { shown, count } = shownBefore(s, op.startUs, 'at-or-before');
  // A read answered in no time at all is among them: the state shown is recounted without it.
  if (!s || op.endUs > op.startUs || !s.ops.slice(0, count).includes(op)) return shown;
  let seen: Shown | null = null;
  for (const prior of s.ops.slice(0, count)) {
    if (prior === op) continue;
    const p = identify(u, prior.value as ReadValue);
    if (p.ok && (!seen || p.version.index > seen.version.index)) seen = { version: p.version, op: prior };
  }
  return seen;
}
