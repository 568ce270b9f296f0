// Inspects a scenario's database and Redis namespace right after the final reads, before teardown: the
// candidate's schema from the catalog (keys, unique constraints, indexes, foreign keys, scan counts), sessions
// left idle in a transaction, advisory locks still held, and Redis keys without an expiry. Bounded in time and
// never throws: a failed inspection is reported, not held against anyone.

import { Redis } from 'ioredis';
import { withPg } from '../../harness/infra/pg-admin.ts';
import type { ScenarioInspection, TableInfo } from './types.ts';

export interface InspectTarget {
  /** Admin URL on the scenario's database. */
  adminUrl: string;
  /** The candidate's role: its sessions are the ones judged. */
  role: string;
  /** The namespace's Redis URL (with its logical database), if the scenario had one. */
  redisUrl?: string | null;
}

/** Sessions idle in a transaction for at least this long after the system went quiet are reported. */
export const IDLE_IN_TRANSACTION_MIN_MS = 250;
const MAX_REDIS_KEYS = 20_000;
const BUDGET_MS = 5_000;

const TABLES_SQL = `
SELECT n.nspname AS schema, c.relname AS name, c.oid, c.reltuples::bigint AS rows,
       COALESCE(s.seq_scan, 0)::bigint AS seq_scans, COALESCE(s.idx_scan, 0)::bigint AS idx_scans
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
ORDER BY 1, 2`;

const INDEXES_SQL = `
SELECT i.indrelid AS table_oid, ic.relname AS name, i.indisunique AS unique, i.indisprimary AS primary,
       ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS columns
FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'`;

const FKEYS_SQL = `
SELECT c.conrelid AS table_oid, c.confrelid::regclass::text AS references,
       ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS columns
FROM pg_constraint c WHERE c.contype = 'f'`;

const IDLE_SQL = `
SELECT (EXTRACT(EPOCH FROM (clock_timestamp() - state_change)) * 1000)::int AS age_ms, left(query, 200) AS query
FROM pg_stat_activity
WHERE datname = current_database() AND usename = $1 AND state IN ('idle in transaction', 'idle in transaction (aborted)')
  AND clock_timestamp() - state_change >= $2::int * interval '1 millisecond'`;

const ADVISORY_SQL = `
SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database
WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()`;

async function inspectPostgres(t: InspectTarget): Promise<Omit<ScenarioInspection, 'redis'>> {
  return withPg(
    t.adminUrl,
    async (client) => {
      const tables = (await client.query(TABLES_SQL)).rows;
      const indexes = (await client.query(INDEXES_SQL)).rows;
      const fkeys = (await client.query(FKEYS_SQL)).rows;
      const idle = (await client.query(IDLE_SQL, [t.role, IDLE_IN_TRANSACTION_MIN_MS])).rows;
      const advisory = (await client.query(ADVISORY_SQL)).rows[0]?.n ?? 0;
      const infos: TableInfo[] = tables.map((r) => {
        const own = indexes.filter((i) => i.table_oid === r.oid);
        const pk = own.find((i) => i.primary);
        return {
          schema: r.schema,
          name: r.name,
          rows: Number(r.rows),
          primaryKey: pk ? pk.columns : null,
          unique: own.filter((i) => i.unique).map((i) => i.columns),
          indexes: own.map((i) => ({ name: i.name, columns: i.columns, unique: i.unique })),
          foreignKeys: fkeys.filter((f) => f.table_oid === r.oid).map((f) => ({ columns: f.columns, references: f.references })),
          seqScans: Number(r.seq_scans),
          indexScans: Number(r.idx_scans),
        };
      });
      return { tables: infos, idleInTransaction: idle.map((r) => ({ ageMs: r.age_ms, query: r.query })), advisoryLocks: advisory };
    },
    { connectTimeoutMs: 3000, queryTimeoutMs: 3000 },
  );
}

async function inspectRedis(url: string): Promise<ScenarioInspection['redis']> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 2000, commandTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null, connectionName: 'gauntlet-inspect' });
  client.on('error', () => {});
  try {
    await client.connect();
    let cursor = '0';
    const keys: string[] = [];
    do {
      const [next, batch] = await client.scan(cursor, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0' && keys.length < MAX_REDIS_KEYS);
    const pipeline = client.pipeline();
    for (const k of keys) pipeline.pttl(k);
    const ttls = keys.length ? ((await pipeline.exec()) ?? []) : [];
    const without = keys.filter((_, i) => ttls[i]?.[1] === -1);
    return { keys: keys.length, withoutTtl: without.length, sampleWithoutTtl: without.sort().slice(0, 10), truncated: cursor !== '0' };
  } finally {
    client.disconnect();
  }
}

export async function inspectScenario(t: InspectTarget): Promise<ScenarioInspection> {
  const empty: ScenarioInspection = { tables: [], idleInTransaction: [], advisoryLocks: 0, redis: null };
  let timer: NodeJS.Timeout | undefined;
  const budget = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the inspection took longer than ${BUDGET_MS} ms`)), BUDGET_MS);
  });
  try {
    const [pg, redis] = await Promise.race([Promise.all([inspectPostgres(t), t.redisUrl ? inspectRedis(t.redisUrl).catch(() => null) : Promise.resolve(null)]), budget]);
    return { ...pg, redis };
  } catch (err) {
    return { ...empty, error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}
