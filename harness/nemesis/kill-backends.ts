// Fault: terminate every PostgreSQL backend of the candidate's role (pg_terminate_backend), the way a failover
// or an admin does, so a pool must survive connections that die mid-transaction (CONTRACT §8).

import pg from 'pg';

export interface KilledBackends {
  /** Backends that were signalled. */
  killed: number;
  /** How many of them were in each state (`active`, `idle in transaction`, `idle` ...) when killed. */
  byState: Record<string, number>;
}

/**
 * Terminate the role's client backends, busiest first (`idle in transaction`, then `active`, then the rest): all
 * of them are killed, the order only matters for a transaction that commits while the query runs.
 */
export async function terminateBackends(adminUrl: string, role: string): Promise<KilledBackends> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {}); // the admin connection itself must never crash the harness
  await client.connect();
  try {
    const { rows } = await client.query<{ state: string | null; killed: boolean }>(
      `SELECT coalesce(state, 'unknown') AS state, pg_terminate_backend(pid) AS killed
         FROM (SELECT pid, state FROM pg_stat_activity
                WHERE usename = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'
                ORDER BY CASE state WHEN 'idle in transaction' THEN 0 WHEN 'active' THEN 1 ELSE 2 END) AS b`,
      [role],
    );
    const byState: Record<string, number> = {};
    let killed = 0;
    for (const row of rows) {
      if (!row.killed) continue;
      killed++;
      const state = row.state ?? 'unknown';
      byState[state] = (byState[state] ?? 0) + 1;
    }
    return { killed, byState };
  } finally {
    await client.end().catch(() => {});
  }
}

/** Terminate every backend of `role`; returns how many were terminated. */
export async function killBackends(adminUrl: string, role: string): Promise<number> {
  return (await terminateBackends(adminUrl, role)).killed;
}
