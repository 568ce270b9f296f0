// Builds tiny hand-written seat histories for the checker tests: `h.reserve('u1', 'A', ok(0, 10))`, final reads
// with `h.reads('A', 'u1', null)`, faults and instance events, then `h.input()` gives the checker's CheckInput.

import type { CheckInput } from '../../../harness/scenario.ts';
import type { FaultWindow, InstanceEvent, Op, OpType } from '../../../harness/types.ts';

/** When a call ran (ms since the scenario started) and how it ended. */
export interface At {
  start: number;
  end: number;
  type: OpType;
  /** Error code for fail (default SEAT_TAKEN) or info. */
  code?: string;
  /** Reason for info (default `timeout`). */
  error?: string;
  /** Instance the call was sent to (default 0). */
  instance?: number;
  /** For an ok claim: the user the returned reservation names (default the caller). */
  as?: string;
  /** Override the ok value entirely (e.g. `null`). */
  value?: unknown;
  phase?: string;
}

type Opts = Partial<Pick<At, 'instance' | 'phase' | 'error' | 'as' | 'value'>>;

export const ok = (start: number, end: number, o: Opts = {}): At => ({ start, end, type: 'ok', ...o });
/** A definite rejection, SEAT_TAKEN unless another code is given. */
export const taken = (start: number, end: number, o: Opts & { code?: string } = {}): At => ({ start, end, type: 'fail', code: 'SEAT_TAKEN', ...o });
export const failed = (code: string, start: number, end: number, o: Opts = {}): At => ({ start, end, type: 'fail', code, ...o });
/** Indeterminate: a timeout, a reset, a 500 ... it may or may not have taken effect. */
export const info = (start: number, end: number, o: Opts & { code?: string } = {}): At => ({ start, end, type: 'info', ...o });

const US = 1000;

export class TestHistory {
  readonly ops: Op[] = [];
  readonly faults: FaultWindow[] = [];
  readonly events: InstanceEvent[] = [];

  /** `seats`: the scenario's seats (data.seats); by default every seat the history mentions. */
  constructor(private readonly seats?: string[]) {}

  reserve(user: string, seat: string, at: At): Op {
    return this.claim('reserve', user, seat, at, {});
  }

  hold(user: string, seat: string, ttlMs: number, at: At): Op {
    return this.claim('hold', user, seat, at, { ttlMs });
  }

  confirm(user: string, seat: string, at: At): Op {
    return this.claim('confirm', user, seat, at, {});
  }

  release(user: string, seat: string, at: At): Op {
    return this.push({ process: user, f: 'release', args: { seatId: seat, userId: user }, at, value: at.value ?? null });
  }

  /** A main-phase read (not a final one). */
  get(seat: string, holder: string | null, at: At): Op {
    return this.push({ process: 'reader', f: 'read', args: { seatId: seat }, at, value: holder === null ? null : this.reservation(seat, holder) });
  }

  /** One final read of `seat` on an instance (after every main-phase op, unless `at` says otherwise). */
  read(seat: string, holder: string | null, o: { instance?: number; at?: At } = {}): Op {
    const t = this.afterAll();
    const at: At = o.at ?? ok(t, t + 1);
    return this.push({
      process: 'final-read',
      f: 'read',
      args: { seatId: seat },
      at: { instance: o.instance ?? 0, ...at, phase: 'final' },
      value: holder === null ? null : this.reservation(seat, holder),
    });
  }

  /** Final reads of `seat` from instances 0, 1, 2 ... (the last one may stand for the fresh instance). */
  reads(seat: string, ...holders: (string | null)[]): Op[] {
    const t = this.afterAll();
    return holders.map((holder, instance) => this.read(seat, holder, { instance, at: ok(t, t + 1) }));
  }

  fault(fault: string, startMs: number, endMs: number): FaultWindow {
    const w = { fault, startUs: startMs * US, endUs: endMs * US };
    this.faults.push(w);
    return w;
  }

  event(instance: number, kind: InstanceEvent['kind'], atMs: number): InstanceEvent {
    const e: InstanceEvent = { instance, atUs: atMs * US, kind };
    this.events.push(e);
    return e;
  }

  input(): CheckInput {
    const seats = this.seats ?? [...new Set(this.ops.map((o) => String(o.args.seatId)))];
    return { ops: this.ops, final: { seats, freshInstance: null }, faults: this.faults, instanceEvents: this.events, params: {}, data: { seats } };
  }

  private claim(f: string, user: string, seat: string, at: At, extra: Record<string, unknown>): Op {
    const value = at.value !== undefined ? at.value : this.reservation(seat, at.as ?? user);
    return this.push({ process: user, f, args: { seatId: seat, userId: user, ...extra }, at, value });
  }

  private reservation(seat: string, user: string) {
    return { seatId: seat, userId: user, timestamp: '2024-01-01T00:00:00.000Z' };
  }

  private afterAll(): number {
    return Math.max(0, ...this.ops.filter((o) => o.phase !== 'final').map((o) => o.endUs / US)) + 1000;
  }

  private push(p: { process: string; f: string; args: Record<string, unknown>; at: At; value: unknown }): Op {
    const { at } = p;
    const op: Op = {
      index: this.ops.length,
      process: p.process,
      instance: at.instance ?? 0,
      f: p.f,
      args: p.args,
      phase: at.phase ?? 'main',
      startUs: at.start * US,
      endUs: at.end * US,
      type: at.type,
    };
    if (at.type === 'ok') op.value = p.value;
    else if (at.type === 'fail') op.code = at.code ?? 'SEAT_TAKEN';
    else {
      if (at.code) op.code = at.code;
      op.error = at.error ?? 'timeout';
    }
    this.ops.push(op);
    return op;
  }
}

export const history = (seats?: string[]) => new TestHistory(seats);
