// Every subscription reference passes every check and every subscription fixture fails the check it names, each on
// three seeds, through the real pipeline (the same code as `gauntlet self-test`), with the mock services, real
// PostgreSQL and killed instances.

import { describeReferencesAndFixtures } from './self-test-cases.ts';

describeReferencesAndFixtures('subscription', { minReferences: 2, minFixtures: 6, caseTimeoutMs: 240_000 });
