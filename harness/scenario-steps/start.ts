// Step 2 of a scenario run: the candidate's setup in its own process, then the instances, then whether the
// service they built has what the contract and the scenario need. A result here ends the run early.

import type { ScenarioState } from './state.ts';
import { notLoaded, resultOf } from './state.ts';
import type { Cluster } from '../instances/cluster.ts';
import type { ScenarioResult } from '../types.ts';
import { fail } from '../checkers/verdict.ts';

/** Setup, then every instance; null when the workload may run, otherwise the result that ends the scenario. */
export async function startInstances(s: ScenarioState, cluster: Cluster): Promise<ScenarioResult | null> {
  const { o } = s;
  o.progress('running setup');
  // The instances boot while setup runs; they load the module once it is done.
  cluster.prestart();
  const setup = await cluster.runSetup();
  // The setup instance is the first to import the module: a module that cannot be imported is said so.
  if (!setup.ok) return notLoaded(s, setup, 'setup(ctx) failed', true);
  o.progress(`starting ${o.instances} instances`);
  const start = await cluster.start();
  if (!start.ok) return notLoaded(s, start, 'create(ctx) failed', false);
  return missingMethods(s, cluster);
}

/** A method the contract requires is an error (`loads`); one only this scenario needs skips it (its checks score 0). */
function missingMethods(s: ScenarioState, cluster: Cluster): ScenarioResult | null {
  const absent = s.o.challenge.requiredMethods.filter((m) => !cluster.has(m));
  if (absent.length) {
    const msg = `create(ctx) returned a service without ${absent.map((m) => `${m}()`).join(', ')} (required by the contract; it has: ${cluster.capabilities().join(', ') || 'no methods'})`;
    return resultOf(s, 'error', [fail('loads', msg, { missing: absent, has: cluster.capabilities() })], { error: msg });
  }
  const missing = (s.o.scenario.requires ?? []).filter((m) => !cluster.has(m));
  if (missing.length) {
    return { ...resultOf(s, 'passed', []), skipped: `not implemented: ${missing.join(', ')} (optional; this scenario's checks score 0)` };
  }
  return null;
}
