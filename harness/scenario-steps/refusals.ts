// A scenario whose connections PostgreSQL refused for want of free slots, while others held them, ran on a machine
// that could not run it as designed (CONTRACT §8): whatever it failed that is not a safety violation is
// `inconclusive`, not `failed`. connection-slots.ts decides whose fault the refusals were.

import type { ScenarioResult } from '../types.ts';
import type { ScenarioState } from './state.ts';
import type { Provisioned } from './provision.ts';
import { refusalExcuse, scenarioConnections } from '../infra/connection-slots.ts';
import { isSafety } from './analyse.ts';

export function excuseRefusals(s: ScenarioState, p: Provisioned | undefined, result: ScenarioResult): ScenarioResult {
  if (!p || result.status === 'passed' || result.status === 'inconclusive' || result.environmentError) return result;
  const refusals = [...p.proxy.refusals(), ...(p.replica?.proxy.refusals() ?? [])];
  const reason = refusalExcuse(refusals, p.slots.facts, scenarioConnections(s.o.instances));
  if (!reason) return result;
  const failed = result.checks.filter((c) => c.passed === false);
  // Two winners or a double charge is wrong whatever the server refused.
  if (failed.some((c) => isSafety(s.o.challenge, c.id))) return result;
  const what = failed.length ? ` Failed here: ${failed.map((c) => c.id).join(', ')}.` : result.error ? ` The scenario ended: ${result.error.split('\n')[0]}` : '';
  return { ...result, status: 'inconclusive', inconclusive: `${reason}${what}` };
}
