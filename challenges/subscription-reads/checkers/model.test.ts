// Tests of the model every subscription-reads check shares: each user's versions in the order the writes were sent
// (the initial state first, acknowledged "forever ago"; an unanswered write has no ack), which version an answer is
// (or why it is a state no write produced), the newest acknowledged version before a time (optionally by one
// writer), and the most timestamps inside any window.

import { describe, expect, it } from 'vitest';
import { answeredReads, describeVersion, identify, maxInWindow, newestAcked, versionModel } from './model.ts';
import { history, info, ok, unavailable } from './test-history.ts';

function twoUsers() {
  const h = history();
  h.user('u1', 'pro');
  h.user('u2', 'free');
  return h;
}

describe('versionModel', () => {
  it('gives each user the initial state, then their writes in the order they were sent, whoever sent them', () => {
    const h = twoUsers();
    // Recorded out of order on purpose: the model orders by when each write was sent.
    h.cancel('u1', 'c3', ok(900, 950, { by: 'admin', instance: 3 }));
    h.changePlan('u1', 'team', 'r1', ok(100, 120, { instance: 1 }));
    h.changePlan('u2', 'starter', 'r9', ok(150, 160));
    h.changePlan('u1', 'free', 'r2', info(400, 10_400, { error: 'timeout' }));
    const m = versionModel(h.ops, h.data());
    const u1 = m.get('u1')!;
    expect(u1.versions.map((v) => [v.index, v.requestId, v.f, v.plan, v.by])).toEqual([
      [0, 'initial', 'initial', 'pro', 'setup'],
      [1, 'r1', 'change-plan', 'team', 'session'],
      [2, 'r2', 'change-plan', 'free', 'session'],
      [3, 'c3', 'cancel', undefined, 'admin'],
    ]);
    expect(u1.versions[0]).toMatchObject({ ackUs: Number.NEGATIVE_INFINITY, invokeUs: Number.NEGATIVE_INFINITY });
    expect(u1.versions[1]).toMatchObject({ ackUs: 120_000, invokeUs: 100_000 });
    expect(u1.versions[2]).toMatchObject({ ackUs: null, invokeUs: 400_000 }); // never answered: may or may not have applied
    expect(u1.versions[3].op?.instance).toBe(3);
    expect(u1.byRequest.get('c3')).toBe(u1.versions[3]);
    expect(m.get('u2')!.versions.map((v) => v.requestId)).toEqual(['initial', 'r9']);
  });

  it('a refused write (never sent) is a version without an ack; writes of users not in the data are ignored', () => {
    const h = twoUsers();
    h.changePlan('u1', 'team', 'r1', unavailable(100, 101));
    const stray = { ...h.ops[0], args: { ...h.ops[0].args, userId: 'ghost' }, index: 1 };
    const m = versionModel([...h.ops, stray], h.data());
    expect(m.get('u1')!.versions[1]).toMatchObject({ requestId: 'r1', ackUs: null });
    expect(m.has('ghost')).toBe(false);
  });

  it('reads do not make versions', () => {
    const h = twoUsers();
    h.read('u1', 'initial', ok(10, 20));
    expect(versionModel(h.ops, h.data()).get('u1')!.versions).toHaveLength(1);
  });
});

describe('identify', () => {
  const h = twoUsers();
  h.changePlan('u1', 'team', 'r1', ok(100, 120));
  h.cancel('u1', 'c2', ok(200, 220));
  h.changePlan('u1', 'starter', 'r3', info(300, 400));
  const u1 = versionModel(h.ops, h.data()).get('u1')!;

  it('names the version a faithful answer is: initial, a plan change, a cancel, an unanswered write', () => {
    for (const [rid, index] of [['initial', 0], ['r1', 1], ['c2', 2], ['r3', 3]] as const) {
      const id = identify(u1, h.value('u1', rid));
      expect(id).toMatchObject({ ok: true });
      if (id.ok) expect(id.version.index).toBe(index);
    }
  });

  it('a cancel keeps the plan it found; its answer must say cancelled', () => {
    expect(h.value('u1', 'c2')).toMatchObject({ plan: 'team', status: 'cancelled' });
    expect(identify(u1, { ...h.value('u1', 'c2'), status: 'active' })).toEqual({ ok: false, problem: 'it names the cancel c2 but says status active' });
  });

  it('an answer for another user, an unknown requestId, a wrong plan or a wrong status is a state no write produced', () => {
    expect(identify(u1, h.value('u2', 'initial'))).toEqual({ ok: false, problem: "it is user u2's subscription, not u1's" });
    expect(identify(u1, { ...h.value('u1', 'initial'), userId: '' })).toEqual({ ok: false, problem: "it is user (none)'s subscription, not u1's" });
    expect(identify(u1, { ...h.value('u1', 'r1'), requestId: 'r-nope' })).toEqual({ ok: false, problem: 'requestId "r-nope" names no write of u1' });
    expect(identify(u1, { ...h.value('u1', 'r1'), plan: 'pro' })).toEqual({ ok: false, problem: 'it names r1, which set plan team, but says plan pro' });
    expect(identify(u1, { ...h.value('u1', 'initial'), plan: 'free' })).toEqual({ ok: false, problem: 'it names initial, which set plan pro, but says plan free' });
    expect(identify(u1, { ...h.value('u1', 'r1'), status: 'cancelled' })).toEqual({ ok: false, problem: 'it names r1, which left the subscription active, but says status cancelled' });
  });

  it('a requestId of another user\'s write names no write of this one', () => {
    const g = twoUsers();
    g.changePlan('u2', 'pro', 'r-u2', ok(0, 10));
    const m = versionModel(g.ops, g.data());
    expect(identify(m.get('u1')!, { userId: 'u1', plan: 'pro', status: 'active', requestId: 'r-u2' })).toMatchObject({ ok: false });
  });

  // A cancel keeps the plan the subscription had: an answer naming a cancel with another plan (here u1 was on 'pro'
  // when c1 cancelled it; the answer says 'free') is a mix of states. See bounded-staleness.test.ts end to end.
  it('a cancel answered with a plan other than the one it kept is a state no write produced', () => {
    const g = history();
    g.user('u1', 'pro');
    g.cancel('u1', 'c1', ok(100, 120));
    const u = versionModel(g.ops, g.data()).get('u1')!;
    expect(identify(u, { userId: 'u1', plan: 'free', status: 'cancelled', requestId: 'c1' })).toMatchObject({ ok: false });
  });
});

describe('newestAcked', () => {
  const h = history();
  h.user('u1', 'pro');
  h.changePlan('u1', 'team', 'r1', ok(100, 120));                    // session, acked at 120
  h.changePlan('u1', 'free', 'r2', ok(200, 250, { by: 'admin' }));   // admin, acked at 250
  h.cancel('u1', 'c3', info(300, 400));                              // never acknowledged
  h.changePlan('u1', 'starter', 'r4', ok(500, 600));                 // session, acked at 600
  const u1 = versionModel(h.ops, h.data()).get('u1')!;
  const at = (ms: number, who?: Parameters<typeof newestAcked>[2]) => newestAcked(u1, ms * 1000, who).requestId;

  it('is the initial state before any acknowledgement', () => {
    expect(at(0)).toBe('initial');
    expect(at(119.999)).toBe('initial');
  });

  it('counts a write acknowledged strictly before the time', () => {
    expect(at(120)).toBe('initial');
    expect(at(120.001)).toBe('r1');
    expect(at(250.001)).toBe('r2');
  });

  it('never counts a write that was not acknowledged', () => {
    expect(at(599)).toBe('r2');
    expect(at(10_000)).toBe('r4');
  });

  it('by one writer only, when asked', () => {
    const session = (v: { by: string }) => v.by === 'session';
    expect(at(300, session)).toBe('r1');
    expect(at(10_000, (v) => v.by === 'admin')).toBe('r2');
    expect(at(50, session)).toBe('initial');
  });
});

describe('answeredReads and describeVersion', () => {
  it('keeps reads answered with a value, every phase included', () => {
    const h = twoUsers();
    h.changePlan('u1', 'team', 'r1', ok(0, 10));
    const a = h.read('u1', 'r1', ok(20, 30));
    h.read('u1', 'r1', info(40, 50));
    const f = h.finalRead('u1', 'r1');
    expect(answeredReads(h.ops)).toEqual([a, f]);
  });

  it('names versions for people', () => {
    const h = history();
    h.user('u1', 'pro');
    h.changePlan('u1', 'team', 'r1', ok(0, 10));
    h.cancel('u1', 'c2', ok(20, 30));
    const v = versionModel(h.ops, h.data()).get('u1')!.versions;
    expect(v.map(describeVersion)).toEqual(['the initial state (plan pro)', 'r1 (plan team)', 'the cancel c2']);
  });
});

describe('maxInWindow', () => {
  it('is zero for no times', () => {
    expect(maxInWindow([], 250_000)).toEqual({ count: 0, atUs: 0 });
  });

  it('counts the most times inside any window, in any order, and says where it starts', () => {
    const times = [900_000, 0, 1_000_000, 950_000, 2_000_000, 1_100_000];
    expect(maxInWindow(times, 250_000)).toEqual({ count: 4, atUs: 900_000 });
    expect(times[0]).toBe(900_000); // the input is not sorted in place
  });

  it('a window is half-open: times exactly a window apart are not in one window', () => {
    expect(maxInWindow([0, 125_000, 250_000], 250_000)).toEqual({ count: 2, atUs: 0 });
    expect(maxInWindow([0, 125_000, 249_999], 250_000)).toEqual({ count: 3, atUs: 0 });
  });

  it('counts equal times each', () => {
    expect(maxInWindow([5, 5, 5], 1)).toEqual({ count: 3, atUs: 5 });
  });
});
