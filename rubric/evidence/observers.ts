// The rubric's observers of a scenario (harness/evidence-types.ts ScenarioObservers): the wire tap the proxies feed
// and the inspection of the database and Redis after the run. The application hands them to the scenario runner,
// so the kernel records what the rubric judges without importing it.

import type { ScenarioObservers } from '../../harness/evidence-types.ts';
import { inspectScenario } from './database.ts';
import { createWireTap } from './wire/index.ts';

export const rubricObservers: ScenarioObservers = {
  wireTap: createWireTap,
  inspect: inspectScenario,
};
