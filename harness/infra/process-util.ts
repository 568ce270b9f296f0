// Small process and socket helpers for the servers the infra layer starts itself (embedded PostgreSQL,
// redis-server): free ports, liveness by pid, PATH lookup, bounded child runs and bounded stops.

import { execFile, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, closeSync, existsSync, openSync, readFileSync, readSync, fstatSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** A TCP port on 127.0.0.1 that was free a moment ago (callers retry if someone else takes it first). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not allocate a free port'))));
    });
  });
}

/** True when a process with this pid exists and is not a zombie (EPERM: it exists but belongs to someone else). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // An orphan whose new parent never reaps it stays a zombie: it holds no port, no files, and runs nothing.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch (err) {
    // ENOENT with a /proc present: it exited in between. No /proc at all (macOS): trust kill(0).
    return !((err as NodeJS.ErrnoException).code === 'ENOENT' && existsSync('/proc/self/stat'));
  }
}

/** Absolute path of an executable found on PATH, or null. */
export function findOnPath(command: string, env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  error?: Error;
}

/** Run a command to completion with a hard timeout; never throws (the result says what happened). */
export function runBounded(
  file: string,
  args: string[],
  opts: { timeoutMs: number; uid?: number; gid?: number; env?: NodeJS.ProcessEnv; cwd?: string },
): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { timeout: opts.timeoutMs, killSignal: 'SIGKILL', uid: opts.uid, gid: opts.gid, env: opts.env, cwd: opts.cwd, maxBuffer: 4 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : null) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr), error: error ?? undefined });
      },
    );
  });
}

/** The uid/gid of an OS user, or null when it does not exist. */
export async function osUserIds(name: string): Promise<{ uid: number; gid: number } | null> {
  const [u, g] = await Promise.all([runBounded('id', ['-u', name], { timeoutMs: 3000 }), runBounded('id', ['-g', name], { timeoutMs: 3000 })]);
  const uid = Number.parseInt(u.stdout.trim(), 10);
  const gid = Number.parseInt(g.stdout.trim(), 10);
  if (u.code !== 0 || g.code !== 0 || !Number.isInteger(uid) || !Number.isInteger(gid)) return null;
  return { uid, gid };
}

/** Whether a child has exited already. */
export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Resolves true once the child exits, false after `timeoutMs` (the timer keeps the event loop alive meanwhile). */
export function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (hasExited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(hasExited(child));
    }, timeoutMs);
    const onExit = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

/** Stop a child by escalating signals, each given its grace period; true when it is gone. */
export async function stopChild(child: ChildProcess, steps: Array<[NodeJS.Signals, number]>): Promise<boolean> {
  for (const [signal, graceMs] of steps) {
    if (hasExited(child)) return true;
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
    if (await waitForExit(child, graceMs)) return true;
  }
  return hasExited(child);
}

/** The last `maxBytes` of a file as text ('' when unreadable): server logs for error messages. */
export function tailFile(file: string, maxBytes = 2000): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer.toString('utf8').trim();
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** A readable reason from a connection error (Node's AggregateError for dual-stack connects has no message). */
export function errorText(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length) {
    const parts = [...new Set(err.errors.map((e) => errorText(e)))];
    return parts.join('; ');
  }
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return err.message || code || err.name;
  }
  return String(err);
}

/** Reject with `message` if `promise` has not settled within `timeoutMs`. */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
