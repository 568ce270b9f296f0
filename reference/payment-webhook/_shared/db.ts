// Shared by the payment-webhook references (not a reference itself): statements with timeouts on pool clients that
// may die (an 'error' listener while checked out, a broken client destroyed, not reused), transactions, and the retry
// of transient database errors.
import type { AppContext } from 'gauntlet';
import type { Pool, PoolClient, QueryConfig, QueryResult } from 'pg';

type Log = AppContext['log'];

const QUERY_TIMEOUT_MS = 3_000;
const CONNECT_TIMEOUT_MS = 3_000;
const RETRY_BUDGET_MS = 5_000;

const ROLLED_BACK = new Set(['40001', '40P01', '57014', '53300', '55P03']);
const CONNECTION_LOST = new Set(['57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT']);
const CONNECTION_MESSAGE = /connection terminated|connection error|not queryable|query read timeout|timeout exceeded when trying to connect|socket hang up|server closed the connection|connection ended/i;

function isConnectionLoss(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return CONNECTION_LOST.has(e?.code ?? '') || CONNECTION_MESSAGE.test(e?.message ?? '');
}

function isTransient(err: unknown): boolean {
  return ROLLED_BACK.has((err as { code?: string })?.code ?? '') || isConnectionLoss(err);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Re-run on transient errors (capped exponential backoff, full jitter) within a budget. Every caller is idempotent. */
export async function withRetry<T>(log: Log, op: string, attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + RETRY_BUDGET_MS;
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (!isTransient(err) || Date.now() >= deadline) throw err;
      log('payment-webhook: retrying after a transient database error', { op, attempt: n, error: (err as Error).message });
      await sleep(Math.random() * Math.min(500, 20 * 2 ** n));
    }
  }
}

async function connect(pool: Pool): Promise<PoolClient> {
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const pending = pool.connect();
  try {
    return await Promise.race([
      pending,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          timedOut = true;
          reject(new Error('timeout exceeded when trying to connect'));
        }, CONNECT_TIMEOUT_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (timedOut) pending.then((c) => c.release(), () => {});
  }
}

export function run(client: PoolClient, text: string, values: unknown[]): Promise<QueryResult> {
  return client.query({ text, values, query_timeout: QUERY_TIMEOUT_MS } as QueryConfig);
}

/** A client with an 'error' listener while checked out; destroyed (not reused) if its connection broke. */
async function withClient<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await connect(pool);
  let broken: Error | undefined;
  const onError = (err: Error) => {
    broken ??= err;
  };
  client.on('error', onError);
  try {
    return await fn(client);
  } catch (err) {
    if (isConnectionLoss(err)) broken ??= err as Error;
    throw err;
  } finally {
    client.removeListener('error', onError);
    client.release(broken ?? false);
  }
}

export function query(pool: Pool, text: string, values: unknown[]): Promise<QueryResult> {
  return withClient(pool, (client) => run(client, text, values));
}

export async function transaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  return withClient(pool, async (client) => {
    await run(client, 'BEGIN', []);
    try {
      const result = await fn(client);
      await run(client, 'COMMIT', []);
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    }
  });
}
