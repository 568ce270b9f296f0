// GradeChain's schedule with grade() replaced by a recorder: the next grade starts when the previous one's workloads
// are over (or it ended without saying so), gets the previous grade's end as `after`, and a grade that rejects
// neither stops the chain's bookkeeping nor goes unhandled.

import { describe, expect, it } from 'vitest';
import { GradeChain } from './grade-chain.ts';
import type { GradeOptions } from './grade.ts';
import type { GradeResult } from '../../rubric/result.ts';

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

function fakeGrades(plan: Record<string, { healsAfterMs?: number; endsAfterMs: number; rejects?: boolean }>) {
  const log: string[] = [];
  const afters = new Map<string, Promise<unknown>>();
  const gradeFn = async (o: GradeOptions): Promise<GradeResult> => {
    const id = o.submission;
    const p = plan[id];
    afters.set(id, o.after!);
    log.push(`start ${id}`);
    // Its first workload waits for the previous grade, as grade() does.
    await o.after;
    log.push(`workload ${id}`);
    if (p.healsAfterMs !== undefined) {
      await tick(p.healsAfterMs);
      log.push(`healed ${id}`);
      o.onWorkloadsOver!();
    }
    await tick(p.endsAfterMs);
    log.push(`end ${id}`);
    if (p.rejects) throw new Error(`${id}: PostgreSQL stopped`);
    return { submission: id } as GradeResult;
  };
  return { log, afters, gradeFn };
}

describe('GradeChain', () => {
  it('starts each grade when the previous one healed, and its workload after the previous one ended', async () => {
    const { log, gradeFn } = fakeGrades({ a: { healsAfterMs: 5, endsAfterMs: 40 }, b: { healsAfterMs: 5, endsAfterMs: 40 }, c: { healsAfterMs: 5, endsAfterMs: 10 } });
    const chain = new GradeChain(gradeFn);
    const results = [];
    for (const id of ['a', 'b', 'c']) results.push((await chain.next({ submission: id })).result);
    expect((await Promise.all(results)).map((r) => r.submission)).toEqual(['a', 'b', 'c']);
    await chain.idle();
    expect(log).toEqual(['start a', 'workload a', 'healed a', 'start b', 'end a', 'workload b', 'healed b', 'start c', 'end b', 'workload c', 'healed c', 'end c']);
  });

  it('starts the next grade when the previous one ended without healing (an error, a module that does not load)', async () => {
    const { log, gradeFn } = fakeGrades({ a: { endsAfterMs: 10 }, b: { healsAfterMs: 1, endsAfterMs: 1 } });
    const chain = new GradeChain(gradeFn);
    await chain.next({ submission: 'a' });
    await (await chain.next({ submission: 'b' })).result;
    expect(log).toEqual(['start a', 'workload a', 'end a', 'start b', 'workload b', 'healed b', 'end b']);
  });

  it('hands a rejected grade to its caller, and the next grade still runs after it', async () => {
    const { log, afters, gradeFn } = fakeGrades({ a: { healsAfterMs: 1, endsAfterMs: 20, rejects: true }, b: { healsAfterMs: 1, endsAfterMs: 1 } });
    const chain = new GradeChain(gradeFn);
    const a = (await chain.next({ submission: 'a' })).result;
    const b = (await chain.next({ submission: 'b' })).result;
    await expect(a).rejects.toThrow('a: PostgreSQL stopped');
    await expect(afters.get('b')).resolves.toBeUndefined();
    expect((await b).submission).toBe('b');
    expect(log.indexOf('workload b')).toBeGreaterThan(log.indexOf('end a'));
  });
});
