// Reference (write-through cache in front of the primary, no replica): written apart from gauntlet, from the
// contract and the challenge README alone.
//
// DESIGN
//   One `subscriptions` row per user in the primary, with a `version` bumped by every write; the consistency token is
//   that version (`v<version>`). The replica is never read.
//   - Redis holds `<version>|<state>` per user, written only by a Lua script that refuses an older version and gives
//     each entry an absolute expiry: `asOf` + 3/4 stalenessMs, `asOf` being a time before which every acknowledged
//     write is reflected (the moment before the primary was asked). The expiry is set against Redis's own clock, and
//     a fill that arrives after it (a command ioredis resends after a reconnect) is refused. So an entry is fresh
//     enough for as long as it exists, whatever happened to the writes that should have replaced it.
//   - Writes: one autocommit UPDATE … RETURNING on the primary, then the new state into Redis (write-through,
//     set-if-newer: a slower reader's fill of the previous version can never overwrite it). Redis being down is
//     logged and ignored: the old entry dies at its expiry, at most 1.5 s after it was read.
//   - Reads: Redis first; a hit serves when there is no token or the entry's version is at least the token's. A miss
//     (or a token newer than the entry) joins the instance's single flight for that user: one primary SELECT that
//     fills Redis before it resolves and stays joinable for 200 ms. Each joiner checks the result against its own
//     needs (version ≥ its token; asOf recent enough for its own start) and, if it falls short, the joiners start one
//     new load together. Every answer carries its version, so a user's later reads never go back and see their writes.
//   - Redis down (`status` not ready, an error, a 300 ms timeout) is a miss: every read then costs the primary one
//     SELECT per user per flight, which is slower but correct.
//
// TRADE-OFFS
//   + Few moving parts: the primary is the only source, so reads are always current at the moment they were loaded;
//     no replication lag to measure, no standby outage to survive.
//   - Every miss hits the primary: offload depends entirely on the hit ratio. Entries live at most 1.5 s (the short
//     expiry is what keeps the staleness bound when a write could not reach Redis), so hot users are served from the
//     cache and cold ones mostly are not; with Redis down the primary carries every read.
//   - The single flight is per instance: N instances missing one user at once send N primary SELECTs (bounded, and
//     each instance at most one per load plus 200 ms).
//   - The replica's capacity is wasted; `lsn-token-cache.ts` uses it for misses, at the price of measuring its lag.
import type { AppContext, SetupContext } from 'gauntlet';
import type { Redis } from 'ioredis';

type Plan = 'free' | 'starter' | 'pro' | 'team';
interface SubscriptionView { userId: string; plan: Plan; status: 'active' | 'cancelled'; requestId: string }
interface ReadResult { subscription: SubscriptionView; consistencyToken?: string }
interface SubscriptionReadsService {
  changePlan(userId: string, plan: Plan, requestId: string): Promise<ReadResult>;
  cancel(userId: string, requestId: string): Promise<ReadResult>;
  getSubscription(userId: string, consistencyToken?: string): Promise<ReadResult>;
}
interface ReadsScenario { users: { userId: string; plan: Plan }[]; stalenessMs: number }

const DEFAULT_STALENESS_MS = 2000;
const REDIS_TIMEOUT_MS = 300;
/** A settled load stays joinable this long (concurrent misses that just missed the fill still share it). */
const LINGER_MS = 200;
const COLUMNS = 'user_id, plan, status, request_id, version::text AS version';

interface Row { user_id: string; plan: Plan; status: 'active' | 'cancelled'; request_id: string; version: string }
/** A state and `asOf`: every write acknowledged before it is reflected. */
interface Entry { view: SubscriptionView; version: number; asOf: number }

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then((v) => (clearTimeout(timer), resolve(v)), (e) => (clearTimeout(timer), reject(e)));
  });
}

const toToken = (version: number) => `v${version}`;
/** The version a token asks for; a malformed token asks for nothing (it is opaque, and only ever one of ours). */
function parseToken(token?: string): number {
  const m = /^v(\d{1,15})$/.exec(token ?? '');
  return m ? Number(m[1]) : 0;
}
const toView = (r: Row): SubscriptionView => ({ userId: r.user_id, plan: r.plan, status: r.status, requestId: r.request_id });

// KEYS[1]: the entry; ARGV: version, state (JSON), expiry (ms since the epoch). Sets `<version>|<state>` unless the
// entry holds a newer version (or the same one living longer), with that absolute expiry on Redis's clock; refuses
// an expiry already past.
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

export default async function create(ctx: AppContext): Promise<SubscriptionReadsService> {
  const { pg, redis } = ctx;
  let stalenessMs = DEFAULT_STALENESS_MS;
  try {
    const { rows } = await pg.query<{ value: string }>(`SELECT value FROM reads_settings WHERE name = 'staleness_ms'`);
    if (rows[0] && Number(rows[0].value) > 0) stalenessMs = Number(rows[0].value);
  } catch (err) {
    ctx.log('settings not read: using the published staleness bound', { error: (err as Error).message });
  }
  const MAX_AGE_MS = Math.floor(stalenessMs * 0.75); // an entry (or a shared load) serves while asOf is this recent

  // ---- Redis: best effort, any trouble is a miss ----
  let setIfNewer: SetIfNewer | null = null;
  try {
    redis.defineCommand('subscriptionSetIfNewer', { numberOfKeys: 1, lua: SET_IF_NEWER });
    const cmd = (redis as unknown as Record<string, SetIfNewer>).subscriptionSetIfNewer;
    setIfNewer = (...args) => cmd.apply(redis, args);
  } catch (err) {
    ctx.log('no Redis: every read goes to the primary', { error: (err as Error).message });
  }
  const redisUp = (r: Redis) => setIfNewer !== null && r.status === 'ready';
  let redisTrouble = false;
  const redisFailed = (what: string, err: unknown) => {
    if (!redisTrouble) ctx.log(`redis ${what} failed: using the primary`, { error: (err as Error).message });
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
      return { view: JSON.parse(raw.slice(bar + 1)) as SubscriptionView, version: Number(raw.slice(0, bar)), asOf: Infinity };
    } catch (err) {
      redisFailed('read', err);
      return null;
    }
  }
  async function cachePut(e: Entry): Promise<void> {
    const expiresAt = Math.floor(e.asOf + MAX_AGE_MS);
    if (expiresAt - Date.now() < 20 || !redisUp(redis)) return;
    try {
      await withTimeout(setIfNewer!(key(e.view.userId), e.version, JSON.stringify(e.view), expiresAt), REDIS_TIMEOUT_MS);
    } catch (err) {
      redisFailed('write', err);
    }
  }

  // ---- loads: the primary, one per user at a time in this instance ----
  async function loadAndFill(userId: string): Promise<Entry> {
    const asOf = Date.now(); // the snapshot is taken after this
    const { rows } = await pg.query<Row>(`SELECT ${COLUMNS} FROM subscriptions WHERE user_id = $1`, [userId]);
    if (!rows[0]) throw new Error(`unknown user ${userId}`);
    const e: Entry = { view: toView(rows[0]), version: Number(rows[0].version), asOf };
    await cachePut(e);
    return e;
  }

  const flights = new Map<string, Promise<Entry>>();
  function startFlight(userId: string): Promise<Entry> {
    const p = loadAndFill(userId);
    flights.set(userId, p);
    const drop = () => void setTimeout(() => flights.get(userId) === p && flights.delete(userId), LINGER_MS);
    p.then(drop, drop);
    return p;
  }
  const usable = (e: Entry, minVersion: number, start: number) => e.version >= minVersion && e.asOf >= start - MAX_AGE_MS;

  /** A miss: join this user's load (or start it); a result that does not meet this read's needs starts one new load. */
  async function load(userId: string, minVersion: number, start: number): Promise<Entry> {
    for (let round = 0; round < 3; round++) {
      const p = flights.get(userId) ?? startFlight(userId);
      try {
        const e = await p;
        if (usable(e, minVersion, start)) return e;
      } catch {
        // that load failed: the next round starts another
      }
      if (flights.get(userId) === p) flights.delete(userId);
    }
    // A load started after this read began meets its needs: only failures (or a token from nowhere) get here.
    return loadAndFill(userId);
  }

  async function getSubscription(userId: string, consistencyToken?: string): Promise<ReadResult> {
    const start = Date.now();
    const minVersion = parseToken(consistencyToken);
    const cached = await cacheGet(userId);
    const e = cached && cached.version >= minVersion ? cached : await load(userId, minVersion, start);
    return { subscription: e.view, consistencyToken: toToken(e.version) };
  }

  // ---- writes: one statement on the primary, then the new state into Redis ----
  async function write(userId: string, sql: string, params: unknown[]): Promise<ReadResult> {
    const asOf = Date.now();
    const { rows } = await pg.query<Row>(sql, params);
    if (!rows[0]) throw new Error(`unknown user ${userId}`);
    const e: Entry = { view: toView(rows[0]), version: Number(rows[0].version), asOf };
    await cachePut(e);
    return { subscription: e.view, consistencyToken: toToken(e.version) };
  }

  return {
    changePlan: (userId, plan, requestId) => write(userId,
      `UPDATE subscriptions SET plan = $2, status = 'active', request_id = $3, version = version + 1
        WHERE user_id = $1 RETURNING ${COLUMNS}`, [userId, plan, requestId]),
    cancel: (userId, requestId) => write(userId,
      `UPDATE subscriptions SET status = 'cancelled', request_id = $2, version = version + 1
        WHERE user_id = $1 RETURNING ${COLUMNS}`, [userId, requestId]),
    getSubscription,
  };
}
