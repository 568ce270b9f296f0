// Short-lived PostgreSQL admin connections with hard timeouts and an 'error' listener, plus the server facts
// the infra layer needs (version, whether the account may create roles and databases) and URL redaction.

import pg from 'pg';
import { errorText, withTimeout } from './process-util.ts';

export interface PgConnectOptions {
  connectTimeoutMs?: number;
  queryTimeoutMs?: number;
}

/** Connect a client; it always has an 'error' listener, so a dying connection never crashes the harness. */
export async function connectPg(url: string, opts: PgConnectOptions = {}): Promise<pg.Client> {
  const connectTimeoutMs = opts.connectTimeoutMs ?? 5000;
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: connectTimeoutMs,
    query_timeout: opts.queryTimeoutMs ?? 30_000,
    application_name: 'gauntlet-infra',
  });
  client.on('error', () => {
    // A backend killed under us: the pending query rejects; nothing else to do.
  });
  try {
    // pg's own timer covers connect + auth; the outer one guards against a stuck DNS lookup or TLS handshake.
    await withTimeout(client.connect(), connectTimeoutMs + 1000, `timed out after ${connectTimeoutMs} ms`);
    return client;
  } catch (err) {
    void client.end().catch(() => undefined);
    throw err;
  }
}

/** Close a client without ever hanging on a dead socket. */
export async function endPg(client: pg.Client): Promise<void> {
  await withTimeout(client.end(), 2000, 'end timed out').catch(() => undefined);
}

/** Run `fn` on a fresh connection and always close it. */
export async function withPg<T>(url: string, fn: (client: pg.Client) => Promise<T>, opts: PgConnectOptions = {}): Promise<T> {
  const client = await connectPg(url, opts);
  try {
    return await fn(client);
  } finally {
    await endPg(client);
  }
}

export interface PgServerInfo {
  /** e.g. `15.20`. */
  version: string;
  /** e.g. 150020. */
  versionNum: number;
  user: string;
  superuser: boolean;
  /** Superuser, or both CREATEROLE and CREATEDB. */
  canCreate: boolean;
}

export async function serverInfo(client: pg.Client): Promise<PgServerInfo> {
  const { rows } = await client.query<{ v: string; n: string; u: string; su: boolean; cr: boolean; cd: boolean }>(
    `SELECT current_setting('server_version') AS v, current_setting('server_version_num') AS n, current_user AS u,
            r.rolsuper AS su, r.rolcreaterole AS cr, r.rolcreatedb AS cd
       FROM pg_roles r WHERE r.rolname = current_user`,
  );
  const row = rows[0];
  return {
    version: row.v.split(' ')[0],
    versionNum: Number(row.n),
    user: row.u,
    superuser: row.su,
    canCreate: row.su || (row.cr && row.cd),
  };
}

export type PgProbe = { ok: true; info: PgServerInfo } | { ok: false; reason: string };

/** Connect within `timeoutMs` and read the server facts; never throws. */
export async function probePostgres(url: string, timeoutMs: number): Promise<PgProbe> {
  try {
    const info = await withPg(url, serverInfo, { connectTimeoutMs: timeoutMs, queryTimeoutMs: Math.max(timeoutMs, 3000) });
    return { ok: true, info };
  } catch (err) {
    return { ok: false, reason: pgErrorText(err) };
  }
}

/** A short reason for a PostgreSQL error, with its SQLSTATE when there is one. */
export function pgErrorText(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  const text = errorText(err);
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? `${text} (SQLSTATE ${code})` : text;
}

/** A double-quoted SQL identifier. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A single-quoted SQL literal. */
export function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * Whether the server lets anyone on this machine in without a password (`trust` for 127.0.0.1 in pg_hba.conf):
 * a made-up role with no password gets "role … does not exist" (authentication passed) rather than a password
 * request. Decides whether an uncontained grade may use it (docs/security.md). Never throws; false when unsure.
 */
export async function trustsLocalConnections(adminUrl: string): Promise<boolean> {
  const u = new URL(adminUrl);
  const client = new pg.Client({ host: u.hostname, port: Number(u.port || 5432), user: `gauntlet_trust_probe_${process.pid}`, password: undefined, database: 'postgres', connectionTimeoutMillis: 3000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.end().catch(() => {});
    return true;
  } catch (err) {
    return (err as { code?: string }).code === '28000' && /does not exist/.test((err as Error).message);
  }
}
