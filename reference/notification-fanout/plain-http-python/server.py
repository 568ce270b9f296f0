"""notification-fanout, HTTP mode, in Python (standard library + Debian's python3-psycopg2).

Reference (plain, textbook): written apart from gauntlet, from the public docs alone (README, docs/contract.md, the
challenge's README), by someone who never read the harness, references, fixtures or checkers; kept as it was handed in but for the
lease extension, made one method (extend_lease) where it was written twice. It passed quick seeds 1-3 and standard
seed 1 (53/53 automatic points, no concern) before it was added. It must pass every check (CONTRACT §8), and it is
the challenge's only solution in another language and in HTTP mode. Its schema resembles the TypeScript references'
(events, deliveries, SMS slots) because the problem does, not because either was copied.

Design
- publish: one transaction inserts the event (ON CONFLICT DO NOTHING: a republished eventId adds nothing) and,
  for a new event, one outbox row per channel the user wants for that kind, read from the recipients table in the
  same statement (so the preferences are those committed before publish was called). No provider is called there.
- Each instance runs one claimer thread per channel. It claims due outbox rows of its channel with
  SELECT ... FOR UPDATE SKIP LOCKED, pushing next_attempt_at forward by a lease and stamping a claim token, and
  hands them to that channel's own pool of sender threads (channels never wait on each other).
  A killed instance's claims come due again when the lease runs out.
- A send uses the Idempotency-Key "<eventId>:<channel>" on every attempt, from every instance.
  202 -> delivered. 422 -> dead letter. 429 -> this instance pauses that provider until Retry-After has passed and
  the row is retried (not counted). 409 request_in_progress -> retried later (not counted). 5xx / reset / timeout ->
  counted; retried with capped exponential backoff and full jitter; given up after 10 failed attempts or once
  failures have gone on for 5 s or more.
- The per-user SMS limit: before an SMS is sent, a slot is taken in sms_slots under a row lock on the user,
  counting the user's slots of the last 60 s; no slot -> dead letter. Every write after a send is fenced by the
  claim token, so an instance that lost its lease changes nothing.
"""
import http.client
import json
import os
import random
import socket
import sys
import threading
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2
import psycopg2.extras
from psycopg2.extras import Json

CHANNELS = ("email", "sms", "push")
KINDS = ("created", "renewed", "payment-failed", "cancelled")

LEASE_S = 7.0              # a claimed delivery is someone else's to take after this
RENEW_AFTER_S = 1.5        # renew the lease before sending if the claim is older than this
SEND_TIMEOUT_S = 4.5       # providers may hold a response; the contract asks for <= 5 s
POLL_S = 0.2               # idle poll of the outbox
CLAIM_BATCH = 16
SENDERS_PER_CHANNEL = 12
MAX_ATTEMPTS = 10
GIVE_UP_AFTER_S = 5.0
BACKOFF_BASE_S = 0.05
BACKOFF_CAP_S = 1.0

INSTANCE = os.environ.get("GAUNTLET_INSTANCE", "0")
_log_lock = threading.Lock()


def log(msg: str, **fields) -> None:
    line = json.dumps({"msg": msg, "instance": INSTANCE, **fields}, default=str)
    with _log_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class TransientDbError(Exception):
    pass


class Pool:
    """A small blocking pool of psycopg2 connections (one connection per thread at a time)."""

    def __init__(self, dsn: str, size: int, name: str):
        self.dsn = dsn
        self.name = name
        self.sem = threading.BoundedSemaphore(size)
        self.idle = []
        self.lock = threading.Lock()

    def _connect(self):
        return psycopg2.connect(
            self.dsn,
            connect_timeout=5,
            application_name=f"fanout-{INSTANCE}-{self.name}",
            keepalives=1, keepalives_idle=5, keepalives_interval=1, keepalives_count=3,
            tcp_user_timeout=5000,
            options="-c statement_timeout=5000 -c idle_in_transaction_session_timeout=10000",
        )

    @contextmanager
    def _cursor(self, autocommit: bool):
        if not self.sem.acquire(timeout=10):
            raise TransientDbError(f"no database connection free in pool {self.name}")
        conn = None
        try:
            with self.lock:
                conn = self.idle.pop() if self.idle else None
            if conn is None:
                conn = self._connect()
            conn.autocommit = autocommit
            try:
                with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                    yield cur
                if not autocommit:
                    conn.commit()
            except BaseException:
                try:
                    if not conn.closed and not autocommit:
                        conn.rollback()
                except Exception:
                    pass
                raise
        finally:
            if conn is not None and not conn.closed:  # a broken connection is dropped, not pooled
                with self.lock:
                    self.idle.append(conn)
            self.sem.release()

    def transaction(self):
        """A cursor inside a transaction: committed on success, rolled back on any error."""
        return self._cursor(autocommit=False)

    def statement(self):
        """A cursor for one self-contained statement (autocommit: no BEGIN/COMMIT round trips)."""
        return self._cursor(autocommit=True)


DSN = os.environ["DATABASE_URL"]
api_db = Pool(DSN, 8, "api")
worker_db = Pool(DSN, 8, "worker")

DB_ERRORS = (psycopg2.OperationalError, psycopg2.InterfaceError, psycopg2.errors.QueryCanceled,
             psycopg2.errors.SerializationFailure, psycopg2.errors.DeadlockDetected, TransientDbError)


def with_db_retry(fn, attempts: int = 3, budget_s: float = 0.8):
    """Retries a whole transaction on a connection-level error, within a small time budget."""
    deadline = time.monotonic() + budget_s
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except DB_ERRORS as exc:
            if attempt == attempts or time.monotonic() > deadline:
                raise
            log("database error, retrying", error=repr(exc), attempt=attempt)
            time.sleep(min(0.05 * 2 ** attempt, 0.2) * random.random())


def load_sms_limit() -> int:
    def read():
        with worker_db.statement() as cur:
            cur.execute("SELECT value FROM settings WHERE name = 'limits'")
            row = cur.fetchone()
            return row["value"] if row else None

    limits = None
    for _ in range(50):
        try:
            limits = read()
            break
        except DB_ERRORS as exc:
            log("cannot read limits yet", error=repr(exc))
            time.sleep(0.2)
    if limits is None:
        path = os.environ.get("GAUNTLET_SCENARIO")
        if path:
            with open(path, encoding="utf-8") as f:
                limits = json.load(f).get("limits") or {}
        else:
            limits = {}
    return int(limits.get("smsPerUserPerMinute", 1_000_000))


# ---------------------------------------------------------------------------------------------- API


def publish(event: dict) -> bool:
    """Accepts the event for good: the event row and its outbox rows in one atomic statement.
    The recipient's preferences are read by that statement, so they are the ones committed before publish."""
    def run():
        with api_db.statement() as cur:
            cur.execute(
                """WITH new_event AS (
                     INSERT INTO events (event_id, kind, user_id, occurred_at)
                     VALUES (%(event_id)s, %(kind)s, %(user_id)s, %(occurred_at)s)
                     ON CONFLICT (event_id) DO NOTHING
                     RETURNING event_id, kind, user_id
                   ), outbox AS (
                     INSERT INTO deliveries (event_id, channel, user_id, kind, to_addr)
                     SELECT e.event_id, ch.channel, r.user_id, e.kind,
                            CASE ch.channel WHEN 'email' THEN r.email WHEN 'sms' THEN r.phone ELSE r.push_token END
                       FROM new_event e
                       JOIN recipients r ON r.user_id = e.user_id
                      CROSS JOIN LATERAL (
                        SELECT DISTINCT c AS channel
                          FROM jsonb_array_elements_text(
                                 CASE WHEN jsonb_typeof(r.preferences -> e.kind) = 'array'
                                      THEN r.preferences -> e.kind ELSE '[]'::jsonb END) AS c
                      ) ch
                     WHERE ch.channel IN ('email', 'sms', 'push')
                     ON CONFLICT (event_id, channel) DO NOTHING
                     RETURNING channel
                   )
                   SELECT (SELECT count(*) FROM new_event) AS created, (SELECT count(*) FROM outbox) AS deliveries""",
                {"event_id": event["eventId"], "kind": event["kind"], "user_id": event["userId"],
                 "occurred_at": event.get("occurredAt")},
            )
            return cur.fetchone()["created"] == 1

    return with_db_retry(run)


def set_preferences(user_id: str, preferences: dict) -> None:
    def run():
        with api_db.statement() as cur:
            cur.execute(
                """INSERT INTO recipients (user_id, email, phone, push_token, preferences)
                   VALUES (%s, '', '', '', %s)
                   ON CONFLICT (user_id) DO UPDATE SET preferences = EXCLUDED.preferences, updated_at = now()""",
                (user_id, Json(preferences)),
            )

    with_db_retry(run)


def dead_letters() -> list:
    def run():
        with api_db.statement() as cur:
            cur.execute("SELECT event_id, channel, reason FROM deliveries WHERE status = 'dead' ORDER BY id")
            return [{"eventId": r["event_id"], "channel": r["channel"], "reason": r["reason"]}
                    for r in cur.fetchall()]

    return with_db_retry(run)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet access log
        pass

    def _reply(self, status: int, body=None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw or b"{}")

    def _guard(self, fn):
        try:
            fn()
        except (ValueError, KeyError, TypeError) as exc:
            self._reply(400, {"code": "bad_request", "message": str(exc)})
        except DB_ERRORS as exc:
            log("request failed: database unavailable", path=self.path, error=repr(exc))
            self._reply(503, {"code": "unavailable"})
        except Exception as exc:  # unexpected: answer 500, keep serving
            log("request failed", path=self.path, error=repr(exc))
            self._reply(500, {"code": "internal_error"})

    def do_POST(self):
        def run():
            path = urllib.parse.urlsplit(self.path).path
            if path != "/notifications/events":
                return self._reply(404, {"code": "not_found"})
            body = self._body()
            event = {k: body[k] for k in ("eventId", "kind", "userId")}
            event["occurredAt"] = body.get("occurredAt")
            if not all(isinstance(event[k], str) and event[k] for k in ("eventId", "kind", "userId")):
                raise ValueError("eventId, kind and userId must be non-empty strings")
            created = publish(event)
            self._reply(202, {"accepted": True, "duplicate": not created})

        self._guard(run)

    def do_PUT(self):
        def run():
            path = urllib.parse.urlsplit(self.path).path
            prefix = "/notifications/preferences/"
            if not path.startswith(prefix) or len(path) == len(prefix):
                return self._reply(404, {"code": "not_found"})
            user_id = urllib.parse.unquote(path[len(prefix):])
            body = self._body()
            preferences = body["preferences"] if "preferences" in body else body
            if not isinstance(preferences, dict):
                raise ValueError("preferences must be an object")
            set_preferences(user_id, preferences)
            self._reply(200, {"userId": user_id, "preferences": preferences})

        self._guard(run)

    def do_GET(self):
        def run():
            path = urllib.parse.urlsplit(self.path).path
            if path == "/notifications/dead-letters":
                return self._reply(200, dead_letters())
            if path == "/health":
                return self._reply(200, {"ok": True})
            self._reply(404, {"code": "not_found"})

        self._guard(run)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024   # bursts of hundreds of simultaneous publishes


# ------------------------------------------------------------------------------------------ delivery


class Gate:
    """Per-provider pause of this instance after a 429."""

    def __init__(self):
        self.cond = threading.Condition()
        self.until = 0.0

    def pause(self, seconds: float) -> float:
        with self.cond:
            self.until = max(self.until, time.monotonic() + seconds)
            return self.until

    def wait_open(self) -> None:
        with self.cond:
            while True:
                remaining = self.until - time.monotonic()
                if remaining <= 0:
                    return
                self.cond.wait(remaining)


class LeaseLost(Exception):
    pass


def retry_after_seconds(headers, body) -> float:
    for name, scale in (("Retry-After-Ms", 0.001), ("Retry-After", 1.0)):
        value = headers.get(name)
        if value:
            try:
                return max(0.0, float(value) * scale)
            except ValueError:
                pass
    if isinstance(body, dict):
        for name, scale in (("retryAfterMs", 0.001), ("retryAfter", 1.0)):
            if isinstance(body.get(name), (int, float)):
                return max(0.0, body[name] * scale)
    return 1.0


def post_send(base_url: str, key: str, payload: dict, gate: "Gate"):
    """POST {base}/send. Returns (status, headers, body); raises OSError / HTTPException on a transport failure.
    The connection is opened first and the provider's 429 gate checked just before the request is written."""
    url = urllib.parse.urlsplit(base_url)
    cls = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    conn = cls(url.hostname, url.port, timeout=SEND_TIMEOUT_S)
    try:
        data = json.dumps(payload).encode()
        conn.connect()
        gate.wait_open()
        conn.request("POST", url.path.rstrip("/") + "/send", body=data,
                     headers={"Content-Type": "application/json", "Idempotency-Key": key})
        resp = conn.getresponse()
        raw = resp.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        return resp.status, resp.headers, body
    finally:
        conn.close()


class ChannelWorker:
    def __init__(self, channel: str, base_url: str, sms_limit: int):
        self.channel = channel
        self.base_url = base_url
        self.sms_limit = sms_limit
        self.gate = Gate()
        self.slots = threading.Semaphore(SENDERS_PER_CHANNEL)
        self.senders = ThreadPoolExecutor(SENDERS_PER_CHANNEL, thread_name_prefix=f"send-{channel}")

    # -- claiming

    def claim(self, limit: int) -> list:
        token = str(uuid.uuid4())
        with worker_db.statement() as cur:
            cur.execute(
                """UPDATE deliveries d
                      SET next_attempt_at = clock_timestamp() + make_interval(secs => %(lease)s),
                          claim_token = %(token)s
                    WHERE d.id IN (SELECT id FROM deliveries
                                    WHERE channel = %(channel)s AND status = 'pending'
                                      AND next_attempt_at <= clock_timestamp()
                                    ORDER BY next_attempt_at
                                    LIMIT %(limit)s
                                    FOR UPDATE SKIP LOCKED)
                RETURNING d.id, d.event_id, d.channel, d.user_id, d.kind, d.to_addr, d.attempts,
                          extract(epoch FROM d.first_failed_at)::float8 AS first_failed_epoch, d.claim_token""",
                {"lease": LEASE_S, "token": token, "channel": self.channel, "limit": limit},
            )
            return cur.fetchall()

    def run(self) -> None:
        while True:
            try:
                self.gate.wait_open()
                self.slots.acquire()
                free = 1
                while free < CLAIM_BATCH and self.slots.acquire(blocking=False):
                    free += 1
                try:
                    rows = self.claim(free)
                except BaseException:
                    for _ in range(free):
                        self.slots.release()
                    raise
                for _ in range(free - len(rows)):
                    self.slots.release()
                for row in rows:
                    row["claimed_at"] = time.monotonic()
                    self.senders.submit(self.process, row)
                if not rows:
                    time.sleep(POLL_S)
            except Exception as exc:
                log("claim failed", channel=self.channel, error=repr(exc))
                time.sleep(0.5)

    # -- one delivery

    def process(self, row: dict) -> None:
        try:
            if self.channel == "sms" and not self.take_sms_slot(row):
                return
            self.gate.wait_open()
            if time.monotonic() - row["claimed_at"] > RENEW_AFTER_S:
                self.renew(row)
            self.attempt(row)
        except LeaseLost:
            log("lease lost, leaving the delivery to its new owner", eventId=row["event_id"], channel=self.channel)
        except Exception as exc:
            # The row stays claimed until its lease runs out, then it is retried with the same key.
            log("delivery step failed", eventId=row["event_id"], channel=self.channel, error=repr(exc))
        finally:
            self.slots.release()

    @staticmethod
    def extend_lease(cur, row: dict) -> None:
        """Push the claimed row's lease forward; LeaseLost when another instance has taken it meanwhile."""
        cur.execute(
            """UPDATE deliveries SET next_attempt_at = clock_timestamp() + make_interval(secs => %s)
                WHERE id = %s AND claim_token = %s AND status = 'pending'""",
            (LEASE_S, row["id"], row["claim_token"]),
        )
        if cur.rowcount != 1:
            raise LeaseLost()

    def renew(self, row: dict) -> None:
        with worker_db.statement() as cur:
            self.extend_lease(cur, row)
        row["claimed_at"] = time.monotonic()

    def take_sms_slot(self, row: dict) -> bool:
        """True when this SMS may be sent (it holds one of the user's slots); else it is dead-lettered."""
        with worker_db.transaction() as cur:
            cur.execute("SELECT user_id FROM recipients WHERE user_id = %s FOR UPDATE", (row["user_id"],))
            cur.execute(
                """SELECT EXISTS (SELECT 1 FROM sms_slots WHERE delivery_id = %(id)s) AS held,
                          (SELECT count(*) FROM sms_slots
                            WHERE user_id = %(user_id)s AND taken_at > clock_timestamp() - interval '60 seconds') AS used""",
                {"id": row["id"], "user_id": row["user_id"]},
            )
            slot = cur.fetchone()
            if slot["held"]:
                return True  # a retry of an SMS that already holds its slot
            used = slot["used"]
            if used >= self.sms_limit:
                reason = f"sms_user_limit: {self.sms_limit} SMS per user per minute already sent"
                self.finish(cur, row, "dead", reason)
                log("dead letter", eventId=row["event_id"], channel="sms", userId=row["user_id"], reason=reason)
                return False
            cur.execute("INSERT INTO sms_slots (delivery_id, user_id) VALUES (%s, %s)", (row["id"], row["user_id"]))
            self.extend_lease(cur, row)
        row["claimed_at"] = time.monotonic()
        return True

    def finish(self, cur, row: dict, status: str, reason) -> None:
        cur.execute(
            """UPDATE deliveries SET status = %s, reason = %s, finished_at = clock_timestamp(), claim_token = NULL
                WHERE id = %s AND claim_token = %s AND status = 'pending'""",
            (status, reason, row["id"], row["claim_token"]),
        )
        if cur.rowcount != 1:
            raise LeaseLost()

    def reschedule(self, row: dict, delay_s: float, failed: bool, error: str, started_epoch: float) -> None:
        with worker_db.statement() as cur:
            cur.execute(
                """UPDATE deliveries
                      SET next_attempt_at = clock_timestamp() + make_interval(secs => %(delay)s),
                          claim_token = NULL,
                          attempts = attempts + %(inc)s,
                          first_failed_at = CASE WHEN %(failed)s THEN COALESCE(first_failed_at, to_timestamp(%(started)s))
                                                 ELSE first_failed_at END,
                          last_error = %(error)s
                    WHERE id = %(id)s AND claim_token = %(token)s AND status = 'pending'""",
                {"delay": delay_s, "inc": 1 if failed else 0, "failed": failed, "started": started_epoch,
                 "error": error[:500], "id": row["id"], "token": row["claim_token"]},
            )
            if cur.rowcount != 1:
                raise LeaseLost()

    def attempt(self, row: dict) -> None:
        key = f"{row['event_id']}:{self.channel}"
        payload = {"to": row["to_addr"], "template": row["kind"], "data": {"eventId": row["event_id"]}}
        started = time.time()
        try:
            status, headers, body = post_send(self.base_url, key, payload, self.gate)
        except (OSError, http.client.HTTPException) as exc:
            status, headers, body = None, {}, None
            error = f"transport: {exc!r}"
        code = body.get("code") if isinstance(body, dict) else None

        if status is not None and 200 <= status < 300:
            with worker_db.statement() as cur:
                self.finish(cur, row, "delivered", None)
            return

        if status == 422 and code != "idempotency_mismatch":
            reason = f"{code or 'unprocessable'}: provider answered 422 (final)"
            with worker_db.transaction() as cur:
                self.finish(cur, row, "dead", reason)
                if self.channel == "sms":  # nothing was sent: the slot is not spent
                    cur.execute("DELETE FROM sms_slots WHERE delivery_id = %s", (row["id"],))
            log("dead letter", eventId=row["event_id"], channel=self.channel, reason=reason)
            return

        if status == 429:
            wait_s = retry_after_seconds(headers, body) + 0.01
            self.gate.pause(wait_s)
            log("provider rate limited, pausing it on this instance", channel=self.channel, seconds=round(wait_s, 3))
            self.reschedule(row, wait_s, failed=False, error="429 rate_limited", started_epoch=started)
            return

        if status == 409 and code == "request_in_progress":
            # An earlier attempt with this key is still running at the provider: ask again later.
            self.reschedule(row, 0.25 + random.random() * 0.5, failed=False, error="409 request_in_progress",
                            started_epoch=started)
            return

        # 5xx, any other answer, a reset or a timeout: a failed attempt.
        if status is not None:
            error = f"http {status}" + (f" {code}" if code else "")
        attempts = row["attempts"] + 1
        first_failed = row["first_failed_epoch"] if row["first_failed_epoch"] is not None else started
        failing_for = started - first_failed
        if attempts >= MAX_ATTEMPTS or failing_for >= GIVE_UP_AFTER_S:
            reason = (f"gave up after {attempts} failed attempts over {failing_for:.1f}s; last error: {error}")
            with worker_db.transaction() as cur:
                cur.execute(
                    """UPDATE deliveries SET attempts = %s, last_error = %s,
                              first_failed_at = COALESCE(first_failed_at, to_timestamp(%s))
                        WHERE id = %s AND claim_token = %s""",
                    (attempts, error[:500], started, row["id"], row["claim_token"]),
                )
                self.finish(cur, row, "dead", reason)
            log("dead letter", eventId=row["event_id"], channel=self.channel, reason=reason)
            return
        delay = random.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** attempts))
        log("send failed, will retry", eventId=row["event_id"], channel=self.channel, attempt=attempts,
            error=error, retryInMs=round(delay * 1000))
        self.reschedule(row, delay, failed=True, error=error, started_epoch=started)


def main() -> None:
    port = int(os.environ.get("PORT", "3000"))
    server = Server(("0.0.0.0", port), Handler)
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    log("listening", port=port)

    sms_limit = load_sms_limit()
    urls = {"email": os.environ["EMAIL_URL"], "sms": os.environ["SMS_URL"], "push": os.environ["PUSH_URL"]}
    workers = [ChannelWorker(ch, urls[ch], sms_limit) for ch in CHANNELS]
    threads = [threading.Thread(target=w.run, name=f"claim-{w.channel}", daemon=True) for w in workers]
    for t in threads:
        t.start()
    log("delivery workers started", smsPerUserPerMinute=sms_limit)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
