// Tests of read-your-writes: a read by the user's session returns the newest write that session had acknowledged
// before the read began, or something newer — on any instance, right after the write. Writes of an admin are not the
// user's own (bounded-staleness judges them), writes never acknowledged are owed to no one, anonymous readers are not
// the session, and an answer no write produced is left to bounded-staleness.

import { describe, expect, it } from 'vitest';
import { readYourWrites } from './read-your-writes.ts';
import { history, info, ok, type ReadsHistory } from './test-history.ts';

const check = (h: ReadsHistory) => readYourWrites.check(h.input());

/** u1 starts on pro; their session moves them to team on instance 0, acknowledged at 120 ms. */
function ownWrite(): ReadsHistory {
  const h = history();
  h.user('u1', 'pro');
  h.user('u2', 'free');
  h.changePlan('u1', 'team', 'r1', ok(100, 120, { instance: 0 }));
  return h;
}

describe('read-your-writes', () => {
  describe('must fail', () => {
    it('the session read the old state on another instance right after its write (with its token)', () => {
      const h = ownWrite();
      const read = h.read('u1', 'initial', ok(125, 130, { instance: 1 }));
      expect(read.args.token).toBe('tok:u1:r1');
      const r = check(h);
      expect(r).toMatchObject({ passed: false, violations: 1 });
      expect(r.message).toBe('u1 wrote r1 (plan team) on instance 0 (acknowledged at 0.12 s); 5 ms later their read on instance 1 with their token returned the initial state (plan pro)');
      expect((r.counterexample as object[])[0]).toMatchObject({ sinceMs: 5, write: { args: { requestId: 'r1' } }, read: { instance: 1 } });
    });

    it('the second read after the write went stale again (the first was fresh)', () => {
      const h = ownWrite();
      h.read('u1', 'r1', ok(125, 130, { instance: 1 }));
      h.read('u1', 'initial', ok(135, 140, { instance: 2 }));
      const r = check(h);
      expect(r).toMatchObject({ passed: false, violations: 1 });
      expect(r.message).toContain('15 ms later their read on instance 2');
    });

    it('an older own write after a newer one', () => {
      const h = ownWrite();
      h.cancel('u1', 'c2', ok(200, 220, { instance: 3 }));
      h.read('u1', 'r1', ok(230, 240, { instance: 1 }));
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('u1 wrote the cancel c2 on instance 3 (acknowledged at 0.22 s); 10 ms later their read on instance 1 with their token returned r1 (plan team)');
    });

    it('older than the own write, although an admin wrote since', () => {
      const h = ownWrite();
      h.changePlan('u1', 'free', 'r2', ok(150, 160, { by: 'admin' }));
      h.read('u1', 'initial', ok(200, 210, { instance: 1 }));
      expect(check(h).passed).toBe(false);
    });

    it('stale seconds later too, within the staleness bound (tokens make the bound 0 for the user\'s own writes)', () => {
      const h = ownWrite();
      h.read('u1', 'initial', ok(1500, 1510, { instance: 2 }));
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('1380 ms later');
    });

    // A service that never gives a token is still held to read-your-writes (the checker's "carrying their token,
    // when the service gave one"); the message then does not speak of a token.
    it('a service that gives no tokens at all still owes the session its write', () => {
      const h = history();
      h.tokens = false;
      h.user('u1', 'pro');
      h.changePlan('u1', 'team', 'r1', ok(100, 120, { instance: 0 }));
      const read = h.read('u1', 'initial', ok(125, 130, { instance: 1 }));
      expect(read.args.token).toBeUndefined();
      const r = check(h);
      expect(r.passed).toBe(false);
      expect(r.message).toBe('u1 wrote r1 (plan team) on instance 0 (acknowledged at 0.12 s); 5 ms later their read on instance 1 returned the initial state (plan pro)');
    });
  });

  describe('must pass', () => {
    it('the own write read back at once on every other instance', () => {
      const h = ownWrite();
      for (const i of [1, 2, 3]) h.read('u1', 'r1', ok(121 + i, 122 + i, { instance: i }));
      const r = check(h);
      expect(r).toEqual({ id: 'read-your-writes', passed: true, message: "3 read(s) by users' own sessions, each returned their latest acknowledged write or newer" });
    });

    it('something newer than the own write: a later admin write, or an unanswered one', () => {
      const h = ownWrite();
      h.changePlan('u1', 'free', 'r2', ok(150, 160, { by: 'admin' }));
      h.read('u1', 'r2', ok(170, 180, { instance: 1 }));
      h.cancel('u1', 'c3', info(200, 300, { by: 'admin' }));
      h.read('u1', 'c3', ok(310, 320, { instance: 2 }));
      expect(check(h).passed).toBe(true);
    });

    it('an admin\'s write is not the user\'s own: the session may read the state before it (within the bound)', () => {
      const h = history();
      h.user('u1', 'pro');
      h.changePlan('u1', 'team', 'r1', ok(100, 120, { by: 'admin' }));
      h.read('u1', 'initial', ok(130, 140, { instance: 1 }));
      expect(check(h).passed).toBe(true);
    });

    it('anonymous readers are not the session', () => {
      const h = ownWrite();
      h.read('u1', 'initial', ok(125, 130, { by: 'anonymous', instance: 1 }));
      h.finalRead('u1', 'initial');
      expect(check(h)).toMatchObject({ passed: true, message: expect.stringContaining('0 read(s)') });
    });

    it('an own write never acknowledged: the session may read it or the state before it', () => {
      const h = ownWrite();
      h.changePlan('u1', 'starter', 'r2', info(200, 300, { error: 'reset' }));
      h.read('u1', 'r1', ok(310, 320, { instance: 1 }));
      h.read('u1', 'r2', ok(330, 340, { instance: 2 }));
      h.read('u1', 'r1', ok(350, 360, { instance: 3 }));
      expect(check(h).passed).toBe(true);
    });

    it('a read that began as the write was acknowledged, not after', () => {
      const h = ownWrite();
      h.read('u1', 'initial', ok(120, 130, { instance: 1 }));
      expect(check(h).passed).toBe(true);
    });

    it('another user\'s write owes this user nothing', () => {
      const h = ownWrite();
      h.read('u2', 'initial', ok(125, 130, { instance: 1 }));
      expect(check(h).passed).toBe(true);
    });

    it('an answer no write produced is left to bounded-staleness', () => {
      const h = ownWrite();
      h.read('u1', { requestId: 'r-made-up' }, ok(125, 130, { instance: 1 }));
      expect(check(h).passed).toBe(true);
    });
  });
});
