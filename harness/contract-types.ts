// The contract's common part (CONTRACT §2), exactly as candidates write against it: the context every module gets,
// and the base of the error classes that carry a contract code. Each challenge adds its own types and error
// classes in challenges/<id>/contract.ts; together they are the `gauntlet` module (harness/gauntlet-module.ts).

import type { Pool } from 'pg';
import type { Redis } from 'ioredis';

export type ScenarioData = Record<string, unknown>;

export interface AppContext {
  instance: number;
  databaseUrl: string;
  redisUrl: string;
  pg: Pool;
  redis: Redis;
  /** subscription-reads: a hot standby streaming from the primary ('' in other challenges). */
  replicaUrl: string;
  /** subscription-reads: a ready pool on replicaUrl (read-only; in other challenges every use throws). */
  replica: Pool;
  /** Base URLs of the mock services (CONTRACT §4); email, sms and push are the channel providers (notification-fanout). */
  services: { payments: string; notifications: string; inventory: string; email: string; sms: string; push: string };
  webhookSecret: string;
  log(message: string, fields?: Record<string, unknown>): void;
}

export interface SetupContext extends AppContext {
  scenario: ScenarioData;
}

/** An Error with a contract code (CONTRACT §3); submissions may also reject with any Error that has a `code`. */
export class GauntletCodeError extends Error {
  constructor(readonly code: string, message?: string) {
    super(message ?? code);
    this.name = new.target.name;
  }
}
