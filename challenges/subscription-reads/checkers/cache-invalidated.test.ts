// Tests of cache-invalidated: once the run is over (faults healed, the replica caught up, stalenessMs passed since the
// last write), every answered final read — on every instance, a fresh one included — returns the user's latest state:
// their last acknowledged write, or a later write that was never answered (it may have applied). Reads before the
// final phase, and answers no write produced, are for bounded-staleness.

import { describe, expect, it } from 'vitest';
import { cacheInvalidated } from './cache-invalidated.ts';
import { history, info, ok, randomHistory, type ReadsHistory } from './test-history.ts';
import type { ReadValue } from '../operations.ts';
import { describeVersion, identify, readsData, seconds, versionModel, type Version } from './model.ts';
import { brief, summarise } from '../../../harness/checkers/verdict.ts';
import { createRng } from '../../../harness/seed.ts';

const check = (h: ReadsHistory) => cacheInvalidated.check(h.input());

/** u1 (pro): r1 to team by the session, then an admin's cancel c2 acknowledged at 220 ms; u2 (free) never written. */
function twoWrites(): ReadsHistory {
  const h = history();
  h.user('u1', 'pro');
  h.user('u2', 'free');
  h.changePlan('u1', 'team', 'r1', ok(100, 120, { instance: 0 }));
  h.cancel('u1', 'c2', ok(200, 220, { by: 'admin', instance: 1 }));
  return h;
}

describe('cache-invalidated', () => {
  describe('must fail', () => {
    it('a fresh instance still served the state before the last write', () => {
      const h = twoWrites();
      for (const i of [0, 1, 2, 3]) h.finalRead('u1', 'c2', { instance: i });
      h.finalRead('u1', 'r1', { instance: 4 });
      const r = check(h);
      expect(r).toMatchObject({ passed: false, violations: 1 });
      expect(r.message).toBe('after the run, a read of u1 on instance 4 returned r1 (plan team), though the cancel c2 was acknowledged at 0.22 s, 3.0 s earlier');
      expect((r.counterexample as object[])[0]).toMatchObject({ read: { instance: 4, value: { requestId: 'r1' } }, latest: { f: 'cancel', args: { requestId: 'c2' } } });
    });

    it('an instance kept the initial state after an admin\'s write', () => {
      const h = history();
      h.user('u1', 'pro');
      h.changePlan('u1', 'starter', 'r1', ok(100, 120, { by: 'admin' }));
      h.finalRead('u1', 'initial', { instance: 2 });
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('a read of u1 on instance 2 returned the initial state (plan pro), though r1 (plan starter) was acknowledged');
    });

    it('an unanswered write older than the last acknowledged one is not the latest state', () => {
      const h = history();
      h.user('u1', 'pro');
      h.changePlan('u1', 'team', 'r1', info(100, 200));
      h.changePlan('u1', 'free', 'r2', ok(300, 320));
      h.finalRead('u1', 'r1', { instance: 1 });
      expect(check(h).passed).toBe(false);
    });

    // "The latest state" is also an unanswered write an earlier answer showed. Here the session's write r3 died with
    // instance 1 (killed mid-call, after the commit, before the cache was invalidated); a read 1 s later showed r3, so
    // it was applied. An instance that still serves c2 from the cache seconds after that, in the final reads, is
    // exactly the stale cache this check exists for, though c2 is the last *acknowledged* write.
    it('an unanswered write a read had already shown applied, then final reads back on the older state', () => {
      const h = twoWrites();
      h.changePlan('u1', 'starter', 'r3', info(300, 350, { instance: 1, error: 'reset' }));
      h.instanceEvent(1, 'killed', 350);
      h.read('u1', 'r3', ok(1350, 1360, { instance: 2 }));
      h.finalRead('u1', 'r3', { instance: 2 });
      h.finalRead('u1', 'c2', { instance: 0 });
      h.finalRead('u1', 'c2', { instance: 4 });
      const r = check(h);
      expect(r).toMatchObject({ passed: false, violations: 2 });
      expect(r.message).toContain('after the run, a read of u1 on instance 0 returned the cancel c2');
    });

    it('every stale final read counts', () => {
      const h = twoWrites();
      h.finalRead('u1', 'r1', { instance: 0 });
      h.finalRead('u1', 'initial', { instance: 1 });
      h.finalRead('u2', 'initial', { instance: 1 });
      const r = check(h);
      expect(r).toMatchObject({ passed: false, violations: 2 });
      expect(r.message).toContain('(and 1 more violation)');
    });
  });

  describe('must pass', () => {
    it('every instance, the fresh one included, returns each user\'s latest state', () => {
      const h = twoWrites();
      for (const i of [0, 1, 2, 3, 4]) {
        h.finalRead('u1', 'c2', { instance: i });
        h.finalRead('u2', 'initial', { instance: i });
      }
      const r = check(h);
      expect(r).toEqual({ id: 'cache-invalidated', passed: true, message: "10 final read(s) on every instance returned each user's latest state" });
    });

    it('a later write never answered may have applied: either it or the last acknowledged one', () => {
      const h = twoWrites();
      h.changePlan('u1', 'starter', 'r3', info(300, 10_300, { error: 'timeout' }));
      h.finalRead('u1', 'r3', { instance: 0 });
      h.finalRead('u1', 'c2', { instance: 1 });
      expect(check(h).passed).toBe(true);
    });

    it('stale reads before the final phase are not this check\'s', () => {
      const h = twoWrites();
      h.read('u1', 'initial', ok(5000, 5010, { by: 'anonymous' }));
      h.finalRead('u1', 'c2');
      expect(check(h).passed).toBe(true);
    });

    it('an answer no write produced is left to bounded-staleness', () => {
      const h = twoWrites();
      h.finalRead('u1', { requestId: 'r-made-up' });
      expect(check(h).passed).toBe(true);
    });

    it('unanswered final reads are not judged, as long as some were answered', () => {
      const h = twoWrites();
      h.finalRead('u1', 'r1', { instance: 2, type: 'info' });
      h.finalRead('u1', 'c2', { instance: 0 });
      expect(check(h)).toMatchObject({ passed: true, message: expect.stringContaining('1 final read(s)') });
    });

    it('no final reads: nothing to judge', () => {
      const h = twoWrites();
      expect(check(h)).toEqual({ id: 'cache-invalidated', passed: true, message: 'no final reads in this scenario' });
    });
  });

  describe('unknown', () => {
    it('no final read was answered', () => {
      const h = twoWrites();
      h.finalRead('u1', 'c2', { type: 'info' });
      h.finalRead('u2', 'initial', { type: 'fail' });
      expect(check(h)).toEqual({ id: 'cache-invalidated', passed: null, message: 'none of the 2 final reads was answered, so nothing shows what the caches hold' });
    });
  });

  // The checker looks up what answers had shown of a user before a final read with a binary search over that user's
  // answers; the plain definition rescans the whole history for every final read. The results must be the same.
  describe('the same result as rescanning the history for every final read', () => {
    for (let seed = 1; seed <= 40; seed++) {
      it(`random history, seed ${seed}`, () => {
        const h = randomHistory(createRng(seed), { finals: true });
        expect(check(h)).toEqual(rescan(h));
      });
    }
  });
});

/** cache-invalidated as first written: the whole history rescanned for every final read. */
function rescan(h: ReadsHistory) {
  const { ops, data } = h.input();
  const model = versionModel(ops, readsData(data));
  const answered = ops.filter((o) => o.f === 'read' && o.phase === 'final' && o.type === 'ok' && o.value);
  const violations = [];
  for (const op of answered) {
    const u = model.get(String(op.args.userId));
    if (!u) continue;
    const id = identify(u, op.value as ReadValue);
    if (!id.ok) continue;
    const lastOk = u.versions.reduce((best, v) => (v.ackUs !== null && v.index > best.index ? v : best), u.versions[0]);
    let shown: Version | null = null;
    for (const o of ops) {
      if (o.type !== 'ok' || !o.value || o.endUs >= op.startUs || o.args.userId !== u.userId) continue;
      const p = identify(u, o.value as ReadValue);
      if (p.ok && (!shown || p.version.index > shown.index)) shown = p.version;
    }
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
}
