// The run store's PostgreSQL backend (pg): one store shared by a fleet of grading workers on several machines, opened
// from a `postgres://` or `postgresql://` URL (openStore() in index.ts). Its tables are sql-store.ts's, the same as
// SQLite's, in a schema of their own named `gauntlet` (created when missing, under pg_advisory_xact_lock so workers
// starting at once do not race; meta.schema_version as in SQLite, a newer one refused). JSON columns are `text`, as
// in SQLite (sql-store.ts says why). A small pool (3 connections, an 'error' listener: a connection lost while idle
// is dropped and replaced); every write is one transaction (BEGIN … COMMIT, ROLLBACK on any error), so a worker
// killed mid-write leaves no half record. Two workers recording one queue job race on the UNIQUE job_id: one run is
// stored, the other call answers 'duplicate'. A server that cannot be reached is an InfraError (exit 3), a wrong
// database name or password a UsageError (exit 2), each naming the URL (password as ***) and what to do, never a
// stack trace.

import pg from 'pg';
import { GauntletError, InfraError, UsageError } from '../../errors.ts';
import { pgErrorText } from '../../infra/pg-admin.ts';
import { redactUrl } from '../../infra/url-util.ts';
import { getVersionSql, newerSchema, NoRunStoreError, PG_SCHEMA, putVersionSql, schemaSql, SCHEMA_VERSION, SqlRunStore, tables, type Sql, type SqlBackend } from './sql-store.ts';

const T = tables(`${PG_SCHEMA}.`);
const POOL_SIZE = 3;

/** The URL as messages and `location` show it: any password (in the user part or a `password=` parameter) as ***. */
export function storeLocation(url: string): string {
  const shown = redactUrl(url);
  try {
    const u = new URL(shown);
    if (!u.searchParams.has('password')) return shown;
    u.searchParams.set('password', '***');
    return u.toString();
  } catch {
    return shown.replace(/([?&]password=)[^&]*/i, '$1***');
  }
}

/** `?` placeholders as PostgreSQL's `$1, $2 …` (the shared statements hold no `?` inside string literals). */
const converted = new Map<string, string>();
function pgText(sql: string): string {
  let text = converted.get(sql);
  if (text === undefined) {
    let n = 0;
    converted.set(sql, (text = sql.replace(/\?/g, () => `$${++n}`)));
  }
  return text;
}

const UNREACHABLE = /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE|ECONNABORTED)$/;

/**
 * An error of the connection rather than of a statement (a malformed URL, refused, unknown host, authentication, no
 * such database, the server shutting down, a lost connection) as an InfraError (not answering) or a UsageError (a wrong
 * name, user or password) naming the store; any other as it is.
 */
export function storeError(err: unknown, location: string): unknown {
  if (err instanceof GauntletError) return err;
  const code = String((err as { code?: unknown })?.code ?? '');
  const message = err instanceof Error ? err.message : String(err);
  const reach = (reason: string, hint: string) => new UsageError(`cannot reach the run store ${location}: ${reason}`, hint);
  // A server that does not answer is infrastructure (exit 3, as for the grade's own PostgreSQL); a wrong database
  // name or password is the command line's (exit 2).
  const down = (reason: string, hint: string) => new InfraError(`cannot reach the run store ${location}: ${reason}`, hint);
  const network = 'is PostgreSQL running there and reachable from this machine? Or pass --store a file path for a SQLite store of this machine';
  if (code === 'ERR_INVALID_URL') return new UsageError(`cannot use the run store URL ${location}: ${message}`, 'a PostgreSQL URL looks like postgres://user:password@host:5432/database (special characters in the password percent-encoded)');
  if (UNREACHABLE.test(code)) return down(code, network);
  if (code === '3D000') return reach(pgErrorText(err), 'create that database first (createdb <name>), or name one that exists in the URL');
  if (/^28/.test(code)) return reach(pgErrorText(err), 'check the user and password in the URL (a password can also come from PGPASSWORD or ~/.pgpass)');
  if (/^(08|57P0|53300)/.test(code)) return down(pgErrorText(err), network);
  if (/timeout exceeded when trying to connect|Connection terminated|connection timeout|getaddrinfo/i.test(message)) return down(message.split('\n')[0], network);
  if (/self.signed|SSL/i.test(message)) return reach(message.split('\n')[0], network);
  return err;
}

class PgBackend implements SqlBackend {
  constructor(
    readonly location: string,
    private readonly pool: pg.Pool,
  ) {}

  private async guard<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      throw storeError(err, this.location);
    }
  }

  async all<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.guard(async () => (await this.pool.query(pgText(sql), params)).rows as T[]);
  }

  async run(sql: string, params: unknown[] = []): Promise<number> {
    return this.guard(async () => (await this.pool.query(pgText(sql), params)).rowCount ?? 0);
  }

  async transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    const client = await this.guard(() => this.pool.connect());
    const tx: Sql = {
      all: async <R>(sql: string, params: unknown[] = []) => (await client.query(pgText(sql), params)).rows as R[],
      run: async (sql: string, params: unknown[] = []) => (await client.query(pgText(sql), params)).rowCount ?? 0,
    };
    let broken: Error | undefined;
    // A connection lost while checked out: its pending query fails (and throws below); no 'error' event may go unheard.
    const lost = (err: Error) => (broken = err);
    client.on('error', lost);
    try {
      await client.query('BEGIN');
      const out = await fn(tx);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      // A connection that cannot even roll back is not given back to the pool.
      await client.query('ROLLBACK').catch((e: Error) => (broken = e));
      throw storeError(err, this.location);
    } finally {
      client.removeListener('error', lost);
      client.release(broken);
    }
  }

  isUniqueViolation(err: unknown): boolean {
    return (err as { code?: unknown })?.code === '23505';
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}

export class PostgresRunStore extends SqlRunStore {
  /**
   * Connect and make sure the `gauntlet` schema is there at the current version (created when missing; with
   * `mustExist`, a NoRunStoreError instead: reading commands create nothing).
   */
  static async open(url: string, o: { mustExist?: boolean } = {}): Promise<PostgresRunStore> {
    const location = storeLocation(url);
    let pool: pg.Pool;
    try {
      pool = new pg.Pool({ connectionString: url, max: POOL_SIZE, connectionTimeoutMillis: 10_000, idleTimeoutMillis: 10_000, keepAlive: true, application_name: 'gauntlet-store' });
    } catch (err) {
      throw new UsageError(`cannot use the run store URL ${location}: ${(err as Error).message}`, 'a PostgreSQL URL looks like postgres://user:password@host:5432/database');
    }
    // A connection lost while idle (server restart, network): the pool drops it and the next query connects anew.
    pool.on('error', () => {});
    const backend = new PgBackend(location, pool);
    try {
      await ensureSchema(backend, !!o.mustExist);
    } catch (err) {
      await backend.close();
      throw storeError(err, location);
    }
    return new PostgresRunStore(backend, `${PG_SCHEMA}.`);
  }
}

async function ensureSchema(db: PgBackend, mustExist: boolean): Promise<void> {
  await db.transaction(async (tx) => {
    // One worker at a time creates (or checks) the schema: CREATE SCHEMA/TABLE IF NOT EXISTS race with each other.
    await tx.all("SELECT pg_advisory_xact_lock(hashtextextended('gauntlet run store schema', 0))");
    const [{ present }] = await tx.all<{ present: boolean }>(`SELECT to_regclass('${T.meta}') IS NOT NULL AS present`);
    const version = present ? Number((await tx.all<{ value: string }>(getVersionSql(T)))[0]?.value ?? SCHEMA_VERSION) : 0;
    if (version > SCHEMA_VERSION) throw newerSchema(db.location, version);
    // PostgreSQL stores began at schema 2: a later version adds its migration here.
    if (version === SCHEMA_VERSION) return;
    if (mustExist) throw new NoRunStoreError(db.location, `no run store in ${db.location} (no schema ${PG_SCHEMA} there)`, 'runs are recorded there by gauntlet grade --store <url>; check the URL names the right database');
    await tx.run(`CREATE SCHEMA IF NOT EXISTS ${PG_SCHEMA}`);
    for (const s of schemaSql('postgres', T)) await tx.run(s);
    await tx.run(putVersionSql(T), [String(SCHEMA_VERSION)]);
  });
}
