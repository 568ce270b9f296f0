// One candidate instance: a child process running the bundle, started with the contract's environment,
// watched for readiness, crashes and logs; killed with SIGKILL by the nemesis or stopped gracefully at the end.
// Its output goes to a capped log file in the run folder.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { onCleanup } from '../cleanup.ts';

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

export interface StartOptions {
  bundle: string;
  index: number;
  env: InstanceEnv;
  mode: 'serve' | 'setup';
  logFile: string;
  startTimeoutMs: number;
  /** Cap on captured stdout+stderr per process. */
  maxLogBytes?: number;
  onLog?(message: string, fields?: Record<string, unknown>): void;
}

export type StartOutcome =
  | { ok: true; port: number; capabilities: string[] }
  | { ok: false; stage: 'import' | 'create' | 'setup' | 'start'; message: string };

export class InstanceProcess {
  child: ChildProcess | null = null;
  port = 0;
  capabilities: string[] = [];
  /** Set once the harness itself stops or kills the process, so its exit is not counted as a crash. */
  expectedExit = false;
  lastFatal: { message: string; code?: string } | null = null;
  exitDetail: string | null = null;
  private logBytes = 0;
  private log: fs.WriteStream;
  private unregister: () => void = () => {};

  constructor(readonly opts: StartOptions, private readonly onExit: (p: InstanceProcess, detail: string) => void) {
    this.log = fs.createWriteStream(opts.logFile, { flags: 'a' });
  }

  get alive(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): Promise<StartOutcome> {
    const { opts } = this;
    const child = spawn(process.execPath, ['--enable-source-maps', opts.bundle], {
      env: { PATH: process.env.PATH ?? '', ...opts.env, GAUNTLET_INSTANCE: String(opts.index), GAUNTLET_MODE: opts.mode, PORT: '0', GAUNTLET_LOAD_TIMEOUT_MS: String(opts.startTimeoutMs) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
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
    return new Promise<StartOutcome>((resolve) => {
      let settled = false;
      const settle = (o: StartOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(o);
      };
      const timer = setTimeout(() => {
        settle({ ok: false, stage: opts.mode === 'setup' ? 'setup' : 'create', message: `the instance did not become ready within ${opts.startTimeoutMs} ms (does create/setup hang?)` });
        this.killNow();
      }, opts.startTimeoutMs + 2000);
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
      child.on('error', (err) => settle({ ok: false, stage: 'start', message: `could not start node: ${err.message}` }));
      child.on('exit', (code, signal) => {
        this.unregister();
        const detail = signal ? `killed by ${signal}` : `exited with code ${code}`;
        this.exitDetail = this.lastFatal ? `${detail}: ${this.lastFatal.message.split('\n')[0]}` : detail;
        settle({ ok: false, stage: opts.mode === 'setup' ? 'setup' : 'create', message: `the process ${this.exitDetail} before it was ready${this.lastFatal ? '' : ' (see the instance log)'}` });
        this.onExit(this, this.exitDetail);
      });
    });
  }

  private capture(chunk: Buffer): void {
    const max = this.opts.maxLogBytes ?? 1_000_000;
    if (this.logBytes >= max) return;
    this.logBytes += chunk.length;
    if (this.logBytes >= max) {
      this.log.write(chunk.subarray(0, Math.max(0, chunk.length - (this.logBytes - max))));
      this.log.write(`\n[gauntlet] log truncated at ${max} bytes\n`);
    } else {
      this.log.write(chunk);
    }
  }

  /** SIGKILL now; resolves when the process is gone. */
  killNow(): Promise<void> {
    const child = this.child;
    this.expectedExit = true;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  /** SIGTERM (the module's `close` runs), then SIGKILL after a grace period. */
  async stop(graceMs = 2500): Promise<void> {
    const child = this.child;
    this.expectedExit = true;
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      });
    }
    this.unregister();
    await new Promise<void>((resolve) => this.log.end(resolve));
  }
}
