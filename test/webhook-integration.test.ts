// Every payment-webhook reference passes every check and every webhook fixture fails the check it names, each on
// three seeds, through the real pipeline (the same code as `gauntlet self-test`), on real PostgreSQL and Redis.

import { expect } from 'vitest';
import { describeReferencesAndFixtures } from './self-test-cases.ts';

describeReferencesAndFixtures('payment-webhook', {
  minReferences: 2,
  minFixtures: 7,
  caseTimeoutMs: 240_000,
  inventory(cases) {
    // The fixtures cover every webhook check, and one shows a bug that only several instances reveal.
    const fixtures = cases.filter((c) => c.kind === 'fixture');
    const named = new Set(fixtures.flatMap((c) => c.expect!.mustFail));
    for (const id of ['one-subscription-per-payment', 'duplicates-acknowledged', 'no-state-regression', 'signature-enforced', 'poison-dead-lettered', 'eventually-processed', 'notification-exactly-once']) expect(named).toContain(id);
    expect(fixtures.some((c) => c.expect!.passesWithInstances === 1)).toBe(true);
  },
});
