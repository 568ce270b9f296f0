// Winnowing on real code: a disguised copy of a reference (names changed, comments rewritten, re-spaced, a few
// lines added) is found with the lines to compare; genuinely different references of the same challenge are not;
// the starter everyone begins from never counts; the figures behind the default threshold, measured over the
// references and fixtures; and the speed on a batch of 300 submissions of ~300 lines. No database.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { challenges } from '../../../challenges/index.ts';
import { boilerplateHashes } from './boilerplate.ts';
import { loadReferences } from './references.ts';
import { compareFingerprints, DEFAULTS, fingerprintSource, kgramHashes, similarPairs, winnow, type Comparand } from './similarity.ts';
import { tokenize } from './tokens.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const read = (rel: string) => fs.readFileSync(path.join(root, rel), 'utf8');
const ignore = boilerplateHashes();
const refs = loadReferences();
const ref = (name: string) => refs.find((r) => r.id === `reference:${name}`)!;
const comparand = (id: string, files: Record<string, string>): Comparand => ({ id, label: id, fingerprints: fingerprintSource(files, ignore) });
const percent = (a: Record<string, string>, b: Record<string, string>) => Math.round(compareFingerprints(fingerprintSource(a, ignore), fingerprintSource(b, ignore)).overlap * 100);

/** What a candidate does to hide a copy: other names, other comments, other spacing, a few extra lines. */
function disguise(text: string): string {
  const names: Record<string, string> = {
    seatError: 'makeErr', codeOf: 'errorCode', isSeatError: 'isBusinessError', isTransient: 'retryable', backoffMs: 'waitFor', sleep: 'delay',
    requireId: 'mustBeId', withRetry: 'retrying', inTransaction: 'tx', lockSeat: 'lockRow', take: 'claim', isOtherLiveHolder: 'heldByOther',
    current: 'existing', pool: 'db', client: 'conn', seatId: 'sid', userId: 'uid', ttlMs: 'ttl', seat: 's', rows: 'result', row: 'r',
    MAX_ATTEMPTS: 'RETRIES', BASE_DELAY_MS: 'BASE', MAX_DELAY_MS: 'CAP', attempt: 'n', err: 'e', work: 'fn', operation: 'op',
  };
  let out = text.replace(/^\s*\/\/.*\n/gm, '').replace(/\s+\/\/ .*$/gm, '');
  for (const [from, to] of Object.entries(names)) out = out.replace(new RegExp(`\\b${from}\\b`, 'g'), to);
  out = out
    .replace(/^( +)/gm, (s) => ' '.repeat(s.length * 2))
    .replace(/, /g, ',')
    .replace(/\) \{/g, '){')
    .replace(/;\n/g, ';\n\n')
    .replace(/^(\s*)async function/gm, '$1/** does the work (see README) */\n$1async function')
    .replace('const db = ctx.pg;', "const db = ctx.pg;\n  const started = Date.now();\n  ctx.log('service up',{ at: started,instance: ctx.instance });");
  return `// My solution: row locks keep it safe.\n${out}`;
}

describe('winnowing', () => {
  it('finds any shared run of w + k − 1 tokens (the guarantee), and no run shorter than k', () => {
    const tokens = (n: number, seed: number) => Array.from({ length: n }, (_, i) => ({ t: `t${(i * 7919 + seed * 104729) % 97}`, raw: '', line: i + 1 }));
    const common = tokens(DEFAULTS.w + DEFAULTS.k - 1, 3);
    const a = [...tokens(200, 1), ...common, ...tokens(200, 2)];
    const b = [...tokens(150, 5), ...common, ...tokens(150, 6)];
    const fa = new Set(winnow(kgramHashes(a)).map((i) => kgramHashes(a)[i]));
    const fb = winnow(kgramHashes(b)).map((i) => kgramHashes(b)[i]);
    expect(fb.some((h) => fa.has(h))).toBe(true);
    const short = tokens(DEFAULTS.k - 1, 4);
    expect(kgramHashes(short)).toEqual([]);
  });
});

describe('similarity on real code', () => {
  const original = read('reference/seat-reservation/plain-for-update.ts');
  const copy = disguise(original);

  it('a copy with names, comments and spacing changed and lines added is ≥ 80 % similar, with the lines to compare', () => {
    expect(copy).not.toContain('isOtherLiveHolder'); // the disguise did its job
    expect(tokenize(copy, 'js').length).toBeGreaterThan(tokenize(original, 'js').length);
    const pairs = similarPairs([comparand('cand', { 'seat-reservation.ts': copy })], [comparand('reference:seat-reservation/plain-for-update', { 'reference/seat-reservation/plain-for-update.ts': original })]);
    expect(pairs).toHaveLength(1);
    const p = pairs[0];
    expect(p.similarity).toBeGreaterThanOrEqual(80);
    expect(p.b).toBe('reference:seat-reservation/plain-for-update');
    expect(p.regions.length).toBeGreaterThan(0);
    expect(p.regions[0].a.file).toBe('seat-reservation.ts');
    expect(p.regions[0].b.file).toBe('reference/seat-reservation/plain-for-update.ts');
    // The longest region covers a real stretch of the original (lines of plain-for-update.ts).
    expect(p.regions[0].b.to - p.regions[0].b.from).toBeGreaterThan(15);
  });

  it('two genuinely different references of one challenge score far lower and are not reported at the default threshold', () => {
    const copyScore = percent({ 'a.ts': copy }, ref('seat-reservation/plain-for-update').files);
    const different = [
      ['seat-reservation/plain-for-update', 'seat-reservation/conditional-update'],
      ['seat-reservation/plain-for-update', 'seat-reservation/redis-lock-fencing'],
      ['seat-reservation/plain-for-update', 'seat-reservation/plain-tx-helper'],
      ['seat-reservation/conditional-update', 'seat-reservation/optimistic-version'],
      ['seat-reservation/plain-serializable', 'seat-reservation/http-node'],
    ].map(([a, b]) => ({ a, b, score: percent(ref(a).files, ref(b).files) }));
    console.log(`disguised copy ${copyScore} %; different references: ${different.map((d) => `${d.a.split('/')[1]} ~ ${d.b.split('/')[1]} ${d.score} %`).join(', ')}`);
    for (const d of different) {
      expect(d.score).toBeLessThan(DEFAULTS.threshold);
      expect(copyScore - d.score).toBeGreaterThanOrEqual(50);
      const pairs = similarPairs([comparand(d.a, ref(d.a).files)], [comparand(`reference:${d.b}`, ref(d.b).files)]);
      expect(pairs).toEqual([]);
    }
  });

  it('the starter alone has no fingerprint left, and starter plus a few lines is never reported', () => {
    const starter = challenges.find((c) => c.id === 'seat-reservation')!.starter;
    expect(fingerprintSource({ 'seat-reservation.ts': starter }, ignore).hashes.size).toBe(0);
    expect(fingerprintSource({ 'seat-reservation.ts': starter }).hashes.size).toBeGreaterThanOrEqual(DEFAULTS.minFingerprints); // what the ignore set removes
    const a = starter.replace('return null;', "const { rows } = await ctx.pg.query('SELECT user_id FROM seats WHERE id = $1', [seatId]);\n      return rows[0] ? { seatId, userId: rows[0].user_id, timestamp: new Date() } : null;");
    const b = starter.replace("throw new Error('setup: not implemented yet');", "await ctx.pg.query('CREATE TABLE IF NOT EXISTS seats (id text PRIMARY KEY, user_id text)');\n  for (const s of seats) await ctx.pg.query('INSERT INTO seats (id) VALUES ($1)', [s]);");
    const ca = comparand('a', { 'seat-reservation.ts': a });
    const cb = comparand('b', { 'seat-reservation.ts': b });
    expect(ca.fingerprints.hashes.size).toBeLessThan(DEFAULTS.minFingerprints);
    expect(similarPairs([ca, cb, comparand('c', { 'seat-reservation.ts': a })], refs.map((r) => comparand(r.id, r.files)))).toEqual([]);
  });

  it('leaves out what nobody wrote: installed, built, minified and generated files', () => {
    const files = { 'node_modules/pg/index.js': original, 'dist/seat-reservation.js': original, 'vendor.min.js': original, 'prisma/client.ts': `// @generated by prisma\n${original}`, 'notes.md': original };
    expect(fingerprintSource(files, ignore).hashes.size).toBe(0);
    expect(fingerprintSource({ ...files, 'src/seat-reservation.ts': original }, ignore).hashes.size).toBeGreaterThan(100);
  });

  // Measured 2026-12 (k 13, w 6): 3,081 pairs; different challenges ≤ 22 %; same challenge, not derived ≤ 59 %;
  // derived ≥ 72 %; nothing in 60–71 % — the default threshold 65 % (similarity.ts header, docs/batch.md).
  it('the figures behind the default threshold: references and fixtures', () => {
    const fixtures = fs.readdirSync(path.join(root, 'fixtures/submissions')).flatMap((name) => {
      const dir = path.join(root, 'fixtures/submissions', name);
      if (!fs.existsSync(path.join(dir, 'expected.json'))) return [];
      const files = Object.fromEntries(fs.readdirSync(dir).filter((f) => !f.endsWith('.json')).map((f) => [`${name}/${f}`, fs.readFileSync(path.join(dir, f), 'utf8')]));
      return [{ id: name, challenge: JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8')).challenge as string, files }];
    });
    const items = [...refs.map((r) => ({ id: r.id, challenge: r.challenge, files: r.files })), ...fixtures]
      .map((x) => ({ ...x, fp: fingerprintSource(x.files, ignore) }))
      .filter((x) => x.fp.hashes.size >= DEFAULTS.minFingerprints);
    const cross: number[] = [];
    const same: number[] = [];
    for (let i = 0; i < items.length; i++)
      for (let j = i + 1; j < items.length; j++) (items[i].challenge === items[j].challenge ? same : cross).push(Math.round(compareFingerprints(items[i].fp, items[j].fp).overlap * 100));
    const q = (xs: number[], p: number) => [...xs].sort((x, y) => x - y)[Math.floor((xs.length - 1) * p)];
    const band = same.filter((s) => s >= 60 && s < 72).length;
    console.log(
      `${refs.length} reference entries + ${fixtures.length} fixtures, ${cross.length + same.length} pairs compared: ` +
        `different challenges median ${q(cross, 0.5)} % max ${Math.max(...cross)} %; same challenge median ${q(same, 0.5)} % p90 ${q(same, 0.9)} %, ` +
        `${same.filter((s) => s >= DEFAULTS.threshold).length} pairs ≥ ${DEFAULTS.threshold} % (derived code), ${band} in 60–71 %`,
    );
    expect(Math.max(...cross)).toBeLessThan(DEFAULTS.threshold - 20);
    expect(q(same, 0.5)).toBeLessThan(20);
  });
});

describe('speed', () => {
  // Measured 2026-12 on the 2-core machine: 300 submissions of ~300 lines fingerprinted, paired (with the 28
  // reference entries) and ranked in 0.4–1.4 s (the other processes on the machine decide where in that range); see the logged figure.
  it('300 submissions of ~300 lines pair through the inverted index in well under a few seconds', async () => {
    const { buildBatchReport } = await import('./batch-report.ts');
    const pool = refs.flatMap((r) => Object.values(r.files)).join('\n').split('\n');
    let seed = 42;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const entries = Array.from({ length: 300 }, (_, i) => {
      // Six stretches of 50 lines from the references: much in common between entries, the worst case for the index.
      const lines = Array.from({ length: 6 }, () => {
        const at = Math.floor(random() * (pool.length - 50));
        return pool.slice(at, at + 50).join('\n');
      }).join('\n');
      const result = { verdict: 'fail', score: { total: i % 50, automated: i % 50, automatedMax: 70, manual: null, manualMax: 30, max: 100 }, profile: 'standard', redFlags: [], challenges: [] } as never;
      return { runId: `run-${i}`, label: `cand-${i}`, result, source: { 'seat-reservation.ts': lines } };
    });
    const started = performance.now();
    const report = buildBatchReport(entries, { references: refs, ignore });
    const ms = Math.round(performance.now() - started);
    console.log(`300 submissions × ~300 lines: ranked and paired in ${ms} ms (${report.similar.length} pairs ≥ ${DEFAULTS.threshold} %)`);
    expect(report.ranking).toHaveLength(300);
    expect(ms).toBeLessThan(20_000);
  });
});
