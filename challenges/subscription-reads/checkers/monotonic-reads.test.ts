// Tests of monotonic-reads: a read by the user's session never returns an older state than the newest one an earlier
// answer to that session (a read, or its own write) had shown — an admin's write included once the session saw it.
// An admin write the session never saw may be missed (within the bound); anonymous readers may go back and forth; a
// read older than the session's own write is read-your-writes' failure, not reported twice.

import { describe, expect, it } from 'vitest';
import { monotonicReads } from './monotonic-reads.ts';
import { history, info, ok, randomHistory, type ReadsHistory } from './test-history.ts';
import type { Op } from '../../../harness/types.ts';
import type { ReadValue } from '../operations.ts';
import { brief, summarise } from '../../../harness/checkers/verdict.ts';
import { answeredReads, describeVersion, identify, newestAcked, readsData, seconds, versionModel, type Version } from './model.ts';
import { createRng } from '../../../harness/seed.ts';

const check = (h: ReadsHistory) => monotonicReads.check(h.input());

/** u1 starts on pro; an admin moves them to free, acknowledged at 120 ms. */
function adminWrite(): ReadsHistory {
  const h = history();
  h.user('u1', 'pro');
  h.user('u2', 'team');
  h.changePlan('u1', 'free', 'r1', ok(100, 120, { by: 'admin', instance: 3 }));
  return h;
}

describe('monotonic-reads', () => {
  describe('must fail', () => {
    it('the session was shown an admin\'s write, then its next read (with that token) went back', () => {
      const h = adminWrite();
      h.read('u1', 'r1', ok(200, 210, { instance: 1 }));
      const back = h.read('u1', 'initial', ok(220, 230, { instance: 2 }));
      expect(back.args.token).toBe('tok:u1:r1');
      const r = check(h);
      expect(r).toMatchObject({ passed: false, violations: 1 });
      expect(r.message).toBe("u1's session was shown r1 (plan free) by a read on instance 1 ending at 0.21 s; their next read on instance 2 (with their token) went back to the initial state (plan pro)");
      expect((r.counterexample as object[])[0]).toMatchObject({ earlier: { instance: 1, value: { requestId: 'r1' } }, read: { instance: 2 } });
    });

    it('went back to the session\'s own older write after being shown an admin\'s newer one (read-your-writes holds)', () => {
      const h = history();
      h.user('u1', 'pro');
      h.changePlan('u1', 'team', 'r1', ok(100, 120, { instance: 0 }));
      h.cancel('u1', 'c2', ok(150, 160, { by: 'admin' }));
      h.read('u1', 'c2', ok(200, 210, { instance: 1 }));
      h.read('u1', 'r1', ok(220, 230, { instance: 2 }));
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain("u1's session was shown the cancel c2 by a read on instance 1");
      expect(r.message).toContain('went back to r1 (plan team)');
    });

    it('went back from a write that was never acknowledged, once a read had shown it', () => {
      const h = adminWrite();
      h.changePlan('u1', 'team', 'r2', info(150, 250, { by: 'admin', error: 'timeout' }));
      h.read('u1', 'r2', ok(300, 310, { instance: 1 }));
      h.read('u1', 'r1', ok(320, 330, { instance: 2 }));
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('was shown r2 (plan team)');
    });

    it('every read that went back counts; the session went back well after, too', () => {
      const h = adminWrite();
      h.read('u1', 'r1', ok(200, 210, { instance: 1 }));
      h.read('u1', 'initial', ok(220, 230, { instance: 2 }));
      h.read('u1', 'initial', ok(1900, 1910, { instance: 0 }));
      expect(check(h)).toMatchObject({ passed: false, violations: 2 });
    });

    // A service that never gives a token is still held to monotonic reads; the message then does not speak of one.
    it('a service that gives no tokens at all', () => {
      const h = history();
      h.tokens = false;
      h.user('u1', 'pro');
      h.changePlan('u1', 'free', 'r1', ok(100, 120, { by: 'admin' }));
      h.read('u1', 'r1', ok(200, 210, { instance: 1 }));
      h.read('u1', 'initial', ok(220, 230, { instance: 2 }));
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('their next read on instance 2 went back to the initial state');
      expect(r.message).not.toContain('token');
    });
  });

  describe('must pass', () => {
    it('never going back: each answer as new as the last, on any instance', () => {
      const h = adminWrite();
      h.read('u1', 'initial', ok(130, 140, { instance: 0 }));
      h.read('u1', 'r1', ok(150, 160, { instance: 1 }));
      h.read('u1', 'r1', ok(170, 180, { instance: 2 }));
      h.cancel('u1', 'c2', ok(200, 210, { instance: 3 }));
      h.read('u1', 'c2', ok(220, 230, { instance: 0 }));
      const r = check(h);
      expect(r).toEqual({ id: 'monotonic-reads', passed: true, message: '4 session read(s), none went back to a state older than one the session had already been shown' });
    });

    it('an admin\'s write the session never saw may be missed (stale within the bound)', () => {
      const h = adminWrite();
      h.read('u1', 'initial', ok(200, 210, { instance: 1 }));
      h.read('u1', 'initial', ok(1500, 1510, { instance: 2 }));
      expect(check(h).passed).toBe(true);
    });

    it('anonymous readers go back and forth freely, and what they saw binds no session', () => {
      const h = adminWrite();
      h.read('u1', 'r1', ok(200, 210, { by: 'anonymous', instance: 1 }));
      h.read('u1', 'initial', ok(220, 230, { by: 'anonymous', instance: 2 }));
      h.read('u1', 'initial', ok(240, 250, { instance: 2 }));
      expect(check(h).passed).toBe(true);
    });

    it('another user\'s session seeing new states binds this one to nothing', () => {
      const h = adminWrite();
      h.changePlan('u2', 'pro', 'r9', ok(100, 110));
      h.read('u2', 'r9', ok(200, 210, { instance: 1 }));
      h.read('u1', 'initial', ok(220, 230, { instance: 2 }));
      expect(check(h).passed).toBe(true);
    });

    it('a read older than the session\'s own write is left to read-your-writes', () => {
      const h = history();
      h.user('u1', 'pro');
      h.changePlan('u1', 'team', 'r1', ok(100, 120));
      h.read('u1', 'initial', ok(130, 140, { instance: 1 }));
      expect(check(h).passed).toBe(true);
    });

    it('an unacknowledged answer, or one no write produced, shows the session nothing', () => {
      const h = adminWrite();
      h.read('u1', 'r1', info(200, 210, { instance: 1 }));
      h.read('u1', { requestId: 'r-made-up' }, ok(220, 230, { instance: 1 }));
      h.read('u1', 'initial', ok(240, 250, { instance: 2 }));
      expect(check(h).passed).toBe(true);
    });

    it('a session write never acknowledged shows nothing until a read shows it', () => {
      const h = adminWrite();
      h.cancel('u1', 'c2', info(200, 300));
      h.read('u1', 'r1', ok(310, 320, { instance: 1 }));
      h.read('u1', 'c2', ok(330, 340, { instance: 2 }));
      expect(check(h).passed).toBe(true);
    });
  });

  // The checker looks up what a session had been shown with a binary search over each session's answers; the plain
  // definition rescans every earlier answer for every read. Both must give the same verdict, violations and message.
  describe('the same result as rescanning every earlier answer', () => {
    for (let seed = 1; seed <= 40; seed++) {
      it(`random history, seed ${seed}`, () => {
        const h = randomHistory(createRng(seed));
        expect(check(h)).toEqual(rescan(h));
      });
    }
    it('a read answered in no time, among answers ending at the same microsecond', () => {
      const h = adminWrite();
      h.read('u1', 'r1', ok(200, 210, { instance: 1 }));
      h.read('u1', 'initial', ok(210, 210, { instance: 2 }));
      h.read('u1', 'initial', ok(205, 210, { instance: 3 }));
      expect(check(h)).toEqual(rescan(h));
      expect(check(h)).toMatchObject({ passed: false, violations: 1 });
    });
  });
});

/** monotonic-reads as first written: every earlier answer of the session rescanned for every read. */
function rescan(h: ReadsHistory) {
  const { ops, data } = h.input();
  const d = readsData(data);
  const model = versionModel(ops, d);
  const sessionOps = ops.filter((o) => o.args.by === 'session' && o.type === 'ok' && o.value).sort((a, b) => a.endUs - b.endUs);
  const reads = answeredReads(ops).filter((o) => o.args.by === 'session');
  const violations = [];
  for (const op of reads) {
    const u = model.get(String(op.args.userId));
    if (!u) continue;
    const id = identify(u, op.value as ReadValue);
    if (!id.ok) continue;
    if (id.version.index < newestAcked(u, op.startUs, (v) => v.by === 'session').index) continue;
    let seen: { version: Version; op: Op } | null = null;
    for (const prior of sessionOps) {
      if (prior.endUs > op.startUs) break;
      if (prior.args.userId !== u.userId || prior === op) continue;
      const p = identify(u, prior.value as ReadValue);
      if (p.ok && (!seen || p.version.index > seen.version.index)) seen = { version: p.version, op: prior };
    }
    if (!seen || id.version.index >= seen.version.index) continue;
    violations.push({
      reason: `${u.userId}'s session was shown ${describeVersion(seen.version)} by a ${seen.op.f} on instance ${seen.op.instance} ending at ${seconds(seen.op.endUs)}; their next read on instance ${op.instance}${op.args.token ? ' (with their token)' : ''} went back to ${describeVersion(id.version)}`,
      earlier: brief(seen.op), read: brief(op),
    });
  }
  return summarise('monotonic-reads', violations, `${reads.length} session read(s), none went back to a state older than one the session had already been shown`, (v) => v.reason);
}

