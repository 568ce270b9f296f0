// The history of a scenario: every call's invoke and completion, in order, with instance and µs timestamps.
// Kept in memory for the checkers and appended as JSONL (one line per invoke, one per completion) to the run
// folder, so a checker can be re-run offline on exactly what happened. Lines are written in batches (every
// FLUSH_MS or FLUSH_BYTES, at close, and at process exit), each one synchronous write to the page cache: one stream
// write per line cost the steady-load driver about 60 µs of CPU per request (a thread-pool hand-off each), CPU taken
// from the instances on a two-core machine. A process that exits mid-scenario (Ctrl-C after cleanup) still writes
// what it recorded; only a kill -9 loses the last batch (under 100 ms).

import fs from 'node:fs';
import type { Op, OpType } from '../types.ts';

export interface InvokeRecord {
  process: string;
  instance: number;
  f: string;
  args: Record<string, unknown>;
  phase: string;
}

export interface Completion {
  type: OpType;
  value?: unknown;
  code?: string;
  error?: string;
  status?: number;
}

/** A batch of history lines goes to the file at least this often... */
const FLUSH_MS = 100;
/** ...or as soon as it holds this many characters. */
const FLUSH_BYTES = 64 * 1024;

/** Histories with a file still open: their batches are written if the process exits before close(). */
const openHistories = new Set<History>();
let exitHooked = false;
const flushOnExit = () => {
  for (const h of openHistories) h.flushNow();
};

export class History {
  readonly ops: Op[] = [];
  /** The history file's descriptor, until close() (or a write error: the file then stops, the ops go on). */
  private fd: number | null = null;
  /** Why the file stopped early, if it did (a full disk, say). */
  writeError: string | null = null;
  private readonly origin: bigint;
  private batch: string[] = [];
  private batchChars = 0;
  private flushTimer: NodeJS.Timeout | null = null;
  private readonly flushMs: number;

  /** `flushMs`: how long a line may wait in the batch (tests set it). */
  constructor(file?: string, origin: bigint = process.hrtime.bigint(), flushMs = FLUSH_MS) {
    this.origin = origin;
    this.flushMs = flushMs;
    if (file) {
      this.fd = fs.openSync(file, 'a');
      openHistories.add(this);
      if (!exitHooked) {
        exitHooked = true;
        process.on('exit', flushOnExit);
      }
    }
  }

  /** Monotonic µs since the scenario started. */
  nowUs(): number {
    return Number((process.hrtime.bigint() - this.origin) / 1000n);
  }

  /** The history time of an `process.hrtime.bigint()` reading. */
  usAt(hrtimeNs: bigint): number {
    return Number((hrtimeNs - this.origin) / 1000n);
  }

  /** Record an invocation; the op is pending (`type: 'info'`, `endUs: -1`) until completed. */
  invoke(rec: InvokeRecord, atUs: number = this.nowUs()): Op {
    const op: Op = { index: this.ops.length, ...rec, startUs: atUs, endUs: -1, type: 'info' };
    this.ops.push(op);
    this.write({ event: 'invoke', index: op.index, process: op.process, instance: op.instance, f: op.f, args: op.args, phase: op.phase, timeUs: atUs });
    return op;
  }

  complete(op: Op, c: Completion, atUs: number = this.nowUs()): Op {
    op.endUs = atUs;
    op.type = c.type;
    if (c.value !== undefined) op.value = c.value;
    if (c.code !== undefined) op.code = c.code;
    if (c.error !== undefined) op.error = c.error;
    if (c.status !== undefined) op.status = c.status;
    this.write({ event: c.type, index: op.index, process: op.process, instance: op.instance, f: op.f, timeUs: atUs, value: c.value, code: c.code, error: c.error, status: c.status });
    return op;
  }

  /** Append a non-call event (fault started, instance killed ...) to the JSONL file. */
  note(event: string, detail: Record<string, unknown>): void {
    this.write({ event, timeUs: this.nowUs(), ...detail });
  }

  private write(line: Record<string, unknown>): void {
    if (this.fd === null) return;
    const text = JSON.stringify(line) + '\n';
    this.batch.push(text);
    this.batchChars += text.length;
    if (this.batchChars >= FLUSH_BYTES) this.flushNow();
    else if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => this.flushNow(), this.flushMs);
      this.flushTimer.unref();
    }
  }

  /** Write the lines batched so far, in order, now (one synchronous write). */
  flushNow(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (!this.batch.length || this.fd === null) return;
    const bytes = Buffer.from(this.batch.join(''), 'utf8');
    this.batch = [];
    this.batchChars = 0;
    try {
      for (let off = 0; off < bytes.length; ) off += fs.writeSync(this.fd, bytes, off, bytes.length - off);
    } catch (err) {
      this.writeError = (err as Error).message;
      this.closeFile();
    }
  }

  private closeFile(): void {
    if (this.fd === null) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      // already gone
    }
    this.fd = null;
    openHistories.delete(this);
  }

  async close(): Promise<void> {
    this.flushNow();
    this.closeFile();
  }
}

/** Rebuild ops from a JSONL history file (for re-running checkers offline). */
export function readHistory(file: string): Op[] {
  const ops: Op[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const e = JSON.parse(line);
    if (e.event === 'invoke') {
      ops[e.index] = { index: e.index, process: e.process, instance: e.instance, f: e.f, args: e.args, phase: e.phase, startUs: e.timeUs, endUs: -1, type: 'info' };
    } else if ((e.event === 'ok' || e.event === 'fail' || e.event === 'info') && ops[e.index]) {
      Object.assign(ops[e.index], { type: e.event, endUs: e.timeUs, value: e.value, code: e.code, error: e.error, status: e.status });
    }
  }
  return ops.filter(Boolean);
}
