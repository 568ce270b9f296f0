// References share code through `reference/<challenge>/_shared/` (issue 13): discovery must not take a `_`-prefixed
// entry for a reference, and a reference graded through self-test's throwaway submission must still reach its shared
// code — in the bundle, and in the source read for static evidence. No database, no instance.

import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { discoverCases, submissionFor, type SelfTestCase } from '../harness/app/self-test.ts';
import { findModule, readSubmissionConfig } from '../harness/submission.ts';
import { bundleInstance } from '../harness/instances/bundle.ts';
import { collectSources } from '../rubric/evidence/sources.ts';
import { challenges } from '../challenges/index.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-discovery-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const challenge = (id: string) => challenges.find((c) => c.id === id)!;
const shared = (file: string) => file.split(path.sep).includes('_shared');

function reference(name: string): SelfTestCase {
  const c = discoverCases().find((x) => x.kind === 'reference' && x.name === name);
  if (!c) throw new Error(`no reference ${name}`);
  return c;
}

describe('reference discovery', () => {
  it('skips _-prefixed folders and files: shared code, not references', () => {
    const dir = path.join(tmp, 'repo', 'reference', 'seat-reservation');
    fs.mkdirSync(path.join(dir, '_shared'), { recursive: true });
    fs.writeFileSync(path.join(dir, '_shared', 'service.ts'), 'export const x = 1;\n');
    fs.writeFileSync(path.join(dir, '_helpers.ts'), 'export const y = 2;\n');
    fs.writeFileSync(path.join(dir, 'strategy.ts'), "import { x } from './_shared/service.ts';\nexport default async function create() { return x; }\n");
    fs.mkdirSync(path.join(dir, 'http-thing'));
    fs.writeFileSync(path.join(dir, 'http-thing', 'gauntlet.json'), '{"mode":"http","start":"node server.mjs"}');
    expect(discoverCases(path.join(tmp, 'repo')).map((c) => c.name)).toEqual(['seat-reservation/http-thing', 'seat-reservation/strategy']);
  });

  it('finds every reference of the repository and no shared folder', () => {
    const names = discoverCases().filter((c) => c.kind === 'reference').map((c) => c.name);
    expect(names.filter((n) => n.split('/').some((part) => part.startsWith('_')))).toEqual([]);
    expect(names).toEqual(
      expect.arrayContaining(['conditional-update', 'optimistic-version', 'select-for-update', 'serializable-retry', 'redis-lock-fencing'].map((n) => `seat-reservation/${n}`)),
    );
    expect(names).toEqual(expect.arrayContaining(['payment-webhook/inbox-outbox', 'payment-webhook/fetch-current-state', 'payment-webhook/redis-fast-path']));
    expect(names).toEqual(expect.arrayContaining(['subscription/state-machine', 'subscription/cockatiel-policies']));
  });
});

describe("a reference's submission carries its shared code", () => {
  it.each(['seat-reservation/select-for-update', 'payment-webhook/redis-fast-path'])('%s: the module and its _shared imports are read as its source', (name) => {
    const c = reference(name);
    const sub = submissionFor(c);
    try {
      const file = findModule(sub, challenge(c.challenge), readSubmissionConfig(sub));
      expect(file).toBe(c.file);
      const code = collectSources(sub, [file!]).code;
      expect(code).toContain(c.file);
      expect(code.filter(shared).length).toBeGreaterThan(1);
      expect(code.filter(shared).every((f) => path.dirname(f) === path.join(path.dirname(c.file), '_shared'))).toBe(true);
    } finally {
      fs.rmSync(sub, { recursive: true, force: true });
    }
  });

  it('bundles a reference with its _shared imports, from its submission folder and as the benchmark reference', async () => {
    const c = reference('payment-webhook/redis-fast-path');
    const sub = submissionFor(c);
    try {
      const out = path.join(tmp, 'bundle', 'webhook.mjs');
      const r = await bundleInstance(findModule(sub, challenge(c.challenge), readSubmissionConfig(sub))!, challenge(c.challenge).routesModule, out, sub);
      expect(r.error).toBeUndefined();
      const text = fs.readFileSync(out, 'utf8');
      expect(text).toContain('webhook:done:'); // the strategy
      expect(text).toContain('missing gauntlet-signature header'); // _shared/event.ts
    } finally {
      fs.rmSync(sub, { recursive: true, force: true });
    }
    // harness/index.ts bundles the benchmark reference on its own, with no submission folder.
    const seat = challenge('seat-reservation');
    const bench = seat.benchmarkReference ?? path.join(root, 'reference', 'seat-reservation', 'conditional-update.ts');
    const out = path.join(tmp, 'bundle', 'seat.mjs');
    const r = await bundleInstance(bench, seat.routesModule, out);
    expect(r.error).toBeUndefined();
    expect(fs.readFileSync(out, 'utf8')).toContain('seat-reservation: retrying after a lost connection'); // _shared/retry.ts
  }, 60_000);
});

describe('self-test --only and --list', () => {
  it('a name in --only that matches no case, or an empty one, is a usage error naming it, before anything is graded', async () => {
    const { runSelfTest, listCases } = await import('../harness/app/self-test.ts');
    const { UsageError } = await import('../harness/errors.ts');
    const tryOnly = (only: string[]) => runSelfTest({ seed: 1, seeds: 1, profile: 'quick', only }).then(() => null, (err: unknown) => err as InstanceType<typeof UsageError>);
    const typo = await tryOnly(['plain-for-updat']);
    expect(typo).toBeInstanceOf(UsageError);
    expect(typo!.message).toMatch(/no reference or fixture called "plain-for-updat"/);
    expect(typo!.hint).toMatch(/did you mean seat-reservation\/plain-for-update/);
    expect((await tryOnly(['']))!.message).toMatch(/empty name/);
    const both = await tryOnly(['plain-for-update', '', 'zzz-none']);
    expect(both!.message).toMatch(/empty name.*"zzz-none"/);
    // --list names every case once, with what it must do.
    const listed = listCases();
    expect(listed.map((c) => c.name)).toEqual(discoverCases().map((c) => c.name));
    expect(listed.find((c) => c.name === 'seat-reservation/plain-for-update')!.expected).toMatch(/passes every check/);
    expect(listed.find((c) => c.kind === 'fixture' && c.name === 'sub-ignores-retry-after')!.expected).toMatch(/fails honours-retry-after in flaky-payments/);
  });
});
