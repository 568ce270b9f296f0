"""subscription-reads over HTTP: writes on the primary, reads from Redis / the replica / the primary.

Reference (plain, textbook): written apart from gauntlet, from the public docs alone (README, docs/contract.md, the
challenge's README), by someone who never read the harness, references, fixtures or checkers; kept as it was handed
in (standard library + Debian's python3-psycopg2 and python3-redis). It passed quick seeds 1-3 with every automatic
point and no concern before it was added. It must pass every check with no concern (CONTRACT §8): the challenge's
only solution in another language and in HTTP mode (REPLICA_URL, the metrics route).

Every cached or loaded state is an *entry*: the subscription, its per-user `version` (bumped by every write)
and `asof`, a wall-clock time (ms) such that the entry reflects every write acknowledged before it.
A read that began at T accepts an entry when
    entry.version >= the version in the session's consistency token   (read-your-writes, monotonic reads)
    entry.asof    >= T - FRESH_BUDGET_MS                               (bounded staleness, < stalenessMs)
and tries, in order: this instance's last load (< 250 ms old), Redis, then one load per user and instance
at a time (single flight): the replica when it is known to be fresh enough, else the primary.
"""
import json
import os
import re
import sys
import threading
import time
from collections import deque
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

import psycopg2
import redis

STALENESS_MS = 2000
FRESH_BUDGET_MS = 1500       # an entry older than this is never served (stalenessMs minus a margin)
REPLICA_MAX_BEHIND_MS = 1000  # the replica is read only while it is known to be at most this far behind
LAG_POLL_S = 0.1
RECENT_LOAD_MS = 250          # a load is shared by this instance's reads of the user for this long
REDIS_BACKOFF_S = 1.0         # after a Redis error, leave Redis alone this long
KEY_PREFIX = "subreads:sub:"
PLANS = ("free", "starter", "pro", "team")


def now_ms():
    return time.time() * 1000.0


def log(msg, **fields):
    fields["msg"] = msg
    fields["instance"] = os.environ.get("GAUNTLET_INSTANCE")
    try:
        sys.stdout.write(json.dumps(fields, default=str) + "\n")
        sys.stdout.flush()
    except Exception:
        pass


# ---------------------------------------------------------------------------------------------------------
# PostgreSQL: a small bounded pool (psycopg2's own pools raise instead of waiting when exhausted)

class PoolTimeout(Exception):
    pass


class Pool:
    def __init__(self, name, dsn, size, statement_timeout_ms):
        self.name = name
        self.dsn = dsn
        self.sem = threading.BoundedSemaphore(size)
        self.idle = []
        self.lock = threading.Lock()
        self.options = "-c statement_timeout=%d" % statement_timeout_ms

    def _connect(self):
        conn = psycopg2.connect(self.dsn, connect_timeout=2, options=self.options,
                                keepalives=1, keepalives_idle=5, keepalives_interval=2, keepalives_count=2)
        conn.autocommit = True
        return conn

    @contextmanager
    def connection(self, wait_s=5.0):
        if not self.sem.acquire(timeout=wait_s):
            raise PoolTimeout("%s pool exhausted" % self.name)
        conn = None
        try:
            with self.lock:
                conn = self.idle.pop() if self.idle else None
            if conn is None or conn.closed:
                conn = self._connect()
            try:
                yield conn
            except (psycopg2.OperationalError, psycopg2.InterfaceError):
                self._discard(conn)
                conn = None
                raise
            except Exception:
                if conn.closed:
                    conn = None
                raise
            finally:
                if conn is not None and not conn.closed:
                    with self.lock:
                        self.idle.append(conn)
        finally:
            self.sem.release()

    @staticmethod
    def _discard(conn):
        try:
            conn.close()
        except Exception:
            pass

    def query_one(self, sql, params=()):
        with self.connection() as conn:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchone()


def parse_lsn(text):
    if text is None:
        return None
    hi, lo = text.split("/")
    return (int(hi, 16) << 32) | int(lo, 16)


# ---------------------------------------------------------------------------------------------------------

class Service:
    def __init__(self):
        self.primary = Pool("primary", os.environ["DATABASE_URL"], 8, 5000)
        replica_url = os.environ.get("REPLICA_URL") or ""
        self.replica = Pool("replica", replica_url, 8, 1000) if replica_url else None
        self.redis = redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=0.5,
                                          socket_connect_timeout=0.5, retry_on_timeout=False)
        self.cache_put_script = self.redis.register_script(CACHE_PUT_LUA)
        self.redis_skip_until = 0.0
        self.redis_was_down = False

        # replica freshness, maintained by the monitor thread
        self.lsn_samples = deque()       # (time ms, primary wal lsn), oldest first
        self.replica_fresh_asof = None   # the replica reflects every write acknowledged before this time
        self.replica_ok = False
        self.replica_lag_ms = None
        self.state_lock = threading.Lock()

        # single flight: user -> Flight (the in-flight or most recent load of this instance)
        self.flights = {}
        self.flights_lock = threading.Lock()

        # metrics
        self.reads = 0
        self.reads_with_query = 0
        self.metrics_lock = threading.Lock()

        threading.Thread(target=self._monitor_replica, name="replica-monitor", daemon=True).start()

    # --- replica lag -----------------------------------------------------------------------------------
    def _monitor_replica(self):
        while True:
            started = time.time()
            try:
                self._poll_replica_once()
            except Exception as e:  # never let the monitor die
                log("replica monitor error", error=repr(e))
            time.sleep(max(0.0, LAG_POLL_S - (time.time() - started)))

    def _poll_replica_once(self):
        t = now_ms()
        try:
            (p_text,) = self.primary.query_one("SELECT pg_current_wal_lsn()::text")
            with self.state_lock:
                self.lsn_samples.append((t, parse_lsn(p_text)))
                while self.lsn_samples and self.lsn_samples[0][0] < t - 10000:
                    self.lsn_samples.popleft()
        except Exception as e:
            log("primary lsn sample failed", error=repr(e))
        if self.replica is None:
            return
        try:
            (r_text,) = self.replica.query_one("SELECT pg_last_wal_replay_lsn()::text")
            r = parse_lsn(r_text)
        except Exception as e:
            with self.state_lock:
                was_ok = self.replica_ok
                self.replica_ok = False
                self.replica_lag_ms = None
            if was_ok:
                log("replica unreachable, reads fall back to the primary", error=repr(e))
            return
        polled = now_ms()
        with self.state_lock:
            was_ok = self.replica_ok
            self.replica_ok = r is not None
            caught = [s for s in self.lsn_samples if r is not None and s[1] <= r]
            if caught:
                fresh = max(s[0] for s in caught)
                if self.replica_fresh_asof is None or fresh > self.replica_fresh_asof:
                    self.replica_fresh_asof = fresh
                # drop samples that are replayed, except the newest of them
                while len(self.lsn_samples) > 1 and r is not None and self.lsn_samples[1][1] <= r:
                    self.lsn_samples.popleft()
            newest = self.lsn_samples[-1] if self.lsn_samples else None
            if r is None or newest is None:
                self.replica_lag_ms = None
            elif newest[1] <= r:
                self.replica_lag_ms = 0
            elif self.replica_fresh_asof is not None:
                self.replica_lag_ms = max(0, int(polled - self.replica_fresh_asof))
            else:
                self.replica_lag_ms = None
        if not was_ok and self.replica_ok:
            log("replica reachable, reads may use it", lagMs=self.replica_lag_ms)

    def replica_usable(self, read_start):
        with self.state_lock:
            return (self.replica is not None and self.replica_ok and self.replica_fresh_asof is not None
                    and read_start - self.replica_fresh_asof <= REPLICA_MAX_BEHIND_MS)

    def replica_asof(self):
        with self.state_lock:
            return self.replica_fresh_asof

    # --- Redis (best effort: every failure is a miss) --------------------------------------------------
    def _redis_available(self):
        return time.time() >= self.redis_skip_until

    def _redis_failed(self, e, what):
        self.redis_skip_until = time.time() + REDIS_BACKOFF_S
        if not self.redis_was_down:
            self.redis_was_down = True
            log("redis unavailable, serving without the cache", op=what, error=repr(e))

    def _redis_ok(self):
        if self.redis_was_down:
            self.redis_was_down = False
            log("redis available again")

    def cache_get(self, user_id):
        if not self._redis_available():
            return None
        try:
            raw = self.redis.get(KEY_PREFIX + user_id)
            self._redis_ok()
        except Exception as e:
            self._redis_failed(e, "get")
            return None
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return None

    def cache_put(self, entry):
        ttl = int(entry["asof"] + FRESH_BUDGET_MS - now_ms())
        if ttl <= 0 or not self._redis_available():
            return
        try:
            self.cache_put_script(keys=[KEY_PREFIX + entry["userId"]],
                                  args=[json.dumps(entry), entry["version"], int(entry["asof"]), ttl])
            self._redis_ok()
        except Exception as e:
            self._redis_failed(e, "put")

    # --- reads -----------------------------------------------------------------------------------------
    @staticmethod
    def satisfies(entry, min_version, read_start):
        return (entry is not None and entry["version"] >= min_version
                and entry["asof"] >= read_start - FRESH_BUDGET_MS)

    def get_subscription(self, user_id, token):
        read_start = now_ms()
        min_version = parse_token(token)
        queried = False
        try:
            entry = self.recent_load(user_id)
            if not self.satisfies(entry, min_version, read_start):
                entry = self.cache_get(user_id)
            if not self.satisfies(entry, min_version, read_start):
                entry, queried = self.load(user_id, min_version, read_start)
        finally:
            with self.metrics_lock:
                self.reads += 1
                if queried:
                    self.reads_with_query += 1
        return entry

    def recent_load(self, user_id):
        with self.flights_lock:
            f = self.flights.get(user_id)
        if f is not None and f.done.is_set() and f.entry is not None and now_ms() - f.finished < RECENT_LOAD_MS:
            return f.entry
        return None

    def load(self, user_id, min_version, read_start):
        """Single flight per user: concurrent misses of this instance wait for one load and share it; a load
        stays shared for RECENT_LOAD_MS. Returns (entry or None when the user does not exist, queried)."""
        queried = False
        for _ in range(3):
            with self.flights_lock:
                f = self.flights.get(user_id)
                leader = f is None or (f.done.is_set() and (
                    now_ms() - f.finished >= RECENT_LOAD_MS or f.error is not None
                    or not self.satisfies(f.entry, min_version, read_start)))
                if leader:
                    f = Flight()
                    self.flights[user_id] = f
            if leader:
                queried = True
                try:
                    f.entry = self._load_from_db(user_id, min_version, read_start)
                except Exception as e:
                    f.error = e
                finally:
                    f.finished = now_ms()
                    f.done.set()
            else:
                f.done.wait(10)
            if f.error is not None and leader:
                raise f.error
            if f.done.is_set() and f.error is None:
                if f.entry is None:
                    return None, queried  # unknown user
                if self.satisfies(f.entry, min_version, read_start):
                    return f.entry, queried
        # could not share a load that fits: read the primary directly
        return self._read_primary(user_id), True

    def _load_from_db(self, user_id, min_version, read_start):
        if self.replica_usable(read_start):
            asof = self.replica_asof()
            try:
                row = self.replica.query_one(SELECT_SQL, (user_id,))
                entry = row_to_entry(row, asof)
                if entry is not None and self.satisfies(entry, min_version, read_start):
                    self.cache_put(entry)
                    return entry
            except Exception as e:
                log("replica read failed, using the primary", userId=user_id, error=repr(e))
        entry = self._read_primary(user_id)
        if entry is not None:
            self.cache_put(entry)
        return entry

    def _read_primary(self, user_id):
        asof = now_ms()
        try:
            row = self.primary.query_one(SELECT_SQL, (user_id,))
        except (psycopg2.OperationalError, psycopg2.InterfaceError):
            asof = now_ms()
            row = self.primary.query_one(SELECT_SQL, (user_id,))  # one retry on a fresh connection
        return row_to_entry(row, asof)

    # --- writes ----------------------------------------------------------------------------------------
    def write(self, user_id, sql, params):
        asof = now_ms()
        with self.primary.connection() as conn:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                row = cur.fetchone()
        entry = row_to_entry(row, asof)
        if entry is None:
            return None
        self.cache_put(entry)  # write-through; a failure leaves an entry that expires within FRESH_BUDGET_MS
        f = Flight()
        f.entry = entry
        f.finished = now_ms()
        f.done.set()
        with self.flights_lock:
            self.flights[user_id] = f
        log("subscription written", userId=user_id, requestId=entry["requestId"], version=entry["version"])
        return entry

    def change_plan(self, user_id, plan, request_id):
        return self.write(user_id, UPSERT_PLAN_SQL, (user_id, plan, request_id))

    def cancel(self, user_id, request_id):
        return self.write(user_id, CANCEL_SQL, (request_id, user_id))

    def metrics(self):
        with self.metrics_lock:
            ratio = 1.0 - (self.reads_with_query / self.reads) if self.reads else 1.0
        with self.state_lock:
            lag = self.replica_lag_ms if self.replica_ok else None
        return {"cacheHitRatio": ratio, "replicaLagMs": lag}


class Flight:
    __slots__ = ("done", "entry", "error", "finished")

    def __init__(self):
        self.done = threading.Event()
        self.entry = None
        self.error = None
        self.finished = 0.0


SELECT_SQL = "SELECT user_id, plan, status, request_id, version FROM subscriptions WHERE user_id = %s"
UPSERT_PLAN_SQL = (
    "INSERT INTO subscriptions (user_id, plan, status, request_id, version) VALUES (%s, %s, 'active', %s, 1) "
    "ON CONFLICT (user_id) DO UPDATE SET plan = EXCLUDED.plan, status = 'active', "
    "request_id = EXCLUDED.request_id, version = subscriptions.version + 1 "
    "RETURNING user_id, plan, status, request_id, version")
CANCEL_SQL = (
    "UPDATE subscriptions SET status = 'cancelled', request_id = %s, version = version + 1 WHERE user_id = %s "
    "RETURNING user_id, plan, status, request_id, version")

# Set the entry unless Redis already holds a newer one (higher version, or the same version known fresh later).
CACHE_PUT_LUA = """
local cur = redis.call('GET', KEYS[1])
if cur then
  local ok, c = pcall(cjson.decode, cur)
  if ok and type(c) == 'table' and c.version and c.asof then
    local v, a = tonumber(ARGV[2]), tonumber(ARGV[3])
    if c.version > v or (c.version == v and c.asof >= a) then return 0 end
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4])
return 1
"""


def row_to_entry(row, asof):
    if row is None:
        return None
    user_id, plan, status, request_id, version = row
    return {"userId": user_id, "plan": plan, "status": status, "requestId": request_id,
            "version": int(version), "asof": asof}


TOKEN_RE = re.compile(r"^v(\d{1,18})$")


def make_token(entry):
    return "v%d" % entry["version"]


def parse_token(token):
    m = TOKEN_RE.match(token or "")
    return int(m.group(1)) if m else 0


def read_result(entry):
    return {"subscription": {"userId": entry["userId"], "plan": entry["plan"], "status": entry["status"],
                             "requestId": entry["requestId"]},
            "consistencyToken": make_token(entry)}


# ---------------------------------------------------------------------------------------------------------
# HTTP

ROUTE = re.compile(r"^/accounts/([^/]+)/subscription$")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    service = None

    def log_message(self, fmt, *args):  # no access log
        pass

    def _send(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}
        body = json.loads(raw)
        return body if isinstance(body, dict) else {}

    def _dispatch(self, method):
        path = urlsplit(self.path).path
        try:
            if method == "GET" and path == "/reads/metrics":
                return self._send(200, self.service.metrics())
            m = ROUTE.match(path)
            if not m:
                return self._send(404, {"code": "NOT_FOUND"})
            user_id = unquote(m.group(1))
            if method == "GET":
                entry = self.service.get_subscription(user_id, self.headers.get("Consistency-Token"))
            else:
                body = self._body()
                request_id = body.get("requestId")
                if not isinstance(request_id, str) or not request_id:
                    return self._send(400, {"code": "BAD_REQUEST", "message": "requestId required"})
                if method == "PUT":
                    plan = body.get("plan")
                    if plan not in PLANS:
                        return self._send(400, {"code": "BAD_REQUEST", "message": "unknown plan"})
                    entry = self.service.change_plan(user_id, plan, request_id)
                elif method == "DELETE":
                    entry = self.service.cancel(user_id, request_id)
                else:
                    return self._send(405, {"code": "METHOD_NOT_ALLOWED"})
            if entry is None:
                return self._send(404, {"code": "NOT_FOUND"})
            result = read_result(entry)
            return self._send(200, result, {"Consistency-Token": result["consistencyToken"]})
        except ValueError:
            return self._send(400, {"code": "BAD_REQUEST"})
        except Exception as e:
            log("request failed", method=method, path=path, error=repr(e))
            try:
                return self._send(503, {"code": "UNAVAILABLE"})
            except Exception:
                pass

    def do_GET(self):
        self._dispatch("GET")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024


def main():
    Handler.service = Service()
    port = int(os.environ.get("PORT", "8080"))
    httpd = Server(("0.0.0.0", port), Handler)
    log("listening", port=port)
    httpd.serve_forever()


if __name__ == "__main__":
    main()
