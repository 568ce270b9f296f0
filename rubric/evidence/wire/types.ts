// The evidence a scenario's recorded wire gives the rubric (ScenarioResult.wire): what the candidate's code was
// seen doing to PostgreSQL and Redis, each finding quoting the statements (instance, connection, time) and,
// where the statements could be tied to a call, the call.

import type { IndexEvidence } from '../sql/explain.ts';

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
