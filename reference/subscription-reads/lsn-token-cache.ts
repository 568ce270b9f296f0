// Reference (LSN consistency tokens + versioned cache + single flight): written apart from gauntlet, from the
// contract and the challenge README alone.
//
// DESIGN
//   One `subscriptions` row per user in the primary, with a `version` bumped by every write. Every answer says where
//   its state sits in the primary's WAL: the token is `<version>@<lsn>`, the lsn being a WAL position at or past the
//   commit of that version (a write reads pg_current_wal_insert_lsn() right after its commit; a read takes its
//   server's position — pg_current_wal_insert_lsn() on the primary, pg_last_wal_replay_lsn() on the replica — in the
//   same statement as the row, evaluated after the statement's snapshot, so it is never below the row's commit).
//   - Freshness is a time, `asOf`: every write acknowledged before `asOf` is reflected. A primary read's `asOf` is the
//     moment before it was sent. For the replica a per-instance watch (every 200 ms) keeps what it knows for sure:
//     the highest replay position and replay timestamp the standby reported, and — only when those say nothing recent
//     (the primary idle, or the replica lagging) — a sample of the primary's WAL position with the time it was taken.
//     A replica snapshot taken after the standby reported replaying past the primary's position at time t reflects
//     every write acknowledged before t; one taken after it replayed a commit stamped t likewise. The replica is
//     used while that time is less than stalenessMs/2 old, else (lagging by seconds, stopped, erroring) reads go to
//     the primary. Knowledge is dropped on any replica error, so a standby that restarts is trusted again only once
//     it has answered.
//   - Redis holds `<version>|<state>` per user, written only by a Lua script that refuses an older version and gives
//     each entry an absolute expiry of asOf + 3/4 stalenessMs (computed against Redis's clock, refused once past): an
//     entry is fresh enough for as long as it exists, whatever happens to the writes that should have replaced it
//     (Redis down during a write, a late fill, a command ioredis resends after a reconnect).
//   - Writes: one autocommit UPDATE … RETURNING on the primary, then the WAL position, then the new state into Redis
//     (set-if-newer: a slower reader's fill of the previous version can never overwrite it). Redis trouble is logged
//     and ignored: the old entry dies at its expiry.
//   - Reads: Redis first (a hit serves when no token or its version ≥ the token's). A miss joins the instance's single
//     flight for that user: one load (replica if fresh enough and, for a token, known to have replayed the token's
//     lsn; else the primary) that fills Redis before it resolves and stays joinable for 200 ms. Each joiner checks the
//     result against its own needs (version ≥ its token, asOf not older than its own start allows) and, if it falls
//     short, the joiners start one new flight together. Answers carry their own token, so a user's later reads on any
//     instance never go back (monotonic) and see their writes (the token's version).
//   - Redis down (`status` not ready, an error, a 300 ms timeout) is a miss; replica down or slow (1 s) is the primary.
//
// TRADE-OFFS
//   + The primary sees writes, token reads that the cache and the replica cannot yet serve, and reads while the
//     replica is stale or down; with both healthy almost every read is a Redis hit or one replica query per user per
//     ~1 s per instance.
//   + metrics() reports what the instance did: the share of reads that sent no SELECT of their own, and the age of the
//     replica watch's proof of freshness as its lag.
//   + Freshness is proven, not assumed: the cache expiry and the replica choice both derive from measured `asOf`s, so
//     the staleness bound holds through lag spikes, a stopped standby and Redis outages without special cases.
//   - Tokens and the watch are machinery a reader must understand (LSNs, why the position is read after the snapshot).
//   - Entries live at most 1.5 s, less when filled from a replica that is already behind: hot users refill often,
//     cold users almost always miss. A primary-side invalidation feed could let entries live longer; it would be a
//     second moving part.
//   - The watch costs a replica query every 200 ms per instance, and a primary one when the replica gives no recent
//     replay timestamp (an idle primary): a few cheap SELECTs per second.
//   - The single flight is per instance: N instances missing at once send N loads (bounded, and to the replica).
import type { AppContext, SetupContext } from 'gauntlet';
import type { Pool, QueryResultRow } from 'pg';
import type { Redis } from 'ioredis';

type Plan = 'free' | 'starter' | 'pro' | 'team';
interface SubscriptionView { userId: string; plan: Plan; status: 'active' | 'cancelled'; requestId: string }
interface ReadResult { subscription: SubscriptionView; consistencyToken?: string }
interface SubscriptionReadsService {
  changePlan(userId: string, plan: Plan, requestId: string): Promise<ReadResult>;
  cancel(userId: string, requestId: string): Promise<ReadResult>;
  getSubscription(userId: string, consistencyToken?: string): Promise<ReadResult>;
  metrics?(): Promise<{ cacheHitRatio: number; replicaLagMs: number | null }>;
}
interface ReadsScenario { users: { userId: string; plan: Plan }[]; stalenessMs: number }
/** The context's replica (CONTRACT §2: subscription-reads). */
type ReadsContext = AppContext & { replica: Pool; replicaUrl: string };

const DEFAULT_STALENESS_MS = 2000;
const WATCH_EVERY_MS = 200;
/** Sample the primary's WAL position only when what the replica reported is older than this. */
const SAMPLE_PRIMARY_AFTER_MS = 400;
const REPLICA_TIMEOUT_MS = 1000;
const REDIS_TIMEOUT_MS = 300;
/** A settled load stays joinable this long (concurrent misses that just missed the fill still share it). */
const LINGER_MS = 200;
const COLUMNS = 'user_id, plan, status, request_id, version::text AS version';

interface Row { user_id: string; plan: Plan; status: 'active' | 'cancelled'; request_id: string; version: string }
/** A state, its WAL position (≥ its commit), and `asOf`: every write acknowledged before it is reflected. */
interface Entry { view: SubscriptionView; version: number; lsn: string; asOf: number }
/** What a token asks for. */
interface Need { version: number; lsn: bigint; lsnText: string }

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then((v) => (clearTimeout(timer), resolve(v)), (e) => (clearTimeout(timer), reject(e)));
  });
}

const LSN = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i;
const lsnValue = (lsn: string): bigint => {
  const m = LSN.exec(lsn);
  if (!m) throw new Error(`not an LSN: ${lsn}`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
};
const TOKEN = /^(\d{1,15})@([0-9A-F]{1,8}\/[0-9A-F]{1,8})$/i;
/**
 * The answer's token. Every lsn we hand out is at or past its version's commit; when the answer is the token's own
 * version, the smaller of the two is kept (a primary read's position runs ahead of the row's commit, and a token
 * that runs ahead sends the next miss to the primary for nothing).
 */
function toToken(e: Entry, need: Need | null): string {
  const lsn = need && need.version === e.version && need.lsn < lsnValue(e.lsn) ? need.lsnText : e.lsn;
  return `${e.version}@${lsn}`;
}
/** A malformed token is no token (it is opaque to the caller, and only ever one of ours). */
function parseToken(token?: string): Need | null {
  const m = TOKEN.exec(token ?? '');
  return m ? { version: Number(m[1]), lsn: lsnValue(m[2]), lsnText: m[2].toUpperCase() } : null;
}
const toView = (r: Row): SubscriptionView => ({ userId: r.user_id, plan: r.plan, status: r.status, requestId: r.request_id });

// KEYS[1]: the entry; ARGV: version, state (JSON), expiry (ms since the epoch). Sets `<version>|<state>` unless the
// entry holds a newer version (or the same one living longer), with that absolute expiry on Redis's clock; refuses
// an expiry already past (a fill that arrives late, e.g. resent after a reconnect).
const SET_IF_NEWER = `
local t = redis.call('TIME')
local ttl = tonumber(ARGV[3]) - (tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
if ttl < 1 then return 0 end
local cur = redis.call('GET', KEYS[1])
if cur then
  local cv = tonumber(string.match(cur, '^(%d+)|'))
  local v = tonumber(ARGV[1])
  if cv and cv > v then return 0 end
  if cv == v and redis.call('PTTL', KEYS[1]) >= ttl then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[2], 'PX', ttl)
return 1
`;
type SetIfNewer = (key: string, version: number, state: string, expiresAt: number) => Promise<number>;

export async function setup(ctx: SetupContext): Promise<void> {
  const scenario = ctx.scenario as unknown as ReadsScenario;
  await ctx.pg.query(`
    CREATE TABLE IF NOT EXISTS subscriptions (
      user_id    text PRIMARY KEY,
      plan       text NOT NULL,
      status     text NOT NULL CHECK (status IN ('active', 'cancelled')),
      request_id text NOT NULL,
      version    bigint NOT NULL
    )`);
  await ctx.pg.query(`CREATE TABLE IF NOT EXISTS reads_settings (name text PRIMARY KEY, value text NOT NULL)`);
  await ctx.pg.query(
    `INSERT INTO reads_settings (name, value) VALUES ('staleness_ms', $1) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value`,
    [String(scenario.stalenessMs ?? DEFAULT_STALENESS_MS)]);
  const users = scenario.users ?? [];
  for (let i = 0; i < users.length; i += 1000) {
    const batch = users.slice(i, i + 1000);
    await ctx.pg.query(
      `INSERT INTO subscriptions (user_id, plan, status, request_id, version)
       SELECT u, p, 'active', 'initial', 1 FROM unnest($1::text[], $2::text[]) AS t(u, p)
       ON CONFLICT (user_id) DO NOTHING`,
      [batch.map((u) => u.userId), batch.map((u) => u.plan)]);
  }
}

/** What this instance knows for sure about the replica's freshness (see the header). */
class ReplicaWatch {
  /** Primary WAL positions with the time just before each was asked (increasing in both). */
  private samples: { t: number; lsn: bigint }[] = [];
  private replayLsn: bigint | null = null;
  private replayTs = -Infinity;
  /** Bumped by every replica error: an answer to a query sent before it is not trusted. */
  epoch = 0;
  down = false;

  /** Every write acknowledged before this time is visible to replica snapshots taken from now on. */
  asOf(): number {
    let f = this.replayTs;
    if (this.replayLsn !== null) {
      for (let i = this.samples.length - 1; i >= 0; i--) {
        if (this.samples[i].lsn <= this.replayLsn) {
          f = Math.max(f, this.samples[i].t);
          break;
        }
      }
    }
    return f;
  }
  replayed(lsn: bigint): boolean {
    return this.replayLsn !== null && this.replayLsn >= lsn;
  }
  sample(t: number, lsn: string): void {
    this.samples.push({ t, lsn: lsnValue(lsn) });
    const keepFrom = t - 10_000;
    if (this.samples.length > 64 || this.samples[0].t < keepFrom) this.samples = this.samples.filter((s) => s.t >= keepFrom).slice(-64);
  }
  observe(epoch: number, lsn: string | null, ts: number | null): void {
    if (epoch !== this.epoch) return;
    this.down = false;
    if (lsn) {
      const v = lsnValue(lsn);
      if (this.replayLsn === null || v > this.replayLsn) this.replayLsn = v;
    }
    if (ts !== null && Number.isFinite(ts)) this.replayTs = Math.max(this.replayTs, ts);
  }
  failed(): void {
    this.epoch++;
    this.down = true;
    this.replayLsn = null;
    this.replayTs = -Infinity;
  }
}

/** Each service's way to stop its replica watch (close). */
const stoppers = new WeakMap<SubscriptionReadsService, () => void>();

export default async function create(appCtx: AppContext): Promise<SubscriptionReadsService> {
  const ctx = appCtx as ReadsContext;
  const { pg, replica, redis } = ctx;
  let stalenessMs = DEFAULT_STALENESS_MS;
  try {
    const { rows } = await pg.query<{ value: string }>(`SELECT value FROM reads_settings WHERE name = 'staleness_ms'`);
    if (rows[0] && Number(rows[0].value) > 0) stalenessMs = Number(rows[0].value);
  } catch (err) {
    ctx.log('settings not read: using the published staleness bound', { error: (err as Error).message });
  }
  const CACHE_MAX_AGE_MS = Math.floor(stalenessMs * 0.75); // an entry (or a shared load) serves while asOf is this recent
  const REPLICA_MAX_AGE_MS = Math.floor(stalenessMs * 0.5); // the replica serves while its asOf is this recent

  // ---- Redis: best effort, any trouble is a miss ----
  let setIfNewer: SetIfNewer | null = null;
  try {
    redis.defineCommand('subscriptionSetIfNewer', { numberOfKeys: 1, lua: SET_IF_NEWER });
    const cmd = (redis as unknown as Record<string, SetIfNewer>).subscriptionSetIfNewer;
    setIfNewer = (...args) => cmd.apply(redis, args);
  } catch (err) {
    ctx.log('no Redis: reads go to the databases', { error: (err as Error).message });
  }
  const redisUp = (r: Redis) => setIfNewer !== null && r.status === 'ready';
  let redisTrouble = false;
  const redisFailed = (what: string, err: unknown) => {
    if (!redisTrouble) ctx.log(`redis ${what} failed: using the databases`, { error: (err as Error).message });
    redisTrouble = true;
  };
  const key = (userId: string) => `subscription:${userId}`;

  async function cacheGet(userId: string): Promise<Entry | null> {
    if (!redisUp(redis)) return null;
    try {
      const raw = await withTimeout(redis.get(key(userId)), REDIS_TIMEOUT_MS);
      redisTrouble = false;
      if (!raw) return null;
      const bar = raw.indexOf('|');
      const s = JSON.parse(raw.slice(bar + 1)) as { view: SubscriptionView; lsn: string };
      return { view: s.view, lsn: s.lsn, version: Number(raw.slice(0, bar)), asOf: Infinity };
    } catch (err) {
      redisFailed('read', err);
      return null;
    }
  }
  async function cachePut(e: Entry): Promise<void> {
    const expiresAt = Math.floor(e.asOf + CACHE_MAX_AGE_MS);
    if (expiresAt - Date.now() < 20 || !redisUp(redis)) return;
    try {
      await withTimeout(setIfNewer!(key(e.view.userId), e.version, JSON.stringify({ view: e.view, lsn: e.lsn }), expiresAt), REDIS_TIMEOUT_MS);
    } catch (err) {
      redisFailed('write', err);
    }
  }

  // ---- the replica watch ----
  const watch = new ReplicaWatch();
  const replicaFailed = (err: unknown) => {
    if (!watch.down) ctx.log('replica unavailable: reading the primary', { error: (err as Error).message });
    watch.failed();
  };
  /** For metrics(): reads answered, and SELECTs sent to either server (so 1 - selects / reads is the hit ratio). */
  const counts = { reads: 0, selects: 0 };
  const REPLAY = `pg_last_wal_replay_lsn()::text AS replay_lsn,
                  (extract(epoch FROM pg_last_xact_replay_timestamp()) * 1000)::float8 AS replay_ms`;
  /** A replica query, bounded: node-postgres's query_timeout (the client is then discarded), and a backstop. */
  const replicaQuery = <R extends QueryResultRow>(text: string, values: unknown[] = []) =>
    (counts.selects++, withTimeout(replica.query<R>(Object.assign({ text, values }, { query_timeout: REPLICA_TIMEOUT_MS })), REPLICA_TIMEOUT_MS + 500));
  async function probeReplica(): Promise<void> {
    const epoch = watch.epoch;
    try {
      const { rows } = await replicaQuery<{ replay_lsn: string | null; replay_ms: number | null }>(`SELECT ${REPLAY}`);
      watch.observe(epoch, rows[0].replay_lsn, rows[0].replay_ms);
    } catch (err) {
      replicaFailed(err);
    }
  }
  async function watchOnce(): Promise<void> {
    if (!watch.down && Date.now() - watch.asOf() > SAMPLE_PRIMARY_AFTER_MS) {
      const t = Date.now();
      try {
        counts.selects++;
        const { rows } = await pg.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn');
        watch.sample(t, rows[0].lsn);
      } catch (err) {
        ctx.log('primary WAL position not read', { error: (err as Error).message });
      }
    }
    await probeReplica();
  }
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const loop = async () => {
    const started = Date.now();
    await watchOnce().catch(() => undefined);
    if (!stopped) timer = setTimeout(loop, Math.max(0, WATCH_EVERY_MS - (Date.now() - started)));
  };
  await withTimeout(watchOnce(), 2000).catch(() => undefined); // know the replica before the first read
  timer = setTimeout(loop, WATCH_EVERY_MS);

  // ---- loads ----
  async function fromPrimary(userId: string): Promise<Entry> {
    const asOf = Date.now(); // the snapshot is taken after this
    counts.selects++;
    const { rows } = await pg.query<Row & { lsn: string }>(
      `SELECT ${COLUMNS}, pg_current_wal_insert_lsn()::text AS lsn FROM subscriptions WHERE user_id = $1`, [userId]);
    if (!rows[0]) throw new Error(`unknown user ${userId}`);
    return { view: toView(rows[0]), version: Number(rows[0].version), lsn: rows[0].lsn, asOf };
  }
  /** The replica's row with the freshness known before it was asked, or null (not fresh enough, down, missing). */
  async function fromReplica(userId: string, asOf: number): Promise<Entry | null> {
    const epoch = watch.epoch;
    try {
      const { rows } = await replicaQuery<Row & { replay_lsn: string | null; replay_ms: number | null }>(
        `SELECT ${COLUMNS}, ${REPLAY} FROM subscriptions WHERE user_id = $1`, [userId]);
      const r = rows[0];
      if (!r || !r.replay_lsn) return null;
      watch.observe(epoch, r.replay_lsn, r.replay_ms); // for later snapshots, never for this one
      return { view: toView(r), version: Number(r.version), lsn: r.replay_lsn, asOf };
    } catch (err) {
      replicaFailed(err);
      return null;
    }
  }
  /** One load: the replica when it is fresh enough (and has the token's position), else the primary; fills Redis. */
  async function loadAndFill(userId: string, need: Need | null): Promise<Entry> {
    const asOf = watch.asOf();
    let e: Entry | null = null;
    if (!watch.down && asOf >= Date.now() - REPLICA_MAX_AGE_MS && (!need || watch.replayed(need.lsn))) {
      e = await fromReplica(userId, asOf);
      if (e && need && e.version < need.version) e = null;
    }
    e ??= await fromPrimary(userId);
    await cachePut(e);
    return e;
  }

  const flights = new Map<string, Promise<Entry>>();
  function startFlight(userId: string, need: Need | null): Promise<Entry> {
    const p = loadAndFill(userId, need);
    flights.set(userId, p);
    const drop = () => void setTimeout(() => flights.get(userId) === p && flights.delete(userId), LINGER_MS);
    p.then(drop, drop);
    return p;
  }
  const usable = (e: Entry, need: Need | null, start: number) =>
    (!need || e.version >= need.version) && e.asOf >= start - CACHE_MAX_AGE_MS;

  /** A miss: join this user's load (or start it); a result that does not meet this read's needs starts one new load. */
  async function load(userId: string, need: Need | null, start: number): Promise<Entry> {
    for (let round = 0; round < 3; round++) {
      const p = flights.get(userId) ?? startFlight(userId, need);
      try {
        const e = await p;
        if (usable(e, need, start)) return e;
      } catch {
        // that load failed: the next round starts another
      }
      if (flights.get(userId) === p) flights.delete(userId);
    }
    return fromPrimary(userId);
  }

  async function getSubscription(userId: string, consistencyToken?: string): Promise<ReadResult> {
    const start = Date.now();
    counts.reads++;
    const need = parseToken(consistencyToken);
    const cached = await cacheGet(userId);
    const e = cached && (!need || cached.version >= need.version) ? cached : await load(userId, need, start);
    return { subscription: e.view, consistencyToken: toToken(e, need) };
  }

  // ---- writes: one statement on the primary, its WAL position, then the new state into Redis ----
  async function write(userId: string, sql: string, params: unknown[]): Promise<ReadResult> {
    const asOf = Date.now();
    const { rows } = await pg.query<Row>(sql, params);
    if (!rows[0]) throw new Error(`unknown user ${userId}`);
    let lsn = 'FFFFFFFF/FFFFFFFF'; // unknown: no replica is trusted for this token, the primary answers it
    try {
      counts.selects++;
      lsn = (await pg.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0].lsn;
    } catch (err) {
      ctx.log('WAL position after a write not read', { error: (err as Error).message });
    }
    const e: Entry = { view: toView(rows[0]), version: Number(rows[0].version), lsn, asOf };
    await cachePut(e);
    return { subscription: e.view, consistencyToken: toToken(e, null) };
  }

  const service: SubscriptionReadsService = {
    changePlan: (userId, plan, requestId) => write(userId,
      `UPDATE subscriptions SET plan = $2, status = 'active', request_id = $3, version = version + 1
        WHERE user_id = $1 RETURNING ${COLUMNS}`, [userId, plan, requestId]),
    cancel: (userId, requestId) => write(userId,
      `UPDATE subscriptions SET status = 'cancelled', request_id = $2, version = version + 1
        WHERE user_id = $1 RETURNING ${COLUMNS}`, [userId, requestId]),
    getSubscription,
    // Every SELECT this instance sent (loads, the replica watch) against the reads it answered; the watch's view of lag.
    async metrics() {
      return {
        cacheHitRatio: counts.reads ? Math.max(0, 1 - counts.selects / counts.reads) : 0,
        replicaLagMs: watch.down || !Number.isFinite(watch.asOf()) ? null : Math.max(0, Date.now() - watch.asOf()),
      };
    },
  };
  stoppers.set(service, () => {
    stopped = true;
    clearTimeout(timer);
  });
  return service;
}

export async function close(service: SubscriptionReadsService): Promise<void> {
  stoppers.get(service)?.();
}
