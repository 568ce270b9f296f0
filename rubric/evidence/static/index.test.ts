// The whole static read: gatherEvidence on small submissions (what it finds, with file and line), every reference
// solution (nothing to hold against them), the known-buggy fixtures (what they should be caught for), and the
// source helpers it relies on.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { gatherEvidence } from '../index.ts';
import { collectSources, localImports } from '../sources.ts';
import { scanSources } from './index.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const dirs: string[] = [];
const T = { timeout: 60_000 };

function submission(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-static-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const SLOPPY = `import type { AppContext, SeatService } from 'gauntlet';
import pg from 'pg';
import { helper } from './lib/helper.ts';

const pool = new pg.Pool({ connectionString: 'postgres://app:hunter2@localhost:5432/seats' });
const config = { password: 'hunter22', payments: 'http://localhost:4000' };

export default async function create(ctx: AppContext): Promise<SeatService> {
  return {
    async reserveSeat(seatId: string, userId: string) {
      const { rows } = await pool.query(\`SELECT user_id FROM seats WHERE seat_id = '\${seatId}'\`);
      if (rows[0].user_id) throw Object.assign(new Error('taken'), { code: 'SEAT_TAKEN' });
      await pool.query('BEGIN');
      try { await pool.query('INSERT INTO audit (user_id) VALUES (' + userId + ')'); } catch (e) {}
      await pool.query('COMMIT');
      console.log('reserved', seatId);
      const x: any = helper(rows);
      return { seatId, userId, timestamp: new Date() } as any;
    },
    async getReservation(seatId: string) {
      const count: number = 'not a number';
      return null;
    },
  };
}
`;

const CAREFUL = `import type { AppContext, SeatService } from 'gauntlet';
const COLUMNS = 'seat_id, user_id';
const FREE = '(user_id IS NULL OR user_id = $2)';
const SQL = { reserve: \`UPDATE seats SET user_id = $2 WHERE seat_id = $1 AND \${FREE} RETURNING \${COLUMNS}\` };

async function withRetry<T>(attempt: () => Promise<T>): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if ((err as { code?: string }).code !== '40001' || n > 5) throw err;
    }
  }
}

export async function setup(ctx: AppContext & { scenario: { seats: string[] } }) {
  const seats = ctx.scenario.seats;
  const values = seats.map((_, i) => \`($\${i + 1})\`).join(', ');
  await ctx.pg.query(\`INSERT INTO seats (seat_id) VALUES \${values} ON CONFLICT DO NOTHING\`, seats);
}

export default async function create(ctx: AppContext): Promise<SeatService> {
  return {
    reserveSeat: (seatId, userId) => withRetry(async () => {
      const won = await ctx.pg.query(SQL.reserve, [seatId, userId]);
      ctx.log('reserve', { seatId, userId, won: won.rowCount });
      if (!won.rows[0]) throw Object.assign(new Error('taken'), { code: 'SEAT_TAKEN' });
      return { seatId, userId, timestamp: new Date() };
    }),
    getReservation: async (seatId) => {
      const { rows } = await ctx.pg.query('SELECT user_id FROM seats WHERE seat_id = $1', [seatId]);
      return rows[0] ? { seatId, userId: rows[0].user_id, timestamp: new Date() } : null;
    },
  };
}
`;

describe('static evidence', () => {
  it('finds what a reviewer would flag in sloppy code, with file and line', T, async () => {
    const dir = submission({ 'seat-reservation.ts': SLOPPY, 'lib/helper.ts': 'export const helper = (x: unknown) => x;\n', 'notes.md': '# notes\n' });
    const { static: s } = await gatherEvidence(dir, [path.join(dir, 'seat-reservation.ts')]);
    expect(s).not.toBeNull();
    expect(s!.files.sort()).toEqual(['lib/helper.ts', 'seat-reservation.ts']);
    expect(s!.hardcoded.map((h) => [h.kind, h.line])).toEqual([['database-url', 5], ['credential', 6], ['service-url', 6]]);
    expect(s!.interpolatedSql.map((h) => [h.line, h.source])).toEqual([[11, 'parameter seatId'], [14, 'parameter userId']]);
    expect(s!.poolTransactions.map((h) => h.line)).toEqual([13, 15]);
    expect(s!.swallowedErrors.map((h) => [h.how, h.line])).toEqual([['empty-catch', 14]]);
    expect(s!.consoleCalls).toBe(1);
    expect(s!.ctxLogCalls).toBe(0);
    expect(s!.retries).toEqual([]);
    expect(s!.typescript).toMatchObject({ checked: true, errors: 1, explicitAny: 2 });
    expect(s!.typescript.errorSamples[0]).toMatchObject({ file: 'seat-reservation.ts', line: 21 });
    expect(s!.tests.files).toEqual([]);
  });

  it('does not flag constants or placeholders in SQL; finds retries, ctx.log and own tests', T, async () => {
    const dir = submission({ 'seat-reservation.ts': CAREFUL, 'test/seat.test.ts': "import { it } from 'vitest';\nit('races', async () => { await Promise.all([1, 2].map(async () => { throw new Error('SEAT_TAKEN'); }).map((p) => p.catch(() => 0))); });\n" });
    const { static: s } = await gatherEvidence(dir, [path.join(dir, 'seat-reservation.ts')]);
    expect([s!.interpolatedSql, s!.hardcoded, s!.poolTransactions, s!.swallowedErrors]).toEqual([[], [], [], []]);
    expect(s!.ctxLogCalls).toBe(1);
    expect(s!.retries.length).toBeGreaterThan(0);
    expect(s!.usesPostgres).toBe(true);
    expect(s!.typescript).toMatchObject({ checked: true, errors: 0, explicitAny: 0 });
    expect(s!.tests).toEqual({ files: ['test/seat.test.ts'], concurrencyTests: 1, failureTests: 1 });
  });

  it('reads JavaScript too, but has no types to check there', T, async () => {
    const dir = submission({ 'seat-reservation.mjs': "export default async function create(ctx) { ctx.log('up'); return { reserveSeat() {}, getReservation() {} }; }\n" });
    const { static: s } = await gatherEvidence(dir, [path.join(dir, 'seat-reservation.mjs')]);
    expect(s!.typescript).toMatchObject({ checked: false, reason: 'plain JavaScript: no static types to check' });
    expect(s!.ctxLogCalls).toBe(1);
  });

  it('survives odd code: syntax errors, empty files, deep nesting', T, () => {
    const dir = submission({ 'a.ts': 'export const = ;; try { pool.query(`INSERT ${', 'b.js': '', 'c.ts': `const x = ${'['.repeat(300)}${']'.repeat(300)};` });
    const s = scanSources(ts, { submission: dir, code: ['a.ts', 'b.js', 'c.ts', 'missing.ts'].map((f) => path.join(dir, f)), tests: [] });
    expect(s.files).toHaveLength(4);
  });

  it('says why there is nothing when nothing was attempted', T, async () => {
    expect(await gatherEvidence('/nonexistent', [])).toEqual({ static: null, staticError: 'no challenge attempted: nothing to read' });
  });
});

/** Each reference file on its own, and each reference folder (a multi-file submission) as one. */
function referenceSubmissions(): { name: string; dir: string; code: string[] }[] {
  const out: { name: string; dir: string; code: string[] }[] = [];
  for (const challenge of fs.readdirSync(path.join(root, 'reference'))) {
    const dir = path.join(root, 'reference', challenge);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isFile() && /\.(ts|mjs|js)$/.test(e.name)) out.push({ name: `${challenge}/${e.name}`, dir, code: [p] });
      if (e.isDirectory()) {
        const code = collectSources(p, []).code;
        if (code.length) out.push({ name: `${challenge}/${e.name}/`, dir: p, code });
      }
    }
  }
  return out;
}

describe('the references (correct solutions)', () => {
  const refs = referenceSubmissions();
  it('there are references to read', () => expect(refs.length).toBeGreaterThan(10));
  for (const r of refs) {
    it(`nothing to hold against ${r.name}`, T, () => {
      const s = scanSources(ts, { submission: r.dir, code: r.code, tests: [] });
      expect({ hardcoded: s.hardcoded, interpolatedSql: s.interpolatedSql, poolTransactions: s.poolTransactions, swallowedErrors: s.swallowedErrors }).toEqual({ hardcoded: [], interpolatedSql: [], poolTransactions: [], swallowedErrors: [] });
      expect(s.usesPostgres || r.name.endsWith('.mjs')).toBe(true);
    });
  }

  it('the example submission (three references) is clean and type-checks', T, async () => {
    const dir = path.join(root, 'examples', 'reference-submission');
    const paths = JSON.parse(fs.readFileSync(path.join(dir, 'gauntlet.json'), 'utf8')).paths as Record<string, string>;
    const ev = await gatherEvidence(dir, Object.values(paths).map((p) => path.resolve(dir, p)));
    const s = ev.static!;
    expect([s.hardcoded, s.interpolatedSql, s.poolTransactions, s.swallowedErrors]).toEqual([[], [], [], []]);
    expect(s.retries.length).toBeGreaterThan(0);
    expect(s.ctxLogCalls).toBeGreaterThan(0);
  });
});

describe('the known-buggy fixtures', () => {
  const fixture = (name: string) => {
    const dir = path.join(root, 'fixtures', 'submissions', name);
    return scanSources(ts, { submission: dir, code: collectSources(dir, []).code, tests: [] });
  };
  const has = (name: string) => fs.existsSync(path.join(root, 'fixtures', 'submissions', name));

  it('seat-swallow-errors: the catch answers an optimistic success for database errors', T, () => {
    expect(fixture('seat-swallow-errors').swallowedErrors.map((s) => s.how)).toEqual(['catch-returns-success']);
  });
  it.skipIf(!has('seat-catch-noop-write'))('seat-catch-noop-write: writes with .catch(() => {})', T, () => {
    const s = fixture('seat-catch-noop-write');
    expect(s.swallowedErrors.length).toBeGreaterThan(0);
    expect(s.swallowedErrors.every((x) => x.how === 'catch-noop')).toBe(true);
  });
  it.skipIf(!has('seat-pool-begin'))('seat-pool-begin: BEGIN/COMMIT through the pool', T, () => {
    expect(fixture('seat-pool-begin').poolTransactions.map((r) => r.text)).toEqual(expect.arrayContaining([expect.stringContaining('BEGIN'), expect.stringContaining('COMMIT')]));
  });
  it.skipIf(!has('webhook-sql-from-field'))('webhook-sql-from-field: webhook fields pasted into SQL', T, () => {
    expect(fixture('webhook-sql-from-field').interpolatedSql.map((r) => r.source)).toEqual(expect.arrayContaining([expect.stringMatching(/^JSON\.parse\(rawBody\)\./)]));
  });
  it('seat-serializable-no-retry: strict isolation without retries', T, () => {
    const s = fixture('seat-serializable-no-retry');
    expect(s.strictIsolation.length).toBe(1);
    expect(s.retries).toEqual([]);
  });
});

describe('source helpers', () => {
  it('local imports: static, re-exports, dynamic and require; never packages', () => {
    expect(localImports("import a from './a.ts';\nexport { b } from '../b.js';\nconst c = await import('./c');\nconst d = require('./d.cjs');\nimport pg from 'pg';")).toEqual(['./a.ts', '../b.js', './c', './d.cjs']);
  });

  it('follows imports out of the folder (gauntlet.json paths) and tells tests apart', () => {
    const dir = submission({ 'src/seats.ts': "import { x } from './x.js';\n", 'src/x.ts': 'export const x = 1;\n', 'seats.spec.ts': '', 'types.d.ts': '' });
    const s = collectSources(dir, [path.join(dir, 'src/seats.ts')]);
    expect(s.code.map((f) => path.relative(dir, f)).sort()).toEqual(['src/seats.ts', 'src/x.ts']);
    expect(s.tests.map((f) => path.relative(dir, f))).toEqual(['seats.spec.ts']);
    expect(s.declarations.map((f) => path.relative(dir, f))).toEqual(['types.d.ts']);
  });
});
