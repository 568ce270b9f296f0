// The CPU other programs took while a workload ran, told apart from the grade's own: the /proc arithmetic on a
// made-up /proc (exact), and on the real one a spinning program that is not the grade's (counted as other) and a
// spinning child of the grade (counted as the grade's).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gradePids, parseProcStat, watchCpuShare } from './cpu-share.ts';

const T = { timeout: 20_000 };
const stat = (pid: number, comm: string, ppid: number, utime: number, stime: number, children = 0, started = 100) => `${pid} (${comm}) S ${ppid} ${pid} ${pid} 0 -1 4194304 0 0 0 0 ${utime} ${stime} ${children} 0 20 0 1 0 ${started} 0 0`;

describe('/proc parsing', () => {
  it('reads ppid and CPU ticks (its reaped children\'s included), also when the command name holds spaces and parentheses', () => {
    expect(parseProcStat(stat(7, 'node', 1, 120, 30, 50, 4242))).toEqual({ ppid: 1, comm: 'node', ticks: 200, started: 4242 });
    expect(parseProcStat(stat(8, 'a (b) c', 7, 5, 5))).toEqual({ ppid: 7, comm: 'a (b) c', ticks: 10, started: 100 });
    expect(parseProcStat('garbage')).toBeNull();
  });

  it('the grade is gauntlet, its descendants, the database servers and the kernel\'s threads; a sibling program is not', () => {
    const procs = new Map([
      [1, { ppid: 0, comm: 'init', ticks: 0 }],
      [2, { ppid: 0, comm: 'kthreadd', ticks: 0 }],
      [3, { ppid: 2, comm: 'ksoftirqd/0', ticks: 0 }],
      [10, { ppid: 1, comm: 'node', ticks: 0 }], // gauntlet
      [11, { ppid: 10, comm: 'bwrap', ticks: 0 }],
      [12, { ppid: 11, comm: 'node', ticks: 0 }], // an instance inside its sandbox
      [20, { ppid: 1, comm: 'postgres', ticks: 0 }],
      [21, { ppid: 20, comm: 'postgres', ticks: 0 }],
      [30, { ppid: 1, comm: 'redis-server', ticks: 0 }],
      [40, { ppid: 1, comm: 'cc1plus', ticks: 0 }], // a compiler beside the grade
      [41, { ppid: 1, comm: 'node', ticks: 0 }], // another grade
    ]);
    expect([...gradePids(procs, 10)].sort((a, b) => a - b)).toEqual([2, 3, 10, 11, 12, 20, 21, 30]);
  });
});

describe('watchCpuShare', () => {
  let root = '';
  afterEach(() => {
    if (root) fs.rmSync(root, { recursive: true, force: true });
    root = '';
  });

  it('other = the machine\'s busy time minus the grade\'s; a process that ended inside the window counts through its parent', T, async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-proc-'));
    const write = (pid: number, text: string) => {
      fs.mkdirSync(path.join(root, String(pid)), { recursive: true });
      fs.writeFileSync(path.join(root, String(pid), 'stat'), text);
    };
    // user nice system idle iowait irq softirq steal: interrupts (irq, softirq) are left out, steal is not.
    const machine = (user: number, softirq: number, steal: number) => fs.writeFileSync(path.join(root, 'stat'), `cpu  ${user} 0 0 5000 0 0 ${softirq} ${steal} 0 0\ncpu0 0\n`);
    machine(1000, 0, 0);
    write(10, stat(10, 'node', 1, 100, 0)); // gauntlet
    write(12, stat(12, 'node', 10, 50, 0)); // an instance, killed inside the window
    write(20, stat(20, 'postgres', 1, 10, 0, 500));
    write(21, stat(21, 'postgres', 20, 400, 0)); // a long-lived backend (another grade's pool), closed inside the window
    write(40, stat(40, 'cc1plus', 1, 0, 0)); // a compiler beside the grade
    write(50, stat(50, 'kworker/u8:3-events', 2, 300, 0)); // a kernel worker: it renames itself as it works
    write(60, stat(60, 'node', 10, 70, 0, 0, 90)); // a grade process whose pid another one takes inside the window
    const w = watchCpuShare({ root, self: 10 });
    await new Promise((r) => setTimeout(r, 250));
    fs.rmSync(path.join(root, '12'), { recursive: true });
    write(10, stat(10, 'node', 1, 160, 0, 80)); // +60 of its own, +80 reaped: the killed instance's whole life
    write(13, stat(13, 'node', 10, 20, 0)); // its restart, born inside the window: all 20 are the grade's
    fs.rmSync(path.join(root, '21'), { recursive: true });
    write(20, stat(20, 'postgres', 1, 15, 0, 530 + 410)); // +5; +30 of short backends; the closed one's 400 + 10
    write(40, stat(40, 'cc1plus', 1, 90, 0)); // +90, not the grade's
    write(50, stat(50, 'kworker/u8:3-ext4-rsv-conversion', 2, 305, 0)); // +5: the same thread, renamed
    write(60, stat(60, 'node', 10, 8, 0, 0, 95)); // a new process on pid 60 (started later): all 8 are in the window
    // In the window: gauntlet 60, the killed instance 30, its restart 20, PostgreSQL 5 + 30 + 10, the kernel
    // worker 5, the process on the reused pid 8 (the one before it ended unseen, reaped by gauntlet: its 70 were
    // all before the window and are not in gauntlet's cutime here); the compiler 90; 10 stolen by a neighbour; 40
    // of interrupts.
    machine(1000 + 60 + 30 + 20 + 45 + 90 + 5 + 8 + 0, 40, 10);
    const share = w.stop();
    expect(share).not.toBeNull();
    // The grade: 168 ticks. The killed instance's 50 and the closed backend's 400 from before the window, reaped
    // into their parents' time, are taken back. Other: the compiler's 90 and the 10 stolen.
    const secs = share!.windowMs / 1000;
    expect(share!.gradeCores).toBeCloseTo(1.68 / secs, 1);
    expect(share!.otherCores).toBeCloseTo(1.0 / secs, 1);
  });

  it('no /proc: no figure', T, async () => {
    expect(watchCpuShare({ root: '/nonexistent-proc' }).stop()).toBeNull();
  });

  it.runIf(process.platform === 'linux')('on the real /proc: a detached spinning program is other, a spinning child is the grade\'s', { timeout: 30_000 }, async () => {
    // Spins for 1 s of its own CPU time, however busy the machine is; the window outlasts it.
    const spin = 'while (process.cpuUsage().user + process.cpuUsage().system < 1e6) {}';
    const cpuSeconds = (cores: number, windowMs: number) => (cores * windowMs) / 1000;
    const other = await (async () => {
      const w = watchCpuShare();
      // Detached through a shell that exits at once: the spinner is re-parented away from this process.
      spawn('sh', ['-c', `${JSON.stringify(process.execPath)} -e ${JSON.stringify(spin)} >/dev/null 2>&1 &`], { stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, 4000));
      return w.stop()!;
    })();
    // Most of its second is other; some of the machine's time in the window is this test runner's own (counted as
    // the grade's), never the spinner's.
    expect(cpuSeconds(other.otherCores, other.windowMs)).toBeGreaterThanOrEqual(0.6);
    const own = await (async () => {
      const w = watchCpuShare();
      const child = spawn(process.execPath, ['-e', spin], { stdio: 'ignore' });
      await new Promise((r) => child.on('exit', r));
      return w.stop()!;
    })();
    expect(cpuSeconds(own.gradeCores, own.windowMs)).toBeGreaterThanOrEqual(0.9);
    expect(cpuSeconds(own.otherCores, own.windowMs)).toBeLessThan(0.5);
  });
});
