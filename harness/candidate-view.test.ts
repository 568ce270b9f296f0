// No oracle in reach: what an instance can read of its scenario (ctx.scenario, GAUNTLET_SCENARIO) is only what the
// contract gives a candidate — never the workload's plan or the outcome each request should come to.

import { describe, expect, it } from 'vitest';
import { challenges } from '../challenges/index.ts';
import { createRng } from './seed.ts';
import { PROFILES } from './app/grade.ts';

/** CONTRACT §2: the scenario fields each challenge's setup may read. */
const CONTRACT_FIELDS: Record<string, string[]> = { 'seat-reservation': ['seats'], 'payment-webhook': [], subscription: [] };

describe('the scenario data an instance gets', () => {
  for (const c of challenges) {
    it(`${c.id}: only the contract's fields, on every scenario and profile`, () => {
      expect(Object.keys(CONTRACT_FIELDS)).toContain(c.id);
      for (const s of c.scenarios) {
        for (const profile of PROFILES) {
          const data = s.data(createRng(7).fork(`${c.id}/${s.id}`).fork('data'), { ...s.params[profile] });
          const view = c.candidateView(data);
          expect(Object.keys(view).sort(), `${c.id}/${s.id}`).toEqual(CONTRACT_FIELDS[c.id]);
          for (const k of Object.keys(view)) expect(view[k], `${c.id}/${s.id}.${k}`).toEqual(data[k]);
          // Nothing that reads like an expected outcome or a plan survives into it.
          expect(JSON.stringify(view)).not.toMatch(/"(expect|group|purchases|outcome)"/);
        }
      }
    });
  }

  it('the subscription plan really holds an oracle (so the view above has something to leave out)', () => {
    const sub = challenges.find((c) => c.id === 'subscription')!;
    const s = sub.scenarios[0];
    expect(JSON.stringify(s.data(createRng(7).fork('x'), { ...s.params.quick }))).toMatch(/"expect":"active"/);
  });
});
