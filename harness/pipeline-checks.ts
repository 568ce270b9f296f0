// The checks the pipeline itself runs in every scenario of every challenge — `loads` and `no-crash` — described
// once here; the registry adds them to each challenge's own checks (a challenge may reword why and hint).

import type { ChallengeDef, CheckInfo } from './scenario.ts';

export const PIPELINE_CHECKS: CheckInfo[] = [
  {
    id: 'loads',
    // Feeds no item by itself: a challenge whose module never loaded earns nothing from its measures either.
    rubric: [],
    summary: 'The module loads, setup succeeds and create(ctx) resolves on every instance.',
    why: 'Nothing else can be judged otherwise.',
    hint: 'Run gauntlet grade --profile quick and read the instance log under the run folder.',
  },
  {
    id: 'no-crash',
    rubric: ['error-recovery', 'error-handling', 'error-handling-code'],
    redFlag: 'no-error-handling',
    safety: true,
    summary: 'No instance process died on its own (uncaught exception, unhandled rejection, process.exit).',
    why: 'A crashing instance drops every request it was serving.',
    hint: 'Handle errors of every promise; give pooled clients an error listener; never exit from a request handler.',
  },
];

export const PIPELINE_CHECK_IDS = PIPELINE_CHECKS.map((c) => c.id);

/** A challenge's checks followed by the pipeline's, reworded where the challenge says so. */
export function withPipelineChecks(def: ChallengeDef): ChallengeDef {
  const own = def.checks.filter((c) => !PIPELINE_CHECK_IDS.includes(c.id));
  const pipeline = PIPELINE_CHECKS.map((c) => ({ ...c, ...(def.pipelineCheckNotes?.[c.id as 'loads' | 'no-crash'] ?? {}) }));
  return { ...def, checks: [...own, ...pipeline] };
}
