// The N candidate instances of one scenario: starts them in parallel, records every start, kill, crash and
// restart as instance events, restarts dead ones for final reads, and stops all of them at the end.

import path from 'node:path';
import type { ClusterHandle } from '../scenario.ts';
import type { InstanceEvent } from '../types.ts';
import { InstanceProcess, type InstanceEnv, type LaunchSpec, type StartOutcome } from './instance-process.ts';
import { httpCall, type Target } from '../generator/http-client.ts';
import type { Containment } from './netns.ts';
import type { WireEndpoint } from './wire-gate.ts';

export interface ClusterOptions {
  launch: LaunchSpec;
  size: number;
  env: InstanceEnv;
  /** Per-instance additions to `env` (index -1 is the setup process), e.g. each instance's own mock-service URLs. */
  envFor?(index: number): Record<string, string>;
  runDir: string;
  startTimeoutMs: number;
  nowUs(): number;
  onLog?(instance: number, message: string): void;
  /** Network containment of every process (setup included) and the endpoints it may reach (instance-process.ts). */
  network?: { containment: Containment; endpoints(index: number): WireEndpoint[] };
}

export class Cluster implements ClusterHandle {
  readonly events: InstanceEvent[] = [];
  private procs: InstanceProcess[] = [];
  /** Log lines candidates wrote through ctx.log, counted per scenario (monitoring evidence). */
  logCount = 0;

  constructor(private readonly opts: ClusterOptions) {}

  get size(): number {
    return this.opts.size;
  }

  /** Run the module's `setup` once in its own process. */
  async runSetup(): Promise<StartOutcome> {
    const p = this.makeProcess(-1, 'setup');
    const outcome = await p.start();
    await p.stop(500);
    return outcome;
  }

  private prestarted: Promise<StartOutcome>[] | null = null;

  /**
   * Boot every instance now (module mode), to load the module once `start()` is called: the processes start
   * while `setup` runs. HTTP-mode servers start in `start()` as before (nothing of theirs may run before setup).
   */
  prestart(): void {
    if (this.opts.launch.kind !== 'module' || this.prestarted) return;
    this.prestarted = Array.from({ length: this.opts.size }, (_, i) => this.startOne(i, 'started', true));
  }

  /** Start every instance (or let the prestarted ones go); resolves with the first failure, if any. */
  async start(): Promise<StartOutcome> {
    const pending = this.prestarted ?? Array.from({ length: this.opts.size }, (_, i) => this.startOne(i));
    if (this.prestarted) for (const p of this.procs) p?.go();
    this.prestarted = null;
    const outcomes = await Promise.all(pending);
    return outcomes.find((o) => !o.ok) ?? outcomes[0];
  }

  capabilities(): string[] {
    return this.procs.find((p) => p)?.capabilities ?? [];
  }

  /** Whether the service offers a method (an HTTP-mode server is taken to serve every route). */
  has(method: string): boolean {
    const caps = this.capabilities();
    return caps.includes('*') || caps.includes(method);
  }

  private makeProcess(index: number, mode: 'serve' | 'setup', waitForGo = false): InstanceProcess {
    const name = index < 0 ? 'setup' : `instance-${index}`;
    return new InstanceProcess(
      {
        launch: this.opts.launch,
        index: Math.max(0, index),
        env: { ...this.opts.env, ...this.opts.envFor?.(index) },
        mode,
        logFile: path.join(this.opts.runDir, `${name}.log`),
        startTimeoutMs: this.opts.startTimeoutMs,
        waitForGo,
        network: this.opts.network && { containment: this.opts.network.containment, endpoints: this.opts.network.endpoints(index) },
        onLog: (_message, fields) => {
          // The runtime's own notes (a pooled client's lost connection) are not the candidate's logging.
          if (fields?.by !== 'gauntlet') this.logCount++;
        },
      },
      (proc, detail, unexpected, sinceExitUs) => {
        // Recorded even when the process was already replaced by a restart: a death is a death.
        if (mode === 'setup' || !unexpected) return;
        this.events.push({ instance: index, atUs: this.opts.nowUs() - sinceExitUs, kind: 'exited', detail, faultInduced: false, errorCode: proc.lastFatal?.code });
      },
    );
  }

  private async startOne(index: number, startedKind: 'started' | 'restarted' = 'started', waitForGo = false): Promise<StartOutcome> {
    const proc = this.makeProcess(index, 'serve', waitForGo);
    this.procs[index] = proc;
    const outcome = await proc.start();
    this.events.push(outcome.ok ? { instance: index, atUs: this.opts.nowUs(), kind: startedKind } : { instance: index, atUs: this.opts.nowUs(), kind: 'load-error', detail: outcome.message });
    return outcome;
  }

  baseUrl(instance: number): string {
    const p = this.procs[instance];
    return p?.socketPath ? `http://localhost` : `http://127.0.0.1:${p?.port ?? 1}`;
  }

  target(instance: number): Target {
    const p = this.procs[instance];
    return p?.socketPath ? { host: 'localhost', port: 80, socketPath: p.socketPath } : { host: '127.0.0.1', port: p?.port ?? 1 };
  }

  isUp(instance: number): boolean {
    return !!this.procs[instance]?.alive;
  }

  async kill(instance: number): Promise<void> {
    const p = this.procs[instance];
    if (!p) return;
    this.events.push({ instance, atUs: this.opts.nowUs(), kind: 'killed' });
    await p.killNow();
  }

  async restart(instance: number): Promise<void> {
    const old = this.procs[instance];
    if (old) await old.stop(500);
    await this.startOne(instance, 'restarted');
  }

  /** Restart every instance that is not running (after a crash or a kill), for the final reads. */
  async restartDead(): Promise<void> {
    await Promise.all(
      this.procs.map(async (p, i) => {
        if (!p) return;
        // A process that is dying may not have reported its exit yet: one that does not answer is dead too.
        if (p.alive) {
          const res = await httpCall(this.target(i), { method: 'GET', path: '/__gauntlet/stats' }, 2000);
          if (res.status > 0) return; // any HTTP answer means it is alive (HTTP-mode servers have no stats route)
          await new Promise((resolve) => setTimeout(resolve, 200));
          if (p.alive) {
            this.events.push({ instance: i, atUs: this.opts.nowUs(), kind: 'exited', detail: `stopped answering (${res.transport ?? res.status}); killed and restarted`, faultInduced: false });
            await p.killNow();
          }
        }
        await this.restart(i);
      }),
    );
  }

  async startFresh(): Promise<number> {
    const index = this.procs.length;
    const outcome = await this.startOne(index);
    if (!outcome.ok) throw new Error(`a fresh instance did not start: ${outcome.message}`);
    return index;
  }

  async stats(): Promise<{ instance: number; inFlight: number; maxInFlight: number }[]> {
    return Promise.all(
      this.procs.slice(0, this.opts.size).map(async (p, i) => {
        const res = p?.alive ? await httpCall(this.target(i), { method: 'GET', path: '/__gauntlet/stats' }, 2000) : null;
        const body = (res?.body ?? {}) as { inFlight?: number; maxInFlight?: number };
        return { instance: i, inFlight: body.inFlight ?? 0, maxInFlight: body.maxInFlight ?? 0 };
      }),
    );
  }

  async resetStats(): Promise<void> {
    await Promise.all(this.procs.map((p, i) => (p?.alive ? httpCall(this.target(i), { method: 'POST', path: '/__gauntlet/stats' }, 2000) : null)));
  }

  /** Stop every process (graceful, then SIGKILL). */
  async stopAll(): Promise<void> {
    await Promise.all(this.procs.map((p) => p?.stop()));
  }
}
