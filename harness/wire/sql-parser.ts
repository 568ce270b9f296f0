// The real PostgreSQL parser (libpg-query), loaded once for the whole process, and a walk over the trees it returns.
// Everything that reads a candidate's SQL goes through here: the rubric's statement shapes (rubric/evidence/sql/
// shape.ts) and the checks that tell a monitoring query from a data read (catalog-reads.ts).

import { fingerprintSync, loadModule, parseSync } from 'libpg-query';

export { fingerprintSync, parseSync };

let loaded = false;
let loading: Promise<void> | null = null;

/** Load the parser's WASM module. Idempotent and safe to call concurrently; a failed load may be retried. */
export async function loadSqlParser(): Promise<void> {
  if (loaded) return;
  loading ??= loadModule().then(
    () => {
      // The first parse and fingerprint are slow (hundreds of ms, synchronous): pay for them here, not mid-run.
      parseSync('SELECT 1');
      fingerprintSync('SELECT 1');
      loaded = true;
    },
    (err: unknown) => {
      loading = null;
      throw err;
    },
  );
  return loading;
}

/** True once `loadSqlParser()` has finished: `parseSync` may be called. */
export function sqlParserLoaded(): boolean {
  return loaded;
}

// In libpg-query's JSON a Node-typed field is wrapped as { TypeName: {...fields} }; a field with a fixed struct type
// (InsertStmt.relation, onConflictClause, withClause, …) is the bare struct.

export type SqlNode = Record<string, unknown>;

export function isObj(v: unknown): v is SqlNode {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The node type and its fields when `v` is a wrapped node ({ UpdateStmt: {...} }), else null. */
export function asNode(v: unknown): [string, SqlNode] | null {
  if (!isObj(v)) return null;
  const keys = Object.keys(v);
  if (keys.length !== 1) return null;
  const k = keys[0];
  const inner = v[k];
  return /^[A-Z]/.test(k) && isObj(inner) ? [k, inner] : null;
}

/**
 * Visit every wrapped node under `value` (including `value` itself), depth first. `visit` returning false stops
 * the descent into that node; fields named in `skip` are not descended into.
 */
export function walk(value: unknown, visit: (type: string, node: SqlNode) => boolean | void, skip?: ReadonlySet<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, visit, skip);
    return;
  }
  if (!isObj(value)) return;
  const node = asNode(value);
  let fields: SqlNode = value;
  if (node) {
    if (visit(node[0], node[1]) === false) return;
    fields = node[1];
  }
  for (const [k, v] of Object.entries(fields)) {
    if (skip?.has(k)) continue;
    if (typeof v === 'object' && v !== null) walk(v, visit, skip);
  }
}

/** True when some wrapped node under `value` satisfies `pred` (the walk stops at the first). */
export function some(value: unknown, pred: (type: string, node: SqlNode) => boolean, skip?: ReadonlySet<string>): boolean {
  let found = false;
  walk(
    value,
    (type, node) => {
      if (found) return false;
      if (pred(type, node)) found = true;
      return !found;
    },
    skip,
  );
  return found;
}

/** The `sval` of a String node or of a bare String struct. */
export function stringValue(v: unknown): string | undefined {
  const n = asNode(v);
  const s = n && n[0] === 'String' ? n[1].sval : isObj(v) ? v.sval : undefined;
  return typeof s === 'string' ? s : undefined;
}

/** The parts of a qualified name list ([{String:{sval:'pg_catalog'}}, {String:{sval:'f'}}] → ['pg_catalog', 'f']). */
export function qualifiedName(names: unknown): string[] {
  return Array.isArray(names) ? names.map((n) => stringValue(n) ?? '') : [];
}
