// The compatibility matrix (issue 19, docs/candidates.md): one small, correct solution per popular Node data
// library in fixtures/stacks/<name>/, each with its own package.json and lock file, exactly as a candidate who
// brings their own stack hands it in. Each is installed (`npm ci`, from the lock file) when its node_modules is
// missing, then graded with the quick profile against real PostgreSQL and Redis, under the sandbox and the
// network containment: every scenario must pass, with no red flag. A library that stops loading under the
// sandbox, or whose client stops surviving the injected faults, fails here with the grade's own message. Every stack
// is installed first; then they are graded in a row, each begun beside the previous one's settle (grade-chain.ts),
// and each stack's test reads its grade.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GradeChain } from '../harness/app/grade-chain.ts';
import type { GradeResult } from '../rubric/result.ts';
import { installDependencies } from '../harness/instances/dependencies.ts';
import { acquireInfra, type Infra } from '../harness/infra/index.ts';
import { expectContractShape, instanceProcesses, leftoverDatabases } from './helpers.ts';

const root = path.resolve('fixtures/stacks');
const stacks = fs.readdirSync(root).filter((name) => fs.existsSync(path.join(root, name, 'expected.json'))).sort();

interface Expected {
  challenge: string;
  library: string;
  why: string;
}
const expectedOf = new Map(stacks.map((name) => [name, JSON.parse(fs.readFileSync(path.join(root, name, 'expected.json'), 'utf8')) as Expected]));

let infra: Infra;
const installs = new Map<string, string | undefined>();
// Each stack's grade, handed over by the chain below when it starts (the promise then follows the grade's own); its
// test awaits it. A grade that rejects is reported by its test, never as an unhandled rejection before it.
const grades = new Map(stacks.map((name) => {
  let hand!: (grade: Promise<GradeResult>) => void;
  const result = new Promise<GradeResult>((resolve) => (hand = resolve));
  result.catch(() => {});
  return [name, { hand, result }];
}));
const chain = new GradeChain();
let graded: Promise<void>;

beforeAll(async () => {
  infra = await acquireInfra();
  // All installs (blocking npm ci) before the first grade, so none blocks another grade's settle.
  for (const name of stacks) installs.set(name, installDependencies(path.join(root, name)).error);
  graded = (async () => {
    for (const name of stacks) {
      const { result } = await chain.next({ submission: path.join(root, name), challenges: [expectedOf.get(name)!.challenge], profile: 'quick', seed: 1, infra, outDir: '.gauntlet/test-runs' });
      grades.get(name)!.hand(result);
    }
    await chain.idle();
  })();
}, 300_000);
afterAll(async () => {
  await graded?.catch(() => {});
  await infra?.close();
  // Nothing of any grade is left: instances, databases, the staged copies of the stacks' node_modules.
  expect(instanceProcesses()).toEqual([]);
  expect(await leftoverDatabases()).toEqual([]);
  expect(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith(`gauntlet-deps-${process.pid}-`))).toEqual([]);
}, 300_000);

describe('the compatibility matrix: a correct solution on each popular library passes the quick profile', () => {
  it('has the libraries the matrix promises', () => {
    const libraries = stacks.map((s) => expectedOf.get(s)!.library);
    for (const lib of ['pg', 'postgres', 'knex', 'kysely', 'drizzle-orm', 'typeorm', 'sequelize', '@prisma/client', '@mikro-orm/postgresql', 'ioredis', 'redis', 'fetch', 'undici', 'axios']) expect(libraries).toContain(lib);
  });

  for (const name of stacks) {
    it(name, async () => {
      const expected = expectedOf.get(name)!;
      expect(installs.get(name)).toBeUndefined();
      const r = await grades.get(name)!.result;
      expectContractShape(JSON.parse(JSON.stringify(r)));
      const challenge = r.challenges.find((c) => c.id === expected.challenge)!;
      const failures = challenge.scenarios.flatMap((s) => (s.status === 'passed' ? [] : [`${s.id}: ${s.status} ${s.error ?? s.checks.filter((c) => !c.passed).map((c) => `${c.id}: ${c.message}`).join('; ')}`]));
      expect(failures, `${expected.library} (${r.runDir})`).toEqual([]);
      expect(challenge.scenarios.length).toBeGreaterThanOrEqual(5);
      expect(r.redFlags.map((f) => f.id)).toEqual([]);
    }, 300_000);
  }
});
