// The run store's SQLite backend (better-sqlite3), `.gauntlet/gauntlet.db` by default: one machine's store. (A
// PostgreSQL URL opens postgres-store.ts instead, one store for a fleet; openStore() in index.ts chooses.) Runs with
// their batch, queue job and machine, the submissions they graded (by content hash, with their text files), results
// (the full result document), each scenario's status, metrics and history file, each check, manual scores, and the
// benchmark reference's throughput per machine (app/reference-figures.ts); the SQL is sql-store.ts's, shared with
// PostgreSQL. Every write is one transaction (BEGIN IMMEDIATE): a run interrupted while being recorded leaves no
// trace, never half a record. A schema v1 file is migrated to v2 in place when opened.

import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { UsageError } from '../../errors.ts';
import { getVersionSql, newerSchema, putVersionSql, RUN_COLUMNS_V1, runsTableSql, schemaSql, SCHEMA_VERSION, SqlRunStore, tables, type Sql, type SqlBackend } from './sql-store.ts';

export const DEFAULT_STORE = path.join('.gauntlet', 'gauntlet.db');

const T = tables('');

/**
 * Statements on one file from this process, one at a time: a transaction spans awaits, and better-sqlite3 waits for
 * another connection's lock by blocking the thread, so two store objects on one file must never interleave.
 */
const queues = new Map<string, Promise<unknown>>();

function serially<T>(file: string, f: () => T | Promise<T>): Promise<T> {
  const next = (queues.get(file) ?? Promise.resolve()).then(f, f) as Promise<T>;
  const tail = next.catch(() => undefined);
  queues.set(file, tail);
  void tail.then(() => queues.get(file) === tail && queues.delete(file));
  return next;
}

class SqliteBackend implements SqlBackend {
  private readonly statements = new Map<string, Database.Statement>();
  private readonly direct: Sql = {
    all: async <T>(sql: string, params: unknown[] = []) => this.prepare(sql).all(...params.map(bindable)) as T[],
    run: async (sql: string, params: unknown[] = []) => this.prepare(sql).run(...params.map(bindable)).changes,
  };

  constructor(
    readonly location: string,
    private readonly db: Database.Database,
  ) {}

  private prepare(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) this.statements.set(sql, (s = this.db.prepare(sql)));
    return s;
  }

  all<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]> {
    return serially(this.location, () => this.direct.all<T>(sql, params));
  }

  run(sql: string, params?: unknown[]): Promise<number> {
    return serially(this.location, () => this.direct.run(sql, params));
  }

  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    return serially(this.location, async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const out = await fn(this.direct);
        this.db.exec('COMMIT');
        return out;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw err;
      }
    });
  }

  isUniqueViolation(err: unknown): boolean {
    return /^SQLITE_CONSTRAINT_(UNIQUE|PRIMARYKEY)$/.test(String((err as { code?: unknown })?.code));
  }

  close(): Promise<void> {
    return serially(this.location, () => {
      if (this.db.open) this.db.close();
    });
  }
}

const bindable = (v: unknown) => (v === undefined ? null : v);

export class SqliteRunStore extends SqlRunStore {
  /** The SQLite file's absolute path. */
  get file(): string {
    return this.location;
  }

  /** Open (creating it and its folder when missing) and bring the file to the current schema. */
  static open(file: string = DEFAULT_STORE): SqliteRunStore {
    const abs = path.resolve(file);
    let db: Database.Database;
    try {
      fs.mkdirSync(path.dirname(abs), { recursive: true });
      db = new Database(abs);
    } catch (err) {
      throw new UsageError(`cannot open the run store ${abs}: ${(err as Error).message}`, 'pass --store <file|url> with a writable location');
    }
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 10000');
      db.pragma('synchronous = NORMAL');
      upgrade(db, abs);
      db.pragma('foreign_keys = ON');
    } catch (err) {
      db.close();
      if (err instanceof UsageError) throw err;
      throw new UsageError(`${abs} is not a gauntlet run store: ${(err as Error).message}`, 'pass --store <file|url> to use another one');
    }
    return new SqliteRunStore(new SqliteBackend(abs, db), '');
  }
}

/** The file's schema version: 0 when it has no gauntlet tables yet. */
function versionOf(db: Database.Database): number {
  if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get()) return 0;
  const row = db.prepare(getVersionSql(T)).get() as { value: string } | undefined;
  return row ? Number(row.value) : SCHEMA_VERSION;
}

/**
 * Create the schema, or migrate a v1 file to v2, in one transaction. Foreign keys must be off meanwhile (and can
 * only be turned off outside a transaction): rebuilding runs drops the old table, which would otherwise delete every
 * result, scenario, check and manual score that refers to it.
 */
function upgrade(db: Database.Database, abs: string): void {
  const seen = versionOf(db);
  if (seen === SCHEMA_VERSION) return;
  if (seen > SCHEMA_VERSION) throw newerSchema(abs, seen);
  db.pragma('foreign_keys = OFF');
  db.exec('BEGIN IMMEDIATE');
  try {
    const version = versionOf(db); // another process may have done it meanwhile
    if (version > SCHEMA_VERSION) throw newerSchema(abs, version);
    if (version === 1) {
      // v1 → v2: runs gains batch, job_id (UNIQUE, which ADD COLUMN cannot add) and machine, and its verdict CHECK
      // allows 'inconclusive' (a CHECK cannot be altered): the table is rebuilt with its rows, in their order.
      const cols = RUN_COLUMNS_V1.join(', ');
      db.exec(runsTableSql('sqlite', T, 'runs_v2'));
      db.exec(`INSERT INTO runs_v2 (${cols}) SELECT ${cols} FROM runs ORDER BY rowid`);
      db.exec('DROP TABLE runs');
      db.exec('ALTER TABLE runs_v2 RENAME TO runs');
      db.exec('ALTER TABLE submissions ADD COLUMN source TEXT');
    }
    if (version < SCHEMA_VERSION) {
      for (const s of schemaSql('sqlite', T)) db.exec(s);
      db.prepare(putVersionSql(T)).run(String(SCHEMA_VERSION));
    }
    const broken = db.pragma('foreign_key_check') as unknown[];
    if (broken.length) throw new Error(`${broken.length} row(s) refer to missing rows after the migration`);
    db.exec('COMMIT');
  } catch (err) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw err;
  }
}
