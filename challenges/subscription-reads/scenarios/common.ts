// What the subscription-reads scenarios share: seeded users (a few of them hot), the traffic — users' own sessions
// (one call at a time each, writing now and then and reading their own subscription on other instances, carrying
// the token of their latest answer like a cookie), anonymous readers (no token), an admin changing users' plans
// (whose tokens go nowhere) — and the final reads: every user on every instance and on a fresh one, once the
// replica caught up and stalenessMs + 1 s passed after the last write.

import type { ScenarioContext } from '../../../harness/scenario.ts';
import type { Rng } from '../../../harness/seed.ts';
import type { Op } from '../../../harness/types.ts';
import { readsNoApplicationData } from '../../../harness/wire/catalog-reads.ts';
import { loadSqlParser } from '../../../harness/wire/sql-parser.ts';
import type { Plan } from '../contract.ts';
import { cancel, changePlan, metrics, PLANS, read, type Caller, type ReadValue } from '../operations.ts';
import { readsData, type ReadsData, type ReadsFinal } from '../checkers/model.ts';

/** Published (challenge README, ctx.scenario.stalenessMs). */
export const STALENESS_MS = 2000;

/** `count` users with fixed-width seeded ids (no id occurs inside another), the first `hot` of a shuffle hot. */
export function makeData(rng: Rng, count: number, hot: number): ReadsData {
  const users = Array.from({ length: count }, (_, i) => {
    const tag = Math.floor(rng.next() * 0x10000).toString(16).padStart(4, '0');
    return { userId: `user-${String(i + 1).padStart(4, '0')}-${tag}`, plan: rng.pick(PLANS) as string };
  });
  return { users, stalenessMs: STALENESS_MS, hot: rng.shuffle(users.map((u) => u.userId)).slice(0, hot) };
}

/** What a scenario measured on the wire during its run, for its final reads to hand to the checks. */
const measured = new WeakMap<ScenarioContext, ReadsFinal>();
export function measure(ctx: ScenarioContext, part: ReadsFinal): void {
  measured.set(ctx, { ...(measured.get(ctx) ?? {}), ...part });
}

/** A run's traffic state: each user's token, whose session is busy, whose write is in flight, the last write's ack. */
export class Traffic {
  private readonly tokens = new Map<string, string>();
  private readonly sessionBusy = new Set<string>();
  private readonly writing = new Set<string>();
  private readonly plans = new Map<string, string>();
  private seq = 0;
  lastWriteAckUs = 0;
  readonly data: ReadsData;

  constructor(private readonly ctx: ScenarioContext, private readonly rng: Rng) {
    this.data = readsData(ctx.data);
    for (const u of this.data.users) this.plans.set(u.userId, u.plan);
  }

  /** A live instance, round-robin from a seeded start, skipping `not` and instances that are down. */
  private nextInstance = 0;
  instance(not = -1): number {
    const n = this.ctx.cluster.size;
    for (let k = 0; k < n; k++) {
      const i = (this.nextInstance++ + k) % n;
      if (i !== not && this.ctx.cluster.isUp(i)) return i;
    }
    return (not + 1) % n;
  }

  /** A user: hot ones with probability `hotShare`, else any. */
  pickUser(hotShare = 0.4): string {
    const hot = this.data.hot;
    return hot.length && this.rng.chance(hotShare) ? this.rng.pick(hot) : this.rng.pick(this.data.users).userId;
  }

  private requestId(): string {
    this.seq += 1;
    return `r-${String(this.seq).padStart(5, '0')}-${Math.floor(this.rng.next() * 0x10000).toString(16).padStart(4, '0')}`;
  }

  private keep(userId: string, op: Op): void {
    const token = op.type === 'ok' ? (op.value as ReadValue).token : undefined;
    if (token) this.tokens.set(userId, token);
  }

  /** One write (a plan change, now and then a cancel), by the user's session or by an admin. Never two of one user at once. */
  async write(userId: string, by: Caller, phase: string, instance = this.instance()): Promise<Op | null> {
    if (this.writing.has(userId)) return null;
    this.writing.add(userId);
    try {
      const current = this.plans.get(userId);
      const token = by === 'session' ? this.tokens.get(userId) : undefined;
      const spec = this.rng.chance(0.2)
        ? cancel(instance, userId, this.requestId(), by, phase, token)
        : changePlan(instance, userId, this.rng.pick(PLANS.filter((p) => p !== current)) as Plan, this.requestId(), by, phase, token);
      if (spec.f === 'change-plan') this.plans.set(userId, String(spec.args.plan));
      const op = await this.ctx.client.call(spec);
      if (op.type === 'ok') this.lastWriteAckUs = Math.max(this.lastWriteAckUs, op.endUs);
      if (by === 'session') this.keep(userId, op);
      return op;
    } finally {
      this.writing.delete(userId);
    }
  }

  /** A read by the user's session (their token, kept from the answer) or by anyone else. */
  async read(userId: string, by: Caller, phase: string, instance = this.instance()): Promise<Op> {
    const op = await this.ctx.client.call(read(instance, userId, by, phase, this.tokens.get(userId)));
    if (by === 'session') this.keep(userId, op);
    return op;
  }

  /** One visit of a user's session: maybe a write, then reads of their own subscription on the other instances. */
  async visit(phase: string, writeShare: number): Promise<void> {
    let userId = this.pickUser();
    for (let tries = 0; this.sessionBusy.has(userId) && tries < 5; tries++) userId = this.pickUser(0.1);
    if (this.sessionBusy.has(userId)) return;
    this.sessionBusy.add(userId);
    try {
      if (this.rng.chance(writeShare)) {
        const wrote = this.ctx.cluster.size > 1 ? this.instance() : 0;
        const op = await this.write(userId, 'session', phase, wrote);
        if (op) {
          // Read your write at once, elsewhere: the next instance, then another.
          await this.read(userId, 'session', phase, this.instance(wrote));
          await this.read(userId, 'session', phase, this.instance(wrote));
          return;
        }
      }
      for (let k = this.rng.int(1, 3); k > 0; k--) await this.read(userId, 'session', phase);
    } finally {
      this.sessionBusy.delete(userId);
    }
  }

  /**
   * Traffic until `untilMs` (ctx.sleep clock) or `stop()`: `browsers` sessions visiting, `readers` anonymous readers
   * (on hot users only with `hotOnly`), and an admin writing every `adminEveryMs` (0: none).
   */
  async run(o: { phase: string; durationMs: number; browsers: number; readers: number; writeShare: number; adminEveryMs: number; hotOnly?: boolean }): Promise<void> {
    const until = Date.now() + o.durationMs;
    const live = () => Date.now() < until && !this.ctx.signal.aborted;
    const loops: Promise<void>[] = [];
    for (let b = 0; b < o.browsers; b++) loops.push((async () => { while (live()) await this.visit(o.phase, o.writeShare); })());
    for (let r = 0; r < o.readers; r++) {
      loops.push((async () => {
        while (live()) await this.read(o.hotOnly ? this.rng.pick(this.data.hot) : this.pickUser(), 'anonymous', o.phase);
      })());
    }
    if (o.adminEveryMs > 0) {
      loops.push((async () => {
        while (live()) {
          await this.ctx.sleep(o.adminEveryMs);
          if (live()) await this.write(this.pickUser(0.3), 'admin', o.phase);
        }
      })());
    }
    await Promise.all(loops);
  }
}

/**
 * The final reads: once stalenessMs passed since the last acknowledged write (the pipeline already healed every
 * fault and waited for the replica), every user read anonymously on every live instance and on a fresh one (started
 * while that time passes).
 */
export async function readEverything(ctx: ScenarioContext): Promise<ReadsFinal> {
  const d = readsData(ctx.data);
  const lastWriteUs = Math.max(0, ...ctx.history().filter((o) => (o.f === 'change-plan' || o.f === 'cancel') && o.type === 'ok').map((o) => o.endUs));
  // A second beyond the bound: cache-invalidated looks for states kept for good, not for the bound's edge.
  const waitMs = d.stalenessMs + 1000 - (ctx.nowUs() - lastWriteUs) / 1000;
  // The fresh instance boots during that wait (every write is acknowledged and the replica caught up, so nothing it
  // could load at start is older than what the others read); it is read only once the wait is over.
  const starting = ctx.cluster.startFresh().then((i) => ({ i }), (err: Error) => ({ err }));
  if (waitMs > 0) await ctx.sleep(waitMs);
  const started = await starting;
  if ('err' in started) throw started.err;
  const fresh = started.i;
  const instances = [...Array.from({ length: ctx.cluster.size }, (_, i) => i).filter((i) => ctx.cluster.isUp(i)), fresh];
  const calls = d.users.flatMap((u) => instances.map((i) => ({ userId: u.userId, instance: i })));
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < calls.length) {
      const c = calls[next++];
      await ctx.client.call(read(c.instance, c.userId, 'anonymous', 'final'));
    }
  }));
  return measured.get(ctx) ?? {};
}

/** Scenario params every profile shares. */
export const TRAFFIC = { browsers: 8, readers: 6, writeShare: 0.15, adminEveryMs: 150 };

/** Published (challenge README): how far a reported cache hit ratio may be from the harness's estimate. */
export const HIT_RATIO_TOLERANCE = 0.2;

/**
 * The optional metrics() of every instance, compared with what the harness measured for that instance since the
 * scenario began: its cache hit ratio against 1 − (its SELECTs on either server ÷ its answered reads), and, when the
 * replica has replayed everything, a lag under 1000 ms. Recorded as the scenario's `metricsAgreement` (the share of
 * instances that agree; 0 without metrics()) and `metricsDetail`, which Performance monitoring scores; never a check.
 */
export async function compareMetrics(ctx: ScenarioContext): Promise<void> {
  if (!ctx.capabilities.includes('metrics') && !ctx.capabilities.includes('*')) {
    ctx.metric('metricsAgreement', 0);
    ctx.metric('metricsDetail', 'no metrics() exported');
    return;
  }
  const lagBytes = await ctx.replica?.lagBytes().catch(() => null);
  await loadSqlParser();
  const instances = Array.from({ length: ctx.cluster.size }, (_, i) => i).filter((i) => ctx.cluster.isUp(i));
  const verdicts = await Promise.all(instances.map(async (i) => {
    const op = await ctx.client.call(metrics(i, 'metrics'));
    return judgeMetrics(i, op, ctx.history(), ctx.wire?.completions() ?? [], lagBytes ?? null, ctx.wire?.statements() ?? []);
  }));
  const agree = verdicts.filter((v) => v.agrees).length;
  ctx.metric('metricsAgreement', instances.length ? agree / instances.length : 0);
  ctx.metric('metricsDetail', `metrics() agreed with the harness on ${agree} of ${instances.length} instance(s): ${verdicts.map((v) => v.text).join('; ')}`);
}

/**
 * Database SELECTs that read data, of `tag` (an instance) in a window: the SELECT completions less the statements
 * that read no table of the service (a lag or health check: catalog-reads.ts; each completes as one SELECT). Call
 * `loadSqlParser()` first, or every SELECT counts.
 */
export function dataSelects(completions: readonly { tag?: string; commandTag: string; t: number }[], statements: readonly { tag?: string; t: number; text: string }[], keep: (x: { tag?: string; t: number }) => boolean): { selects: number; monitoring: number } {
  const all = completions.filter((c) => keep(c) && c.commandTag.startsWith('SELECT')).length;
  const monitoring = statements.filter((x) => keep(x) && readsNoApplicationData(x.text)).length;
  return { selects: Math.max(0, all - monitoring), monitoring };
}

/** One instance's reported figures against the harness's; pure, for tests. */
export function judgeMetrics(instance: number, op: Op, ops: readonly Op[], completions: readonly { tag?: string; commandTag: string; t: number }[], lagBytes: number | null, statements: readonly { tag?: string; t: number; text: string }[] = []): { agrees: boolean; text: string } {
  const name = `instance ${instance}`;
  if (op.type !== 'ok') return { agrees: false, text: `${name}: metrics() did not answer (${op.error ?? op.code ?? 'no answer'})` };
  const v = (op.value ?? {}) as { cacheHitRatio?: unknown; replicaLagMs?: unknown };
  const reads = ops.filter((o) => o.f === 'read' && o.instance === instance && o.type === 'ok' && o.endUs <= op.startUs).length;
  const { selects, monitoring } = dataSelects(completions, statements, (x) => x.tag === String(instance) && x.t <= op.startUs);
  if (typeof v.cacheHitRatio !== 'number' || !(v.cacheHitRatio >= 0 && v.cacheHitRatio <= 1)) return { agrees: false, text: `${name}: cacheHitRatio ${JSON.stringify(v.cacheHitRatio)} is not a number from 0 to 1` };
  if (!reads) return { agrees: false, text: `${name}: no reads to compare with` };
  const measured = Math.max(0, 1 - selects / reads);
  const lag = v.replicaLagMs;
  const lagOk = lagBytes !== 0 || (typeof lag === 'number' && lag >= 0 && lag < 1000);
  const hitOk = Math.abs(v.cacheHitRatio - measured) <= HIT_RATIO_TOLERANCE;
  const text = `${name}: hit ratio ${v.cacheHitRatio.toFixed(2)} reported, ~${measured.toFixed(2)} measured (${selects} SELECTs for ${reads} reads${monitoring ? `; ${monitoring} lag or health checks that read no table of yours not counted` : ''})${lagBytes === 0 ? `, lag ${JSON.stringify(lag)} ms reported with the replica caught up` : ''}`;
  return { agrees: hitOk && lagOk, text };
}
