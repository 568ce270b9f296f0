// Entry point of the background evidence reader (./background.ts): argv[2] is `{ submission, modules }`;
// prints the evidence as JSON on stdout and exits.

import { gatherEvidence } from './index.ts';

const { submission, modules } = JSON.parse(process.argv[2] ?? '{}') as { submission: string; modules: string[] };
const evidence = await gatherEvidence(submission, modules ?? []);
process.stdout.write(JSON.stringify(evidence));
