// cache-invalidated: after the workload, with every fault healed, the replica caught up and stalenessMs passed since
// the last write, every final read — on every instance, a fresh one included — returns the user's latest state.
// What a cache kept from before a write (filled after it, never invalidated, or kept per process) shows up here.
// What answers had shown of a user before a final read began is looked up in that user's answers, sorted by end with
// the newest state so far (a binary search), not rescanned over the whole history for every final read.

import type { Checker } from '../../../harness/scenario.ts';
import type { Op } from '../../../harness/types.ts';
import { brief, pass, summarise, unknown } from '../../../harness/checkers/verdict.ts';
import type { ReadValue } from '../operations.ts';
import { describeVersion, identify, readsData, seconds, versionModel, type UserVersions, type Version } from './model.ts';

export const cacheInvalidated: Checker = {
  id: 'cache-invalidated',
  check({ ops, data }) {
    const d = readsData(data);
    const model = versionModel(ops, d);
    const finals = ops.filter((o) => o.f === 'read' && o.phase === 'final');
    if (!finals.length) return pass('cache-invalidated', 'no final reads in this scenario');
    const answered = finals.filter((o) => o.type === 'ok' && o.value);
    if (!answered.length) return unknown('cache-invalidated', `none of the ${finals.length} final reads was answered, so nothing shows what the caches hold`);
    const shownByUser = answersShown(ops, model);
    const violations = [];
    for (const op of answered) {
      const u = model.get(String(op.args.userId));
      if (!u) continue;
      const id = identify(u, op.value as ReadValue);
      if (!id.ok) continue; // bounded-staleness reports it
      // The latest state: the last acknowledged write — or a later one never answered that an answer ending before
      // this read showed (it did apply) — or any later one never answered (it may have applied).
      const lastOk = u.versions.reduce((best, v) => (v.ackUs !== null && v.index > best.index ? v : best), u.versions[0]);
      const shown = shownBefore(shownByUser.get(u.userId), op.startUs);
      const latest = shown && shown.index > lastOk.index ? shown : lastOk;
      if (id.version.index >= latest.index) continue;
      violations.push({
        reason: latest === lastOk
          ? `after the run, a read of ${u.userId} on instance ${op.instance} returned ${describeVersion(id.version)}, though ${describeVersion(lastOk)} was acknowledged at ${seconds(lastOk.ackUs ?? 0)}, ${((op.startUs - (lastOk.ackUs ?? 0)) / 1e6).toFixed(1)} s earlier`
          : `after the run, a read of ${u.userId} on instance ${op.instance} returned ${describeVersion(id.version)}, though ${describeVersion(latest)} (never answered, but shown by an earlier answer, so applied) is newer`,
        read: brief(op), latest: latest.op ? brief(latest.op) : latest.requestId,
      });
    }
    return summarise('cache-invalidated', violations, `${answered.length} final read(s) on every instance returned each user's latest state`, (v) => v.reason);
  },
};

/** Per user, the ends of the answered calls about them (ascending) and the newest version shown by each prefix. */
interface Shown { ends: number[]; newest: (Version | null)[] }

function answersShown(ops: readonly Op[], model: Map<string, UserVersions>): Map<string, Shown> {
  const byUser = new Map<string, Op[]>();
  for (const o of ops) {
    if (o.type !== 'ok' || !o.value || typeof o.args.userId !== 'string' || !model.has(o.args.userId)) continue;
    const list = byUser.get(o.args.userId);
    if (list) list.push(o);
    else byUser.set(o.args.userId, [o]);
  }
  const shown = new Map<string, Shown>();
  for (const [userId, list] of byUser) {
    const u = model.get(userId)!;
    list.sort((a, b) => a.endUs - b.endUs);
    const s: Shown = { ends: [], newest: [] };
    let best: Version | null = null;
    for (const o of list) {
      const id = identify(u, o.value as ReadValue);
      if (id.ok && (!best || id.version.index > best.index)) best = id.version;
      s.ends.push(o.endUs);
      s.newest.push(best);
    }
    shown.set(userId, s);
  }
  return shown;
}

/** The newest version of the user an answered call ending before `beforeUs` showed. */
function shownBefore(s: Shown | undefined, beforeUs: number): Version | null {
  if (!s) return null;
  let lo = 0;
  let hi = s.ends.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (s.ends[mid] < beforeUs) lo = mid + 1;
    else hi = mid;
  }
  return lo ? s.newest[lo - 1] : null;
}
