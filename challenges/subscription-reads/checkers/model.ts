// What every subscription-reads check shares: the scenario's data, each user's versions in the order the harness
// wrote them (it never has two writes of one user in flight, so that order is the order they were applied), and
// which version a read's answer is. A state is named by the write that produced it (`requestId`); a read's answer
// that names no write of that user, or does not match what that write set, is a state no write produced.

import type { Op } from '../../../harness/types.ts';
import type { Caller, ReadValue } from '../operations.ts';

export interface ReadsUser { userId: string; plan: string }
export interface ReadsData { users: ReadsUser[]; stalenessMs: number; hot: string[] }

/** What the scenario measured on the wire, handed to the checks with the final reads. */
export interface ReadsFinal {
  /** primary-offload: the read-only phase. */
  offload?: { fromUs: number; toUs: number; reads: number; primarySelects: number; replicaSelects: number };
  /** no-stampede: the most primary statements naming one hot user that one instance sent in any window. */
  stampede?: { windowMs: number; flushes: number; worst: { userId: string; instance: string; count: number; atUs: number }[] };
}

export function readsData(data: Record<string, unknown>): ReadsData {
  return data as unknown as ReadsData;
}

export interface Version {
  /** 0: the initial state (setup); 1..: the user's writes in the order they were sent. */
  index: number;
  requestId: string;
  f: 'initial' | 'change-plan' | 'cancel';
  plan?: string;
  by: Caller | 'setup';
  /** The write's call (absent for the initial state). */
  op?: Op;
  /** When it was acknowledged (µs), or null: not acknowledged (it may or may not have been applied). */
  ackUs: number | null;
  invokeUs: number;
}

export interface UserVersions {
  userId: string;
  versions: Version[];
  byRequest: Map<string, Version>;
}

const WRITES = new Set(['change-plan', 'cancel']);

/** Each user's versions, from the data (initial plans) and the history's writes. */
export function versionModel(ops: readonly Op[], data: ReadsData): Map<string, UserVersions> {
  const users = new Map<string, UserVersions>();
  for (const u of data.users) {
    const initial: Version = { index: 0, requestId: 'initial', f: 'initial', plan: u.plan, by: 'setup', ackUs: Number.NEGATIVE_INFINITY, invokeUs: Number.NEGATIVE_INFINITY };
    users.set(u.userId, { userId: u.userId, versions: [initial], byRequest: new Map([['initial', initial]]) });
  }
  const writes = ops.filter((o) => WRITES.has(o.f)).sort((a, b) => a.startUs - b.startUs);
  for (const op of writes) {
    const u = users.get(String(op.args.userId));
    if (!u) continue;
    const v: Version = {
      index: u.versions.length,
      requestId: String(op.args.requestId),
      f: op.f as Version['f'],
      ...(op.f === 'change-plan' ? { plan: String(op.args.plan) } : {}),
      by: op.args.by as Caller,
      op,
      ackUs: op.type === 'ok' ? op.endUs : null,
      invokeUs: op.startUs,
    };
    u.versions.push(v);
    u.byRequest.set(v.requestId, v);
  }
  return users;
}

export type Identified = { ok: true; version: Version } | { ok: false; problem: string };

/** Which version an answer is: the write it names, when that write set what the answer says. */
export function identify(u: UserVersions, value: ReadValue): Identified {
  if (value.userId !== u.userId) return { ok: false, problem: `it is user ${value.userId || '(none)'}'s subscription, not ${u.userId}'s` };
  const v = u.byRequest.get(value.requestId);
  if (!v) return { ok: false, problem: `requestId ${JSON.stringify(value.requestId)} names no write of ${u.userId}` };
  if (v.f === 'cancel' && value.status !== 'cancelled') return { ok: false, problem: `it names the cancel ${v.requestId} but says status ${value.status}` };
  if (v.f === 'cancel' && !plansBefore(u, v.index).has(value.plan)) return { ok: false, problem: `it names the cancel ${v.requestId} but says plan ${value.plan}, which the subscription did not have then` };
  if (v.f !== 'cancel' && value.status !== 'active') return { ok: false, problem: `it names ${v.requestId}, which left the subscription active, but says status ${value.status}` };
  if (v.f !== 'cancel' && v.plan !== value.plan) return { ok: false, problem: `it names ${v.requestId}, which set plan ${v.plan}, but says plan ${value.plan}` };
  return { ok: true, version: v };
}

/**
 * The plans a subscription may have had just before version `index`: back to the last acknowledged plan change (or
 * the initial plan), the plans of the unacknowledged ones in between too (each may or may not have applied).
 */
function plansBefore(u: UserVersions, index: number): Set<string> {
  const plans = new Set<string>();
  for (let i = index - 1; i >= 0; i--) {
    const v = u.versions[i];
    if (v.f === 'cancel') continue;
    plans.add(v.plan!);
    if (v.f === 'initial' || v.ackUs !== null) break;
  }
  return plans;
}

/** Reads answered with a ReadResult (every phase, the final reads included). */
export function answeredReads(ops: readonly Op[]): Op[] {
  return ops.filter((o) => o.f === 'read' && o.type === 'ok' && o.value);
}

/** The newest version acknowledged before `beforeUs` (by `who`, when given): what a read that began then owes. */
export function newestAcked(u: UserVersions, beforeUs: number, who?: (v: Version) => boolean): Version {
  let best = u.versions[0];
  for (const v of u.versions) if (v.ackUs !== null && v.ackUs < beforeUs && (!who || who(v)) && v.index > best.index) best = v;
  return best;
}

/** A state an answer showed, and the answer that first showed it. */
export interface Shown { version: Version; op: Op }

/** One user's answered calls in order of their end, and the newest state shown by the first i + 1 of them. */
export interface AnswersShown { ends: number[]; ops: Op[]; newest: (Shown | null)[] }

/**
 * Per user, the answered calls among `ops` about them (a known user, a value) in order of their end, each with the
 * newest state shown so far: walked once, so what had been shown before a read is a binary search (`shownBefore`), not
 * a rescan of the history per read (2 s of the harness's CPU per 16 000-call scenario, when it was).
 */
export function answersShown(ops: readonly Op[], model: Map<string, UserVersions>): Map<string, AnswersShown> {
  const sorted = ops.filter((o) => o.type === 'ok' && o.value && typeof o.args.userId === 'string' && model.has(o.args.userId)).sort((a, b) => a.endUs - b.endUs);
  const byUser = new Map<string, AnswersShown>();
  for (const o of sorted) {
    const u = model.get(o.args.userId as string)!;
    let s = byUser.get(u.userId);
    if (!s) byUser.set(u.userId, (s = { ends: [], ops: [], newest: [] }));
    const before = s.newest.length ? s.newest[s.newest.length - 1] : null;
    const id = identify(u, o.value as ReadValue);
    s.ends.push(o.endUs);
    s.ops.push(o);
    s.newest.push(id.ok && (!before || id.version.index > before.version.index) ? { version: id.version, op: o } : before);
  }
  return byUser;
}

/**
 * The newest state shown by the calls of `s` that ended before `beforeUs` (`at-or-before`: ended at it too), and how
 * many calls that is.
 */
export function shownBefore(s: AnswersShown | undefined, beforeUs: number, bound: 'before' | 'at-or-before'): { shown: Shown | null; count: number } {
  if (!s) return { shown: null, count: 0 };
  let lo = 0;
  let hi = s.ends.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (s.ends[mid] < beforeUs || (bound === 'at-or-before' && s.ends[mid] === beforeUs)) lo = mid + 1;
    else hi = mid;
  }
  return { shown: lo ? s.newest[lo - 1] : null, count: lo };
}

/** "r-0012 (plan pro)" / "the cancel r-0013" / "the initial state". */
export function describeVersion(v: Version): string {
  if (v.f === 'initial') return `the initial state (plan ${v.plan})`;
  return v.f === 'cancel' ? `the cancel ${v.requestId}` : `${v.requestId} (plan ${v.plan})`;
}

export const seconds = (us: number): string => `${(us / 1e6).toFixed(2)} s`;

/** The most of `times` (µs, any order) inside any window of `windowUs`, and where that window starts. */
export function maxInWindow(times: number[], windowUs: number): { count: number; atUs: number } {
  const t = [...times].sort((a, b) => a - b);
  let best = { count: 0, atUs: 0 };
  let lo = 0;
  for (let hi = 0; hi < t.length; hi++) {
    while (t[hi] - t[lo] >= windowUs) lo++;
    if (hi - lo + 1 > best.count) best = { count: hi - lo + 1, atUs: t[lo] };
  }
  return best;
}
