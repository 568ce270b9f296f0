// cache-invalidated: after the workload, with every fault healed, the replica caught up and stalenessMs passed since
// the last write, every final read — on every instance, a fresh one included — returns the user's latest state.
// What a cache kept from before a write (filled after it, never invalidated, or kept per process) shows up here.

import type { Checker } from '../../../harness/scenario.ts';
import { brief, pass, summarise, unknown } from '../../../harness/checkers/verdict.ts';
import type { ReadValue } from '../operations.ts';
import { answersShown, describeVersion, identify, readsData, seconds, shownBefore, versionModel } from './model.ts';

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
      const shown = shownBefore(shownByUser.get(u.userId), op.startUs, 'before').shown?.version ?? null;
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
