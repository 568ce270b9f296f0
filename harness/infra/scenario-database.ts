// A scenario's own, empty PostgreSQL database, owned by a fresh unprivileged login role that no other
// scenario's role can connect to; dropped with its role on drop(), on Infra.close() or on cleanup.

import { randomBytes } from 'node:crypto';
import { InfraError } from '../errors.ts';
import { interrupted, onCleanup } from '../cleanup.ts';
import type { Infra, ScenarioDatabase } from './types.ts';
import { track } from './infra-registry.ts';
import { ident, literal, pgErrorText, serverInfo, withPg } from './pg-admin.ts';
import { dropDatabaseAndRole } from './pg-drop.ts';
import { serverFull } from './connection-slots.ts';
import { ownerComment } from './stale-sweep.ts';
import { redactUrl, withUrlParts } from './url-util.ts';

let counter = 0;

/** A fresh lower-case name, `gauntlet_<pid>_<counter>_<random>`, used for both the role and the database. */
export function scenarioName(): string {
  counter += 1;
  return `gauntlet_${process.pid}_${counter}_${randomBytes(4).toString('hex')}`;
}

/** Where a scenario database is created: the infrastructure's PostgreSQL unless another server is named (a replica pair's primary). */
export interface DatabaseServer {
  adminUrl: string;
  host: string;
  port: number;
}

export async function createScenarioDatabase(infra: Infra, label: string, server?: DatabaseServer): Promise<ScenarioDatabase> {
  const name = scenarioName();
  const password = randomBytes(18).toString('hex');
  const adminUrl = server?.adminUrl ?? infra.postgres.adminUrl;
  const comment = ownerComment(label);
  const creating = withPg(adminUrl, async (client) => {
    const info = await serverInfo(client);
    try {
      // Role and its comment together, so a crash never leaves an unattributed role behind.
      await client.query('BEGIN');
      await client.query(
        `CREATE ROLE ${ident(name)} LOGIN PASSWORD ${literal(password)} NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION`,
      );
      await client.query(`COMMENT ON ROLE ${ident(name)} IS ${literal(comment)}`);
      await client.query('COMMIT');
      // A non-superuser admin must be a member of the role to make it a database owner (and to end its sessions).
      if (!info.superuser) await client.query(`GRANT ${ident(name)} TO CURRENT_USER`).catch(() => undefined);
      // template0: nothing anyone added to template1 leaks in, and no "source database is being accessed" races.
      await client.query(`CREATE DATABASE ${ident(name)} OWNER ${ident(name)} TEMPLATE template0`);
      await client.query(`COMMENT ON DATABASE ${ident(name)} IS ${literal(comment)}`);
      // Only the owner (and admins) may connect: other scenarios' roles get "permission denied".
      await client.query(`REVOKE ALL ON DATABASE ${ident(name)} FROM PUBLIC`);
      return info.versionNum;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      await dropDatabaseAndRole(client, name, info.versionNum).catch(() => undefined);
      throw new InfraError(`could not create a scenario database on ${redactUrl(adminUrl)}: ${pgErrorText(err)}`);
    }
  }).catch((err) => {
    if (err instanceof InfraError) throw err;
    const full = serverFull((err as { code?: string }).code, (err as Error).message);
    throw new InfraError(
      `could not reach PostgreSQL at ${redactUrl(adminUrl)}: ${pgErrorText(err)}`,
      full ? 'the server has no free connection slots, not even for an admin: close what holds them (SELECT usename, application_name, count(*) FROM pg_stat_activity GROUP BY 1, 2) or raise max_connections, then grade again' : undefined,
    );
  });
  // An interrupt (Ctrl-C, SIGTERM) while the statements are in flight: the server finishes them even if this process
  // is gone, so the cleanup waits for them and drops what they made.
  const unregisterCreating = onCleanup(() => creating.then((v) => withPg(adminUrl, (client) => dropDatabaseAndRole(client, name, v)), () => undefined));
  let versionNum: number;
  try {
    versionNum = await creating;
  } finally {
    unregisterCreating();
  }
  let dropping: Promise<void> | null = null;
  let dropped = false;
  const drop = (): Promise<void> => {
    if (dropped) return Promise.resolve();
    dropping ??= withPg(adminUrl, (client) => dropDatabaseAndRole(client, name, versionNum), { queryTimeoutMs: 60_000 })
      .then(() => {
        dropped = true;
        unregister();
        untrack();
      })
      .finally(() => {
        dropping = null; // a failed drop may be retried (by the caller, Infra.close or the cleanup registry)
      });
    return dropping;
  };
  const unregister = onCleanup(drop);
  const untrack = track(infra, drop);
  // Interrupted while the statements ran: the cleanup may already be over, so what they made goes at once.
  if (interrupted()) {
    await drop().catch(() => undefined);
    throw new InfraError(`gauntlet was interrupted (${interrupted()}): the scenario database was dropped again`);
  }

  return {
    url: withUrlParts(adminUrl, { user: name, password, path: name }),
    host: server?.host ?? infra.postgres.host,
    port: server?.port ?? infra.postgres.port,
    database: name,
    role: name,
    password,
    adminUrl: withUrlParts(adminUrl, { path: name }),
    drop,
  };
}
