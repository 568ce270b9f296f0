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
import { interrupted } from './cleanup.ts';
import { probePostgres } from './infra/pg-admin.ts';
import { openScenario, resultOf, tearDown, type ScenarioState } from './scenario-steps/state.ts';
import type { Provisioned } from './scenario-steps/provision.ts';
import { provision } from './scenario-steps/provision.ts';
import { startInstances } from './scenario-steps/start.ts';
import { runWorkload, settle } from './scenario-steps/workload.ts';
import { analyse } from './scenario-steps/analyse.ts';
import { excuseRefusals } from './scenario-steps/refusals.ts';

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
  /** A step of the run; a `notice` (a wait the user should know of) is also said on a line of its own where stderr is no terminal. */
  progress(message: string, notice?: boolean): void;
  signal?: AbortSignal;
  /**
   * The grade's teardowns still running. When given, a scenario's teardown (stopping its instances, dropping its
   * database, releasing its Redis) finishes in the background once its result is known: the next scenario
   * provisions and starts its instances meanwhile and waits for it before its workload. Without it, the teardown
   * is over when runScenario returns.
   */
  teardowns?: Teardowns;
  /**
   * Called once, when the workload is over and every fault is healed (the settle begins): from then on nothing of
   * this scenario is timed, so the grade may provision and start the next scenario beside its settle, final reads
   * and teardown. Its workload still waits for this teardown.
   */
  onHealed?(): void;
}

/**
 * Teardowns that outlive their scenario's result. Each is awaited before the next workload (`drain`), so no
 * workload ever runs beside another scenario's processes, and by the grade before it returns or gives up.
 */
export class Teardowns {
  private readonly pending = new Set<Promise<void>>();

  add(p: Promise<void>): void {
    const tracked = p.catch(() => {}).finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  async drain(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }
}

/**
 * Runs the scenario, then makes sure PostgreSQL is still there: a server that stopped during the run makes its
 * results meaningless, so the run ends as an InfraError (exit 3), not as the candidate's failure (or pass).
 */
export async function runScenario(o: ScenarioRunOptions): Promise<ScenarioResult> {
  return runPreparedScenario(await prepareScenario(o));
}

/**
 * A scenario provisioned and started (steps 1–2), its workload not begun. A grade prepares the next scenario while
 * the current one settles, reads and tears down (`onHealed`); whatever went wrong meanwhile is kept for the run.
 */
export interface PreparedScenario {
  readonly s: ScenarioState;
  readonly p?: Provisioned;
  /** The run ended at setup or start (a module that does not load, a missing method). */
  readonly early?: ScenarioResult;
  readonly error?: unknown;
}

/** Steps 1–2: provision, run setup, start the instances. A failure in them is kept for runPreparedScenario. */
export async function prepareScenario(o: ScenarioRunOptions): Promise<PreparedScenario> {
  const s = openScenario(o);
  // Interrupted (Ctrl-C): the cleanup is under way; provisioning now would only leak what it makes.
  const signal = interrupted();
  if (signal) return { s, error: new Error(`gauntlet was interrupted (${signal})`) };
  try {
    const p = await provision(s);
    const early = await startInstances(s, p.cluster);
    return early ? { s, p, early } : { s, p };
  } catch (err) {
    return { s, error: err };
  }
}

/**
 * The rest of the run (steps 3–5 and the teardown), then the PostgreSQL check of runScenario. `turnStarted`: when
 * the grade turned to this scenario (its duration counts from then when it was prepared before).
 */
export async function runPreparedScenario(prepared: PreparedScenario, turnStarted?: number): Promise<ScenarioResult> {
  if (turnStarted !== undefined) prepared.s.turnStarted = turnStarted;
  const result = await runScenarioSteps(prepared);
  const { o } = prepared.s;
  await assertPostgresUp(o.infra, `${o.challenge.id}/${o.scenario.id}`);
  return result;
}

/** A prepared scenario that will not run (the grade ended first): only its teardown. */
export async function discardPrepared(prepared: PreparedScenario): Promise<void> {
  await tearDown(prepared.s);
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
 * always — after a result, an early end, an error or an abort alike (in the background with `o.teardowns`). A step
 * that ends the run early returns its result; anything thrown is this scenario's `error` (an InfraError ends the
 * whole grade). Steps 1–2 ran in prepareScenario. However the run ended, connections a full server refused may make
 * it the machine's (scenario-steps/refusals.ts).
 */
async function runScenarioSteps(prepared: PreparedScenario): Promise<ScenarioResult> {
  const { s, p } = prepared;
  const { o } = s;
  try {
    return excuseRefusals(s, p, await stepsResult(prepared));
  } catch (err) {
    if (err instanceof InfraError) throw err;
    return excuseRefusals(s, p, resultOf(s, 'error', [], { error: `gauntlet could not run this scenario: ${(err as Error).message}` }));
  } finally {
    // Deferred: tearDown says 'cleaning up' at once (before the result is reported) and finishes in the background.
    if (o.teardowns) o.teardowns.add(tearDown(s));
    else await tearDown(s);
  }
}

/** Steps 3–5 of a prepared scenario, or how it ended early. */
async function stepsResult(prepared: PreparedScenario): Promise<ScenarioResult> {
  const { s, p } = prepared;
  if (prepared.error !== undefined) throw prepared.error;
  if (prepared.early) return prepared.early;
  // The previous scenario's teardown overlapped this one's provisioning and start; it is over before the workload.
  await s.o.teardowns?.drain();
  const work = await runWorkload(s, p!);
  if (!work.ok) return work.result;
  const settled = await settle(s, p!, work);
  return analyse(s, p!, work, settled);
}
