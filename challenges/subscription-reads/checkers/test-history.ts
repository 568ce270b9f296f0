// Builds tiny hand-written subscription-reads histories for the checker tests: users and their starting plans, writes
// (`h.changePlan('u1', 'pro', 'r1', ok(100, 120))`, `h.cancel(...)`, by the user's session unless `by: 'admin'`),
// reads of a user (`h.read('u1', 'r1', ok(500, 510, { instance: 2 }))`, by the session unless `by: 'anonymous'`)
// answering the state a write produced — or any value, to spoil it —, the final reads, fault windows, instance events
// and what the scenario measured on the wire; `h.input()` gives the checker's CheckInput. Times are in ms.
//
// The session keeps the token of its latest answer, as the harness does, and sends it with its later reads (in
// args.token); `h.tokens = false` plays a service that never gives one.

import type { CheckInput } from '../../../harness/scenario.ts';
import type { FaultWindow, InstanceEvent, Op, OpType } from '../../../harness/types.ts';
import type { Caller, ReadValue } from '../operations.ts';
import type { ReadsData, ReadsFinal, ReadsUser } from './model.ts';
import type { Rng } from '../../../harness/seed.ts';

const US = 1000;

/** When a call ran (ms), how it ended, where and for whom. */
export interface At {
  start: number;
  end: number;
  type: OpType;
  code?: string;
  error?: string;
  instance?: number;
  phase?: string;
  by?: Caller;
}
type Opts = Partial<Pick<At, 'instance' | 'phase' | 'error' | 'by'>>;

export const ok = (start: number, end: number, o: Opts = {}): At => ({ start, end, type: 'ok', ...o });
/** An indeterminate answer (a 5xx, a timeout, a reset): a write may or may not have been applied. */
export const info = (start: number, end: number, o: Opts & { code?: string } = {}): At => ({ start, end, type: 'info', error: 'status 500', ...o });
/** Never sent (the instance refused the connection): definitely did not happen. */
export const unavailable = (start: number, end: number, o: Opts = {}): At => ({ start, end, type: 'fail', code: 'UNAVAILABLE', error: 'instance unreachable (refused)', ...o });

/** A state: the requestId of the write (or 'initial') that produced it, or a whole value (spoilt on purpose). */
export type State = string | (Partial<ReadValue> & { requestId: string });

export class ReadsHistory {
  readonly ops: Op[] = [];
  readonly faults: FaultWindow[] = [];
  readonly instanceEvents: InstanceEvent[] = [];
  readonly users: ReadsUser[] = [];
  hot: string[] = [];
  stalenessMs = 2000;
  /** What the scenario measured on the wire (primary-offload, no-stampede). */
  final: ReadsFinal = {};
  /** Whether the service answers with a consistency token. */
  tokens = true;
  /** Per user, what each write (and setup) left: plan and status, by requestId. */
  private readonly states = new Map<string, Map<string, { plan: string; status: string }>>();
  private readonly current = new Map<string, { plan: string; status: string }>();
  private readonly sessionToken = new Map<string, string>();

  user(userId: string, plan = 'free'): ReadsUser {
    const u = { userId, plan };
    this.users.push(u);
    this.states.set(userId, new Map([['initial', { plan, status: 'active' }]]));
    this.current.set(userId, { plan, status: 'active' });
    return u;
  }

  /** changePlan by the user's session (or `by: 'admin'`); an ok answer is the state it produced. */
  changePlan(userId: string, plan: string, requestId: string, at: At): Op {
    this.record(userId, requestId, { plan, status: 'active' });
    const by = at.by ?? 'session';
    return this.push({ process: by === 'session' ? userId : `admin:${userId}`, f: 'change-plan', args: { userId, plan, requestId, by }, at, value: this.value(userId, requestId) });
  }

  /** cancel by the user's session (or `by: 'admin'`): status cancelled, the plan kept. */
  cancel(userId: string, requestId: string, at: At): Op {
    this.record(userId, requestId, { plan: this.current.get(userId)!.plan, status: 'cancelled' });
    const by = at.by ?? 'session';
    return this.push({ process: by === 'session' ? userId : `admin:${userId}`, f: 'cancel', args: { userId, requestId, by }, at, value: this.value(userId, requestId) });
  }

  /**
   * A read of `userId` by their session (carrying its latest token) unless `by` says otherwise, answering `state`
   * (ignored unless the call is ok).
   */
  read(userId: string, state: State, at: At): Op {
    const by = at.by ?? 'session';
    const token = by === 'session' ? this.sessionToken.get(userId) : undefined;
    return this.push({ process: by === 'session' ? userId : `reader:${userId}`, f: 'read', args: { userId, by, ...(token ? { token } : {}) }, at, value: this.value(userId, state) });
  }

  /** A final read (anonymous, phase `final`), by default 1 ms long, stalenessMs + 1 s after every other call ended (as readEverything waits). */
  finalRead(userId: string, state: State, o: { instance?: number; at?: number; type?: OpType } = {}): Op {
    const start = o.at ?? Math.max(0, ...this.ops.filter((x) => x.phase !== 'final').map((x) => x.endUs / US)) + this.stalenessMs + 1000;
    const at: At = o.type === 'info' ? info(start, start + 10_000) : o.type === 'fail' ? unavailable(start, start + 1) : ok(start, start + 1);
    return this.read(userId, state, { ...at, by: 'anonymous', phase: 'final', instance: o.instance ?? 0 });
  }

  /** The value an answer naming `state` carries: what that write set, with a token. */
  value(userId: string, state: State): ReadValue {
    const requestId = typeof state === 'string' ? state : state.requestId;
    const set = this.states.get(userId)?.get(requestId) ?? { plan: 'free', status: 'active' };
    const v: ReadValue = { userId, plan: set.plan, status: set.status, requestId };
    if (this.tokens) v.token = `tok:${userId}:${requestId}`;
    return typeof state === 'string' ? v : { ...v, ...state };
  }

  fault(fault: string, startMs: number, endMs: number, detail?: Record<string, unknown>): FaultWindow {
    const w: FaultWindow = { fault, startUs: startMs * US, endUs: endMs * US, ...(detail ? { detail } : {}) };
    this.faults.push(w);
    return w;
  }

  instanceEvent(instance: number, kind: InstanceEvent['kind'], atMs: number): InstanceEvent {
    const e: InstanceEvent = { instance, atUs: atMs * US, kind };
    this.instanceEvents.push(e);
    return e;
  }

  data(): ReadsData {
    return { users: this.users, stalenessMs: this.stalenessMs, hot: this.hot };
  }

  input(): CheckInput<ReadsFinal> {
    return { ops: this.ops, final: this.final, faults: this.faults, instanceEvents: this.instanceEvents, params: {}, data: this.data() as unknown as Record<string, unknown> };
  }

  private record(userId: string, requestId: string, state: { plan: string; status: string }): void {
    const s = this.states.get(userId);
    if (!s) throw new Error(`test-history: no user ${userId} (call h.user first)`);
    s.set(requestId, state);
    this.current.set(userId, state);
  }

  private push(p: { process: string; f: string; args: Record<string, unknown>; at: At; value: ReadValue }): Op {
    const { at } = p;
    const op: Op = { index: this.ops.length, process: p.process, instance: at.instance ?? 0, f: p.f, args: p.args, phase: at.phase ?? 'main', startUs: at.start * US, endUs: at.end * US, type: at.type };
    if (at.type === 'ok') {
      op.value = p.value;
      if (p.args.by === 'session' && p.value.token) this.sessionToken.set(String(p.args.userId), p.value.token);
    } else if (at.type === 'fail') {
      op.code = at.code;
      if (at.error) op.error = at.error;
    } else {
      if (at.code) op.code = at.code;
      op.error = at.error ?? 'status 500';
    }
    this.ops.push(op);
    return op;
  }
}

export const history = () => new ReadsHistory();

/**
 * A random history for comparing a checker with a plain definition of it: three users, session and admin writes
 * (some never answered), session and anonymous reads answering any state written so far, overlapping in time, some
 * of no length; with `finals`, final reads of every user on four instances after the run, answering any such state.
 */
export function randomHistory(rng: Rng, o: { finals?: boolean } = {}): ReadsHistory {
  const h = history();
  const users = ['u1', 'u2', 'u3'];
  const written = new Map(users.map((u) => [u, ['initial']]));
  for (const u of users) h.user(u, rng.pick(['free', 'pro']));
  let t = 100;
  for (let i = 0; i < 120; i++) {
    const u = rng.pick(users);
    t += rng.int(0, 6);
    const start = t;
    const end = start + rng.int(0, 25);
    const by = rng.int(0, 4) === 0 ? 'admin' : 'session';
    const roll = rng.int(0, 9);
    if (roll < 2) {
      const id = `w${i}`;
      written.get(u)!.push(id);
      const at = rng.int(0, 5) === 0 ? info(start, end, { by }) : ok(start, end, { by, instance: rng.int(0, 3) });
      if (roll === 0) h.cancel(u, id, at);
      else h.changePlan(u, rng.pick(['free', 'pro', 'team']), id, at);
    } else {
      h.read(u, rng.pick(written.get(u)!), ok(start, end, { by: rng.int(0, 3) === 0 ? 'anonymous' : 'session', instance: rng.int(0, 3) }));
    }
  }
  if (o.finals) for (const u of users) for (let instance = 0; instance < 4; instance++) h.finalRead(u, rng.int(0, 9) === 0 ? rng.pick(written.get(u)!) : written.get(u)![written.get(u)!.length - 1], { instance });
  return h;
}

