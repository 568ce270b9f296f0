// Reference (plain, textbook): written apart from gauntlet, from the contract and the challenge README alone.
// One `subscriptions` row per user with a `version` bumped by every write (one UPDATE on the primary, its own
// transaction); the consistency token is the version the caller saw. Reads: Redis cache-aside (entries remember
// how fresh their data was, `asOf`, and expire once older than 1.5 s), misses coalesced per user in-process, filled
// from the replica when its replay lag is under 1 s, else from the primary; a token newer than what the cache or the
// replica holds goes to the primary. Redis or replica trouble (error, timeout) just means "use the next source"
// (logged through ctx.log: added after the first grade, which raised the no-monitoring concern).
import type { AppContext, SetupContext } from 'gauntlet';

type Plan = 'free' | 'starter' | 'pro' | 'team';
interface SubscriptionView { userId: string; plan: Plan; status: 'active' | 'cancelled'; requestId: string }
interface ReadResult { subscription: SubscriptionView; consistencyToken?: string }
interface SubscriptionReadsService {
  changePlan(userId: string, plan: Plan, requestId: string): Promise<ReadResult>;
  cancel(userId: string, requestId: string): Promise<ReadResult>;
  getSubscription(userId: string, consistencyToken?: string): Promise<ReadResult>;
}
interface ReadsScenario { users: { userId: string; plan: Plan }[]; stalenessMs: number }

/** A cached (or freshly loaded) state: `asOf` = every write committed before this time (ms) is reflected. */
interface Entry { view: SubscriptionView; version: number; asOf: number }

const STALENESS_MS = 2000;         // published bound (create() does not receive the scenario)
const MAX_AGE_MS = STALENESS_MS - 500;   // serve data at most this old: a margin under the bound
const REPLICA_MAX_LAG_MS = 1000;   // above this the replica is "too far behind": read the primary
const REPLICA_TIMEOUT_MS = 1000;
const REPLICA_BACKOFF_MS = 1000;   // after a replica error, skip it for this long
const REDIS_TIMEOUT_MS = 250;
const COLUMNS = 'user_id, plan, status, request_id, version::int AS version';

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then((v) => { clearTimeout(timer); resolve(v); }, (e) => { clearTimeout(timer); reject(e); });
  });
}

function toView(row: { user_id: string; plan: Plan; status: 'active' | 'cancelled'; request_id: string }): SubscriptionView {
  return { userId: row.user_id, plan: row.plan, status: row.status, requestId: row.request_id };
}

const toToken = (version: number) => `v${version}`;
function parseToken(token?: string): number {
  const m = /^v(\d{1,15})$/.exec(token ?? '');
  return m ? Number(m[1]) : 0;
}

export async function setup(ctx: SetupContext): Promise<void> {
  const scenario = ctx.scenario as unknown as ReadsScenario;
  await ctx.pg.query(`
    CREATE TABLE IF NOT EXISTS subscriptions (
      user_id    text PRIMARY KEY,
      plan       text NOT NULL,
      status     text NOT NULL,
      request_id text NOT NULL,
      version    bigint NOT NULL
    )`);
  const users = scenario.users;
  for (let i = 0; i < users.length; i += 1000) {
    const batch = users.slice(i, i + 1000);
    await ctx.pg.query(
      `INSERT INTO subscriptions (user_id, plan, status, request_id, version)
       SELECT u, p, 'active', 'initial', 1 FROM unnest($1::text[], $2::text[]) AS t(u, p)
       ON CONFLICT (user_id) DO NOTHING`,
      [batch.map((u) => u.userId), batch.map((u) => u.plan)],
    );
  }
}

export default async function create(ctx: AppContext): Promise<SubscriptionReadsService> {
  const { pg, replica, redis } = ctx;
  const inflight = new Map<string, Promise<Entry>>();   // per-key in-flight loads (this process only)
  let replicaSkipUntil = 0;
  let cacheTrouble = false;   // logged once per stretch of Redis failures

  const cacheKey = (userId: string) => `subscription:${userId}`;
  const redisUp = () => redis.status === 'ready';

  // ---- Redis (best effort: any trouble is a miss) ----
  async function cacheGet(userId: string): Promise<Entry | null> {
    if (!redisUp()) return null;
    try {
      const raw = await withTimeout(redis.get(cacheKey(userId)), REDIS_TIMEOUT_MS);
      cacheTrouble = false;
      return raw ? (JSON.parse(raw) as Entry) : null;
    } catch (err) {
      if (!cacheTrouble) ctx.log('cache read failed: reading the databases until it answers again', { userId, error: (err as Error).message });
      cacheTrouble = true;
      return null;
    }
  }
  async function cacheSet(entry: Entry): Promise<void> {
    const ttl = Math.floor(entry.asOf + MAX_AGE_MS - Date.now());  // expire when it becomes too old to serve
    if (ttl <= 0 || !redisUp()) return;
    try {
      await withTimeout(redis.set(cacheKey(entry.view.userId), JSON.stringify(entry), 'PX', ttl), REDIS_TIMEOUT_MS);
    } catch { /* cache is optional */ }
  }
  async function cacheDelete(userId: string): Promise<void> {
    if (!redisUp()) return;
    try {
      await withTimeout(redis.del(cacheKey(userId)), REDIS_TIMEOUT_MS);
    } catch { /* entries expire on their own within MAX_AGE_MS */ }
  }

  // ---- loads ----
  async function fromPrimary(userId: string): Promise<Entry> {
    const asOf = Date.now();   // the snapshot is taken after this: every write acknowledged before is in it
    const { rows } = await pg.query(`SELECT ${COLUMNS} FROM subscriptions WHERE user_id = $1`, [userId]);
    if (rows.length === 0) throw new Error(`unknown user ${userId}`);
    const entry = { view: toView(rows[0]), version: rows[0].version, asOf };
    await cacheSet(entry);
    return entry;
  }

  /** The replica's row and how far behind it is, or null when it is down or too far behind. */
  async function fromReplica(userId: string): Promise<Entry | null> {
    if (Date.now() < replicaSkipUntil) return null;
    const started = Date.now();
    try {
      const { rows } = await withTimeout(replica.query(
        `SELECT ${COLUMNS},
                EXTRACT(EPOCH FROM (now() - pg_last_xact_replay_timestamp())) * 1000 AS lag_ms
           FROM subscriptions WHERE user_id = $1`, [userId]), REPLICA_TIMEOUT_MS);
      if (rows.length === 0 || rows[0].lag_ms === null) return null;   // not replicated yet
      const lag = Math.max(0, Number(rows[0].lag_ms));
      if (lag > REPLICA_MAX_LAG_MS) return null;
      const entry = { view: toView(rows[0]), version: rows[0].version, asOf: started - lag };
      await cacheSet(entry);
      return entry;
    } catch (err) {
      replicaSkipUntil = Date.now() + REPLICA_BACKOFF_MS;
      ctx.log('replica query failed: reading the primary for a while', { userId, backoffMs: REPLICA_BACKOFF_MS, error: (err as Error).message });
      return null;
    }
  }

  /** One load per key at a time in this process: concurrent misses wait for the same promise. */
  function coalesce(key: string, load: () => Promise<Entry>): Promise<Entry> {
    let p = inflight.get(key);
    if (!p) {
      p = load().finally(() => inflight.delete(key));
      inflight.set(key, p);
    }
    return p;
  }

  /** Good enough for this read: not older than the caller's token, and fresh relative to when the read began. */
  const usable = (e: Entry | null, minVersion: number, readStart: number): e is Entry =>
    e !== null && e.version >= minVersion && e.asOf >= readStart - MAX_AGE_MS;

  const answer = (e: Entry): ReadResult => ({ subscription: e.view, consistencyToken: toToken(e.version) });

  async function getSubscription(userId: string, consistencyToken?: string): Promise<ReadResult> {
    const readStart = Date.now();
    const minVersion = parseToken(consistencyToken);

    const cached = await cacheGet(userId);
    if (usable(cached, minVersion, readStart)) return answer(cached);

    // Miss: replica if it is close enough, else the primary (shared by every concurrent miss).
    const loaded = await coalesce(`fill:${userId}`, async () => (await fromReplica(userId)) ?? fromPrimary(userId))
      .catch(() => null);
    if (usable(loaded, minVersion, readStart)) return answer(loaded);

    // The shared load was older than this caller's token (or failed): ask the primary, still coalesced. A load
    // that started after this read began always qualifies, so the second round suffices.
    let fresh = await coalesce(`primary:${userId}`, () => fromPrimary(userId));
    if (!usable(fresh, minVersion, readStart)) fresh = await coalesce(`primary:${userId}`, () => fromPrimary(userId));
    return answer(fresh);
  }

  // ---- writes: one statement on the primary (its own transaction), then drop the cached entry ----
  async function write(userId: string, sql: string, params: unknown[]): Promise<ReadResult> {
    const { rows } = await pg.query(sql, params);
    if (rows.length === 0) throw new Error(`unknown user ${userId}`);
    await cacheDelete(userId);   // best effort: Redis down never fails a write
    return { subscription: toView(rows[0]), consistencyToken: toToken(rows[0].version) };
  }

  return {
    changePlan: (userId, plan, requestId) => write(userId,
      `INSERT INTO subscriptions (user_id, plan, status, request_id, version)
       VALUES ($1, $2, 'active', $3, 1)
       ON CONFLICT (user_id) DO UPDATE
         SET plan = EXCLUDED.plan, status = 'active', request_id = EXCLUDED.request_id,
             version = subscriptions.version + 1
       RETURNING ${COLUMNS}`, [userId, plan, requestId]),
    cancel: (userId, requestId) => write(userId,
      `UPDATE subscriptions SET status = 'cancelled', request_id = $2, version = version + 1
        WHERE user_id = $1 RETURNING ${COLUMNS}`, [userId, requestId]),
    getSubscription,
  };
}
