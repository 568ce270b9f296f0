// One candidate instance: a child process started with the contract's environment — the module bundle under
// Node's permission model, or an HTTP-mode `start` command — watched for readiness, crashes and logs; killed
// with SIGKILL by the nemesis or stopped gracefully at the end. Its output goes to a capped log file.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { onCleanup } from '../cleanup.ts';
import { freePort } from '../infra/process-util.ts';

/** Niceness of instance processes (0 normal, 19 lowest). */
const INSTANCE_NICE = 10;

export interface InstanceEnv {
  DATABASE_URL: string;
  REDIS_URL: string;
  PAYMENTS_URL: string;
  NOTIFICATIONS_URL: string;
  INVENTORY_URL: string;
  WEBHOOK_SECRET: string;
  GAUNTLET_SCENARIO: string;
  [key: string]: string;
}

/** How an instance is launched. */
export type LaunchSpec =
  | {
      kind: 'module';
      bundle: string;
      /** Run under Node's permission model (reads: the bundle and scenario file; writes: a private temp folder). */
      sandbox: boolean;
      /** V8 heap limit per instance. */
      maxHeapMb: number;
    }
  | { kind: 'http'; start: string; setup?: string; cwd: string };

export interface Limits {
  /** Cap on captured stdout+stderr per process (the rest is dropped, marked as truncated). */
  maxLogBytes: number;
}

export const DEFAULT_LIMITS: Limits = { maxLogBytes: 1_000_000 };

export interface StartOptions {
  launch: LaunchSpec;
  index: number;
  env: InstanceEnv;
  mode: 'serve' | 'setup';
  logFile: string;
  startTimeoutMs: number;
  limits?: Limits;
  onLog?(message: string, fields?: Record<string, unknown>): void;
}

export type StartOutcome =
  | { ok: true; port: number; capabilities: string[] }
  | { ok: false; stage: 'import' | 'create' | 'setup' | 'start'; message: string };

/** Every route of every challenge: an HTTP-mode server is taken to implement them all. */
const HTTP_MODE_CAPABILITIES = ['*'];

export class InstanceProcess {
  child: ChildProcess | null = null;
  port = 0;
  capabilities: string[] = [];
  /** Set once the harness itself stops or kills the process, so its exit is not counted as a crash. */
  expectedExit = false;
  lastFatal: { message: string; code?: string } | null = null;
  exitDetail: string | null = null;
  private logBytes = 0;
  private tail = '';
  private log: fs.WriteStream;
  private tmpDir: string | null = null;
  private unregister: () => void = () => {};

  constructor(readonly opts: StartOptions, private readonly onExit: (p: InstanceProcess, detail: string) => void) {
    this.log = fs.createWriteStream(opts.logFile, { flags: 'a' });
  }

  get alive(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  private async spawnChild(): Promise<ChildProcess> {
    const { opts } = this;
    this.tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), `gauntlet-instance-${opts.index}-`));
    // Only the contract's variables: no harness secrets, no admin database URL.
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', ...opts.env, GAUNTLET_INSTANCE: String(opts.index), TMPDIR: this.tmpDir, HOME: this.tmpDir };
    const stdio: ('ignore' | 'pipe' | 'ipc')[] = ['ignore', 'pipe', 'pipe'];
    const launch = opts.launch;
    if (launch.kind === 'module') {
      const args = ['--enable-source-maps', `--max-old-space-size=${launch.maxHeapMb}`];
      if (launch.sandbox) {
        args.push('--experimental-permission', '--no-warnings', `--allow-fs-read=${path.dirname(launch.bundle)}`, `--allow-fs-read=${opts.env.GAUNTLET_SCENARIO}`, `--allow-fs-write=${this.tmpDir}`, `--allow-fs-read=${this.tmpDir}`);
      }
      Object.assign(env, { GAUNTLET_MODE: opts.mode, PORT: '0', GAUNTLET_LOAD_TIMEOUT_MS: String(opts.startTimeoutMs) });
      return spawn(process.execPath, [...args, launch.bundle], { env, stdio: [...stdio, 'ipc'] });
    }
    if (opts.mode === 'serve') {
      this.port = await freePort();
      env.PORT = String(this.port);
    }
    const command = opts.mode === 'setup' ? launch.setup ?? 'true' : launch.start;
    // Its own process group, so a shell's children (python, java …) die with it.
    return spawn('/bin/sh', ['-c', command], { env, stdio, cwd: launch.cwd, detached: true });
  }

  async start(): Promise<StartOutcome> {
    const { opts } = this;
    let child: ChildProcess;
    try {
      child = await this.spawnChild();
    } catch (err) {
      return { ok: false, stage: 'start', message: `could not start the instance: ${(err as Error).message}` };
    }
    this.child = child;
    // The harness is the measuring instrument: it must not be starved by the system under test on a small
    // machine (a barrier release is a tight loop of writes). Instances run at a lower CPU priority.
    try {
      if (child.pid) os.setPriority(child.pid, INSTANCE_NICE);
    } catch {
      // not permitted here: measurements are merely less sharp
    }
    this.unregister = onCleanup(() => this.killNow());
    const capture = (chunk: Buffer) => this.capture(chunk);
    child.stdout!.on('data', capture);
    child.stderr!.on('data', capture);
    const httpMode = opts.launch.kind === 'http';
    return new Promise<StartOutcome>((resolve) => {
      let settled = false;
      const settle = (o: StartOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(o);
      };
      const timer = setTimeout(() => {
        settle({ ok: false, stage: opts.mode === 'setup' ? 'setup' : 'create', message: `the instance did not become ready within ${opts.startTimeoutMs} ms (does ${httpMode ? (opts.mode === 'setup' ? 'the setup command' : `the start command listen on $PORT (${this.port})`) : 'create/setup'} hang?)` });
        void this.killNow();
      }, opts.startTimeoutMs + (httpMode ? 0 : 2000));
      child.on('message', (msg: any) => {
        if (msg?.type === 'ready') {
          this.port = msg.port;
          this.capabilities = msg.capabilities ?? [];
          settle({ ok: true, port: msg.port, capabilities: this.capabilities });
        } else if (msg?.type === 'setup-done') {
          settle({ ok: true, port: 0, capabilities: [] });
        } else if (msg?.type === 'load-error') {
          this.expectedExit = true;
          settle({ ok: false, stage: msg.stage, message: msg.message });
        } else if (msg?.type === 'fatal') {
          this.lastFatal = { message: msg.message, code: msg.code };
          this.capture(Buffer.from(`[gauntlet] fatal: ${msg.message}\n`));
        } else if (msg?.type === 'log') {
          this.capture(Buffer.from(JSON.stringify({ instance: opts.index, message: msg.message, ...(msg.fields ?? {}) }) + '\n'));
          opts.onLog?.(msg.message, msg.fields);
        }
      });
      child.on('error', (err) => settle({ ok: false, stage: 'start', message: `could not start the instance: ${err.message}` }));
      child.on('exit', (code, signal) => {
        this.unregister();
        this.removeTmp();
        const detail = signal ? `killed by ${signal}` : `exited with code ${code}`;
        const why = this.lastFatal ? `: ${this.lastFatal.message.split('\n')[0]}` : this.tail.trim() ? ` — last output: ${this.tail.trim().split('\n').slice(-3).join(' | ').slice(0, 300)}` : '';
        this.exitDetail = `${detail}${why}`;
        if (httpMode && opts.mode === 'setup') {
          this.expectedExit = true;
          settle(code === 0 ? { ok: true, port: 0, capabilities: [] } : { ok: false, stage: 'setup', message: `the setup command ${this.exitDetail}` });
        }
        settle({ ok: false, stage: opts.mode === 'setup' ? 'setup' : 'create', message: `the process ${this.exitDetail} before it was ready${this.lastFatal ? '' : ' (see the instance log)'}` });
        this.onExit(this, this.exitDetail);
      });
      if (httpMode && opts.mode === 'serve') {
        void waitForPort(this.port, () => settled || !this.alive).then((up) => {
          if (up) {
            this.capabilities = HTTP_MODE_CAPABILITIES;
            settle({ ok: true, port: this.port, capabilities: this.capabilities });
          }
        });
      }
    });
  }

  private capture(chunk: Buffer): void {
    this.tail = (this.tail + chunk.toString('utf8')).slice(-2000);
    const max = this.opts.limits?.maxLogBytes ?? DEFAULT_LIMITS.maxLogBytes;
    if (this.logBytes >= max) return;
    this.logBytes += chunk.length;
    if (this.logBytes >= max) {
      this.log.write(chunk.subarray(0, Math.max(0, chunk.length - (this.logBytes - max))));
      this.log.write(`\n[gauntlet] output truncated at ${max} bytes\n`);
    } else {
      this.log.write(chunk);
    }
  }

  private signal(sig: NodeJS.Signals): void {
    const child = this.child;
    if (!child?.pid) return;
    try {
      // HTTP mode: the whole process group (the shell and what it started).
      if (this.opts.launch.kind === 'http') process.kill(-child.pid, sig);
      else child.kill(sig);
    } catch {
      child.kill(sig);
    }
  }

  private removeTmp(): void {
    if (this.tmpDir) fs.rmSync(this.tmpDir, { recursive: true, force: true });
    this.tmpDir = null;
  }

  /** SIGKILL now; resolves when the process is gone. */
  killNow(): Promise<void> {
    const child = this.child;
    this.expectedExit = true;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      if (child && this.opts.launch.kind === 'http') this.signal('SIGKILL'); // stragglers of the group
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      this.signal('SIGKILL');
    });
  }

  /** SIGTERM (the module's `close` runs), then SIGKILL after a grace period. */
  async stop(graceMs = 2500): Promise<void> {
    const child = this.child;
    this.expectedExit = true;
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        this.signal('SIGTERM');
      });
    }
    if (child && this.opts.launch.kind === 'http') this.signal('SIGKILL');
    this.unregister();
    this.removeTmp();
    await new Promise<void>((resolve) => this.log.end(resolve));
  }
}

/** Poll until something accepts TCP connections on the port; false when `stop()` says to give up. */
async function waitForPort(port: number, stop: () => boolean): Promise<boolean> {
  while (!stop()) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => {
        s.destroy();
        resolve(false);
      });
    });
    if (up) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
