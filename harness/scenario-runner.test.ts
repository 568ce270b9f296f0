// Teardowns: the teardowns that outlive their scenario's result are all awaited by drain(), including those added
// while it waits, and a failing one never throws out of drain() (its own steps report their errors).

import { describe, expect, it } from 'vitest';
import { Teardowns } from './scenario-runner.ts';

const later = (ms: number, log: string[], name: string, fail = false) =>
  new Promise<void>((resolve, reject) => setTimeout(() => (log.push(name), fail ? reject(new Error(name)) : resolve()), ms));

describe('Teardowns', () => {
  it('drain() resolves at once when nothing is pending', async () => {
    const t = new Teardowns();
    const started = performance.now();
    await t.drain();
    expect(performance.now() - started).toBeLessThan(50);
  });

  it('drain() waits for every pending teardown, a failing one included, without throwing', async () => {
    const t = new Teardowns();
    const log: string[] = [];
    t.add(later(60, log, 'slow'));
    t.add(later(10, log, 'failing', true));
    t.add(later(30, log, 'middle'));
    await t.drain();
    expect(log.sort()).toEqual(['failing', 'middle', 'slow']);
    // Settled ones are forgotten: a second drain has nothing to wait for.
    const started = performance.now();
    await t.drain();
    expect(performance.now() - started).toBeLessThan(50);
  });

  it('drain() also waits for a teardown added while it was waiting', async () => {
    const t = new Teardowns();
    const log: string[] = [];
    t.add(later(20, log, 'first').then(() => t.add(later(40, log, 'added-late'))));
    await t.drain();
    expect(log).toEqual(['first', 'added-late']);
  });
});
