// Every seat reference passes every check and every seat fixture fails the check it names, each on three
// seeds, through the real pipeline (the same code as `gauntlet self-test`), on real PostgreSQL and Redis.

import { describeReferencesAndFixtures } from './self-test-cases.ts';

describeReferencesAndFixtures('seat-reservation', { minReferences: 5, minFixtures: 8, caseTimeoutMs: 240_000 });
