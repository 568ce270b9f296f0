// The release loop's priority: real-time while raised where the harness may take it (root here), back to the
// normal policy and the same nice afterwards; never an error where it may not.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { prioritySettled, raiseForRelease } from './release-priority.ts';

const policyOf = (pid: number): string => execFileSync('chrt', ['--pid', String(pid)], { encoding: 'utf8' }).split('\n')[0];
const hasChrt = (() => {
  try {
    execFileSync('chrt', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const mayBeRealtime = hasChrt && process.platform === 'linux' && process.getuid?.() === 0;

describe('raiseForRelease', () => {
  it.runIf(mayBeRealtime)('makes the main thread SCHED_FIFO while raised and puts it back, nice unchanged', async () => {
    const niceBefore = os.getPriority(0);
    expect(policyOf(process.pid)).toMatch(/SCHED_OTHER/);
    const raised = await raiseForRelease();
    expect(raised.priority).toBe('realtime');
    expect(policyOf(process.pid)).toMatch(/SCHED_FIFO/);
    raised.restore();
    await prioritySettled(); // the way back runs in the background
    expect(policyOf(process.pid)).toMatch(/SCHED_OTHER/);
    // The next raise waits for the way back, then raises again.
    const again = await raiseForRelease();
    expect(policyOf(process.pid)).toMatch(/SCHED_FIFO/);
    again.restore();
    await prioritySettled();
    expect(policyOf(process.pid)).toMatch(/SCHED_OTHER/);
    expect(os.getPriority(0)).toBe(niceBefore);
  });

  it.runIf(mayBeRealtime)('overlapping releases share one raise: the priority goes back when the last one is done', async () => {
    const [a, b] = await Promise.all([raiseForRelease(), raiseForRelease()]);
    expect([a.priority, b.priority]).toEqual(['realtime', 'realtime']);
    a.restore();
    a.restore(); // twice is once
    await prioritySettled();
    expect(policyOf(process.pid)).toMatch(/SCHED_FIFO/);
    b.restore();
    await prioritySettled();
    expect(policyOf(process.pid)).toMatch(/SCHED_OTHER/);
  });

  it('never throws, and says how high it got', async () => {
    const raised = await raiseForRelease();
    expect(['realtime', 'high', 'normal']).toContain(raised.priority);
    raised.restore();
  });
});
