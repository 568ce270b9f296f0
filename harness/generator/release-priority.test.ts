// The release loop's priority: real-time while raised where the harness may take it (root here), back to the
// normal policy and the same nice afterwards; never an error where it may not.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { raiseForRelease } from './release-priority.ts';

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
    // The way back runs in the background; the next raise waits for it, so a second round trip proves it ended.
    const again = await raiseForRelease();
    again.restore();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(policyOf(process.pid)).toMatch(/SCHED_OTHER/);
    expect(os.getPriority(0)).toBe(niceBefore);
  });

  it('never throws, and says how high it got', async () => {
    const raised = await raiseForRelease();
    expect(['realtime', 'high', 'normal']).toContain(raised.priority);
    raised.restore();
  });
});
