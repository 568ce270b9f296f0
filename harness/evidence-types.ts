// What a scenario observed besides its history, in the shape the result carries it (ScenarioResult.inspection and
// .wire): the database and Redis as left after the run, and what the recorded wire shows the code doing. The kernel
// owns the shapes and the moment of observation; the rubric (rubric/evidence/) fills them in through the observers
// the application hands the scenario runner, and judges them. The kernel itself never reads them.

import type { AttemptRecord } from './services/types.ts';
import type { Op } from './types.ts';
import type { SqlRecord } from './wire/pg-wire.ts';
import type { RedisRecord } from './wire/redis-records.ts';

export interface TableInfo {
  schema: string;
  name: string;
  /** Estimated rows (pg_class.reltuples, -1 when never analysed). */
  rows: number;
  primaryKey: string[] | null;
  /** Unique constraints and unique indexes (column lists). */
  unique: string[][];
  /** Every index: name, columns in order, unique. */
  indexes: { name: string; columns: string[]; unique: boolean }[];
  foreignKeys: { columns: string[]; references: string }[];
  seqScans: number;
  indexScans: number;
}

/** The scenario database and Redis namespace right after the final reads, before teardown. */
export interface ScenarioInspection {
  /** Set when the inspection itself failed (it never fails the scenario). */
  error?: string;
  tables: TableInfo[];
  /** Sessions of the candidate's role left idle inside an open transaction after the system went quiet. */
  idleInTransaction: { ageMs: number; query: string }[];
  /** Advisory locks still held after the run. */
  advisoryLocks: number;
  redis: { keys: number; withoutTtl: number; sampleWithoutTtl: string[]; truncated: boolean } | null;
}

export interface UnindexedScan {
  table: string;
  /** Rows in the table now (exact count when cheap: count(*) with a 500 ms budget, else pg_class.reltuples). */
  rows: number;
  /** The statement (whitespace collapsed, ≤ 300 chars). */
  sql: string;
  /** How many times it ran (all statements of the same shape). */
  count: number;
  /**
   * Of those, how many were sent before the grader began reading the final state (the service's own traffic, its
   * workers included); 0: only the final reads and the settle's polls sent it (an occasional listing, such as the
   * dead letters). Absent when the scenario had no final reads to tell them apart.
   */
  workloadCount?: number;
  /** The plan node's Filter text, e.g. "(status = 'pending'::text)". */
  filter: string;
}

export interface IndexEvidence {
  /** Statements EXPLAINed (distinct shapes with a predicate). */
  checked: number;
  /** Of those, how many every table access could use an index for. */
  indexed: number;
  scans: UnindexedScan[];
  /** Statements that could not be EXPLAINed, with why (bad params, timeout, permission); never held against anyone. */
  skipped: { sql: string; reason: string }[];
}

export interface WireFinding {
  /** What is wrong, in one sentence. */
  what: string;
  /** The statements that show it, one line each: `instance 2 · conn 14 · 1234.56 ms  UPDATE … → UPDATE 1`. */
  statements: string[];
  /** The call that sent them, when known: `op 17 reserve {"seatId":"s-1","userId":"u-7"} → ok`. */
  op?: string;
}

/** One kind of finding: how many times it was seen, and the first few in full. */
export interface FindingList {
  count: number;
  examples: WireFinding[];
}

export interface ScenarioWireEvidence {
  /** Statements and units of work recorded from the candidate's instances (setup excluded). */
  statements: number;
  units: number;
  /** Units not analysed because the recording was past its bound. */
  dropped: number;
  /** Calls of the history whose statements were found on the wire. */
  attributedOps: number;
  /** One call's writes committed as two or more separate autocommit statements, to different tables. */
  splitWrites: FindingList;
  /** Transaction control that landed on the wrong connection: COMMIT with no transaction in progress, BEGIN inside one. */
  poolMixups: FindingList;
  /** Statements sent into a transaction that had already failed (SQLSTATE 25P02). */
  failedTransactionWrites: FindingList;
  /** A transaction a call opened, left idle and open a second or more after the call answered. */
  outlivedCall: FindingList;
  /** One call read a table, then wrote it by key alone, each in autocommit (check-then-act). */
  checkThenAct: FindingList;
  /** A call answered ok while a write it sent failed and was never sent again. */
  swallowed: FindingList;
  /** The scenario's injection probes found in SQL text outside any string literal. */
  injection: FindingList;
  /** Concurrency-control techniques seen on the wire, with how many statements used each. */
  techniques: { technique: string; count: number; example: string }[];
  /** Transient errors (serialization failures, deadlocks, killed backends) and how many were followed by a retry. */
  transientErrors: {
    count: number;
    retried: number;
    example?: string;
    /** Of those, serialization failures and deadlocks (40001, 40P01): retrying them is the only correct answer. */
    serialization: number;
    serializationRetried: number;
    serializationExample?: string;
  };
  /** Redis locks seen: SET … NX with an expiry, and how they were released. */
  redisLocks: { acquired: number; withoutExpiry: number; releasedByDel: number; releasedByScript: number; example?: string } | null;
  /** Distinct predicates EXPLAINed against the final database; null when not checked. */
  indexes: IndexEvidence | null;
}

/** Records what the proxies see during a scenario and analyses it afterwards (rubric/evidence/wire). */
export interface WireTap {
  sql(r: SqlRecord): void;
  redis(r: RedisRecord): void;
  /** Analyse what was recorded. Never throws. */
  analyse(o: { ops: Op[]; attempts?: readonly AttemptRecord[]; probes?: string[]; adminUrl?: string; role?: string }): Promise<ScenarioWireEvidence | { error: string }>;
}

/** How a scenario is observed beyond its history; the application passes the rubric's observers. */
export interface ScenarioObservers {
  /** A tap for the statements and Redis commands the proxies decode (one per scenario). */
  wireTap?(): WireTap;
  /** The database and Redis namespace after the final reads, before teardown. Never throws. */
  inspect?(target: { adminUrl: string; role: string; redisUrl?: string }): Promise<ScenarioInspection>;
}
