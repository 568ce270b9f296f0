// The run store's entry point: openStore(spec) opens a PostgreSQL store for a `postgres://` or `postgresql://` URL
// (postgres-store.ts, one store shared by a fleet) and a SQLite file otherwise (store.ts). Both implement the
// RunStore interface of types.ts.

import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_STORE, SqliteRunStore } from './store.ts';
import { NoRunStoreError } from './sql-store.ts';
import type { RunStore } from './types.ts';

export type { RecordExtras, RunRow, RunStore, WriteHooks } from './types.ts';
export { DEFAULT_STORE } from './store.ts';
export { NoRunStoreError, PG_SCHEMA, SCHEMA_VERSION } from './sql-store.ts';

/** Whether a --store value names a PostgreSQL store (a URL) rather than a SQLite file. */
export function isStoreUrl(spec: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(spec.trim());
}

/**
 * 'postgres://…' or 'postgresql://…' → PostgreSQL; anything else is a SQLite file path. mustExist: reading commands
 * create nothing (no SQLite file, no PostgreSQL schema): a NoRunStoreError (a UsageError) says so instead.
 */
export async function openStore(spec: string = DEFAULT_STORE, o: { mustExist?: boolean } = {}): Promise<RunStore> {
  if (isStoreUrl(spec)) {
    const { PostgresRunStore } = await import('./postgres-store.ts');
    return PostgresRunStore.open(spec.trim(), o);
  }
  if (o.mustExist && !fs.existsSync(spec)) throw new NoRunStoreError(path.resolve(spec), `no run store at ${path.resolve(spec)}`, 'runs are recorded there by gauntlet grade; pass --store <file|url> if you recorded them elsewhere');
  return SqliteRunStore.open(spec);
}
