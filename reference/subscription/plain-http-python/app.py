#!/usr/bin/env python3
"""Subscription purchase service (gauntlet `subscription` challenge, HTTP mode).

Reference (plain, textbook): written apart from gauntlet, from the public docs alone (README, docs/contract.md, the
challenge's README), by someone who never read the harness, references, fixtures or checkers; kept as it was handed
in (standard library + Debian's python3-psycopg2). It passed quick seeds 1-4 with every automatic point and no concern
before it was added. It must pass every check with no concern (CONTRACT §8): the challenge's only solution in another
language and in HTTP mode.

A purchase is a row in `purchases` that moves through a small state machine:

    new --reserve--> reserved --charge--> charged --commit--> active (+ outbox row)
     |                  |                    |
     |                  | 402                | reservation_expired
     v                  v                    v
   failed  <--release-- releasing <--refund-- refunding

Every remote step uses an Idempotency-Key derived from the requestId and the step
(`<requestId>:reserve`, `:charge`, `:commit`, `:refund`, `:release`, `:notify`), so
redoing a step (after a timeout, a crash, on another instance) is harmless.  The row is
updated after each step, so the next step is whatever the row says.

One worker per purchase: a lease (lease_owner, lease_until) in the row, renewed by a
heartbeat while the worker runs.  A sweep in every instance takes over purchases whose
lease expired (a crashed instance) and finishes or compensates them.

The confirmation is written to an outbox table in the same transaction that activates
the purchase and is delivered by a background thread with its own key and backoff, so
the notification service never blocks or fails a purchase.
"""
import json
import os
import queue
import random
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2
import psycopg2.extras

# ---------------------------------------------------------------------------
# configuration

DATABASE_URL = os.environ.get("DATABASE_URL", "")
PAYMENTS_URL = os.environ.get("PAYMENTS_URL", "").rstrip("/")
INVENTORY_URL = os.environ.get("INVENTORY_URL", "").rstrip("/")
NOTIFICATIONS_URL = os.environ.get("NOTIFICATIONS_URL", "").rstrip("/")
INSTANCE = os.environ.get("GAUNTLET_INSTANCE", "0")
OWNER = "%s-%d-%s" % (INSTANCE, os.getpid(), uuid.uuid4().hex[:8])

LEASE_S = 4.0               # a crashed instance's purchases are taken over after this
HEARTBEAT_S = 1.0
SWEEP_S = 1.0
HTTP_TIMEOUT_S = 1.5        # every remote call is timed out (held responses)
BACKOFF_BASE_S = 0.05
BACKOFF_CAP_S = 1.0
ANSWER_WITHIN_S = 18.0      # a client gives up after 20 s
DB_POOL_SIZE = 12

TERMINAL = ("active", "failed")


def log(msg, **fields):
    fields["msg"] = msg
    fields["instance"] = INSTANCE
    fields["t"] = round(time.time(), 3)
    try:
        sys.stdout.write(json.dumps(fields, default=str) + "\n")
        sys.stdout.flush()
    except Exception:
        pass


def backoff(attempt):
    """Capped exponential backoff with full jitter."""
    return random.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * (2 ** attempt)))


# ---------------------------------------------------------------------------
# database

class DbPool:
    """A small blocking pool of psycopg2 connections; broken connections are dropped."""

    def __init__(self, dsn, size):
        self.dsn = dsn
        self.idle = queue.LifoQueue()
        self.slots = threading.BoundedSemaphore(size)

    def _connect(self):
        conn = psycopg2.connect(
            self.dsn,
            connect_timeout=3,
            keepalives=1, keepalives_idle=2, keepalives_interval=1, keepalives_count=3,
            options="-c statement_timeout=5000 -c idle_in_transaction_session_timeout=10000",
        )
        conn.autocommit = False
        return conn

    def run(self, fn, attempts=6):
        """Run fn(cursor) in one transaction; retry the whole transaction when the
        connection breaks (a killed backend, a reset)."""
        last = None
        for attempt in range(attempts):
            if not self.slots.acquire(timeout=10):
                raise RuntimeError("database pool exhausted")
            conn = None
            try:
                try:
                    conn = self.idle.get_nowait()
                except queue.Empty:
                    conn = self._connect()
                with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                    result = fn(cur)
                conn.commit()
                self.idle.put(conn)
                conn = None
                return result
            except (psycopg2.OperationalError, psycopg2.InterfaceError) as e:
                last = e
                if conn is not None:
                    try:
                        conn.close()
                    except Exception:
                        pass
                    conn = None
                log("db connection error, retrying", error=str(e).strip()[:200], attempt=attempt)
            except Exception:
                if conn is not None:
                    try:
                        conn.rollback()
                        self.idle.put(conn)
                    except Exception:
                        try:
                            conn.close()
                        except Exception:
                            pass
                    conn = None
                raise
            finally:
                if conn is not None:
                    try:
                        conn.close()
                    except Exception:
                        pass
                self.slots.release()
            time.sleep(backoff(attempt + 1))
        raise last


SCHEMA = """
CREATE TABLE IF NOT EXISTS purchases (
    request_id     text PRIMARY KEY,
    id             uuid NOT NULL UNIQUE,
    user_id        text NOT NULL,
    product_id     text NOT NULL,
    state          text NOT NULL CHECK (state IN
                     ('new','reserved','charged','refunding','releasing','active','failed')),
    reservation_id text,
    amount         bigint,
    currency       text,
    charge_id      text,
    error_code     text,
    lease_owner    text,
    lease_until    timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS purchases_unfinished_idx
    ON purchases (lease_until) WHERE state NOT IN ('active','failed');
CREATE TABLE IF NOT EXISTS notification_outbox (
    request_id      text PRIMARY KEY REFERENCES purchases (request_id),
    user_id         text NOT NULL,
    sent_at         timestamptz,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    lease_until     timestamptz,
    last_error      text
);
CREATE INDEX IF NOT EXISTS notification_outbox_due_idx
    ON notification_outbox (next_attempt_at) WHERE sent_at IS NULL;
"""


def setup():
    last = None
    for attempt in range(20):
        try:
            conn = psycopg2.connect(DATABASE_URL, connect_timeout=5)
            try:
                with conn:
                    with conn.cursor() as cur:
                        cur.execute(SCHEMA)
            finally:
                conn.close()
            log("schema ready")
            return
        except psycopg2.Error as e:
            last = e
            log("setup failed, retrying", error=str(e).strip()[:200])
            time.sleep(0.5)
    raise last


# ---------------------------------------------------------------------------
# remote calls

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Answer:
    def __init__(self, status, body, headers):
        self.status = status
        self.body = body if isinstance(body, dict) else {}
        self.headers = headers

    @property
    def code(self):
        return self.body.get("code")

    def retry_after(self):
        """Seconds the service told us to wait, or None."""
        if self.headers is None:
            return None
        ms = self.headers.get("Retry-After-Ms")
        if ms:
            try:
                return float(ms) / 1000.0
            except ValueError:
                pass
        s = self.headers.get("Retry-After")
        if s:
            try:
                return float(s)
            except ValueError:
                pass
        return None


def http_call(method, url, body=None, key=None):
    """One attempt. Returns an Answer, or None when there was no answer
    (timeout, reset, refused)."""
    data = None
    headers = {"Accept": "application/json"}
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if key is not None:
        headers["Idempotency-Key"] = key
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with _opener.open(req, timeout=HTTP_TIMEOUT_S) as resp:
            raw = resp.read()
            return Answer(resp.status, _parse(raw), resp.headers)
    except urllib.error.HTTPError as e:
        try:
            raw = e.read()
        except Exception:
            raw = b""
        return Answer(e.code, _parse(raw), e.headers)
    except Exception as e:  # timeout, reset, refused, truncated answer
        log("no answer", method=method, url=url, key=key, error=repr(e)[:200])
        return None


def _parse(raw):
    try:
        return json.loads(raw.decode() or "null")
    except Exception:
        return None


def is_transient(ans):
    if ans is None:
        return True
    if ans.status == 429 or ans.status >= 500:
        return True
    if ans.status == 409 and ans.code == "request_in_progress":
        return True
    return False


class LeaseLost(Exception):
    pass


def call_until_final(method, url, body, key, still_mine):
    """Retry one keyed step until it gets a final (non-transient) answer.
    Capped exponential backoff with full jitter, never sooner than Retry-After."""
    attempt = 0
    while True:
        ans = http_call(method, url, body, key)
        if not is_transient(ans):
            return ans
        attempt += 1
        wait = backoff(attempt)
        ra = ans.retry_after() if ans is not None else None
        if ra is not None:
            wait = max(wait, ra + 0.01)
        if attempt % 10 == 0:
            log("still retrying", key=key, attempt=attempt,
                status=None if ans is None else ans.status)
            if not still_mine():
                raise LeaseLost(key)
        time.sleep(wait)


# ---------------------------------------------------------------------------
# purchases

db = None
workers = {}                 # requestId -> threading.Event set when the local worker ends
workers_lock = threading.Lock()
outbox_wakeup = threading.Event()


def read_purchase(rid):
    def fn(cur):
        cur.execute("SELECT * FROM purchases WHERE request_id = %s", (rid,))
        return cur.fetchone()
    return db.run(fn)


def create_or_claim(rid, user_id, product_id):
    """Insert the purchase (claimed by us) or try to claim an existing one whose lease
    expired. Returns (row, claimed)."""
    def fn(cur):
        cur.execute(
            """INSERT INTO purchases (request_id, id, user_id, product_id, state,
                                      lease_owner, lease_until)
               VALUES (%s, %s, %s, %s, 'new', %s, now() + make_interval(secs => %s))
               ON CONFLICT (request_id) DO NOTHING
               RETURNING *""",
            (rid, str(uuid.uuid4()), user_id, product_id, OWNER, LEASE_S))
        row = cur.fetchone()
        if row is not None:
            return row, True
        return claim_cur(cur, rid)
    return db.run(fn)


def claim_cur(cur, rid):
    cur.execute(
        """UPDATE purchases SET lease_owner = %s,
                  lease_until = now() + make_interval(secs => %s), updated_at = now()
           WHERE request_id = %s AND state NOT IN ('active','failed')
             AND (lease_owner = %s OR lease_until IS NULL OR lease_until < now())
           RETURNING *""",
        (OWNER, LEASE_S, rid, OWNER))
    row = cur.fetchone()
    if row is not None:
        return row, True
    cur.execute("SELECT * FROM purchases WHERE request_id = %s", (rid,))
    return cur.fetchone(), False


def claim(rid):
    return db.run(lambda cur: claim_cur(cur, rid))


def transition(rid, from_state, to_state, **fields):
    """Move the purchase on, only if we still hold it and it is where we think."""
    sets = ["state = %s", "updated_at = now()"]
    args = [to_state]
    for k, v in fields.items():
        sets.append("%s = %%s" % k)
        args.append(v)
    if to_state in TERMINAL:
        sets.append("lease_owner = NULL")
        sets.append("lease_until = NULL")

    def fn(cur):
        cur.execute(
            "UPDATE purchases SET " + ", ".join(sets) +
            " WHERE request_id = %s AND state = %s AND lease_owner = %s RETURNING *",
            args + [rid, from_state, OWNER])
        row = cur.fetchone()
        if row is not None and to_state == "active":
            cur.execute(
                """INSERT INTO notification_outbox (request_id, user_id)
                   VALUES (%s, %s) ON CONFLICT (request_id) DO NOTHING""",
                (rid, row["user_id"]))
        if row is None:
            # the commit of an earlier try may have gone through before the connection died
            cur.execute("SELECT * FROM purchases WHERE request_id = %s", (rid,))
            cur_row = cur.fetchone()
            if cur_row is not None and cur_row["state"] == to_state and (
                    to_state in TERMINAL or cur_row["lease_owner"] == OWNER):
                return cur_row
            return None
        return row

    row = db.run(fn)
    if row is None:
        raise LeaseLost(rid)
    log("purchase " + to_state, requestId=rid, fromState=from_state,
        **{k: v for k, v in fields.items()})
    if to_state == "active":
        outbox_wakeup.set()
    return row


def still_mine_fn(rid):
    def still_mine():
        try:
            row = read_purchase(rid)
        except Exception:
            return True  # cannot tell; keep going, every step is keyed
        return row is not None and row["lease_owner"] == OWNER and row["state"] not in TERMINAL
    return still_mine


def drive(rid):
    """Run the purchase's state machine to a terminal state (or until the lease is lost)."""
    still_mine = still_mine_fn(rid)
    errors = 0
    while True:
        try:
            row = read_purchase(rid)
            if row is None or row["state"] in TERMINAL or row["lease_owner"] != OWNER:
                return
            step(row, still_mine)
            errors = 0
        except LeaseLost:
            log("lease lost, leaving the purchase to its new owner", requestId=rid)
            return
        except Exception as e:
            errors += 1
            log("purchase step error", requestId=rid, error=repr(e)[:300], attempt=errors)
            time.sleep(backoff(min(errors, 5)) + 0.1)


def step(p, still_mine):
    rid = p["request_id"]
    state = p["state"]
    if state == "new":
        ans = call_until_final("POST", INVENTORY_URL + "/reservations",
                               {"productId": p["product_id"], "quantity": 1},
                               rid + ":reserve", still_mine)
        if 200 <= ans.status < 300 and ans.body.get("id"):
            transition(rid, "new", "reserved", reservation_id=str(ans.body["id"]),
                       amount=int(ans.body.get("amount") or 0),
                       currency=ans.body.get("currency") or "usd")
        elif ans.status in (404, 409):
            transition(rid, "new", "failed", error_code="OUT_OF_STOCK")
        else:
            log("unexpected reservation answer", requestId=rid, status=ans.status, body=ans.body)
            transition(rid, "new", "failed", error_code="PURCHASE_FAILED")
    elif state == "reserved":
        body = {"customerId": p["user_id"], "amount": int(p["amount"]),
                "currency": p["currency"], "metadata": {"requestId": rid}}
        ans = call_until_final("POST", PAYMENTS_URL + "/charges", body, rid + ":charge", still_mine)
        if 200 <= ans.status < 300 and ans.body.get("status") == "succeeded" and ans.body.get("id"):
            transition(rid, "reserved", "charged", charge_id=str(ans.body["id"]))
        elif ans.status == 402 or 200 <= ans.status < 300:
            transition(rid, "reserved", "releasing", error_code="PAYMENT_DECLINED")
        else:
            log("unexpected charge answer", requestId=rid, status=ans.status, body=ans.body)
            transition(rid, "reserved", "releasing", error_code="PURCHASE_FAILED")
    elif state == "charged":
        ans = call_until_final("POST", INVENTORY_URL + "/reservations/%s/commit" % p["reservation_id"],
                               {}, rid + ":commit", still_mine)
        if 200 <= ans.status < 300:
            transition(rid, "charged", "active")
        else:
            log("commit failed for good, refunding", requestId=rid, status=ans.status, code=ans.code)
            transition(rid, "charged", "refunding", error_code="PURCHASE_FAILED")
    elif state == "refunding":
        ans = call_until_final("POST", PAYMENTS_URL + "/refunds", {"chargeId": p["charge_id"]},
                               rid + ":refund", still_mine)
        if not (200 <= ans.status < 300 or ans.code in ("already_refunded", "charge_not_refundable")):
            log("unexpected refund answer", requestId=rid, status=ans.status, body=ans.body)
        transition(rid, "refunding", "releasing")
    elif state == "releasing":
        ans = call_until_final("DELETE", INVENTORY_URL + "/reservations/%s" % p["reservation_id"],
                               None, rid + ":release", still_mine)
        if not (200 <= ans.status < 300):
            log("unexpected release answer", requestId=rid, status=ans.status, body=ans.body)
        transition(rid, "releasing", "failed")
    else:
        raise RuntimeError("unknown state %r" % state)


def start_worker(rid):
    """Start a local worker for a purchase we hold the lease of (at most one per process)."""
    with workers_lock:
        ev = workers.get(rid)
        if ev is not None:
            return ev
        ev = threading.Event()
        workers[rid] = ev

    def run():
        try:
            drive(rid)
        finally:
            with workers_lock:
                workers.pop(rid, None)
            ev.set()

    threading.Thread(target=run, name="purchase-" + rid, daemon=True).start()
    return ev


def purchase_json(p):
    return {"id": str(p["id"]), "requestId": p["request_id"], "userId": p["user_id"],
            "productId": p["product_id"], "status": "active", "chargeId": p["charge_id"],
            "amount": int(p["amount"])}


def create_subscription(rid, user_id, product_id):
    """Returns (http status, body)."""
    deadline = time.monotonic() + ANSWER_WITHIN_S
    row, claimed = create_or_claim(rid, user_id, product_id)
    while True:
        if row["state"] == "active":
            return 200, purchase_json(row)
        if row["state"] == "failed":
            return 409, {"code": row["error_code"]}
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            log("purchase still in progress at answer deadline", requestId=rid, state=row["state"])
            return 503, {"code": "IN_PROGRESS"}
        if claimed:
            start_worker(rid).wait(timeout=min(remaining, 0.5))
        else:
            time.sleep(min(remaining, 0.15))
        try:
            row, claimed = claim(rid)
        except Exception as e:
            log("db error while waiting", requestId=rid, error=repr(e)[:200])
            time.sleep(0.2)


# ---------------------------------------------------------------------------
# background threads: heartbeat, recovery sweep, notification outbox

def heartbeat_loop():
    while True:
        time.sleep(HEARTBEAT_S)
        with workers_lock:
            rids = list(workers.keys())
        if not rids:
            continue
        try:
            db.run(lambda cur: cur.execute(
                """UPDATE purchases SET lease_until = now() + make_interval(secs => %s)
                   WHERE lease_owner = %s AND request_id = ANY(%s)
                     AND state NOT IN ('active','failed')""",
                (LEASE_S, OWNER, rids)), attempts=2)
        except Exception as e:
            log("heartbeat failed", error=repr(e)[:200])


def sweep_loop():
    while True:
        time.sleep(SWEEP_S * random.uniform(0.8, 1.2))
        try:
            def fn(cur):
                cur.execute(
                    """SELECT request_id FROM purchases
                       WHERE state NOT IN ('active','failed')
                         AND (lease_until IS NULL OR lease_until < now())
                       ORDER BY lease_until NULLS FIRST LIMIT 20""")
                return [r["request_id"] for r in cur.fetchall()]
            for rid in db.run(fn, attempts=2):
                row, claimed = claim(rid)
                if claimed:
                    log("recovering purchase", requestId=rid, state=row["state"])
                    start_worker(rid)
        except Exception as e:
            log("sweep failed", error=repr(e)[:200])


OUTBOX_LEASE_S = 5.0
_sender_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="notify")


def outbox_loop():
    while True:
        outbox_wakeup.wait(timeout=0.2)
        outbox_wakeup.clear()
        try:
            def fn(cur):
                cur.execute(
                    """UPDATE notification_outbox SET attempts = attempts + 1,
                              lease_until = now() + make_interval(secs => %s)
                       WHERE request_id IN (
                           SELECT request_id FROM notification_outbox
                           WHERE sent_at IS NULL AND next_attempt_at <= now()
                             AND (lease_until IS NULL OR lease_until < now())
                           ORDER BY next_attempt_at LIMIT 16
                           FOR UPDATE SKIP LOCKED)
                       RETURNING request_id, user_id, attempts""",
                    (OUTBOX_LEASE_S,))
                return cur.fetchall()
            due = db.run(fn, attempts=2)
        except Exception as e:
            log("outbox poll failed", error=repr(e)[:200])
            time.sleep(0.5)
            continue
        futures = [_sender_pool.submit(send_notification, r) for r in due]
        for f in futures:
            try:
                f.result()
            except Exception as e:
                log("notification send error", error=repr(e)[:200])


def send_notification(r):
    rid, attempts = r["request_id"], r["attempts"]
    ans = http_call("POST", NOTIFICATIONS_URL + "/messages",
                    {"channel": "email", "to": r["user_id"], "template": "subscription-created",
                     "data": {"requestId": rid}},
                    rid + ":notify")
    if ans is not None and 200 <= ans.status < 300:
        db.run(lambda cur: cur.execute(
            "UPDATE notification_outbox SET sent_at = now(), lease_until = NULL WHERE request_id = %s",
            (rid,)))
        log("confirmation sent", requestId=rid, attempts=attempts)
        return
    if not is_transient(ans):
        # a final refusal (a 4xx): retrying the same request cannot change it
        log("confirmation refused for good", requestId=rid, status=ans.status, body=ans.body)
        db.run(lambda cur: cur.execute(
            """UPDATE notification_outbox SET sent_at = now(), lease_until = NULL, last_error = %s
               WHERE request_id = %s""", ("%s %s" % (ans.status, ans.code), rid)))
        return
    wait = backoff(attempts)
    ra = ans.retry_after() if ans is not None else None
    if ra is not None:
        wait = max(wait, ra + 0.01)
    err = "no answer" if ans is None else "%s %s" % (ans.status, ans.code)
    db.run(lambda cur: cur.execute(
        """UPDATE notification_outbox SET lease_until = NULL, last_error = %s,
                  next_attempt_at = now() + make_interval(secs => %s)
           WHERE request_id = %s""", (err, wait, rid)))


# ---------------------------------------------------------------------------
# HTTP

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send_json(self, status, body):
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n > 0 else b""
        try:
            return json.loads(raw.decode() or "{}")
        except Exception:
            return None

    def do_POST(self):
        body = self.read_body()
        path = self.path.split("?", 1)[0].rstrip("/")
        if path != "/subscriptions":
            return self.send_json(404, {"code": "NOT_FOUND"})
        if not isinstance(body, dict) or not all(
                isinstance(body.get(k), str) and body.get(k) for k in ("requestId", "userId", "productId")):
            return self.send_json(400, {"code": "BAD_REQUEST"})
        rid = body["requestId"]
        try:
            status, out = create_subscription(rid, body["userId"], body["productId"])
        except Exception as e:
            log("purchase call failed", requestId=rid, error=repr(e)[:300])
            status, out = 503, {"code": "UNAVAILABLE"}
        self.send_json(status, out)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        prefix = "/subscriptions/"
        if not path.startswith(prefix) or len(path) == len(prefix):
            return self.send_json(404, {"code": "NOT_FOUND"})
        rid = urllib.request.unquote(path[len(prefix):])
        try:
            row = read_purchase(rid)
        except Exception as e:
            log("read failed", requestId=rid, error=repr(e)[:300])
            return self.send_json(503, {"code": "UNAVAILABLE"})
        if row is None or row["state"] != "active":
            return self.send_json(200, None)   # getSubscription(...) -> null
        self.send_json(200, purchase_json(row))


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


def serve():
    global db
    db = DbPool(DATABASE_URL, DB_POOL_SIZE)
    port = int(os.environ.get("PORT", "8080"))
    try:
        Server.address_family = socket.AF_INET6
        httpd = Server(("::", port), Handler)
    except OSError:
        Server.address_family = socket.AF_INET
        httpd = Server(("0.0.0.0", port), Handler)
    for target in (heartbeat_loop, sweep_loop, outbox_loop):
        threading.Thread(target=target, name=target.__name__, daemon=True).start()
    log("listening", port=port, owner=OWNER)
    httpd.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "setup":
        setup()
    else:
        serve()
