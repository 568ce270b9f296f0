// The registry is the single source of what a challenge is: every check it declares feeds the rubric (or is the
// pipeline's `loads` gate), every check the rubric or a red flag names is declared, every scenario runs only
// declared checks, and each challenge's contract and starter reach candidates. No database needed.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import ts from 'typescript';
import { challenges } from '../challenges/index.ts';
import { CONTRACT_CHECKS, RED_FLAGS, RUBRIC } from '../rubric/rubric.ts';
import { PIPELINE_CHECK_IDS } from '../harness/pipeline-checks.ts';
import { gauntletDeclarations, gauntletModuleSource } from '../harness/gauntlet-module.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const itemIds = new Set(RUBRIC.map((i) => i.id));
const checkParts = new Set(RUBRIC.filter((i) => i.auto?.some((p) => 'checks' in p)).map((i) => i.id));

describe('registry: challenges describe themselves', () => {
  for (const c of challenges) {
    describe(c.id, () => {
      it('every check it declares feeds a rubric item that earns points from checks', () => {
        for (const k of c.checks) {
          if (k.id === 'loads') continue; // the gate: a module that never loaded earns no measured points either
          expect(k.rubric.length, `${c.id}/${k.id} feeds no rubric item: it would earn 0 points`).toBeGreaterThan(0);
          for (const item of k.rubric) {
            expect(itemIds.has(item), `${c.id}/${k.id} names rubric item ${item}, which does not exist`).toBe(true);
            expect(checkParts.has(item), `${c.id}/${k.id} feeds ${item}, which has no "share of checks passed" part`).toBe(true);
          }
          if (k.redFlag) expect(RED_FLAGS.map((f) => f.id), `${c.id}/${k.id} raises an unknown red flag`).toContain(k.redFlag);
        }
      });

      it('every check its scenarios run is declared, and every declared check runs somewhere', () => {
        const declared = c.checks.map((k) => k.id);
        const run = new Set(c.scenarios.flatMap((s) => s.checkers.map((k) => k.id)));
        for (const id of run) expect(declared, `${c.id}: a scenario runs ${id}, which the challenge does not declare`).toContain(id);
        for (const id of declared.filter((d) => !PIPELINE_CHECK_IDS.includes(d))) expect(run.has(id), `${c.id} declares ${id} but no scenario runs it`).toBe(true);
        expect(declared.slice(-PIPELINE_CHECK_IDS.length)).toEqual(PIPELINE_CHECK_IDS);
      });

      it('has a contract file, a starter stub for its module file, and reference and fixture folders', () => {
        expect(fs.existsSync(c.contract), c.contract).toBe(true);
        expect(c.starter).toMatch(/export default async function create/);
        expect(fs.readdirSync(path.join(root, 'reference', c.id)).filter((f) => !f.startsWith('_')).length).toBeGreaterThan(0);
        const fixtures = fs.readdirSync(path.join(root, 'fixtures', 'submissions')).filter((f) => {
          const e = path.join(root, 'fixtures', 'submissions', f, 'expected.json');
          return fs.existsSync(e) && JSON.parse(fs.readFileSync(e, 'utf8')).challenge === c.id;
        });
        expect(fixtures.length, `${c.id} has no known-buggy fixture`).toBeGreaterThan(0);
      });
    });
  }

  it('every check the rubric or a red flag names is declared by a challenge or the pipeline', () => {
    const declared = new Set(challenges.flatMap((c) => c.checks.map((k) => k.id)));
    for (const item of RUBRIC) for (const p of item.auto ?? []) if ('checks' in p) {
      expect(p.checks.length, `${item.id}: no check feeds it`).toBeGreaterThan(0);
      for (const id of p.checks) expect(declared.has(id), `${item.id} names ${id}`).toBe(true);
    }
    for (const f of RED_FLAGS) {
      expect(f.checks.length, `red flag ${f.id} is raised by no check`).toBeGreaterThan(0);
      for (const id of f.checks) expect(declared.has(id)).toBe(true);
    }
    expect(Object.keys(CONTRACT_CHECKS)).toEqual([...challenges.map((c) => c.id), '*']);
  });

  it('the rubric still spends the same points per item as before the checks declared them (a regression guard)', () => {
    const locking = RUBRIC.find((i) => i.id === 'locking')!.auto![0];
    expect(locking).toEqual({ points: 5, checks: expect.arrayContaining(['single-winner', 'hold-expires', 'release-frees-seat', 'one-subscription-per-payment', 'no-double-charge']) });
    expect(RED_FLAGS.find((f) => f.id === 'no-idempotency')!.checks.slice().sort()).toEqual(['no-double-charge', 'one-subscription-per-payment']);
    expect(RED_FLAGS.find((f) => f.id === 'no-error-handling')!.checks).toEqual(['no-crash']);
  });

  it('the gauntlet module and its declarations carry every registered contract', () => {
    const src = gauntletModuleSource(challenges.map((c) => c.contract));
    for (const c of challenges) expect(src).toContain(JSON.stringify(c.contract));
    const dts = gauntletDeclarations(ts, (f) => fs.readFileSync(f, 'utf8'), challenges.map((c) => c.contract));
    for (const name of ['AppContext', 'SetupContext', 'GauntletCodeError', 'SeatService', 'SeatTakenError', 'WebhookService', 'SubscriptionService', 'OutOfStockError']) expect(dts).toMatch(new RegExp(`export (interface|class|type) ${name}\\b`));
    expect(dts).not.toMatch(/\bsuper\(/); // declarations, no bodies
  });

  it('challenges/public.ts (the in-repo `gauntlet` types) re-exports every registered contract', () => {
    const pub = fs.readFileSync(path.join(root, 'challenges', 'public.ts'), 'utf8');
    for (const c of challenges) {
      const rel = './' + path.relative(path.join(root, 'challenges'), c.contract).split(path.sep).join('/');
      expect(pub, `add  export * from '${rel}';  to challenges/public.ts so in-repo tsc sees ${c.id}'s types`).toContain(`export * from '${rel}';`);
    }
  });
});
