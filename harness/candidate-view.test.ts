// No oracle in reach: what an instance can read of its scenario (ctx.scenario, GAUNTLET_SCENARIO) is only what the
// contract gives a candidate — never the workload's plan or the outcome each request should come to.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { challenges } from '../challenges/index.ts';
import { createRng } from './seed.ts';
import { PROFILES } from './app/grade.ts';

/**
 * The scenario fields each challenge's setup may read, as the contract states them: CONTRACT §3's heading of the
 * challenge, `### <id>  (\`scenario: { seats: string[] }\`)`, names its top-level fields; no `scenario:` means none.
 * Read from docs/contract.md, so a new challenge needs no line here, and the test checks the code against the page.
 */
function contractFields(id: string): string[] | undefined {
  const contract = readFileSync(new URL('../docs/contract.md', import.meta.url), 'utf8');
  const heading = contract.split('\n').find((l) => l.startsWith(`### ${id} `) || l === `### ${id}`);
  if (!heading) return undefined;
  const at = heading.indexOf('scenario: {');
  if (at < 0) return [];
  const fields: string[] = [];
  let depth = 0;
  let token = '';
  for (const ch of heading.slice(at + 'scenario: '.length)) {
    if (ch === '{') depth++;
    else if (ch === '}') { if (--depth === 0) break; }
    else if (depth === 1 && ch === ':') { if (token) fields.push(token); token = ''; continue; }
    if (depth === 1 && /[A-Za-z0-9_]/.test(ch)) token += ch;
    else if (ch !== ' ') token = '';
  }
  return fields.sort();
}

describe('the scenario data an instance gets', () => {
  for (const c of challenges) {
    it(`${c.id}: only the contract's fields, on every scenario and profile`, () => {
      const fields = contractFields(c.id);
      expect(fields, `docs/contract.md §3 has a heading for ${c.id}`).toBeDefined();
      for (const s of c.scenarios) {
        for (const profile of PROFILES) {
          const data = s.data(createRng(7).fork(`${c.id}/${s.id}`).fork('data'), { ...s.params[profile] });
          const view = c.candidateView(data);
          expect(Object.keys(view).sort(), `${c.id}/${s.id}`).toEqual(fields);
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
