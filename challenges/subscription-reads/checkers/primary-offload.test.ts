// Tests of primary-offload: in the read-only phase with the replica healthy, the primary answered at most one SELECT
// for every two reads (0.5 per read, counted on the wire by the scenario); exactly 0.5 passes, anything above fails.
// Under 20 answered reads the ratio means nothing (unknown); a scenario without a read-only phase has nothing to judge.

import { describe, expect, it } from 'vitest';
import { MAX_PRIMARY_SELECTS_PER_READ, primaryOffload } from './primary-offload.ts';
import { history } from './test-history.ts';

/** The read-only phase over [1 s, 4 s] with `reads` answered reads and these SELECT counts. */
function offload(reads: number, primarySelects: number, replicaSelects = 0) {
  const h = history();
  h.user('u1', 'pro');
  h.final = { offload: { fromUs: 1_000_000, toUs: 4_000_000, reads, primarySelects, replicaSelects } };
  return primaryOffload.check(h.input());
}

describe('primary-offload', () => {
  it('publishes 0.5 primary SELECTs per read', () => {
    expect(MAX_PRIMARY_SELECTS_PER_READ).toBe(0.5);
  });

  describe('must fail', () => {
    it('every read went to the primary', () => {
      const r = offload(200, 200, 0);
      expect(r).toMatchObject({ id: 'primary-offload', passed: false });
      expect(r.message).toBe('in the read-only phase, with the replica healthy, the primary answered 200 primary SELECT(s) and 0 replica SELECT(s) for 200 read(s): 1.00 per read, above 0.5; serve reads from the replica or a cache');
      expect(r.counterexample).toEqual({ fromUs: 1_000_000, toUs: 4_000_000, reads: 200, primarySelects: 200, replicaSelects: 0, perRead: 1 });
    });

    it('just above the bound: 51 SELECTs for 100 reads, 11 for 20', () => {
      expect(offload(100, 51, 49)).toMatchObject({ passed: false, message: expect.stringContaining('0.51 per read, above 0.5') });
      expect(offload(20, 11).passed).toBe(false);
    });

    it('a lag check on the primary for every read counts too (two SELECTs per read, the data from the replica)', () => {
      const r = offload(100, 100, 100);
      expect(r.passed).toBe(false);
      expect(r.message).toContain('100 primary SELECT(s) and 100 replica SELECT(s) for 100 read(s)');
    });
  });

  describe('must pass', () => {
    it('exactly one SELECT for every two reads', () => {
      expect(offload(100, 50, 50)).toEqual({ id: 'primary-offload', passed: true, message: '50 primary SELECT(s) and 50 replica SELECT(s) for 100 read(s) in the read-only phase: 0.50 per read (at most 0.5)' });
      expect(offload(20, 10).passed).toBe(true);
    });

    it('reads from the replica and the cache, the primary hardly asked', () => {
      expect(offload(400, 3, 120)).toMatchObject({ passed: true, message: expect.stringContaining('0.01 per read') });
      expect(offload(400, 0, 0).passed).toBe(true);
    });

    it('no read-only phase in this scenario', () => {
      const h = history();
      expect(primaryOffload.check(h.input())).toEqual({ id: 'primary-offload', passed: true, message: 'this scenario has no read-only phase' });
    });
  });

  describe('unknown', () => {
    it('too few reads to measure: 19, or none', () => {
      expect(offload(19, 19)).toEqual({ id: 'primary-offload', passed: null, message: 'only 19 read(s) were answered in the read-only phase: too few to measure' });
      expect(offload(0, 0).passed).toBeNull();
    });
  });
});
