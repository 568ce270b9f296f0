// Dropping a scenario's database and role for good, even while the candidate's pools still hold sessions:
// terminate them, DROP DATABASE ... WITH (FORCE) where the server has it, then the role. Idempotent.

import type pg from 'pg';
import { ident } from './pg-admin.ts';
import { sleep } from './process-util.ts';

/** Drop database `name` and role `name` (either may already be gone). */
export async function dropDatabaseAndRole(client: pg.Client, name: string, versionNum: number): Promise<void> {
  await dropDatabase(client, name, versionNum);
  await dropRole(client, name);
}

async function terminate(client: pg.Client, name: string): Promise<void> {
  await client.query(
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE (datname = $1 OR usename = $1) AND pid <> pg_backend_pid()`,
    [name],
  );
}

async function dropDatabase(client: pg.Client, name: string, versionNum: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    await terminate(client, name);
    try {
      // FORCE (PostgreSQL 13+) also closes sessions that connected between the terminate and the drop.
      await client.query(`DROP DATABASE IF EXISTS ${ident(name)}${versionNum >= 130000 ? ' WITH (FORCE)' : ''}`);
      return;
    } catch (err) {
      // 55006: still in use (a pool reconnected in between); retry a few times on servers without FORCE.
      if ((err as { code?: string }).code !== '55006' || attempt >= 10) throw err;
      await sleep(100 * (attempt + 1));
    }
  }
}

async function dropRole(client: pg.Client, name: string): Promise<void> {
  try {
    await client.query(`DROP ROLE IF EXISTS ${ident(name)}`);
  } catch (err) {
    // 2BP01: the role still owns objects or holds grants outside its (dropped) database, e.g. in this maintenance
    // database on servers where PUBLIC may create in schema public (before PostgreSQL 15). Remove them, retry.
    if ((err as { code?: string }).code !== '2BP01') throw err;
    await client.query(`DROP OWNED BY ${ident(name)}`);
    await client.query(`DROP ROLE IF EXISTS ${ident(name)}`);
  }
}
