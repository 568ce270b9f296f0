// When a failed check quotes an error that a popular client library raises with its default settings (Prisma's
// P2028, a Knex or node-postgres pool that ran dry, node-redis dropping commands in flight), the report names the
// library and its own setting: a client default that cannot survive the scenario is a lesson, not a mystery.
// The matrix in fixtures/stacks taught these (docs/candidates.md).

import type { CheckResult } from '../../types.ts';

interface LibraryNote {
  pattern: RegExp;
  library: string;
  note: string;
}

export const LIBRARY_NOTES: LibraryNote[] = [
  {
    pattern: /P2028|Unable to start a transaction in the given time/,
    library: 'Prisma',
    note: 'an interactive $transaction waits at most maxWait (2 s by default) for a connection and runs at most timeout (5 s): under a crowd raise transactionOptions: { maxWait, timeout } on the client',
  },
  {
    pattern: /P2034|write conflict or a deadlock/,
    library: 'Prisma',
    note: 'P2034 is a serialization failure or deadlock: the transaction did nothing and can be retried as a whole',
  },
  {
    pattern: /Knex: Timeout acquiring a connection/,
    library: 'Knex',
    note: 'the pool ran dry (acquireConnectionTimeout, 60 s): a transaction that is never committed or rolled back keeps its connection; end every knex.transaction on every path, and size pool.max for the instances you run',
  },
  {
    pattern: /SequelizeConnectionAcquireTimeoutError/,
    library: 'Sequelize',
    note: 'the pool ran dry (pool.acquire, 60 s): every transaction must end on every path, and pool.max must fit the load',
  },
  {
    pattern: /timeout exceeded when trying to connect|Connection terminated due to connection timeout/,
    library: 'node-postgres',
    note: 'pool.connect() gave up (connectionTimeoutMillis): clients checked out and never released drain the pool — release in finally, on every path',
  },
  {
    pattern: /SocketClosedUnexpectedlyError|ClientClosedError|The client is closed/,
    library: 'node-redis',
    note: 'node-redis rejects the commands in flight when its connection drops (ioredis resends them): retry an operation that is safe to repeat, with backoff',
  },
  {
    pattern: /CONNECTION_ENDED|CONNECTION_DESTROYED|CONNECT_TIMEOUT/,
    library: 'postgres.js',
    note: 'postgres.js waits longer after each failed connection attempt, counted pool-wide (up to 20 s): its backoff option bounds the wait, e.g. backoff: (n) => Math.random() * Math.min(1, 0.05 * 2 ** n)',
  },
];

/** The library notes a failed check's message or counterexample calls for (each at most once). */
export function libraryNotes(check: Pick<CheckResult, 'passed' | 'message' | 'counterexample'>): string[] {
  if (check.passed !== false) return [];
  let text = check.message;
  try {
    text += ' ' + JSON.stringify(check.counterexample ?? '').slice(0, 200_000);
  } catch {
    // a counterexample that cannot be serialised adds nothing
  }
  return LIBRARY_NOTES.filter((n) => n.pattern.test(text)).map((n) => `${n.library}: ${n.note}`);
}
