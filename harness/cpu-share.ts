// How much of the machine's CPU other programs took while a workload ran: the cores' busy time (/proc/stat, steal
// included) minus what the grade itself used — gauntlet's process and everything it started (instances, sandboxes,
// an embedded PostgreSQL), the database servers the grade drives (every `postgres` and `redis-server` process,
// whoever started them) and the kernel's threads (they move the grade's loopback traffic). What is left is a
// compiler, a browser, another grade's own processes: load that is not the grade's. A process's time counts its
// reaped children's (cutime, cstime), so a short-lived process or a killed instance is counted through the parent
// that waited for it (less what it had used before the window): two readings, at the window's start and end,
// suffice. It tells a busy machine apart from a grade that is merely heavy, which the load average cannot (a grade
// of subscription-reads alone reaches 2 per core on two cores). Linux only; elsewhere there is no figure (null).

import fs from 'node:fs';

/** Kernel clock ticks per second for /proc times (USER_HZ, 100 on every Linux ABI). */
const HZ = 100;
/** Processes counted as the grade's wherever they come from: the servers every scenario uses. */
const SHARED_SERVERS = new Set(['postgres', 'postmaster', 'redis-server']);
const KTHREADD = 2;

export interface CpuShare {
  /** Cores' worth of CPU other programs used, averaged over the window (0 .. cores). */
  otherCores: number;
  /** Cores' worth used by the grade (its processes and the database servers). */
  gradeCores: number;
  windowMs: number;
}

interface ProcSample {
  ppid: number;
  comm: string;
  ticks: number;
  /** When the process started (ticks since boot): with the pid, its identity (a kernel worker renames itself). */
  started?: number;
}

function machineBusyTicks(root: string): number | null {
  try {
    const line = fs.readFileSync(`${root}/stat`, 'utf8').split('\n', 1)[0];
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal. Interrupt time is left out (it is no process's: the grade's
    // own loopback traffic is most of it); steal is kept (a neighbour of this virtual machine, never the grade).
    return f[0] + f[1] + f[2] + (f[7] ?? 0);
  } catch {
    return null;
  }
}

/**
 * Parses /proc/<pid>/stat (the command name may hold spaces and parentheses: it ends at the last ')'). `ticks` is the
 * process's CPU time with its reaped children's.
 */
export function parseProcStat(text: string): ProcSample | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15, cutime 16, cstime 17, starttime 22.
  const ppid = Number(rest[1]);
  const ticks = Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14]);
  if (!Number.isFinite(ppid) || !Number.isFinite(ticks)) return null;
  const started = Number(rest[19]);
  return { ppid, comm: text.slice(open + 1, close), ticks, ...(Number.isFinite(started) ? { started } : {}) };
}

function readProcesses(root: string): Map<number, ProcSample> {
  const out = new Map<number, ProcSample>();
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return out;
  }
  for (const n of names) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const s = parseProcStat(fs.readFileSync(`${root}/${n}/stat`, 'utf8'));
      if (s) out.set(Number(n), s);
    } catch {
      // gone since the listing
    }
  }
  return out;
}

/** The pids that belong to the grade: `self` and its descendants, the shared database servers, the kernel's threads. */
export function gradePids(procs: Map<number, ProcSample>, self: number): Set<number> {
  const ours = new Set<number>();
  const isOurs = (pid: number, depth = 0): boolean => {
    // The kernel's own threads (children of kthreadd, pid 2) are no program's: mostly they move the grade's
    // loopback traffic and disk writes.
    if (pid === self || pid === KTHREADD || ours.has(pid)) return true;
    const p = procs.get(pid);
    if (!p || depth > 64 || p.ppid <= 1) return false;
    return isOurs(p.ppid, depth + 1);
  };
  for (const [pid, p] of procs) if (isOurs(pid) || SHARED_SERVERS.has(p.comm)) ours.add(pid);
  return ours;
}

/**
 * Watches the window from now to stop(). Both readings are synchronous (a few milliseconds for a few hundred
 * processes), taken before the workload starts and after it ends. A grade process alive at the end counts its time
 * since the start (all of it if it was born inside the window); one that ended inside the window is counted in the
 * parent that reaped it, its time before the window taken back. Returns null at stop() where /proc cannot be read.
 */
export function watchCpuShare(o: { root?: string; self?: number } = {}): { stop(): CpuShare | null } {
  const root = o.root ?? '/proc';
  const self = o.self ?? process.pid;
  const started = Date.now();
  const busyAtStart = machineBusyTicks(root);
  const atStart = busyAtStart === null ? new Map<number, ProcSample>() : readProcesses(root);
  return {
    stop() {
      if (busyAtStart === null) return null;
      const atEnd = readProcesses(root);
      const busyAtEnd = machineBusyTicks(root);
      const windowMs = Math.max(1, Date.now() - started);
      if (busyAtEnd === null || !atEnd.size) return null;
      const grade = gradePids(atEnd, self);
      let gradeTicks = 0;
      for (const pid of grade) {
        const before = atStart.get(pid);
        const now = atEnd.get(pid)!;
        // A pid reused by another process since the start is a new process (its start time differs).
        const from = before && before.started === now.started && before.ticks <= now.ticks ? before.ticks : 0;
        gradeTicks += now.ticks - from;
      }
      // A process that ended inside the window was reaped with its whole life's time (a long-lived PostgreSQL
      // backend: all of it lands in the postmaster's cutime). What it had used before the window is taken back when
      // the ancestor that holds it now is the grade's.
      for (const [pid, before] of atStart) {
        if (atEnd.has(pid)) continue;
        let up = before.ppid;
        for (let depth = 0; depth < 64 && up > 1 && !atEnd.has(up); depth++) up = atStart.get(up)?.ppid ?? 0;
        if (grade.has(up)) gradeTicks -= before.ticks;
      }
      gradeTicks = Math.max(0, gradeTicks);
      const otherTicks = Math.max(0, busyAtEnd - busyAtStart - gradeTicks);
      const cores = (ticks: number) => Math.round((ticks / HZ / (windowMs / 1000)) * 100) / 100;
      return { otherCores: cores(otherTicks), gradeCores: cores(gradeTicks), windowMs };
    },
  };
}
