// Runs one scenario end to end: a fresh database and Redis namespace, a fault proxy in front of PostgreSQL,
// the candidate's setup, N instances, the workload with its faults, healing, settling, final reads, then the
// checkers over the history. Always tears everything down, whatever happened.

import type { ScenarioObservers } from './evidence-types.ts';
import type { ChallengeDef, ScenarioDef } from './scenario.ts';
import type { ProfileName, ScenarioResult } from './types.ts';
import type { LaunchSpec } from './instances/instance-process.ts';
import type { Infra } from './infra/index.ts';
import type { Containment } from './instances/netns.ts';
import { InfraError } from './errors.ts';
import { probePostgres } from './infra/pg-admin.ts';
import { openScenario, resultOf, tearDown } from './scenario-steps/state.ts';
import { provision } from './scenario-steps/provision.ts';
import { startInstances } from './scenario-steps/start.ts';
import { runWorkload, settle } from './scenario-steps/workload.ts';
import { analyse } from './scenario-steps/analyse.ts';

export interface ScenarioRunOptions {
  infra: Infra;
  challenge: ChallengeDef;
  scenario: ScenarioDef;
  launch: LaunchSpec;
  /** Record every statement and Redis command (sql.jsonl, redis.jsonl); default true (off only to measure its cost). */
  capture?: boolean;
  /** What observes the scenario beyond its history (the rubric's wire tap and database inspection); none when absent. */
  observers?: ScenarioObservers;
  /** How instances are kept off the network (instances/netns.ts); open when not given. */
  containment?: Containment;
  runDir: string;
  seed: number;
  profile: ProfileName;
  instances: number;
  keep: boolean;
  /** Answer deadline: slower calls are measured as slow; a call is given up only when hung or at the hard limit. */
  callTimeoutMs: number;
  /** Hard limit on one call without a deadline of its own. */
  callHardLimitMs: number;
  startTimeoutMs: number;
  /** Quiet period before final reads. */
  settleMs: number;
  /** Hard budget for the workload; past it the scenario ends as `error`. */
  scenarioTimeoutMs: number;
  progress(message: string): void;
  signal?: AbortSignal;
}

/**
 * Runs the scenario, then makes sure PostgreSQL is still there: a server that stopped during the run makes its
 * results meaningless, so the run ends as an InfraError (exit 3), not as the candidate's failure (or pass).
 */
export async function runScenario(o: ScenarioRunOptions): Promise<ScenarioResult> {
  const result = await runScenarioSteps(o);
  await assertPostgresUp(o.infra, `${o.challenge.id}/${o.scenario.id}`);
  return result;
}

async function assertPostgresUp(infra: Infra, scenario: string): Promise<void> {
  const probe = await probePostgres(infra.postgres.adminUrl, 3000);
  if (probe.ok) return;
  const source = { env: 'PostgreSQL from DATABASE_URL', local: 'local PostgreSQL', embedded: 'embedded PostgreSQL' }[infra.postgres.source];
  const where = `${source} at ${infra.postgres.host}:${infra.postgres.port}`;
  throw new InfraError(
    `PostgreSQL stopped during the run: the ${where} no longer answers (${probe.reason}). Scenario ${scenario} and what came after cannot be graded; this is not the submission's failure.`,
    'make sure the PostgreSQL server stays up for the whole run (or let gauntlet use its embedded one), then grade again',
  );
}

/**
 * The pipeline, one step each (scenario-steps/): provision → start → workload → settle → analyse, and teardown
 * always — after a result, an early end, an error or an abort alike. A step that ends the run early returns its
 * result; anything thrown is this scenario's `error` (an InfraError ends the whole grade).
 */
async function runScenarioSteps(o: ScenarioRunOptions): Promise<ScenarioResult> {
  const s = openScenario(o);
  try {
    const p = await provision(s);
    const notStarted = await startInstances(s, p.cluster);
    if (notStarted) return notStarted;
    const work = await runWorkload(s, p);
    if (!work.ok) return work.result;
    const settled = await settle(s, p, work);
    return await analyse(s, p, work, settled);
  } catch (err) {
    if (err instanceof InfraError) throw err;
    return resultOf(s, 'error', [], { error: `gauntlet could not run this scenario: ${(err as Error).message}` });
  } finally {
    await tearDown(s);
  }
}
