// Errors that end a command: every one carries a code and a remedy, the CLI prints `gauntlet: <message> [<CODE>]`
// and the remedy on stderr, and with --json stdout still holds one JSON document with `error: { code, message, hint }`;
// the exit status stays CONTRACT §7's (2 usage, 3 infrastructure; 4 a gauntlet bug). A malformed fixture is a usage
// error naming its file. No database: the errors happen before any is needed (the infrastructure case points
// DATABASE_URL at a closed port).

import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CommanderError } from 'commander';
import { GauntletError, InfraError, InternalError, UsageError } from '../harness/errors.ts';
import { asGauntletError, errorDocument, errorText, wantsJson } from '../bin/error-output.ts';
import { discoverCases, readExpectation } from '../harness/app/self-test.ts';

function gauntlet(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['bin/gauntlet.mjs', ...args], { encoding: 'utf8', env: { ...process.env, ...env, FORCE_COLOR: '0' }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('error classes', () => {
  it('every error has a code, a remedy and its exit status, also when the thrower gave no hint', () => {
    const cases: [GauntletError, string, number][] = [
      [new UsageError('bad flag'), 'USAGE', 2],
      [new UsageError('bad fixture', 'fix it', 'FIXTURE_INVALID'), 'FIXTURE_INVALID', 2],
      [new InfraError('no PostgreSQL'), 'INFRA_UNAVAILABLE', 3],
      [new InternalError('oops'), 'INTERNAL', 4],
    ];
    for (const [err, code, exit] of cases) {
      expect(err).toBeInstanceOf(GauntletError);
      expect(err.code).toBe(code);
      expect(err.exitCode).toBe(exit);
      expect(err.hint).toMatch(/\w/);
    }
    expect(new UsageError('x').hint).toMatch(/gauntlet help/);
    expect(new InfraError('x').hint).toMatch(/gauntlet doctor/);
    expect(new InfraError('x', 'set DATABASE_URL').hint).toBe('set DATABASE_URL');
  });

  it('anything else thrown is a gauntlet bug (INTERNAL, exit 4) that keeps the original for its stack', () => {
    const original = new TypeError('x is undefined');
    const err = asGauntletError(original);
    expect(err).toBeInstanceOf(InternalError);
    expect(err.message).toMatch(/x is undefined.*gauntlet bug/);
    expect(err.exitCode).toBe(4);
    expect(errorText(err)).toContain(original.stack!.split('\n')[1]);
    const usage = new UsageError('kept');
    expect(asGauntletError(usage)).toBe(usage);
  });

  it("commander's parse errors are usage errors whose remedy names the command's help", () => {
    const err = asGauntletError(new CommanderError(1, 'commander.invalidArgument', "error: option '--instances <n>' argument '0' is invalid."), 'grade');
    expect(err).toMatchObject({ code: 'USAGE', exitCode: 2, message: "option '--instances <n>' argument '0' is invalid.", hint: expect.stringMatching(/gauntlet help grade/) });
  });

  it('prints `gauntlet: <message> [<CODE>]` and the remedy; the JSON document carries error { code, message, hint }', () => {
    const err = new InfraError('DATABASE_URL could not be used', 'start PostgreSQL');
    expect(errorText(err)).toBe('gauntlet: DATABASE_URL could not be used [INFRA_UNAVAILABLE]\n  start PostgreSQL\n');
    const doc = JSON.parse(JSON.stringify(errorDocument(err)));
    expect(doc).toEqual({ schemaVersion: 1, tool: 'gauntlet', error: { code: 'INFRA_UNAVAILABLE', message: 'DATABASE_URL could not be used', hint: 'start PostgreSQL' }, exitCode: 3 });
  });

  it('--json counts only before a `--`', () => {
    expect(wantsJson(['grade', 'x', '--json'])).toBe(true);
    expect(wantsJson(['grade', 'x'])).toBe(false);
    expect(wantsJson(['grade', 'x', '--', '--json'])).toBe(false);
  });
});

describe('the CLI on an error that ends the command', () => {
  // (test/cli.test.ts runs more usage errors through the CLI; each spawn costs seconds.)
  it('without --json: exit 2, the message with its code and a remedy on stderr, nothing on stdout', () => {
    const r = gauntlet(['grade', 'x', '--instances', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^gauntlet: option '--instances <n>' argument '0' is invalid\. --instances must be from 1 to 16 \[USAGE\]\n  gauntlet help grade lists its options, with examples\n/m);
    expect(r.stdout).toBe('');
  });

  it('with --json a usage error is one JSON document on stdout (exit 2)', () => {
    const r = gauntlet(['grade', '/nonexistent/submission', '--json']);
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ schemaVersion: 1, tool: 'gauntlet', exitCode: 2, error: { code: 'USAGE', message: expect.stringMatching(/submission folder not found/), hint: expect.stringMatching(/gauntlet init/) } });
    expect(r.stderr).toMatch(/\[USAGE\]/);
  });

  it('with --json a parse error is one JSON document too', () => {
    const r = gauntlet(['grade', 'x', '--json', '--profile', 'fast']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'USAGE', message: expect.stringMatching(/Allowed choices are quick, standard, thorough/), hint: expect.stringMatching(/gauntlet help grade/) });
  });

  it('with --json no database is one JSON document with INFRA_UNAVAILABLE (exit 3)', () => {
    const r = gauntlet(['grade', 'examples/reference-submission', '--json', '--profile', 'quick', '--scenario', 'last-seat', '--no-store'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/postgres' });
    expect(r.code).toBe(3);
    const doc = JSON.parse(r.stdout);
    expect(doc.error).toMatchObject({ code: 'INFRA_UNAVAILABLE', message: expect.stringMatching(/DATABASE_URL/) });
    expect(doc.error.hint.length).toBeGreaterThan(10);
    expect(r.stderr).toMatch(/\[INFRA_UNAVAILABLE\]/);
  });
});

describe('a malformed fixture expected.json', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-fixture-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (text: string) => {
    const file = path.join(dir, `expected-${Math.random().toString(36).slice(2)}.json`);
    fs.writeFileSync(file, text);
    return file;
  };
  const problem = (text: string): UsageError => {
    const file = write(text);
    try {
      readExpectation(file);
    } catch (err) {
      expect(err).toBeInstanceOf(UsageError);
      expect((err as UsageError).code).toBe('FIXTURE_INVALID');
      expect((err as UsageError).exitCode).toBe(2);
      expect((err as Error).message).toContain(file);
      return err as UsageError;
    }
    throw new Error(`no error for ${text}`);
  };

  it('a fixture folder without its module is the same usage error, not a gauntlet bug', () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-fixture-tree-'));
    try {
      fs.mkdirSync(path.join(base, 'fixtures', 'submissions', 'no-module'), { recursive: true });
      fs.writeFileSync(path.join(base, 'fixtures', 'submissions', 'no-module', 'expected.json'), JSON.stringify({ challenge: 'seat-reservation', mustFail: ['single-winner'] }));
      let err: unknown;
      try {
        discoverCases(base);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UsageError);
      expect((err as UsageError).code).toBe('FIXTURE_INVALID');
      expect((err as Error).message).toMatch(/no-module: has expected\.json but no seat-reservation\.ts/);
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  it('is a usage error (FIXTURE_INVALID, exit 2) naming the file and what is wrong', () => {
    expect(problem('{ "challenge": "seat-reservation", ').message).toMatch(/is not valid JSON/);
    expect(problem('[]').message).toMatch(/must be a JSON object/);
    expect(problem('{ "challenge": "seats", "mustFail": ["single-winner"] }').message).toMatch(/"challenge" must be one of seat-reservation/);
    const check = problem('{ "challenge": "seat-reservation", "mustFail": ["single-winer"] }');
    expect(check.message).toMatch(/unknown check "single-winer" in "mustFail"/);
    expect(check.hint).toMatch(/single-winner/);
    expect(problem('{ "challenge": "seat-reservation", "mustFail": ["single-winner"], "scenarios": ["last-set"] }').message).toMatch(/unknown scenario "last-set"/);
    expect(problem('{ "challenge": "seat-reservation", "mustFail": [], "concerns": ["no-monitor"] }').message).toMatch(/unknown concern "no-monitor"/);
    expect(problem('{ "challenge": "seat-reservation", "mustFail": [], "redFlags": ["nope"] }').message).toMatch(/unknown red flag "nope"/);
    expect(problem('{ "challenge": "seat-reservation", "mustfail": ["single-winner"] }').message).toMatch(/unknown field "mustfail"/);
    expect(problem('{ "challenge": "seat-reservation", "mustFail": "single-winner" }').message).toMatch(/"mustFail" must be an array of ids/);
    expect(problem('{ "challenge": "seat-reservation", "mustFail": ["single-winner"], "passesWithInstances": 0 }').message).toMatch(/"passesWithInstances" must be a whole number from 1 to 16/);
    expect(problem('{ "challenge": "seat-reservation", "mustFail": [] }').message).toMatch(/expects nothing/);
  });

  it('a valid one reads as it is written (the checks the pipeline adds included)', () => {
    const file = write(JSON.stringify({ challenge: 'seat-reservation', mustFail: ['no-crash'], scenarios: ['db-faults'], why: 'w', redFlags: ['no-error-handling'], concerns: [], passesWithInstances: 1 }));
    expect(readExpectation(file)).toEqual({ challenge: 'seat-reservation', mustFail: ['no-crash'], scenarios: ['db-faults'], why: 'w', redFlags: ['no-error-handling'], concerns: [], passesWithInstances: 1 });
  });
});
