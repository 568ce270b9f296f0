// Shared by the seat-reservation references (not a reference itself): statements and transactions on pool
// clients, each with a timeout, an 'error' listener while checked out, and a broken client destroyed, not reused.
import type { Pool, PoolClient, QueryConfig, QueryResult } from 'pg';
import { isSeatError } from './claims.ts';
import { isConnectionLoss } from './db-errors.ts';

const QUERY_TIMEOUT_MS = 3_000; // a blackholed connection must fail the attempt, not hang the call
const CONNECT_TIMEOUT_MS = 4_000; // the harness gives a call 10 s: fail an attempt early enough to retry it

/** pool.connect() with a deadline; a client that arrives after the deadline goes straight back. */
async function connect(pool: Pool): Promise<PoolClient> {
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const pending = pool.connect();
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(new Error('timeout exceeded when trying to connect'));
    }, CONNECT_TIMEOUT_MS);
  });
  try {
    return await Promise.race([pending, deadline]);
  } finally {
    clearTimeout(timer);
    if (timedOut) pending.then((client) => client.release(), () => {});
  }
}

export function exec(client: PoolClient, text: string, values: unknown[] = []): Promise<QueryResult> {
  return client.query({ text, values, query_timeout: QUERY_TIMEOUT_MS } as QueryConfig); // per-query read timeout (not in @types/pg)
}

/** A client checked out for `use`: an 'error' listener meanwhile; destroyed, not reused, if its connection broke. */
export async function withClient<T>(pool: Pool, use: (client: PoolClient, markBroken: (err: Error) => void) => Promise<T>): Promise<T> {
  const client = await connect(pool);
  let broken: Error | undefined;
  const onError = (err: Error) => {
    broken ??= err;
  };
  client.on('error', onError);
  try {
    return await use(client, onError);
  } catch (err) {
    if (isConnectionLoss(err)) broken ??= err as Error;
    throw err;
  } finally {
    client.removeListener('error', onError);
    client.release(broken);
  }
}

/** One statement on its own client. */
export function query(pool: Pool, text: string, values: unknown[]): Promise<QueryResult> {
  return withClient(pool, (client) => exec(client, text, values));
}

/**
 * `begin` … COMMIT on a checked-out client. A business rejection thrown by `work` is committed, then rethrown (its
 * read is only trustworthy once committed, which matters under SERIALIZABLE); any other failure rolls back.
 */
export async function inTransaction<T>(client: PoolClient, markBroken: (err: Error) => void, begin: string, work: () => Promise<T>): Promise<T> {
  try {
    await exec(client, begin);
    let result: T | undefined;
    let rejection: unknown;
    try {
      result = await work();
    } catch (err) {
      if (!isSeatError(err)) throw err;
      rejection = err;
    }
    await exec(client, 'COMMIT');
    if (rejection !== undefined) throw rejection;
    return result as T;
  } catch (err) {
    // After a lost connection the server rolls back by itself (and the client is destroyed on release).
    // A ROLLBACK that fails leaves the connection in an unknown state: destroy it rather than reuse it.
    if (!isSeatError(err) && !isConnectionLoss(err)) await exec(client, 'ROLLBACK').catch(markBroken);
    throw err;
  }
}
