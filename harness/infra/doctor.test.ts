// Tests of `diagnose` and `formatDoctorReport` on this machine: what would be used when all is well, and
// ✗ lines with fixes when DATABASE_URL / REDIS_URL are broken and redis-server is missing.

import { describe, expect, it } from 'vitest';
import { diagnose, formatDoctorReport } from './doctor.ts';
import { freePort } from './process-util.ts';
import { leftovers } from './test-helpers.ts';

describe('doctor', () => {
  it('reports the local servers, the embedded binaries and redis-server, all ✓', async () => {
    const report = await diagnose({ env: { PATH: process.env.PATH } });
    expect(report.ok).toBe(true);
    expect(report.postgres).toMatchObject({ source: 'local', url: 'postgres://postgres@127.0.0.1:5432/postgres' });
    expect(report.postgres.version).toMatch(/^\d+\.\d+/);
    expect(report.redis).toMatchObject({ source: 'local', url: 'redis://127.0.0.1:6379' });
    expect(report.embedded).toMatchObject({ present: true, runAs: 'postgres' });
    expect(report.embedded.version).toMatch(/^\d+\.\d+/);
    expect(report.embedded.started).toBeUndefined(); // not started unless asked
    expect(report.redisServerBinary.path).toMatch(/redis-server$/);
    const text = formatDoctorReport(report);
    expect(text).toMatch(/^✓ PostgreSQL: grading will use the local server/m);
    expect(text).toMatch(/^✓ Redis: grading will use the local server/m);
    expect(text).toContain('✓ embedded PostgreSQL');
    expect(text).not.toContain('✗');
    expect(text.split('\n').at(-1)).toBe('ready: grading can run');
    // As root here, a burst's release runs at real-time priority.
    if (process.getuid?.() === 0) {
      expect(report.burstPriority).toBe('realtime');
      expect(text).toMatch(/✓ burst release: real-time priority/);
    }
  });

  it('can prove the embedded server starts (and stops it again)', async () => {
    const report = await diagnose({ tryEmbedded: true, env: {} });
    expect(report.embedded.started).toBe(true);
    expect(formatDoctorReport(report)).toContain('started and stopped a test cluster');
  });

  it('shows ✗ and the fix for a broken DATABASE_URL, a broken REDIS_URL and a missing redis-server', async () => {
    const port = await freePort();
    const report = await diagnose({
      env: { DATABASE_URL: `postgres://postgres:pw@127.0.0.1:${port}/postgres`, REDIS_URL: `redis://127.0.0.1:${port}`, PATH: '/nonexistent' },
    });
    expect(report.ok).toBe(false);
    expect(report.postgres.source).toBeNull();
    expect(report.redis.source).toBeNull();
    const text = formatDoctorReport(report);
    expect(text).toMatch(/^✗ PostgreSQL: DATABASE_URL is set but cannot be used/m);
    expect(text).toMatch(/✗ DATABASE_URL: .*ECONNREFUSED/);
    expect(text).toMatch(/fix: start that server or correct DATABASE_URL/);
    expect(text).not.toContain(':pw@');
    expect(text).toMatch(/^✗ Redis: none/m);
    expect(text).toMatch(/✗ redis-server on PATH: not found\n\s+fix: install redis-server/);
    expect(text.split('\n').at(-1)).toContain('exit with code 3');
  });

  it('creates nothing', async () => {
    await diagnose({ env: {} });
    expect(await leftovers()).toEqual([]);
  });
});
