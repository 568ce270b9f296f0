// The static read of a submission on small hand-written sources: what it must find (hard-coded URLs and
// secrets, SQL built from input, ctx.log, retries, check-then-act, swallowed errors, lookups, tsc errors and
// explicit any, own tests), and what it must not flag (constants and placeholders interpolated into SQL, the
// references, which are clean).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { gatherEvidence } from './index.ts';
import { lookupsOf } from './static.ts';
import { collectSources, localImports } from './sources.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dirs: string[] = [];
const T = { timeout: 30_000 };

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
      await pool.query('UPDATE seats SET user_id = $2 WHERE seat_id = $1', [seatId, userId]);
      try { await pool.query('INSERT INTO audit (user_id) VALUES (' + userId + ')'); } catch (e) {}
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
    expect(s!.interpolatedSql.map((h) => h.line)).toEqual([11, 14]);
    expect(s!.readThenWrite.map((h) => h.line)).toEqual([10]);
    expect(s!.swallowedErrors.map((h) => h.line)).toEqual([14]);
    expect(s!.consoleCalls).toBe(1);
    expect(s!.ctxLogCalls).toBe(0);
    expect(s!.retries).toEqual([]);
    expect(s!.lookups.map((l) => `${l.table}(${l.columns})`)).toContain('seats(seat_id)');
    expect(s!.typescript.checked).toBe(true);
    expect(s!.typescript.errors).toBe(1);
    expect(s!.typescript.errorSamples[0]).toMatchObject({ file: 'seat-reservation.ts', line: 20 });
    expect(s!.typescript.errorSamples[0].message).toMatch(/TS2322/);
    expect(s!.typescript.explicitAny).toBe(2);
    expect(s!.tests.files).toEqual([]);
  });

  it('does not flag constants or placeholders interpolated into SQL; finds retries, ctx.log and atomic writes', T, async () => {
    const dir = submission({ 'seat-reservation.ts': CAREFUL, 'test/seat.test.ts': "import { it } from 'vitest';\nit('races', async () => { await Promise.all([1, 2].map(async () => { throw new Error('SEAT_TAKEN'); }).map((p) => p.catch(() => 0))); });\n" });
    const { static: s } = await gatherEvidence(dir, [path.join(dir, 'seat-reservation.ts')]);
    expect(s!.interpolatedSql).toEqual([]);
    expect(s!.hardcoded).toEqual([]);
    expect(s!.readThenWrite).toEqual([]);
    expect(s!.ctxLogCalls).toBe(1);
    expect(s!.retries.length).toBeGreaterThan(0);
    expect(s!.atomicity.map((a) => a.technique)).toEqual(expect.arrayContaining(['conditional UPDATE (the WHERE clause is the rule)', 'upsert (INSERT … ON CONFLICT)']));
    expect(s!.typescript).toMatchObject({ checked: true, errors: 0, explicitAny: 0 });
    expect(s!.tests).toEqual({ files: ['test/seat.test.ts'], concurrencyTests: 1, failureTests: 1 });
  });

  it('reads JavaScript too, but has no types to check there', T, async () => {
    const dir = submission({ 'seat-reservation.mjs': "export default async function create(ctx) { ctx.log('up'); return { reserveSeat() {}, getReservation() {} }; }\n" });
    const { static: s } = await gatherEvidence(dir, [path.join(dir, 'seat-reservation.mjs')]);
    expect(s!.typescript).toMatchObject({ checked: false, reason: 'plain JavaScript: no static types to check' });
    expect(s!.ctxLogCalls).toBe(1);
  });

  it('finds nothing to hold against the conditional-UPDATE reference', T, async () => {
    const ev = await gatherEvidence(path.join(root, 'examples', 'reference-submission'), [path.join(root, 'reference', 'seat-reservation', 'conditional-update.ts')]);
    const s = ev.static!;
    expect([s.hardcoded, s.interpolatedSql, s.readThenWrite, s.unguardedMultiWrites, s.swallowedErrors]).toEqual([[], [], [], [], []]);
    expect(s.typescript).toMatchObject({ checked: true, errors: 0, explicitAny: 0 });
    expect(s.retries.length).toBeGreaterThan(0);
  });

  it('says why there is nothing when nothing was attempted', T, async () => {
    expect(await gatherEvidence('/nonexistent', [])).toEqual({ static: null, staticError: 'no challenge attempted: nothing to read' });
  });
});

describe('source helpers', () => {
  it('lookups: the columns a WHERE clause compares for equality, aliases resolved', T, () => {
    expect(lookupsOf('UPDATE seats SET user_id = $2 WHERE seat_id = $1 AND (user_id IS NULL OR user_id = $2) RETURNING seat_id')).toEqual([{ table: 'seats', columns: ['seat_id', 'user_id'] }]);
    expect(lookupsOf('SELECT s.user_id FROM seats s JOIN holds h ON h.seat_id = s.seat_id WHERE s.seat_id = $1 AND h.expires_at > now()')).toEqual([{ table: 'seats', columns: ['seat_id'] }]);
    expect(lookupsOf('SELECT 1 FROM subscriptions WHERE payment_id IN ($1, $2)')).toEqual([{ table: 'subscriptions', columns: ['payment_id'] }]);
    expect(lookupsOf('INSERT INTO seats (seat_id) VALUES ($1)')).toEqual([]);
  });

  it('local imports: static, re-exports, dynamic and require; never packages', T, () => {
    expect(localImports("import a from './a.ts';\nexport { b } from '../b.js';\nconst c = await import('./c');\nconst d = require('./d.cjs');\nimport pg from 'pg';")).toEqual(['./a.ts', '../b.js', './c', './d.cjs']);
  });

  it('follows imports out of the folder (gauntlet.json paths) and tells tests apart', T, () => {
    const dir = submission({ 'src/seats.ts': "import { x } from './x.js';\n", 'src/x.ts': 'export const x = 1;\n', 'seats.spec.ts': '', 'types.d.ts': '' });
    const s = collectSources(dir, [path.join(dir, 'src/seats.ts')]);
    expect(s.code.map((f) => path.relative(dir, f)).sort()).toEqual(['src/seats.ts', 'src/x.ts']);
    expect(s.tests.map((f) => path.relative(dir, f))).toEqual(['seats.spec.ts']);
    expect(s.declarations.map((f) => path.relative(dir, f))).toEqual(['types.d.ts']);
  });
});
