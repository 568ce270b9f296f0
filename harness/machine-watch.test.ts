// The machine's fault is never the candidate's (CONTRACT §8): a starved harness turns failures that slowness can
// explain into `inconclusive`, never a safety violation; and the event-loop watch really measures a blocked loop.

import { describe, expect, it } from 'vitest';
import { inconclusiveReason, starvation, watchMachine, STARVED_LAG_MS } from './machine-watch.ts';
import { fail, pass, unknown } from './checkers/verdict.ts';

const quiet = { lagMaxMs: 40, lagP99Ms: 20, loadPerCore: 0.6 };
const starved = { lagMaxMs: STARVED_LAG_MS + 500, lagP99Ms: 900, loadPerCore: 3.2 };
const safety = (id: string) => id === 'single-winner';

describe('inconclusive', () => {
  it('a starved harness makes a liveness failure inconclusive, with the reason and what to do', () => {
    const reason = inconclusiveReason([pass('single-winner', ''), fail('definite-rejections', 'timeouts', {})], safety, starved);
    expect(reason).toMatch(/event loop froze for up to 1500 ms/);
    expect(reason).toMatch(/Grade again on a quieter machine/);
    expect(reason).toMatch(/Failed here: definite-rejections/);
  });

  it('never excuses a safety violation, a quiet machine, or an undecided check', () => {
    expect(inconclusiveReason([fail('single-winner', 'two winners', {}), fail('definite-rejections', 'x', {})], safety, starved)).toBeNull();
    expect(inconclusiveReason([fail('definite-rejections', 'x', {})], safety, quiet)).toBeNull();
    expect(inconclusiveReason([unknown('definite-rejections', 'x'), fail('no-lost-seats', 'x', {})], safety, starved)).toBeNull();
    expect(inconclusiveReason([pass('definite-rejections', '')], safety, starved)).toBeNull();
    expect(starvation(quiet)).toBeNull();
  });

  it('watchMachine measures a blocked event loop', async () => {
    const w = watchMachine();
    await new Promise((r) => setTimeout(r, 50));
    const until = Date.now() + 250;
    while (Date.now() < until) {
      // block the loop for 250 ms
    }
    await new Promise((r) => setTimeout(r, 50));
    const report = w.stop();
    expect(report.lagMaxMs).toBeGreaterThanOrEqual(200);
    expect(report.lagMaxMs).toBeLessThan(2000);
  });
});
