// The infra layer's public shapes: where PostgreSQL and Redis came from, a scenario's own database and
// Redis namespace, and the doctor report. Implementations live in the sibling files.

/** The PostgreSQL server gauntlet administers (creates a role and a database per scenario on it). */
export interface PostgresSource {
  /** An admin URL (superuser, or CREATEROLE + CREATEDB) to the maintenance database. */
  adminUrl: string;
  source: 'env' | 'local' | 'embedded';
  /** e.g. `15.20`. */
  version: string;
  host: string;
  port: number;
  /** Stops the embedded server and removes its temp folder; a no-op for env and local servers. Idempotent. */
  close(): Promise<void>;
}

/** The Redis server scenarios get namespaces (logical databases 1..15) on. */
export interface RedisSource {
  url: string;
  source: 'env' | 'local' | 'spawned';
  /** e.g. `7.0.15`. */
  version: string;
  host: string;
  port: number;
  /** Stops a spawned redis-server and removes its temp folder; a no-op otherwise. Idempotent. */
  close(): Promise<void>;
}

export interface Infra {
  postgres: PostgresSource;
  /** null when no Redis could be had; grading continues without it. */
  redis: RedisSource | null;
  /** Why there is no Redis and what to do about it (set when `redis` is null). */
  redisProblem?: string;
  /**
   * A primary + streaming standby pair for challenges that read from a replica: started on first call (a few
   * seconds), the same one after; stopped by close(). Absent where the infrastructure was put together by hand.
   */
  replicaPair?(): Promise<import('./replica-pair.ts').ReplicaPair>;
  /** Drops every scenario database and releases every namespace still held, then stops what we started. */
  close(): Promise<void>;
}

/** A scenario's own, empty database, owned by its own unprivileged role. */
export interface ScenarioDatabase {
  /** The role's own URL, direct to PostgreSQL (what the candidate gets as `databaseUrl`). */
  url: string;
  host: string;
  port: number;
  database: string;
  role: string;
  password: string;
  /** The admin account's URL pointing at this scenario's database (for nemesis faults and inspection). */
  adminUrl: string;
  /** Terminates the role's sessions, drops the database and the role. Idempotent. */
  drop(): Promise<void>;
}

/** A scenario's own, empty Redis logical database, held by a lock in DB 0 while claimed. */
export interface RedisNamespace {
  /** The Redis URL with this namespace's database index as its path (`redis://host:port/<db>`). */
  url: string;
  db: number;
  /** Flushes the database and gives the lock back. Idempotent; quiet if the server is already gone. */
  release(): Promise<void>;
}

export type DoctorStatus = 'ok' | 'missing' | 'info';

/** One line of the doctor report. */
export interface DoctorItem {
  status: DoctorStatus;
  /** What was checked, e.g. `PostgreSQL`, `redis-server on PATH`. */
  label: string;
  detail: string;
  /** What to do about it (set for `missing`). */
  fix?: string;
}

export interface DoctorReport {
  /** True when grading can run: some PostgreSQL is usable (Redis is optional). */
  ok: boolean;
  /** What `acquireInfra` would use now; null when it would fail. */
  postgres: { source: PostgresSource['source'] | null; url?: string; version?: string };
  /** What `acquireInfra` would use now; null when grading would run without Redis. */
  redis: { source: RedisSource['source'] | null; url?: string; version?: string };
  embedded: { present: boolean; version?: string; binDir?: string; runAs?: string; started?: boolean; problem?: string };
  redisServerBinary: { path: string | null; version?: string };
  /** Whether instances get a network namespace of their own here (instances/netns.ts), and if not, why. */
  network: { contained: boolean; how?: string; reason?: string };
  /** How a burst's release loop runs here: real-time (root or CAP_SYS_NICE), a raised nice, or normal. */
  burstPriority: 'realtime' | 'high' | 'normal';
  items: DoctorItem[];
}
