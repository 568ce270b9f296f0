// Which statements read no data of the application: a SELECT whose every table is PostgreSQL's own (pg_catalog,
// information_schema, pg_*) or that reads no table at all — a replica-lag check (`SELECT pg_current_wal_lsn()`,
// `SELECT … FROM pg_stat_replication`), a health check (`SELECT 1`). Checks that count a service's database reads
// (primary SELECTs per read, a cache hit ratio) leave these out: they are monitoring, not reads. A function the
// service could have defined to read its data (`SELECT get_plan($1)`, `FROM my_fn()`) keeps the SELECT a read: only
// PostgreSQL's own functions (pg_*, pg_catalog.*, a short list of built-ins) are monitoring. Uses the real PostgreSQL
// parser (libpg-query, through sql-parser.ts); memoised per text (a service sends few distinct texts).

import { parseSync, qualifiedName, sqlParserLoaded, walk } from './sql-parser.ts';

const cache = new Map<string, boolean>();
const CACHE_MAX = 2000;

const systemTable = (rv: { relname?: string; schemaname?: string }): boolean =>
  rv.schemaname === 'pg_catalog' || rv.schemaname === 'information_schema' || (!rv.schemaname && (rv.relname ?? '').startsWith('pg_'));

/** Built-in functions a lag or health check uses besides the pg_* ones (time, version, settings, arithmetic). */
const BUILTINS = new Set(['now', 'clock_timestamp', 'statement_timestamp', 'transaction_timestamp', 'timeofday', 'version', 'current_setting', 'current_database', 'txid_current', 'txid_current_if_assigned', 'txid_current_snapshot', 'extract', 'date_part', 'date_trunc', 'age', 'abs', 'round', 'floor', 'ceil', 'trunc', 'to_char', 'to_timestamp', 'inet_server_addr', 'inet_server_port']);

const systemFunction = (names: string[]): boolean => {
  const name = (names.at(-1) ?? '').toLowerCase();
  return (names.length > 1 && names[0] === 'pg_catalog') || (names.length === 1 && (name.startsWith('pg_') || BUILTINS.has(name)));
};

/**
 * True when `text` is one or more SELECTs that read only PostgreSQL's own tables or none, and call only its own
 * functions. False for anything else,
 * also a text that does not parse or a parser not loaded (`loadSqlParser()` of sql-parser.ts first): then it counts as a read.
 */
export function readsNoApplicationData(text: string): boolean {
  if (!sqlParserLoaded()) return false;
  const hit = cache.get(text);
  if (hit !== undefined) return hit;
  let answer = false;
  try {
    const stmts = (parseSync(text).stmts ?? []).map((s: { stmt?: unknown }) => s.stmt as Record<string, unknown> | undefined);
    if (stmts.length && stmts.every((s) => !!s && 'SelectStmt' in s)) {
      // Every table named anywhere (FROM, JOIN, subqueries, CTEs) and every function called.
      const tables: { relname?: string; schemaname?: string }[] = [];
      const functions: string[][] = [];
      walk(stmts, (type, node) => {
        if (type === 'RangeVar') tables.push(node as { relname?: string; schemaname?: string });
        if (type === 'FuncCall') functions.push(qualifiedName(node.funcname));
      });
      // A SELECT … INTO creates a table: not a read-only statement.
      answer = tables.every(systemTable) && functions.every(systemFunction) && !stmts.some((s) => !!(s!.SelectStmt as { intoClause?: unknown }).intoClause);
    }
  } catch {
    answer = false;
  }
  if (text.length <= 4096) {
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
    cache.set(text, answer);
  }
  return answer;
}
