// One candidate instance: a child process started with the contract's environment — the module bundle under
// Node's permission model, or an HTTP-mode `start` command — watched for readiness, crashes and logs; killed
// with SIGKILL by the nemesis or stopped gracefully at the end. Its output goes to a capped log file.
//
// Module instances are untrusted (docs/security.md): each runs in its own process group, from a private temp
// folder holding its copy of the bundle and of the scenario file (the only files it may read; the only folder it
// may write), as `nobody` when the harness runs as root, and talks to the harness over a control pipe (fd 3) whose
// lines must carry a per-process token and are read with a size bound — never Node's IPC channel, whose reader
// buffers an unbounded line in the harness's memory and which any code in the child could write to.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import type { Readable } from 'node:stream';
import { interrupted, onCleanup } from '../cleanup.ts';
import { freePort, osUserIds } from '../infra/process-util.ts';
import { INSTANCE_DIR_PREFIX } from '../infra/stale-sweep.ts';
import { wrap, type Containment } from './netns.ts';
import { openGate, type Gate, type WireEndpoint } from './wire-gate.ts';
import { BRIDGE_ENV } from './net-bridge.ts';
import { bridgeScript } from './net-bridge-script.ts';
import { bubblewrap, bwrapArgv } from './bwrap.ts';
import type { ServiceEnvName } from '../services/types.ts';

/** Niceness of instance processes (0 normal, 19 lowest). */
const INSTANCE_NICE = 10;

/** The contract's environment (CONTRACT §6); the mock services' URLs are one variable per service (`PAYMENTS_URL`, `EMAIL_URL` …, services/types.ts). */
export interface InstanceEnv extends Record<ServiceEnvName, string> {
  DATABASE_URL: string;
  REDIS_URL: string;
  /** subscription-reads: the hot standby (empty elsewhere). */
  REPLICA_URL: string;
  WEBHOOK_SECRET: string;
  GAUNTLET_SCENARIO: string;
  [key: string]: string;
}

/** Load average per core above which a start timeout is extended (the machine, not the instance, is slow). */
export const BUSY_LOAD_PER_CORE = 3;

/** How an instance is launched. */
export type LaunchSpec =
  | {
      kind: 'module';
      bundle: string;
      /** Run under Node's permission model (reads: its copy of the bundle and scenario file; writes: a private temp folder). */
      sandbox: boolean;
      /** V8 heap limit per instance. */
      maxHeapMb: number;
      /** Folders the sandboxed instance may read besides its own (the submission's staged node_modules). */
      readable?: string[];
      /**
       * The submission's package.json, copied into the instance's working folder: a library that looks for its
       * project's package.json from the working folder up (MikroORM) finds it there, as it would in the project.
       */
      manifest?: string;
      /** Cap on captured stdout+stderr per process (default DEFAULT_LIMITS.maxLogBytes). */
      maxLogBytes?: number;
    }
  | {
      kind: 'http';
      start: string;
      setup?: string;
      cwd: string;
      maxLogBytes?: number;
      /** Folders an HTTP-mode instance under bubblewrap sees empty (the run folders, the run store's folder). */
      hide?: string[];
    };

export interface Limits {
  /** Cap on captured stdout+stderr per process (the rest is dropped, marked as truncated). */
  maxLogBytes: number;
}

export const DEFAULT_LIMITS: Limits = { maxLogBytes: 1_000_000 };

/** Longest control message accepted from an instance; a longer line is dropped unread. */
const MAX_CONTROL_LINE = 64 * 1024;
/** The file name of a module instance's bundle copy (tests find instance processes by it). */
export const BUNDLE_NAME = 'instance.bundle.mjs';

/**
 * The OS user module instances run as when the harness runs as root: `nobody`, if it exists and can run node
 * from a temp folder here; null otherwise (instances then run as the harness's own user). Probed once per temp root.
 */
const instanceUserProbes = new Map<string, Promise<{ uid: number; gid: number } | null>>();
export function instanceUser(): Promise<{ uid: number; gid: number } | null> {
  // Per temp root: instance folders are made there, and that is what the user must be able to reach.
  const root = os.tmpdir();
  let probe = instanceUserProbes.get(root);
  if (probe) return probe;
  probe = (async () => {
    if (typeof process.getuid !== 'function' || process.getuid() !== 0 || process.env.GAUNTLET_INSTANCE_USER === 'self') return null;
    const ids = await osUserIds(process.env.GAUNTLET_INSTANCE_USER || 'nobody').catch(() => null);
    if (!ids || ids.uid === 0) return null;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-user-probe-'));
    try {
      fs.chownSync(dir, ids.uid, ids.gid);
      const file = path.join(dir, 'probe.mjs');
      fs.writeFileSync(file, 'process.exit(0)\n', { mode: 0o644 });
      const r = spawnSync(process.execPath, [file], { cwd: dir, uid: ids.uid, gid: ids.gid, stdio: 'ignore', timeout: 10_000, env: { PATH: process.env.PATH ?? '' } });
      return r.status === 0 ? ids : null;
    } catch {
      return null;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  })();
  instanceUserProbes.set(root, probe);
  return probe;
}

export interface StartOptions {
  launch: LaunchSpec;
  index: number;
  env: InstanceEnv;
  mode: 'serve' | 'setup';
  logFile: string;
  startTimeoutMs: number;
  limits?: Limits;
  onLog?(message: string, fields?: Record<string, unknown>): void;
  /**
   * Network containment (netns.ts): when contained, the process starts in a network namespace of its own and
   * reaches only these endpoints, through Unix sockets opened in its temp folder (wire-gate.ts); the harness then
   * reaches its HTTP server through a Unix socket too.
   */
  network?: { containment: Containment; endpoints: WireEndpoint[] };
  /**
   * Module mode: boot now (Node, the bundle, the bridge), but load the candidate's module only once `go()` is
   * called — so instances start while `setup` still runs, and no candidate code runs before setup is done.
   */
  waitForGo?: boolean;
}

export type StartOutcome =
  | { ok: true; port: number; capabilities: string[] }
  | { ok: false; stage: 'import' | 'create' | 'setup' | 'start'; message: string };

/** Every route of every challenge: an HTTP-mode server is taken to implement them all. */
const HTTP_MODE_CAPABILITIES = ['*'];

export class InstanceProcess {
  child: ChildProcess | null = null;
  port = 0;
  /** Set when the process is contained: the harness reaches its HTTP server at this Unix socket, not at `port`. */
  socketPath: string | null = null;
  capabilities: string[] = [];
  /** Set once the harness itself stops or kills the process, so its exit is not counted as a crash. */
  expectedExit = false;
  lastFatal: { message: string; code?: string } | null = null;
  exitDetail: string | null = null;
  /** Control messages that did not carry this process's token (written to fd 3 by the submission itself). */
  spoofedMessages = 0;
  private logBytes = 0;
  private tail = '';
  private log: fs.WriteStream;
  private tmpDir: string | null = null;
  private gate: Gate | null = null;
  private onGo: (() => void) | null = null;
  private goRequested = false;
  private get waitsForGo(): boolean {
    return !!this.opts.waitForGo && this.opts.launch.kind === 'module' && this.opts.mode === 'serve';
  }

  /** Let an instance started with `waitForGo` load the module and call create(ctx). */
  go(): void {
    this.goRequested = true;
    const arm = this.onGo;
    this.onGo = null;
    if (!arm) return; // not spawned yet: start() goes on its own once it is
    arm();
    try {
      (this.child?.stdio[3] as import('node:net').Socket | undefined)?.write('go\n');
    } catch {
      // gone already: its exit is reported as usual
    }
  }
  private token = randomBytes(16).toString('hex');
  private unregister: () => void = () => {};

  constructor(
    readonly opts: StartOptions,
    /** Called once the process is gone: `unexpected` is decided at the moment of exit (not after the grace wait). */
    private readonly onExit: (p: InstanceProcess, detail: string, unexpected: boolean, sinceExitUs: number) => void,
  ) {
    this.log = fs.createWriteStream(opts.logFile, { flags: 'a' });
  }

  get alive(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  private async spawnChild(): Promise<ChildProcess> {
    const { opts } = this;
    this.tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), `${INSTANCE_DIR_PREFIX}${process.pid}-${opts.index}-`));
    // Only the contract's variables: no harness secrets, no admin database URL.
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', ...opts.env, GAUNTLET_INSTANCE: String(opts.index), TMPDIR: this.tmpDir, HOME: this.tmpDir };
    const launch = opts.launch;
    if (launch.kind === 'module') {
      // The instance reads its own copies (the run folder, with the history and the other instances' logs, stays
      // out of reach) and starts in its temp folder, so relative paths resolve there.
      const bundle = path.join(this.tmpDir, BUNDLE_NAME);
      fs.copyFileSync(launch.bundle, bundle);
      if (opts.env.GAUNTLET_SCENARIO) {
        env.GAUNTLET_SCENARIO = path.join(this.tmpDir, 'scenario.json');
        fs.copyFileSync(opts.env.GAUNTLET_SCENARIO, env.GAUNTLET_SCENARIO);
      }
      if (launch.manifest && fs.existsSync(launch.manifest)) fs.copyFileSync(launch.manifest, path.join(this.tmpDir, 'package.json'));
      const runAs = launch.sandbox ? await instanceUser() : null;
      if (runAs) for (const f of [this.tmpDir, ...fs.readdirSync(this.tmpDir).map((n) => path.join(this.tmpDir!, n))]) fs.chownSync(f, runAs.uid, runAs.gid);
      const args = ['--enable-source-maps', `--max-old-space-size=${launch.maxHeapMb}`];
      if (launch.sandbox) {
        args.push('--experimental-permission', '--no-warnings', `--allow-fs-read=${this.tmpDir}`, `--allow-fs-write=${this.tmpDir}`);
        // One flag per folder (Node ≥ 20.7 reads a comma as part of the path).
        for (const dir of launch.readable ?? []) args.push(`--allow-fs-read=${dir}`);
      }
      Object.assign(env, { GAUNTLET_MODE: opts.mode, PORT: '0', GAUNTLET_LOAD_TIMEOUT_MS: String(opts.startTimeoutMs), GAUNTLET_CONTROL_TOKEN: this.token });
      if (this.waitsForGo) env.GAUNTLET_WAIT_GO = '1';
      const contained = await this.contain(env, undefined);
      if (contained) env.GAUNTLET_LISTEN_PATH = contained.inboundPath;
      // Its own process group: a `process.kill(0, …)` in the submission reaches only its own group.
      return this.spawnMaybeContained([process.execPath, ...args, bundle], { env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'], cwd: this.tmpDir, detached: true }, runAs);
    }
    if (opts.mode === 'serve') {
      this.port = await freePort();
      env.PORT = String(this.port);
    }
    const command = opts.mode === 'setup' ? launch.setup ?? 'true' : launch.start;
    // Its own copy of the scenario file, like a module instance: the run folder may be out of its sight.
    if (opts.env.GAUNTLET_SCENARIO) {
      env.GAUNTLET_SCENARIO = path.join(this.tmpDir, 'scenario.json');
      fs.copyFileSync(opts.env.GAUNTLET_SCENARIO, env.GAUNTLET_SCENARIO);
    }
    const contained = await this.contain(env, opts.mode === 'serve' ? this.port : undefined);
    if (!contained) return spawn('/bin/sh', ['-c', command], { env, stdio: ['ignore', 'pipe', 'pipe'], cwd: launch.cwd, detached: true });
    // Contained: the bridge runs beside the server in its namespace (in the same process group), then the command.
    const bridge = await bridgeScript();
    const ready = path.join(this.tmpDir, 'bridge.ready');
    // The bridge first, the server once the bridge listens (a server that connects at start must find its database).
    const argv = ['/bin/sh', '-c', '"$0" "$1" "$3" & while [ ! -e "$3" ]; do sleep 0.02; done; exec /bin/sh -c "$2"', process.execPath, bridge, command, ready];
    const bwrap = bubblewrap();
    // Its own process group, so a shell's children (python, java …) die with it.
    const options = { env, stdio: ['ignore', 'pipe', 'pipe'] as ('ignore' | 'pipe')[], cwd: launch.cwd, detached: true };
    if ('problem' in bwrap) return this.spawnMaybeContained(argv, options, null);
    // bubblewrap: the network namespace (loopback up), a PID namespace, and a read-only machine.
    const view = { writable: this.tmpDir, readable: [path.dirname(bridge), launch.cwd], hidden: launch.hide ?? [], cwd: launch.cwd };
    const wrapped = bwrapArgv(bwrap.path, view, argv);
    return spawn(wrapped[0], wrapped.slice(1), options);
  }

  /** Open the instance's way out (Unix sockets in its temp folder) when it is to be contained; null when not. */
  private async contain(env: Record<string, string>, httpPort: number | undefined): Promise<Gate | null> {
    const network = this.opts.network;
    if (!network || network.containment.network !== 'contained') return null;
    const tag = this.opts.mode === 'setup' ? 'setup' : String(this.opts.index);
    this.gate = await openGate(network.endpoints, this.tmpDir!, tag, httpPort);
    env[BRIDGE_ENV] = JSON.stringify(this.gate.spec);
    this.socketPath = this.gate.inboundPath;
    return this.gate;
  }

  private spawnMaybeContained(argv: string[], options: Parameters<typeof spawn>[2], runAs: { uid: number; gid: number } | null): ChildProcess {
    const c = this.opts.network?.containment;
    if (!c || c.network !== 'contained') return spawn(argv[0], argv.slice(1), { ...options, ...(runAs ?? {}) });
    const wrapped = wrap(c, argv, runAs);
    // netns: started as root, setpriv drops to runAs inside; userns: started as runAs, root only inside its namespace.
    return spawn(wrapped[0], wrapped.slice(1), { ...options, ...(c.strategy === 'userns' ? runAs ?? {} : {}) });
  }

  /** Read the control pipe: newline-delimited JSON, each line bounded and carrying this process's token. */
  private readControl(stream: Readable, onMessage: (msg: any) => void): void {
    let buf = '';
    let skipping = false;
    stream.setEncoding('utf8');
    stream.on('error', () => {});
    stream.on('data', (chunk: string) => {
      let start = 0;
      for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', start)) {
        const line = buf + chunk.slice(start, nl);
        buf = '';
        start = nl + 1;
        if (skipping) {
          skipping = false;
          continue;
        }
        this.handleControlLine(line, onMessage);
      }
      if (skipping) return;
      buf += chunk.slice(start);
      if (buf.length > MAX_CONTROL_LINE) {
        buf = '';
        skipping = true;
        this.rejectControl(`a control message longer than ${MAX_CONTROL_LINE} bytes`);
      }
    });
  }

  private handleControlLine(line: string, onMessage: (msg: any) => void): void {
    if (!line) return;
    let msg: any;
    try {
      msg = JSON.parse(line);
    } catch {
      return this.rejectControl('a control message that is not JSON');
    }
    if (!msg || typeof msg !== 'object' || msg.k !== this.token) return this.rejectControl('a control message without the runtime\'s token');
    onMessage(msg);
  }

  private rejectControl(what: string): void {
    if (this.spoofedMessages++ === 0) this.capture(Buffer.from(`[gauntlet] ignored ${what} on the control channel (not sent by the gauntlet runtime; later ones are ignored silently)\n`));
  }

  async start(): Promise<StartOutcome> {
    const { opts } = this;
    // Interrupted (Ctrl-C): the cleanup is under way; starting an instance now would only leak it.
    if (interrupted()) return { ok: false, stage: 'start', message: `gauntlet was interrupted (${interrupted()})` };
    let child: ChildProcess;
    try {
      child = await this.spawnChild();
    } catch (err) {
      this.removeTmp();
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
    const httpMode = opts.launch.kind === 'http';
    // HTTP mode has no ctx.log: a JSON object per line on stdout or stderr is its structured log (counted like ctx.log;
    // CONTRACT §6). Both streams: many loggers write to stderr by default (Python's logging, Go's log).
    const structured = httpMode && opts.mode === 'serve';
    child.stdout!.on('data', structured ? (chunk: Buffer) => (capture(chunk), this.countJsonLines('stdout', chunk)) : capture);
    child.stderr!.on('data', structured ? (chunk: Buffer) => (capture(chunk), this.countJsonLines('stderr', chunk)) : capture);
    return new Promise<StartOutcome>((resolve) => {
      let settled = false;
      const settle = (o: StartOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(o);
      };
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        timer = setTimeout(onTimeout, opts.startTimeoutMs + (httpMode ? 0 : 2000));
      };
      let extensions = 0;
      const onTimeout = () => {
        // A starved machine is never the candidate's fault (CONTRACT §8): while the load per core is high, wait
        // up to twice more before calling the instance hung.
        const load = os.loadavg()[0] / Math.max(1, os.cpus().length);
        if (load >= BUSY_LOAD_PER_CORE && extensions < 2) {
          extensions++;
          return arm();
        }
        const suspect = httpMode
          ? opts.mode === 'setup' ? 'does the setup command hang?' : `does the start command listen on $PORT (${this.port})?`
          : `does ${opts.mode === 'setup' ? 'setup(ctx)' : 'create(ctx)'} hang, or loop without ever yielding?`;
        const waited = extensions ? ` (waited ${extensions + 1} × that: the machine was busy, ${load.toFixed(1)} load per core)` : '';
        settle({ ok: false, stage: opts.mode === 'setup' ? 'setup' : 'create', message: `the instance did not become ready within ${opts.startTimeoutMs} ms${waited} (${suspect})` });
        void this.killNow();
      };
      // Waiting for `go`: the start timeout runs from then (setup's own time is not this instance's).
      if (this.waitsForGo) {
        this.onGo = arm;
        if (this.goRequested) this.go();
      } else arm();
      const onMessage = (msg: any) => {
        // Readiness is decided once; the runtime never says it twice.
        if (settled && (msg.type === 'ready' || msg.type === 'setup-done' || msg.type === 'load-error')) return;
        if (msg.type === 'ready' && this.socketPath && opts.launch.kind === 'module') {
          // Contained: it listens on the Unix socket the harness gave it, whatever it says.
          this.capabilities = Array.isArray(msg.capabilities) ? msg.capabilities.filter((c: unknown) => typeof c === 'string') : [];
          settle({ ok: true, port: 0, capabilities: this.capabilities });
        } else if (msg.type === 'ready' && Number.isInteger(msg.port) && msg.port > 0 && msg.port < 65536) {
          this.port = msg.port;
          this.capabilities = Array.isArray(msg.capabilities) ? msg.capabilities.filter((c: unknown) => typeof c === 'string') : [];
          settle({ ok: true, port: msg.port, capabilities: this.capabilities });
        } else if (msg.type === 'setup-done') {
          settle({ ok: true, port: 0, capabilities: [] });
        } else if (msg.type === 'load-error') {
          this.expectedExit = true;
          settle({ ok: false, stage: ['import', 'create', 'setup'].includes(msg.stage) ? msg.stage : 'create', message: String(msg.message) });
        } else if (msg.type === 'fatal') {
          this.lastFatal = { message: String(msg.message), code: typeof msg.code === 'string' ? msg.code : undefined };
          this.capture(Buffer.from(`[gauntlet] fatal: ${msg.message}\n`));
        } else if (msg.type === 'log') {
          const fields = msg.fields && typeof msg.fields === 'object' ? msg.fields : undefined;
          this.capture(Buffer.from(JSON.stringify({ instance: opts.index, message: msg.message, ...(fields ?? {}) }) + '\n'));
          opts.onLog?.(String(msg.message), fields);
        }
      };
      if (child.stdio[3]) this.readControl(child.stdio[3] as Readable, onMessage);
      child.on('error', (err) => settle({ ok: false, stage: 'start', message: `could not start the instance: ${err.message}` }));
      child.on('exit', (code, signal) => {
        // The control pipe and output may still hold the last words (the fatal error): read them before
        // describing the death, but never wait on a grandchild that keeps the pipes open.
        let done = false;
        const unexpected = !this.expectedExit;
        const exitedAt = process.hrtime.bigint();
        const afterExit = () => {
          if (done) return;
          done = true;
          clearTimeout(grace);
          this.onExited(code, signal, settle, httpMode, unexpected, Number((process.hrtime.bigint() - exitedAt) / 1000n));
        };
        const grace = setTimeout(afterExit, 500);
        child.once('close', afterExit);
      });

      if (httpMode && opts.mode === 'serve') {
        void waitForPort(this.socketPath ? { path: this.socketPath } : { port: this.port }, () => settled || !this.alive).then((up) => {
          if (up) {
            this.capabilities = HTTP_MODE_CAPABILITIES;
            settle({ ok: true, port: this.port, capabilities: this.capabilities });
          }
        });
      }
    });
  }

  private onExited(code: number | null, signal: NodeJS.Signals | null, settle: (o: StartOutcome) => void, httpMode: boolean, unexpected: boolean, sinceExitUs: number): void {
    const { opts } = this;
    this.unregister();
    this.removeTmp();
    this.exitDetail = this.describeExit(code, signal);
    if (httpMode && opts.mode === 'setup') {
      this.expectedExit = true;
      settle(code === 0 ? { ok: true, port: 0, capabilities: [] } : { ok: false, stage: 'setup', message: `the setup command ${this.exitDetail}` });
    }
    settle({ ok: false, stage: opts.mode === 'setup' ? 'setup' : 'create', message: `the process ${this.exitDetail} before it was ready${this.lastFatal ? '' : ' (see the instance log)'}` });
    this.onExit(this, this.exitDetail, unexpected, sinceExitUs);
  }

  /** Why the process ended, in the words a candidate needs: the heap limit, process.exit, the fatal error. */
  private describeExit(code: number | null, signal: NodeJS.Signals | null): string {
    const detail = signal ? `killed by ${signal}` : `exited with code ${code}`;
    const launch = this.opts.launch;
    if (launch.kind === 'module' && /Reached heap limit|JavaScript heap out of memory|Ineffective mark-compacts near heap limit/.test(this.tail)) {
      return `${detail}: ran out of memory (the heap limit is ${launch.maxHeapMb} MiB per instance, gauntlet --max-heap-mb)`;
    }
    const exitCall = /\[gauntlet\] the submission called process\.exit\(([^)]*)\)(?:\n\s*(at [^\n]*))?/.exec(this.tail);
    if (!this.lastFatal && exitCall) return `${detail}: the submission called process.exit(${exitCall[1]})${exitCall[2] ? ` ${exitCall[2].trim()}` : ''}`;
    const why = this.lastFatal ? `: ${this.lastFatal.message.split('\n')[0]}` : this.tail.trim() ? ` — last output: ${this.tail.trim().split('\n').slice(-3).join(' | ').slice(0, 300)}` : '';
    return `${detail}${why}`;
  }

  private readonly partialLine = { stdout: '', stderr: '' };

  /** Structured log lines of an HTTP-mode server: whole lines of stdout or stderr (each its own) that are JSON objects. */
  private countJsonLines(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    const text = this.partialLine[stream] + chunk.toString('utf8');
    const lines = text.split('\n');
    this.partialLine[stream] = (lines.pop() ?? '').slice(-65_536);
    for (const line of lines) {
      const t = line.trim();
      if (!t.startsWith('{') || !t.endsWith('}')) continue;
      try {
        const v = JSON.parse(t) as unknown;
        if (v && typeof v === 'object' && !Array.isArray(v)) this.opts.onLog?.(String((v as { message?: unknown; msg?: unknown }).message ?? (v as { msg?: unknown }).msg ?? ''), v as Record<string, unknown>);
      } catch {
        // not JSON: plain output, not a structured log line
      }
    }
  }

  private capture(chunk: Buffer): void {
    // Only the end is kept for exit messages: converting every chunk of a flood would cost the harness CPU.
    this.tail = (this.tail + chunk.subarray(Math.max(0, chunk.length - 2000)).toString('utf8')).slice(-2000);
    const max = this.opts.limits?.maxLogBytes ?? this.opts.launch.maxLogBytes ?? DEFAULT_LIMITS.maxLogBytes;
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
      // The whole process group: an HTTP-mode shell and what it started, or anything an unsandboxed module spawned.
      process.kill(-child.pid, sig);
    } catch {
      child.kill(sig);
    }
  }

  private removeTmp(): void {
    void this.gate?.close();
    this.gate = null;
    if (this.tmpDir) fs.rmSync(this.tmpDir, { recursive: true, force: true });
    this.tmpDir = null;
  }

  /** SIGKILL now; resolves when the process is gone. */
  killNow(): Promise<void> {
    const child = this.child;
    this.expectedExit = true;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      if (child) this.signal('SIGKILL'); // stragglers of the group
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
    if (child) this.signal('SIGKILL'); // stragglers of the group
    this.unregister();
    this.removeTmp();
    await new Promise<void>((resolve) => this.log.end(resolve));
  }
}

/**
 * Poll until something accepts connections on the port (or, contained, on the Unix socket the bridge opens once
 * the server inside listens); false when `stop()` says to give up.
 */
async function waitForPort(where: { port: number } | { path: string }, stop: () => boolean): Promise<boolean> {
  while (!stop()) {
    const up = await new Promise<boolean>((resolve) => {
      const s = 'path' in where ? net.connect({ path: where.path }) : net.connect({ host: '127.0.0.1', port: where.port });
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
