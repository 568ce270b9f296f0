// Swallowed write errors: empty catches and no-op .catch() around writes, catches that answer success; and what is
// not swallowing: cleanup (ROLLBACK, release, lease give-back), reads, notifications, errors that are inspected.

import { describe, expect, it } from 'vitest';
import { findSwallowedErrors } from './swallowed-errors.ts';
import { detect } from './testing.ts';

const found = (body: string) =>
  detect(findSwallowedErrors, `import type { Pool } from 'pg';\nexport async function f(pool: Pool, client, redis, ctx, id: string) {\n${body}\n}`).map((r) => `${r.how}@${r.line - 2}`);

describe('swallowed errors', () => {
  it('empty-catch: an empty catch around a write, comments notwithstanding', () => {
    expect(found(`try { await pool.query('INSERT INTO a (id) VALUES ($1)', [id]); } catch { /* ignore */ }`)).toEqual(['empty-catch@1']);
    expect(found(`try {\n  await redis.set('k', id);\n} catch (e) {}`)).toEqual(['empty-catch@3']);
    expect(found(`try { await transaction(pool, async (c) => { await c.query('UPDATE a SET x = 1'); }); } catch {}`)).toEqual(['empty-catch@1']);
  });

  it('empty-catch: a commented catch around Redis writes alone is a stated best-effort cache update, not a swallowed write', () => {
    expect(found(`try { await redis.del('sub:' + id); } catch { /* best effort: Redis down never fails a write */ }`)).toEqual([]);
    expect(found(`try {
  await redis.set('k', id);
} catch {
  // the entry expires anyway
}`)).toEqual([]);
    // Uncommented, or with a database write inside: still flagged.
    expect(found(`try { await redis.del('sub:' + id); } catch {}`)).toEqual(['empty-catch@1']);
    expect(found(`try { await redis.del('k'); await pool.query('UPDATE a SET x = 1'); } catch { /* ignore */ }`)).toEqual(['empty-catch@1']);
  });

  it('empty-catch: not around cleanup or reads', () => {
    expect(found(`try { await client.query('ROLLBACK'); } catch {}`)).toEqual([]);
    expect(found(`try { client.release(); } catch {}\ntry { await pool.end(); } catch {}\ntry { await redis.quit(); } catch {}`)).toEqual([]);
    expect(found(`try { await pool.query('SELECT 1'); } catch {}`)).toEqual([]);
    expect(found(`try { /x/.exec(id); } catch {}\ntry { new Map().set('a', 1); } catch {}`)).toEqual([]);
  });

  it('HTTP DELETE and a log line mentioning SQL are not writes', () => {
    expect(found(`try { await fetch('https://x/y', { method: 'DELETE' }); ctx.log('info', 'DELETE FROM done'); } catch {}`)).toEqual([]);
  });

  it('catch-noop: .catch(() => {}) and friends on a write', () => {
    expect(found(`await pool.query('UPDATE a SET x = 1 WHERE id = $1', [id]).catch(() => {});`)).toEqual(['catch-noop@1']);
    expect(found(`pool.query('DELETE FROM a').catch(() => undefined);\npool.query('INSERT INTO a VALUES (1)').catch(() => null);\nredis.del('k').catch(function () {});`)).toEqual(['catch-noop@1', 'catch-noop@2', 'catch-noop@3']);
    expect(found(`const noop = () => {};\nconst p = pool.query('UPDATE a SET x = 2');\np.then(() => 1).catch(noop);`)).toEqual(['catch-noop@2']);
  });

  it('catch-noop: not on ROLLBACK, a read, a notification, lease bookkeeping, or a handler that logs', () => {
    expect(found(`await client.query('ROLLBACK').catch(() => {});`)).toEqual([]);
    expect(found(`await pool.query('SELECT 1').catch(() => {});`)).toEqual([]);
    expect(found(`fetch('http://notify/messages', { method: 'POST' }).catch(() => {});`)).toEqual([]);
    expect(found(`await pool.query('UPDATE jobs SET locked_by = NULL, locked_until = NULL WHERE id = $1', [id]).catch(() => {});`)).toEqual([]);
    expect(found(`await pool.query('UPDATE a SET x = 1').catch((err) => ctx.log('failed', { err }));`)).toEqual([]);
  });

  it('catch-returns-success: a catch that never looks at the error and answers success', () => {
    expect(found(`try { await pool.query('INSERT INTO a VALUES ($1)', [id]); return { ok: false }; } catch (e) { return { ok: true }; }`)).toEqual(['catch-returns-success@1']);
    expect(found(`try { await pool.query('INSERT INTO a VALUES ($1)', [id]); } catch { return 'ok'; }`)).toEqual(['catch-returns-success@1']);
  });

  it('catch-returns-success: falls through to success for every error it did not single out', () => {
    const body = `try {
  await pool.query('UPDATE seats SET user_id = $1', [id]);
} catch (err) {
  if (err instanceof RangeError) throw err;
  ctx.log('db error, answering optimistically', { err });
  return { seatId: id, timestamp: new Date() };
}`;
    expect(found(body)).toEqual(['catch-returns-success@3']);
  });

  it('catch-returns-success: not when the error is inspected and the rest rethrown, or the answer is an error', () => {
    expect(found(`try { await pool.query('INSERT INTO a VALUES ($1)', [id]); } catch (e) { if (e.code === '23505') return { duplicate: true }; throw e; }`)).toEqual([]);
    expect(found(`try { await pool.query('INSERT INTO a VALUES ($1)', [id]); } catch (e) { if (e.code !== '23505') throw e; return { duplicate: true }; }`)).toEqual([]);
    expect(found(`try { await pool.query('INSERT INTO a VALUES ($1)', [id]); } catch { return { status: 500, body: { error: 'db' } }; }`)).toEqual([]);
    expect(found(`try { await pool.query('INSERT INTO a VALUES ($1)', [id]); } catch { return null; }`)).toEqual([]);
    expect(found(`try { const r = await pool.query('SELECT 1'); } catch { return { ok: true }; }`)).toEqual([]);
  });

  it('does not flag UPDATEs in exclusive branches handled properly', () => {
    const body = `if (id) await pool.query('UPDATE a SET x = 1 WHERE id = $1', [id]);
else await pool.query('UPDATE a SET x = 2 WHERE id = $1', [id]);`;
    expect(found(body)).toEqual([]);
  });
});
