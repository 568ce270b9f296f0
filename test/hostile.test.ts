// The hostile-submission suite (fixtures/hostile/*): code that loops, spins, exits, eats memory, floods its output,
// never answers, answers gigabytes, spawns processes and threads, reads and writes outside its sandbox, hunts for
// secrets, spoofs the runtime's control messages, patches globals, signals the harness, refuses to stop, and tries
// other scenarios' databases. For each: the grade completes with the verdict its expected.json names and a clear
// message, this (harness) process survives, no instance process or scenario database is left behind, and nothing
// outside the sandbox changed (canary files, a stand-in run store).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { grade, type GradeOptions } from '../harness/app/grade.ts';
import { acquireInfra, createScenarioDatabase, type Infra } from '../harness/infra/index.ts';
import { instanceUser } from '../harness/instances/instance-process.ts';
import net from 'node:net';
import { Redis } from 'ioredis';
import { containment } from '../harness/instances/netns.ts';
import { bubblewrap } from '../harness/instances/bwrap.ts';
import { expectContractShape, instanceProcesses, leftoverDatabases } from './helpers.ts';

const HOSTILE = path.resolve('fixtures/hostile');
/** Files standing for "the grader's machine", at the fixed path the fixtures aim at (world-writable on purpose: only the sandbox protects them). */
const CANARY_DIR = '/tmp/gauntlet-hostile-canary';
const CANARY_FILES: Record<string, string> = {
  'canary.txt': 'the grader\'s file: must stay as it is\n',
  'gauntlet.db': 'SQLite format 3\u0000 (stand-in for the run store)\n',
  'secret.json': '{ "secret": "planted-json-secret" }\n',
  'secret.mjs': 'export const secret = "planted-module-secret";\n',
  'other-submission/seat-reservation.ts': '// another candidate\'s work\nexport default async function create() { return {}; }\n',
};
/** Planted in this process's environment: no instance may see them. */
const PLANTED_ENV: Record<string, string> = {
  GAUNTLET_HOSTILE_SECRET: 'planted-env-secret',
  PGPASSWORD: 'planted-pgpassword',
  AWS_SECRET_ACCESS_KEY: 'planted-aws-key',
  GAUNTLET_HOSTILE_ADMIN_URL: 'postgres://postgres:planted@127.0.0.1:5432/postgres',
};
/** Grade options per fixture: small timeouts where calls hang, a small heap where memory blows up. */
const OPTIONS: Record<string, Partial<GradeOptions>> = {
  'create-infinite-loop': { startTimeoutMs: 2000 },
  'spin-call': { callTimeoutMs: 1500 },
  'never-answers': { callTimeoutMs: 1500 },
  'heap-blowup': { maxHeapMb: 64 },
};

interface Expected {
  outcome: 'passed' | 'failed' | 'error';
  check?: string;
  message?: string;
  redFlag?: string;
  rootOnly?: boolean;
  /** Skipped where this is not available (gauntlet then reports the sandbox as open). */
  needs?: 'bubblewrap';
  why: string;
}

const fixtures = fs
  .readdirSync(HOSTILE)
  .filter((n) => fs.existsSync(path.join(HOSTILE, n, 'expected.json')))
  .sort();
const expected = (name: string): Expected => JSON.parse(fs.readFileSync(path.join(HOSTILE, name, 'expected.json'), 'utf8'));

let infra: Infra;
let tmpRoot: string;
let outDir: string;
const savedEnv: Record<string, string | undefined> = {};
const isRoot = process.getuid?.() === 0;
let dropsPrivileges = false;

function snapshot(): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        out[path.relative(CANARY_DIR, p) + '/'] = 'dir';
        walk(p);
      } else {
        const st = fs.lstatSync(p);
        out[path.relative(CANARY_DIR, p)] = `${crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex')} ${st.mtimeMs} ${(st.mode & 0o7777).toString(8)}`;
      }
    }
  };
  walk(CANARY_DIR);
  return out;
}

function logOf(runDir: string, file = 'instance-0.log'): string {
  const f = path.join(runDir, 'seat-reservation', 'last-seat', file);
  return fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '';
}

/** The `hostile <name>: <what> -> <result>` lines a fixture logged through ctx.log. */
function attempts(runDir: string, name: string): { what: string; result: string }[] {
  const out: { what: string; result: string }[] = [];
  for (const line of logOf(runDir).split('\n')) {
    const m = new RegExp(`"message":"hostile ${name}: (.*?) -> (.*?)"`).exec(line);
    if (m) out.push({ what: m[1], result: m[2] });
  }
  return out;
}

function processesMatching(pattern: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

beforeAll(async () => {
  // A private TMPDIR (traversable, so instances running as `nobody` can reach their folders): every instance's
  // temp folder lands in it, so its processes and leftovers are told apart from other grades on this machine.
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-hostile-'));
  fs.chmodSync(tmpRoot, 0o755);
  outDir = path.join(tmpRoot, 'runs');
  for (const k of ['TMPDIR', ...Object.keys(PLANTED_ENV)]) savedEnv[k] = process.env[k];
  process.env.TMPDIR = tmpRoot;
  Object.assign(process.env, PLANTED_ENV);
  fs.rmSync(CANARY_DIR, { recursive: true, force: true });
  for (const [name, text] of Object.entries(CANARY_FILES)) {
    fs.mkdirSync(path.dirname(path.join(CANARY_DIR, name)), { recursive: true, mode: 0o777 });
    fs.writeFileSync(path.join(CANARY_DIR, name), text);
    fs.chmodSync(path.join(CANARY_DIR, name), 0o666);
  }
  for (const d of [CANARY_DIR, path.join(CANARY_DIR, 'other-submission')]) fs.chmodSync(d, 0o777);
  // A private PostgreSQL and Redis for the suite: no other grade on the machine competes for connections, and the
  // server authenticates local connections (a server that trusts 127.0.0.1 voids role isolation: docs/security.md).
  infra = await acquireInfra({ preferEmbedded: true, preferSpawnedRedis: true, env: {} });
  dropsPrivileges = (await instanceUser()) !== null;
}, 120_000);

afterAll(async () => {
  await infra?.close();
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  if (tmpRoot) fs.rmSync(tmpRoot, { recursive: true, force: true });
  fs.rmSync(CANARY_DIR, { recursive: true, force: true });
});

async function gradeHostile(name: string, on: Infra, keepDatabases: string[] = []) {
  const before = snapshot();
  const rssBefore = process.memoryUsage().rss;
  // Two instances: several processes behind the balancer, at half the cost of the default four.
  const r = await grade({ submission: path.join(HOSTILE, name), scenarios: ['last-seat'], profile: 'quick', seed: 1, instances: 2, infra: on, outDir, ...OPTIONS[name] });
  const rssGrowthMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
  expectContractShape(JSON.parse(JSON.stringify(r)));
  // Nothing left behind: no instance process (ours, found by the private TMPDIR), no scenario database, no temp folder.
  expect(instanceProcesses(`${tmpRoot}/gauntlet-instance-`)).toEqual([]);
  expect((await leftoverDatabases(process.pid, on.postgres.adminUrl)).filter((d) => !keepDatabases.includes(d))).toEqual([]);
  expect(fs.readdirSync(tmpRoot).filter((d) => d.startsWith('gauntlet-instance-'))).toEqual([]);
  // Nothing outside the sandbox changed.
  expect(snapshot()).toEqual(before);
  const scenario = r.challenges[0].scenarios[0];
  const check = (id: string) => scenario.checks.find((c) => c.id === id);
  return { r, scenario, check, rssGrowthMb };
}

describe('hostile submissions: graded, contained, nothing left behind', () => {
  it('the suite has at least 12 fixtures, each with an outcome and a reason', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(12);
    for (const name of fixtures) {
      const e = expected(name);
      expect(['passed', 'failed', 'error'], name).toContain(e.outcome);
      expect(e.why.length, name).toBeGreaterThan(40);
      if (e.outcome !== 'passed') expect(e.check, name).toBeTruthy();
    }
  });

  for (const name of fixtures) {
    if (name === 'cross-database' || name === 'network-escape') continue; // below, each with its own targets to go after
    it(name, async (ctx) => {
      const e = expected(name);
      if (e.rootOnly && !(isRoot && dropsPrivileges)) return ctx.skip();
      if (e.needs === 'bubblewrap' && (containment(await instanceUser()).network !== 'contained' || 'problem' in bubblewrap())) return ctx.skip();
      const { r, scenario, check, rssGrowthMb } = await gradeHostile(name, infra);
      const summary = `${scenario.status}: ${scenario.error ?? ''} ${scenario.checks.map((c) => `${c.id}=${c.passed} ${c.message}`).join(' | ')}`;
      expect(scenario.status, summary).toBe(e.outcome);
      if (e.check) {
        expect(check(e.check)?.passed, summary).toBe(false);
        if (e.message) expect(check(e.check)?.message).toMatch(new RegExp(e.message));
      }
      if (e.redFlag) expect(r.redFlags.map((f) => f.id)).toContain(e.redFlag);
      if (e.outcome === 'passed') expect(r.verdict).toBe('pass');
      if (e.outcome === 'failed' || e.outcome === 'error') expect(r.verdict).not.toBe('pass');

      // What each fixture tried, as its instance log tells it.
      const tried = attempts(r.runDir!, name);
      switch (name) {
        case 'read-outside':
        case 'write-outside':
          expect(tried.length).toBeGreaterThanOrEqual(15);
          for (const a of tried) expect(`${a.what} -> ${a.result}`).toMatch(/-> blocked \(ERR_ACCESS_DENIED\)$/);
          break;
        case 'worker-threads':
          expect(tried.map((a) => a.result)).toEqual(['blocked (ERR_ACCESS_DENIED)', 'blocked (ERR_ACCESS_DENIED)', 'blocked (ERR_ACCESS_DENIED)']);
          expect(fs.existsSync(path.join(CANARY_DIR, 'worker'))).toBe(false);
          break;
        case 'spawn-process':
          expect(processesMatching('sleep 313')).toEqual([]);
          expect(fs.existsSync(path.join(CANARY_DIR, 'spawned'))).toBe(false);
          break;
        case 'env-secrets': {
          const keysLine = /environment keys: ([^"]*)"/.exec(logOf(r.runDir!))?.[1] ?? '';
          const keys = keysLine.split(',');
          const allowed = ['DATABASE_URL', 'REDIS_URL', 'PAYMENTS_URL', 'NOTIFICATIONS_URL', 'INVENTORY_URL', 'EMAIL_URL', 'SMS_URL', 'PUSH_URL', 'REPLICA_URL', 'WEBHOOK_SECRET', 'GAUNTLET_INSTANCE', 'GAUNTLET_SCENARIO', 'PORT', 'PATH', 'HOME', 'TMPDIR', 'GAUNTLET_MODE', 'GAUNTLET_LOAD_TIMEOUT_MS', 'GAUNTLET_REDIS_PROBLEM'];
          expect(keys.length).toBeGreaterThan(5);
          for (const k of keys) expect(allowed, `unexpected variable ${k} in an instance`).toContain(k);
          for (const [k, v] of Object.entries(PLANTED_ENV)) {
            expect(keys).not.toContain(k);
            expect(logOf(r.runDir!)).not.toContain(v);
          }
          expect(tried.every((a) => a.result.startsWith('blocked'))).toBe(true);
          break;
        }
        case 'ipc-spoof':
          expect(logOf(r.runDir!)).toMatch(/process\.send: blocked \(NO_IPC\); fd 3: written/);
          expect(logOf(r.runDir!)).toMatch(/\[gauntlet\] ignored a control message/);
          // 2000 fake log lines per process were dropped: only the fixture's own ctx.log call per instance counts
          // (two instances and the fresh one started for the final reads).
          expect(scenario.metrics.ctxLogLines).toBeLessThanOrEqual(3);
          break;
        case 'print-gigabytes':
          for (const f of ['setup.log', 'instance-0.log', 'instance-1.log']) {
            const size = fs.statSync(path.join(r.runDir!, 'seat-reservation', 'last-seat', f)).size;
            expect(size).toBeLessThan(1_000_000 + 200);
            expect(logOf(r.runDir!, f)).toMatch(/\[gauntlet\] output truncated at 1000000 bytes\n$/);
          }
          // 1 GiB went through the pipes (setup, two instances, the fresh one); the harness kept none of it.
          expect(rssGrowthMb).toBeLessThan(300);
          break;
        case 'monkey-patch':
          // The harness's own globals are its own.
          expect(JSON.stringify({ code: 'SEAT_TAKEN' })).toBe('{"code":"SEAT_TAKEN"}');
          expect(Math.abs(Date.now() - new Date().getTime())).toBeLessThan(1000);
          expect(Math.random()).not.toBe(0.42);
          break;
        case 'huge-response':
          expect(check('winner-durable')?.message).toMatch(/too-large: the response exceeded 8388608 bytes/);
          break;
        case 'bundle-time-read': {
          // The file's content reached nothing the run keeps (no bundle, no log).
          const files = fs.readdirSync(r.runDir!, { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
          for (const f of files) expect(fs.readFileSync(path.join(f.parentPath, f.name), 'utf8'), f.name).not.toContain('planted-json-secret');
          break;
        }
        case 'http-escape':
          expect(r.sandbox).toMatchObject({ network: 'contained', filesystem: 'read-only (bubblewrap)' });
          expect(tried.length).toBe(8);
          for (const a of tried) expect(`${a.what} -> ${a.result}`).toMatch(/-> blocked \((ENOENT|EROFS|EMPTY|NOT_VISIBLE|ECONNREFUSED)\)$/);
          expect(fs.existsSync(path.join(HOSTILE, name, 'escaped.txt'))).toBe(false);
          expect(fs.existsSync('/var/tmp/gauntlet-hostile-http-wrote')).toBe(false);
          break;
        case 'signal-harness':
          expect(tried.length).toBe(5);
          for (const a of tried) expect(`${a.what} -> ${a.result}`).toMatch(/-> blocked \((EPERM|EACCES)\)$/);
          break;
      }
    }, 90_000);
  }

  it('network-escape: the machine\'s PostgreSQL (trusting 127.0.0.1), Redis, other services and other grades\' ports are out of reach', async (ctx) => {
    const here = containment(await instanceUser());
    if (here.network !== 'contained') return ctx.skip(); // not Linux, or no namespaces here: docs/security.md says what is open
    // A port standing for another grade's instance or mock service: it must never see a connection.
    let reached = 0;
    const other = net.createServer((c) => {
      reached++;
      c.destroy();
    });
    await new Promise<void>((resolve, reject) => other.once('error', reject).listen(47123, '127.0.0.1', () => resolve()));
    const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 1 });
    redis.on('error', () => {});
    try {
      const { scenario, r } = await gradeHostile('network-escape', infra);
      expect(r.sandbox?.network).toBe('contained');
      expect(scenario.status, scenario.error ?? scenario.checks.map((c) => c.message).join(' | ')).toBe('passed');
      const tried = attempts(r.runDir!, 'network-escape');
      expect(tried.length).toBe(7);
      for (const a of tried) expect(`${a.what} -> ${a.result}`).toMatch(/-> blocked \(ECONNREFUSED\)$/);
      expect(reached).toBe(0);
      expect(fs.existsSync(path.join(CANARY_DIR, 'net-copy-program'))).toBe(false);
      const redisUp = await redis.connect().then(() => true, () => false);
      if (redisUp) expect(await redis.exists('gauntlet:hostile:escaped')).toBe(0);
    } finally {
      redis.disconnect();
      await new Promise((resolve) => other.close(resolve));
    }
  }, 120_000);

  it('cross-database: other scenarios\' databases, the maintenance databases and escalation are out of reach', async () => {
    const victim = await createScenarioDatabase(infra, 'hostile-victim');
    const victimClient = new pg.Client({ connectionString: victim.url });
    await victimClient.connect();
    await victimClient.query("CREATE TABLE secrets (v text); INSERT INTO secrets VALUES ('victim data')");
    try {
      const { scenario, r } = await gradeHostile('cross-database', infra, [victim.database]);
      expect(scenario.status, scenario.error ?? scenario.checks.map((c) => c.message).join(' | ')).toBe('passed');
      expect(logOf(r.runDir!)).toContain(`found 1 other gauntlet database(s): ${victim.database}`);
      const tried = attempts(r.runDir!, 'cross-database');
      expect(tried.length).toBe(3 + 11);
      for (const a of tried) expect(`${a.what} -> ${a.result}`).toMatch(/-> blocked \((42501|28P01|none|SASL: .*password must be a string)\)$/);
      const result = (what: string) => tried.find((a) => a.what === what)?.result;
      expect(result(`connect to ${victim.database} as own role`)).toBe('blocked (42501)'); // REVOKE CONNECT FROM PUBLIC
      expect(result(`connect to ${victim.database} as its role with a guessed password`)).toBe('blocked (28P01)'); // random password
      expect((await victimClient.query('SELECT v FROM secrets')).rows).toEqual([{ v: 'victim data' }]);
      const admin = new pg.Client({ connectionString: infra.postgres.adminUrl });
      await admin.connect();
      try {
        expect((await admin.query("SELECT count(*)::int AS n FROM pg_class WHERE relname = 'gauntlet_pwned'")).rows[0].n).toBe(0);
        expect((await admin.query("SELECT count(*)::int AS n FROM pg_roles WHERE rolname = 'gauntlet_pwned'")).rows[0].n).toBe(0);
      } finally {
        await admin.end();
      }
      expect(fs.existsSync(path.join(CANARY_DIR, 'copy-program'))).toBe(false);
    } finally {
      await victimClient.end();
      await victim.drop();
    }
    expect(await leftoverDatabases(process.pid, infra.postgres.adminUrl)).toEqual([]);
  }, 120_000);
});
