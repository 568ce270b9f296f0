// runPlan's schedule, with the runner's steps replaced by recorders: the next scenario is prepared only once the
// current one healed (never beside a scenario a reference run follows), its progress is held until its start, the
// results come back in plan order, and a scenario prepared ahead of a grade that ends early is discarded, not run.

import { describe, expect, it } from 'vitest';
import { runPlan, type PipelineHooks, type PlanItem } from './scenario-pipeline.ts';
import type { PreparedScenario, ScenarioRunOptions } from '../scenario-runner.ts';
import type { ScenarioResult } from '../types.ts';
import type { ChallengeDef, ScenarioDef } from '../scenario.ts';

const challenge = { id: 'c' } as ChallengeDef;
const item = (id: string): PlanItem => ({ challenge, scenario: { id } as ScenarioDef });
const result = (id: string): ScenarioResult => ({ id, status: 'passed', checks: [], metrics: {} as ScenarioResult['metrics'] });

function recorder(o: { referenceAfter?: string[]; failRun?: string; failPrepare?: string } = {}) {
  const log: string[] = [];
  const heal = new Map<string, () => void>();
  const hooks: PipelineHooks = {
    async optionsFor(it, progress, onHealed) {
      log.push(`options ${it.scenario.id}${onHealed ? '' : ' (no overlap)'}`);
      if (onHealed) heal.set(it.scenario.id, onHealed);
      return { scenario: it.scenario, progress } as unknown as ScenarioRunOptions;
    },
    mayRunReference: (it) => !!o.referenceAfter?.includes(it.scenario.id),
    onStart: (it) => log.push(`start ${it.scenario.id}`),
    onProgress: (it, m) => log.push(`progress ${it.scenario.id}: ${m}`),
    onEnd: (it) => log.push(`end ${it.scenario.id}`),
    steps: {
      async prepare(opts) {
        log.push(`prepare ${opts.scenario.id}`);
        if (opts.scenario.id === o.failPrepare) throw new Error('could not create the scenario database');
        opts.progress('creating database');
        return { s: { o: opts } } as unknown as PreparedScenario;
      },
      async run(p) {
        const id = p.s.o.scenario.id;
        log.push(`workload ${id}`);
        heal.get(id)?.();
        await new Promise((r) => setTimeout(r, o.failPrepare ? 80 : 20)); // the settle, final reads and teardown
        if (id === o.failRun) throw new Error('PostgreSQL stopped');
        log.push(`finished ${id}`);
        return result(id);
      },
      async discard(p) {
        log.push(`discard ${p.s.o.scenario.id}`);
      },
    },
  };
  return { log, hooks };
}

describe('runPlan', () => {
  it('prepares the next scenario when the current one heals, holding its progress until its start', async () => {
    const { log, hooks } = recorder();
    const results = await runPlan([item('a'), item('b'), item('c')], hooks);
    expect(results.map((r) => r.id)).toEqual(['a', 'b', 'c']);
    expect(log).toEqual([
      'start a', 'options a', 'prepare a', 'progress a: creating database', 'workload a',
      'options b', 'prepare b', 'finished a', 'end a',
      'start b', 'progress b: creating database', 'workload b',
      'options c (no overlap)', 'prepare c', 'finished b', 'end b',
      'start c', 'progress c: creating database', 'workload c', 'finished c', 'end c',
    ]);
  });

  it('prepares nothing beside a scenario a benchmark-reference run may follow', async () => {
    const { log, hooks } = recorder({ referenceAfter: ['a'] });
    await runPlan([item('a'), item('b')], hooks);
    expect(log.slice(0, 8)).toEqual(['start a', 'options a (no overlap)', 'prepare a', 'progress a: creating database', 'workload a', 'finished a', 'end a', 'start b']);
  });

  it('discards a scenario prepared ahead when the grade ends early, and never runs it', async () => {
    const { log, hooks } = recorder({ failRun: 'b' });
    await expect(runPlan([item('a'), item('b'), item('c')], hooks)).rejects.toThrow('PostgreSQL stopped');
    expect(log).toContain('prepare c');
    expect(log).not.toContain('workload c');
    expect(log).not.toContain('start c');
    expect(log.filter((l) => l.startsWith('discard'))).toEqual(['discard c']);
  });

  it('a scenario whose preparation fails ahead of its turn fails the grade at its turn, never as an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const { log, hooks } = recorder({ failPrepare: 'b' });
      await expect(runPlan([item('a'), item('b'), item('c')], hooks)).rejects.toThrow('could not create the scenario database');
      // a's settle (80 ms) outlasts b's failed preparation: the rejection waited, handled, for b's turn.
      expect(log).toEqual(['start a', 'options a', 'prepare a', 'progress a: creating database', 'workload a', 'options b', 'prepare b', 'finished a', 'end a', 'start b']);
      await new Promise((r) => setTimeout(r, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('tells the grade when its last scenario healed (the next grade may start there), unless a reference run may follow it', async () => {
    for (const referenceAfter of [[], ['b']]) {
      const { log, hooks } = recorder({ referenceAfter });
      hooks.onLastHealed = () => log.push('last healed');
      await runPlan([item('a'), item('b')], hooks);
      if (referenceAfter.length) expect(log).not.toContain('last healed');
      else expect(log.slice(-4)).toEqual(['workload b', 'last healed', 'finished b', 'end b']);
    }
  });
});
