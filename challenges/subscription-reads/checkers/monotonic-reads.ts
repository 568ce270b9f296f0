// monotonic-reads: a read made by the user's session never returns an older state than one an earlier answer of
// that session (a read, or the user's own write) had already shown — another writer's change included.
// Each session's answers are walked once, in order of their end, keeping the newest state shown so far; a read then
// looks up what had been shown before it began (a binary search), instead of rescanning every earlier answer: over
// the 16 000 calls of a steady-reads history that rescan took about 2 s of the harness's CPU per scenario.

import type { Checker } from '../../../harness/scenario.ts';
import type { Op } from '../../../harness/types.ts';
import { brief, summarise } from '../../../harness/checkers/verdict.ts';
import type { ReadValue } from '../operations.ts';
import { answeredReads, describeVersion, identify, newestAcked, readsData, seconds, versionModel, type UserVersions, type Version } from './model.ts';

interface Shown { version: Version; op: Op }

/** One session's answers in order of their end, and the newest state shown by the first i + 1 of them (the first to show it). */
interface SessionAnswers { ends: number[]; ops: Op[]; newest: (Shown | null)[] }

export const monotonicReads: Checker = {
  id: 'monotonic-reads',
  check({ ops, data }) {
    const d = readsData(data);
    const model = versionModel(ops, d);
    const sessionOps = ops.filter((o) => o.args.by === 'session' && o.type === 'ok' && o.value).sort((a, b) => a.endUs - b.endUs);
    const sessions = sessionAnswers(sessionOps, model);
    const reads = answeredReads(ops).filter((o) => o.args.by === 'session');
    const violations = [];
    for (const op of reads) {
      const u = model.get(String(op.args.userId));
      if (!u) continue;
      const id = identify(u, op.value as ReadValue);
      if (!id.ok) continue;
      // A read older than the user's own write is read-your-writes' failure; this check is about what answers showed.
      if (id.version.index < newestAcked(u, op.startUs, (v) => v.by === 'session').index) continue;
      const seen = shownBefore(sessions.get(u.userId), op, u);
      if (!seen || id.version.index >= seen.version.index) continue;
      violations.push({
        reason: `${u.userId}'s session was shown ${describeVersion(seen.version)} by a ${seen.op.f} on instance ${seen.op.instance} ending at ${seconds(seen.op.endUs)}; their next read on instance ${op.instance}${op.args.token ? ' (with their token)' : ''} went back to ${describeVersion(id.version)}`,
        earlier: brief(seen.op), read: brief(op),
      });
    }
    return summarise('monotonic-reads', violations, `${reads.length} session read(s), none went back to a state older than one the session had already been shown`, (v) => v.reason);
  },
};

/** Per user id, that session's answers (sessionOps: sorted by end) with the newest state shown as of each. */
function sessionAnswers(sessionOps: Op[], model: Map<string, UserVersions>): Map<string, SessionAnswers> {
  const sessions = new Map<string, SessionAnswers>();
  for (const prior of sessionOps) {
    const userId = prior.args.userId;
    const u = typeof userId === 'string' ? model.get(userId) : undefined;
    if (!u) continue;
    let s = sessions.get(userId as string);
    if (!s) sessions.set(userId as string, (s = { ends: [], ops: [], newest: [] }));
    const before = s.newest.length ? s.newest[s.newest.length - 1] : null;
    const p = identify(u, prior.value as ReadValue);
    s.ends.push(prior.endUs);
    s.ops.push(prior);
    s.newest.push(p.ok && (!before || p.version.index > before.version.index) ? { version: p.version, op: prior } : before);
  }
  return sessions;
}

/** The newest state the session had been shown by answers that ended before `op` began (not `op` itself). */
function shownBefore(s: SessionAnswers | undefined, op: Op, u: UserVersions): Shown | null {
  if (!s) return null;
  // How many answers ended at or before the read began.
  let lo = 0;
  let hi = s.ends.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (s.ends[mid] <= op.startUs) lo = mid + 1;
    else hi = mid;
  }
  if (lo === 0) return null;
  // A read answered in no time at all is among them: the state shown is recounted without it.
  if (op.endUs <= op.startUs && s.ops.slice(0, lo).includes(op)) {
    let seen: Shown | null = null;
    for (const prior of s.ops.slice(0, lo)) {
      if (prior === op) continue;
      const p = identify(u, prior.value as ReadValue);
      if (p.ok && (!seen || p.version.index > seen.version.index)) seen = { version: p.version, op: prior };
    }
    return seen;
  }
  return s.newest[lo - 1];
}
