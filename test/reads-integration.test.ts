// Every subscription-reads reference passes every check and every reads fixture fails the check it names, through the
// real pipeline (the same code as `gauntlet self-test`), on a real primary + streaming standby with lag, a stopped
// replica, Redis down, a killed instance and a cache emptied under load.

import { describeReferencesAndFixtures } from './self-test-cases.ts';

describeReferencesAndFixtures('subscription-reads', { minReferences: 3, minFixtures: 9, caseTimeoutMs: 240_000 });
