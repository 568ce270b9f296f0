// The evidence a scenario's recorded wire gives the rubric (ScenarioResult.wire). The types live with the kernel's
// result types (harness/evidence-types.ts), which carry them; the rubric fills them in.

export type { FindingList, ScenarioWireEvidence, WireFinding } from '../../../harness/evidence-types.ts';
