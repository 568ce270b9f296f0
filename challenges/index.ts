// The challenge registry: one line per challenge, in report order. A challenge is its folder (index.ts describing
// itself: scenarios, checks and the rubric items each feeds, operations, routes, contract, starter stub), its
// reference/ and fixtures/ folders, and one line here; nothing outside changes (test/new-challenge.test.ts proves it).

import type { ChallengeDef } from '../harness/scenario.ts';
import { withPipelineChecks } from '../harness/pipeline-checks.ts';

const registered: ChallengeDef[] = [
  (await import('./seat-reservation/index.ts')).default,
  (await import('./payment-webhook/index.ts')).default,
  (await import('./subscription/index.ts')).default,
  (await import('./notification-fanout/index.ts')).default,
  (await import('./subscription-reads/index.ts')).default,
];

/** Every challenge, its own checks followed by the pipeline's `loads` and `no-crash`. */
export const challenges: ChallengeDef[] = registered.map(withPipelineChecks);

export function findChallenge(id: string): ChallengeDef | undefined {
  return challenges.find((c) => c.id === id);
}

/** The contract file of every challenge: together with the common part, the `gauntlet` module. */
export const contractFiles = (): string[] => challenges.map((c) => c.contract);
