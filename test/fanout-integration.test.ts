// Every notification-fanout reference passes every check and every fanout fixture fails the check it names, through
// the real pipeline (the same code as `gauntlet self-test`), with the channel providers, real PostgreSQL and Redis,
// bursts, outages and a killed instance.

import { describeReferencesAndFixtures } from './self-test-cases.ts';

describeReferencesAndFixtures('notification-fanout', { minReferences: 3, minFixtures: 8, caseTimeoutMs: 240_000 });
