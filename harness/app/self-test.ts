// `gauntlet self-test`: grades every reference solution (each must pass every check) and every known-buggy
// fixture (each must fail the check it names, and may not merely error) through the real pipeline, and
// prints a table. A grader that lets a buggy solution pass, or fails a correct one, is caught here.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import chalk from 'chalk';
import { GradeChain } from './grade-chain.ts';
import { acquireInfra, type Infra } from '../infra/index.ts';
import { challenges } from '../../challenges/index.ts';
import type { ProfileName } from '../types.ts';
import type { GradeResult } from '../../rubric/result.ts';
import { UsageError } from '../errors.ts';
import { onCleanup } from '../cleanup.ts';
import { installDependencies } from '../instances/dependencies.ts';
import { LIMITS } from './defaults.ts';
import { CONCERNS } from '../../rubric/concerns.ts';
import { RED_FLAGS } from '../../rubric/rubric.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface FixtureExpectation {
  challenge: string;
  mustFail: string[];
  scenarios?: string[];
  why?: string;
  /** With this many instances the bug cannot show (e.g. a per-process lock): grading must pass then. */
  passesWithInstances?: number;
  /** Concern ids the grade must raise (rubric/concerns.ts); the source is read for these cases. */
  concerns?: string[];
  /** Red flag ids the grade must raise. */
  redFlags?: string[];
}

const EXPECTATION_FIELDS = ['challenge', 'mustFail', 'scenarios', 'why', 'passesWithInstances', 'concerns', 'redFlags'];
/** The checks the pipeline runs in every scenario of every challenge (CONTRACT §5). */
const PIPELINE_CHECKS = ['loads', 'no-crash'];

/**
 * A fixture's expected.json, read and checked: valid JSON, known fields, a known challenge, and check, scenario,
 * concern and red flag ids that exist. Anything wrong is a usage error (FIXTURE_INVALID, exit 2) naming the file and
 * what is wrong, never a crash of self-test.
 */
export function readExpectation(file: string): FixtureExpectation {
  const shown = path.relative(process.cwd(), file).startsWith('..') ? file : path.relative(process.cwd(), file);
  const bad = (what: string, hint = 'gauntlet list names every challenge, scenario and check; docs/rubric.md the concerns and red flags'): never => {
    throw new UsageError(`fixture ${shown}: ${what}`, hint, 'FIXTURE_INVALID');
  };
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    bad(`is not valid JSON (${(err as Error).message})`, 'fix the JSON: { "challenge": "<id>", "mustFail": ["<check id>"], "why": "..." }');
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) bad('must be a JSON object', 'e.g. { "challenge": "seat-reservation", "mustFail": ["single-winner"], "why": "..." }');
  const o = doc as Record<string, unknown>;
  const unknownFields = Object.keys(o).filter((k) => !EXPECTATION_FIELDS.includes(k));
  if (unknownFields.length) bad(`unknown field ${unknownFields.map((k) => `"${k}"`).join(', ')}`, `the fields are: ${EXPECTATION_FIELDS.join(', ')}`);
  const challenge = challenges.find((c) => c.id === o.challenge);
  if (!challenge) bad(`"challenge" must be one of ${challenges.map((c) => c.id).join(', ')}, got ${JSON.stringify(o.challenge)}`);
  const ids = (field: string, known: string[], required = false): string[] | undefined => {
    const v = o[field];
    if (v === undefined && !required) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) return bad(`"${field}" must be an array of ids, got ${JSON.stringify(v)}`);
    const unknown = (v as string[]).filter((x) => !known.includes(x));
    if (unknown.length) bad(`unknown ${field === 'mustFail' ? 'check' : field === 'redFlags' ? 'red flag' : field.replace(/s$/, '')} ${unknown.map((x) => `"${x}"`).join(', ')} in "${field}"`, `known for ${challenge!.id}: ${known.join(', ')}`);
    return v as string[];
  };
  const checks = [...new Set([...challenge!.checks.map((k) => k.id), ...challenge!.scenarios.flatMap((s) => s.checkers.map((k) => k.id)), ...PIPELINE_CHECKS])];
  const expectation: FixtureExpectation = {
    challenge: challenge!.id,
    mustFail: ids('mustFail', checks, true)!,
    scenarios: ids('scenarios', challenge!.scenarios.map((s) => s.id)),
    concerns: ids('concerns', CONCERNS.map((c) => c.id)),
    redFlags: ids('redFlags', RED_FLAGS.map((f) => f.id)),
  };
  if (o.why !== undefined) {
    if (typeof o.why !== 'string') bad(`"why" must be a string, got ${JSON.stringify(o.why)}`);
    expectation.why = o.why as string;
  }
  if (o.passesWithInstances !== undefined) {
    const n = o.passesWithInstances;
    const { min, max } = LIMITS.instances;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) bad(`"passesWithInstances" must be a whole number from ${min} to ${max}, got ${JSON.stringify(n)}`);
    expectation.passesWithInstances = n as number;
  }
  if (!expectation.mustFail.length && !expectation.concerns?.length && !expectation.redFlags?.length) bad('expects nothing: name a check in "mustFail", or a concern or red flag it must raise', 'a fixture that expects nothing passes self-test whatever the grader does');
  for (const k of ['scenarios', 'concerns', 'redFlags'] as const) if (expectation[k] === undefined) delete expectation[k];
  return expectation;
}

export interface SelfTestCase {
  kind: 'reference' | 'fixture';
  name: string;
  challenge: string;
  file: string;
  /** The case is a whole submission folder (e.g. an HTTP-mode reference), graded as it is. */
  folder?: boolean;
  expect?: FixtureExpectation;
}

export interface SelfTestRow {
  kind: SelfTestCase['kind'] | 'fixture@instances';
  name: string;
  challenge: string;
  seed: number;
  instances: number;
  ok: boolean;
  expected: string;
  got: string;
  durationMs: number;
  runDir?: string;
}

/**
 * Every reference module and every fixture folder in the repository (`base`: the repository root). An entry of a
 * reference folder whose name starts with `_` (`reference/<id>/_shared/`) is code the references share, not a
 * reference.
 */
export function discoverCases(base = root): SelfTestCase[] {
  const cases: SelfTestCase[] = [];
  for (const c of challenges) {
    const dir = path.join(base, 'reference', c.id);
    if (!fs.existsSync(dir)) continue;
    for (const f of fs.readdirSync(dir).sort()) {
      if (f.startsWith('_') || f.startsWith('.')) continue;
      const full = path.join(dir, f);
      // A file is a module reference; a folder with gauntlet.json is a submission of its own (HTTP mode).
      if (/\.(ts|mts|js|mjs)$/.test(f) && !f.includes('.test.')) cases.push({ kind: 'reference', name: `${c.id}/${f.replace(/\.\w+$/, '')}`, challenge: c.id, file: full });
      else if (fs.existsSync(path.join(full, 'gauntlet.json'))) cases.push({ kind: 'reference', name: `${c.id}/${f}`, challenge: c.id, file: full, folder: true });
    }
  }
  const fixtures = path.join(base, 'fixtures', 'submissions');
  if (fs.existsSync(fixtures)) {
    for (const name of fs.readdirSync(fixtures).sort()) {
      const expFile = path.join(fixtures, name, 'expected.json');
      if (!fs.existsSync(expFile)) continue;
      const expect = readExpectation(expFile);
      const challenge = challenges.find((c) => c.id === expect.challenge);
      if (!challenge) throw new UsageError(`fixture ${expFile}: unknown challenge ${expect.challenge}`, 'gauntlet list names every challenge', 'FIXTURE_INVALID');
      const file = ['.ts', '.mts', '.js', '.mjs'].map((e) => path.join(fixtures, name, challenge.file + e)).find((p) => fs.existsSync(p));
      if (!file) throw new UsageError(`fixture ${path.relative(process.cwd(), path.join(fixtures, name)) || name}: has expected.json but no ${challenge.file}.ts (or .mts, .js, .mjs) module`, `add the module, or remove the folder`, 'FIXTURE_INVALID');
      cases.push({ kind: 'fixture', name, challenge: expect.challenge, file, expect });
    }
  }
  return cases;
}

/**
 * A throwaway submission folder whose gauntlet.json points at the module (the documented path override). The module
 * is not copied: it stays beside the code it imports (`./_shared/…`, a sibling reference), so the bundle resolves
 * those imports (bundling may take files from the module's own folder) and the source read follows them.
 */
export function submissionFor(c: SelfTestCase): string {
  if (c.folder) return c.file;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-selftest-'));
  fs.writeFileSync(path.join(dir, 'gauntlet.json'), JSON.stringify({ paths: { [c.challenge]: c.file } }));
  return dir;
}

function failedChecks(r: GradeResult): string[] {
  // An inconclusive scenario's failures are the machine's, not a caught bug.
  return [...new Set(r.challenges.flatMap((ch) => ch.scenarios.filter((s) => s.status !== 'inconclusive').flatMap((s) => s.checks.filter((k) => k.passed === false).map((k) => k.id))))];
}

function errors(r: GradeResult): string[] {
  return r.challenges.flatMap((ch) => [
    ...(ch.error ? [ch.error] : []),
    ...ch.scenarios.filter((s) => s.status === 'error').map((s) => `${s.id}: ${s.error ?? 'undecided check'}`),
    ...ch.scenarios.filter((s) => s.status === 'inconclusive').map((s) => `${s.id}: inconclusive (${(s.inconclusive ?? '').slice(0, 120)})`),
  ]);
}

/** What every reference must do. */
const REFERENCE_EXPECTED = 'passes every check, no concern';

/**
 * What a fixture must do, as its row and `--list` say it: the checks it fails, the concerns and red flags it raises;
 * `full` adds the scenarios it is graded on and the instance counts it must pass with (for `--list`).
 */
function fixtureExpected(e: FixtureExpectation, full = false): string {
  const fails = e.mustFail.length ? `fails ${e.mustFail.join(', ')}` : full ? 'fails (no check)' : '';
  return [
    `${fails}${full && fails && e.scenarios ? ` in ${e.scenarios.join(', ')}` : ''}`,
    ...(e.concerns ?? []).map((x) => `concern ${x}`),
    ...(e.redFlags ?? []).map((x) => `red flag ${x}`),
    full && e.passesWithInstances ? `passes with ${e.passesWithInstances} instance(s)` : '',
  ].filter(Boolean).join('; ');
}

/** Every case and what it must do, for `gauntlet self-test --list`. */
export function listCases(): { kind: SelfTestCase['kind']; name: string; challenge: string; expected: string }[] {
  return discoverCases().map((c) => ({
    kind: c.kind,
    name: c.name,
    challenge: c.challenge,
    expected: `${c.challenge}: ${c.kind === 'reference' ? REFERENCE_EXPECTED : fixtureExpected(c.expect!, true)}`,
  }));
}

export interface SelfTestOptions {
  seed: number;
  seeds: number;
  profile: ProfileName;
  only?: string[];
  infra?: Infra;
  outDir?: string;
  log?(message: string): void;
  /**
   * Begin each grade beside the previous one's settle, final reads and checks (default true; grade-chain.ts). False
   * grades strictly one after another, as before issue 14's chain: to compare, or to rule the overlap out.
   */
  overlap?: boolean;
}

export async function runSelfTest(o: SelfTestOptions): Promise<SelfTestRow[]> {
  const all = discoverCases();
  const matches = (c: SelfTestCase, n: string) => c.name === n || c.name.endsWith('/' + n);
  // A name that matches no case is a typo, not an empty run that looks like a pass.
  const only = o.only?.map((n) => n.trim());
  if (only) {
    const empty = !only.length || only.some((n) => !n);
    const unknown = only.filter((n) => n && !all.some((c) => matches(c, n)));
    if (empty || unknown.length) {
      // Near names: a case whose name holds the typed one, or shares its first five letters.
      const near = [...new Set(unknown.flatMap((n) => all.filter((c) => c.name.includes(n) || c.name.split('/').pop()!.startsWith(n.split('/').pop()!.slice(0, 5))).map((c) => c.name)))].slice(0, 5);
      const what = [
        ...(empty ? ['--only has an empty name (two commas, or nothing after --only)'] : []),
        ...(unknown.length ? [`--only names no reference or fixture called ${unknown.map((n) => `"${n}"`).join(', ')}`] : []),
      ].join('; ');
      throw new UsageError(what, `${near.length ? `did you mean ${near.join(', ')}? ` : ''}gauntlet self-test --list shows every case (references like seat-reservation/plain-for-update, fixtures like seat-read-then-write)`);
    }
  }
  const cases = all.filter((c) => !only || only.some((n) => matches(c, n)));
  const infra = o.infra ?? (await acquireInfra({ log: o.log }));
  const outDir = o.outDir ?? path.join('.gauntlet', 'self-test');
  // A folder reference with dependencies of its own (a lock file, as a candidate's) is installed as `grade
  // --install` would: once, from its lock file, lifecycle scripts off; skipped when node_modules is up to date.
  // All before the first grade: an install blocks this process, and later it would block another grade's settle.
  for (const c of cases.filter((x) => x.folder)) {
    const installed = installDependencies(c.file, { log: (chunk) => o.log?.(chunk.trimEnd()) });
    if (installed.ran) o.log?.(`self-test: ${installed.ran} in ${c.file}${installed.ok ? '' : ` failed: ${installed.error}`}`);
  }
  // Grades in a row, each begun beside the previous one's settle, final reads and checks (grade-chain.ts); a row is
  // made when its grade ends, in the order the grades were started.
  const chain = new GradeChain();
  const rows: SelfTestRow[][] = [];
  const ending: Promise<void>[] = [];
  let failure: { err: unknown } | undefined;
  const fail = (err: unknown) => void (failure ??= { err });
  try {
    for (const c of cases) {
      for (let seed = o.seed; seed < o.seed + o.seeds && !failure; seed++) {
        const sub = submissionFor(c);
        // Removed after the case's grades, or by the cleanup registry when the run is interrupted mid-grade.
        const remove = () => { if (!c.folder) fs.rmSync(sub, { recursive: true, force: true }); };
        const unregister = onCleanup(remove);
        const caseEnds: Promise<void>[] = [];
        const scenarios = c.kind === 'fixture' ? c.expect!.scenarios : undefined;
        const slot = (): SelfTestRow[] => { const r: SelfTestRow[] = []; rows.push(r); return r; };
        const started = Date.now();
        o.log?.(`self-test: ${c.kind} ${c.name} (seed ${seed})`);
        // The source is read (without the costly type check) for references, held to zero concerns, and for
        // fixtures that name concerns.
        const wantsSource = c.kind === 'reference' || c.expect!.concerns !== undefined;
        const main = slot();
        const { result } = await chain.next({ submission: sub, challenges: [c.challenge], scenarios, seed, profile: o.profile, infra, outDir, sourceEvidence: wantsSource ? 'without-types' : false });
        caseEnds.push(result.then((r) => void main.push(rowFor(c, seed, r, Date.now() - started))).catch(fail));
        if (c.kind === 'fixture' && c.expect!.passesWithInstances && !failure) {
          const n = c.expect!.passesWithInstances;
          const variant = slot();
          const t = Date.now();
          o.log?.(`self-test: ${c.kind} ${c.name} with ${n} instance(s) (seed ${seed})`);
          if (o.overlap === false) await result.catch(() => {});
          const { result: r1 } = await chain.next({ submission: sub, challenges: [c.challenge], scenarios, seed, profile: o.profile, infra, outDir, instances: n, sourceEvidence: false });
          caseEnds.push(r1.then((r) => void variant.push(variantRow(c, seed, n, r, Date.now() - t))).catch(fail));
        }
        const ended = Promise.all(caseEnds).then(() => undefined).finally(() => { unregister(); remove(); });
        ending.push(ended);
        if (o.overlap === false) await ended;
      }
      if (failure) break;
    }
  } finally {
    await Promise.allSettled(ending);
    await chain.idle();
    if (!o.infra) await infra.close();
  }
  if (failure) throw failure.err;
  return rows.flat();
}

/** A case's row from its grade: a reference passes every check with no concern or red flag; a fixture fails what it names. */
function rowFor(c: SelfTestCase, seed: number, r: GradeResult, durationMs: number): SelfTestRow {
  const got = failedChecks(r);
  const errs = errors(r);
  const concerns = (r.concerns ?? []).map((x) => x.id);
  const flags = r.redFlags.map((f) => f.id);
  if (c.kind === 'reference') {
    // A correct solution passes every check and draws no red flag and no concern (issue 12's bar), also
    // slow-under-contention: the rubric itself leaves out answer times taken on a busy machine.
    const judged = r.concerns ?? [];
    const ok = r.challenges[0]?.status === 'passed' && flags.length === 0 && judged.length === 0;
    const why = [...got.map((g) => `failed ${g}`), ...errs, ...flags.map((f) => `red flag ${f}`), ...judged.map((x) => `concern ${x.id}: ${x.evidence[0]?.split('\n')[0].slice(0, 200)}`)];
    return { kind: 'reference', name: c.name, challenge: c.challenge, seed, instances: 4, ok, expected: REFERENCE_EXPECTED, got: ok ? REFERENCE_EXPECTED : why.join('; '), durationMs, runDir: r.runDir };
  }
  const missing = [...c.expect!.mustFail.filter((id) => !got.includes(id)), ...(c.expect!.concerns ?? []).filter((id) => !concerns.includes(id)), ...(c.expect!.redFlags ?? []).filter((id) => !flags.includes(id))];
  const ok = missing.length === 0;
  const expected = fixtureExpected(c.expect!);
  const gotText = [got.length ? `failed ${got.join(', ')}` : errs.length ? `error: ${errs.join('; ').slice(0, 160)}` : 'passed everything', ...concerns.map((x) => `concern ${x}`), ...flags.map((x) => `red flag ${x}`)].join('; ');
  return { kind: 'fixture', name: c.name, challenge: c.challenge, seed, instances: 4, ok, expected, got: gotText, durationMs, runDir: r.runDir };
}

/** A fixture whose bug cannot show with `n` instances (a per-process lock) must pass with them. */
function variantRow(c: SelfTestCase, seed: number, n: number, r1: GradeResult, durationMs: number): SelfTestRow {
  const got1 = failedChecks(r1);
  const ok1 = r1.challenges[0]?.status === 'passed';
  return { kind: 'fixture@instances', name: c.name, challenge: c.challenge, seed, instances: n, ok: ok1, expected: `passes with ${n} instance(s)`, got: ok1 ? 'passed' : got1.length ? `failed ${got1.join(', ')}` : errors(r1).join('; ').slice(0, 160), durationMs, runDir: r1.runDir };
}

/** Per case over its seeds: how many verdicts differ from the expected one, and on which seeds (the flip rate). */
export function flipRates(rows: SelfTestRow[]): { name: string; kind: SelfTestRow['kind']; runs: number; flips: number; seeds: number[]; meanMs: number }[] {
  const by = new Map<string, SelfTestRow[]>();
  for (const r of rows) {
    const key = `${r.kind}|${r.name}`;
    (by.get(key) ?? by.set(key, []).get(key)!).push(r);
  }
  return [...by.values()].map((rs) => ({
    name: rs[0].name,
    kind: rs[0].kind,
    runs: rs.length,
    flips: rs.filter((r) => !r.ok).length,
    seeds: rs.filter((r) => !r.ok).map((r) => r.seed),
    meanMs: Math.round(rs.reduce((t, r) => t + r.durationMs, 0) / rs.length),
  }));
}

export function renderSelfTest(rows: SelfTestRow[]): string {
  const lines = [chalk.bold(`${'kind'.padEnd(18)} ${'name'.padEnd(48)} ${'seed'.padEnd(6)} ${'expected'.padEnd(34)} got`)];
  for (const r of rows) {
    const mark = r.ok ? chalk.green('✓') : chalk.red('✗');
    lines.push(`${mark} ${r.kind.padEnd(16)} ${r.name.padEnd(48)} ${String(r.seed).padEnd(6)} ${r.expected.padEnd(34)} ${r.ok ? chalk.dim(r.got) : chalk.red(r.got)}`);
  }
  const bad = rows.filter((r) => !r.ok).length;
  const rates = flipRates(rows);
  if (rates.some((r) => r.runs > 1)) {
    // Flake hunting: a verdict that differs on any seed is a grader bug (or a fixture that does not provoke its bug).
    lines.push('', chalk.bold('flip rate per case (expected 0):'));
    for (const r of rates) {
      const line = `${r.kind.padEnd(18)} ${r.name.padEnd(48)} ${String(r.flips).padStart(3)}/${String(r.runs).padEnd(4)} ${(r.meanMs / 1000).toFixed(1).padStart(6)} s/run${r.flips ? `  seeds: ${r.seeds.join(', ')}` : ''}`;
      lines.push(r.flips ? chalk.red(line) : chalk.dim(line));
    }
  }
  lines.push('');
  lines.push(bad ? chalk.red.bold(`${bad} of ${rows.length} mismatched: the grader is wrong about them (or they are wrong)`) : chalk.green.bold(`all ${rows.length} as expected`));
  return lines.join('\n');
}
