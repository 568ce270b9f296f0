"""payment-webhook, HTTP mode: a payment provider's webhook endpoint (standard library + Debian's python3-psycopg2).

Routes: POST /webhooks/payment, GET /subscriptions?paymentId=, GET /dead-letters.
See README.md for the design.

Reference (plain, textbook): written apart from gauntlet, from the public docs alone (README, docs/contract.md, the
challenge's README), by someone who never read the harness, references, fixtures or checkers; kept as it was handed
in. It passed quick seeds 1-3 with every automatic point. It must pass every check with no concern (CONTRACT §8): the
challenge's only solution in another language and in HTTP mode, and the one whose retried writes carry a fresh id in
a statement psycopg2 inlines — the "swallowed errors" concern once took those retries for lost writes (2 seeds of 3).
"""
import hashlib
import hmac
import json
import math
import os
import random
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import psycopg2
import psycopg2.errors
import psycopg2.extensions

PORT = int(os.environ.get("PORT", "3000"))
DATABASE_URL = os.environ["DATABASE_URL"]
WEBHOOK_SECRET = os.environ.get("WEBHOOK_SECRET", "").encode("utf-8")
NOTIFICATIONS_URL = os.environ.get("NOTIFICATIONS_URL", "").rstrip("/")
INSTANCE = os.environ.get("GAUNTLET_INSTANCE", "?")

SIGNATURE_HEADER = "gauntlet-signature"
SIGNATURE_TOLERANCE_S = 300
MAX_BODY_BYTES = 1024 * 1024
POOL_SIZE = 8
WEBHOOK_DB_BUDGET_S = 6.0      # the provider gives up on an attempt after 8 s
NOTIFY_TIMEOUT_S = 3.0
NOTIFY_LEASE_S = 6             # > NOTIFY_TIMEOUT_S: a claimed row is retried by anyone once this expires
NOTIFY_POLL_S = 0.5
NOTIFY_BACKOFF_BASE_S = 0.05
NOTIFY_BACKOFF_CAP_S = 1.0

STATUS_TO_SUBSCRIPTION = {"success": "active", "failed": "failed", "pending": "pending"}


def log(msg, **fields):
    fields = {"msg": msg, "instance": INSTANCE, **fields}
    try:
        sys.stdout.write(json.dumps(fields, default=str) + "\n")
        sys.stdout.flush()
    except Exception:
        pass


# --------------------------------------------------------------------------- database

class TransientDbError(Exception):
    """The database could not be reached or kept failing within the time budget."""


class Database:
    """A small blocking connection pool: at most POOL_SIZE connections, broken ones are discarded."""

    def __init__(self, dsn, size):
        self.dsn = dsn
        self.sem = threading.BoundedSemaphore(size)
        self.idle = []
        self.lock = threading.Lock()

    def _connect(self):
        conn = psycopg2.connect(
            self.dsn,
            connect_timeout=5,
            keepalives=1, keepalives_idle=5, keepalives_interval=2, keepalives_count=3,
            options="-c statement_timeout=5000 -c idle_in_transaction_session_timeout=15000",
        )
        return conn

    @contextmanager
    def connection(self, timeout):
        if not self.sem.acquire(timeout=max(0.01, timeout)):
            raise TransientDbError("no database connection free in time")
        conn = None
        try:
            with self.lock:
                conn = self.idle.pop() if self.idle else None
            if conn is None or conn.closed:
                conn = self._connect()
            yield conn
            # Only a connection that finished cleanly goes back to the pool.
            if not conn.closed and conn.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE:
                with self.lock:
                    self.idle.append(conn)
                conn = None
        finally:
            if conn is not None:
                try:
                    conn.close()
                except Exception:
                    pass
            self.sem.release()

    def transaction(self, fn, budget_s, what):
        """Runs fn(cursor) in one transaction, retrying transient failures until budget_s is spent.

        Every transaction passed here is idempotent, so retrying one whose COMMIT's answer was lost is safe.
        """
        deadline = time.monotonic() + budget_s
        attempt = 0
        while True:
            attempt += 1
            try:
                with self.connection(deadline - time.monotonic()) as conn:
                    try:
                        with conn.cursor() as cur:
                            result = fn(cur)
                        conn.commit()
                        return result
                    except BaseException:
                        try:
                            if not conn.closed:
                                conn.rollback()
                        except Exception:
                            try:
                                conn.close()
                            except Exception:
                                pass
                        raise
            except (psycopg2.OperationalError, psycopg2.InterfaceError,
                    psycopg2.errors.SerializationFailure, psycopg2.errors.DeadlockDetected,
                    psycopg2.errors.QueryCanceled, TransientDbError) as e:
                remaining = deadline - time.monotonic()
                log("database call failed, will retry" if remaining > 0.05 else "database call failed, giving up",
                    op=what, attempt=attempt, error=str(e).strip()[:300], errorType=type(e).__name__)
                if remaining <= 0.05:
                    raise TransientDbError(str(e)) from e
                time.sleep(min(remaining, random.uniform(0, min(1.0, 0.025 * 2 ** attempt))))


db = Database(DATABASE_URL, POOL_SIZE)


def json_amount(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


# --------------------------------------------------------------------------- signature and validation

def verify_signature(header, raw):
    """Returns None when the delivery is authentic and fresh, else the reason it is not."""
    if not header:
        return "missing signature header"
    timestamp = None
    signatures = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            timestamp = value.strip()
        elif key == "v1":
            signatures.append(value.strip())
    if timestamp is None or not timestamp.isdigit() or not signatures:
        return "malformed signature header"
    if abs(time.time() - int(timestamp)) > SIGNATURE_TOLERANCE_S:
        return "stale timestamp"
    expected = hmac.new(WEBHOOK_SECRET, timestamp.encode("ascii") + b"." + raw, hashlib.sha256).hexdigest()
    if any(hmac.compare_digest(expected, s.lower()) for s in signatures):
        return None
    return "signature mismatch"


def _reject_constant(name):
    raise ValueError("invalid JSON constant " + name)


def parse_event(raw):
    """Returns (event, None) for a valid PaymentWebhook, else (None, reason)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, "body is not UTF-8"
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except ValueError as e:
        return None, "body is not valid JSON: " + str(e)
    if not isinstance(data, dict):
        return None, "body is not a JSON object"
    for field in ("paymentId", "userId", "idempotencyKey"):
        value = data.get(field)
        if not isinstance(value, str) or value == "":
            return None, f"{field} must be a non-empty string"
        if "\x00" in value:
            return None, f"{field} contains a NUL character"
    status = data.get("status")
    if status not in STATUS_TO_SUBSCRIPTION:
        return None, "status must be one of success, failed, pending"
    amount = data.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, (int, float)):
        return None, "amount must be a number"
    if isinstance(amount, float) and not math.isfinite(amount):
        return None, "amount must be finite"
    if amount < 0:
        return None, "amount must not be negative"
    return {
        "paymentId": data["paymentId"],
        "userId": data["userId"],
        "idempotencyKey": data["idempotencyKey"],
        "status": status,
        "amount": amount,
    }, None


def text_for_db(raw):
    text = raw.decode("utf-8", errors="replace")
    return text.replace("\x00", "\ufffd")  # PostgreSQL text cannot hold NUL


def poison_idempotency_key(raw):
    try:
        data = json.loads(raw.decode("utf-8"))
        if isinstance(data, dict) and isinstance(data.get("idempotencyKey"), str):
            return data["idempotencyKey"].replace("\x00", "")
    except Exception:
        pass
    return None


# --------------------------------------------------------------------------- webhook processing

def confirmation_key(payment_id):
    return "subscription-confirmed:" + hashlib.sha256(payment_id.encode("utf-8")).hexdigest()


def apply_event(event):
    """One transaction: record the event once, move the subscription forward, enqueue the confirmation."""

    def work(cur):
        cur.execute(
            "INSERT INTO processed_events (idempotency_key, payment_id, status) VALUES (%s, %s, %s) "
            "ON CONFLICT (idempotency_key) DO NOTHING",
            (event["idempotencyKey"], event["paymentId"], event["status"]),
        )
        if cur.rowcount == 0:
            return "duplicate", False
        target = STATUS_TO_SUBSCRIPTION[event["status"]]
        # Never backwards: an active subscription is final; a pending event never changes an existing row.
        cur.execute(
            "INSERT INTO subscriptions (id, payment_id, user_id, status, amount) VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (payment_id) DO UPDATE SET status = EXCLUDED.status, user_id = EXCLUDED.user_id, "
            "  amount = EXCLUDED.amount, updated_at = now() "
            "WHERE subscriptions.status <> 'active' AND EXCLUDED.status <> 'pending' "
            "  AND subscriptions.status <> EXCLUDED.status",
            ("sub_" + uuid.uuid4().hex, event["paymentId"], event["userId"], target, event["amount"]),
        )
        cur.execute("SELECT status, user_id FROM subscriptions WHERE payment_id = %s", (event["paymentId"],))
        status, user_id = cur.fetchone()
        enqueued = False
        if status == "active":
            cur.execute(
                "INSERT INTO notification_outbox (payment_id, user_id, idempotency_key) VALUES (%s, %s, %s) "
                "ON CONFLICT (payment_id) DO NOTHING",
                (event["paymentId"], user_id, confirmation_key(event["paymentId"])),
            )
            enqueued = cur.rowcount == 1
        return status, enqueued

    return db.transaction(work, WEBHOOK_DB_BUDGET_S, "apply event")


def dead_letter(raw, reason):
    text = text_for_db(raw)
    digest = hashlib.sha256(raw).hexdigest()
    key = poison_idempotency_key(raw)

    def work(cur):
        cur.execute(
            "INSERT INTO dead_letters (body_sha256, idempotency_key, reason, raw_body) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (body_sha256) DO NOTHING",
            (digest, key, reason, text),
        )

    db.transaction(work, WEBHOOK_DB_BUDGET_S, "dead letter")


def handle_webhook(headers, raw):
    reason = verify_signature(headers.get(SIGNATURE_HEADER), raw)
    if reason is not None:
        log("webhook rejected", reason=reason)
        return 401, {"error": "invalid signature", "reason": reason}
    event, reason = parse_event(raw)
    if event is None:
        try:
            dead_letter(raw, reason)
        except TransientDbError:
            # Not recorded yet: ask the provider to redeliver rather than lose the dead letter.
            return 503, {"error": "temporarily unavailable"}
        log("poison event dead-lettered", reason=reason, idempotencyKey=poison_idempotency_key(raw))
        return 400, {"error": "invalid event", "reason": reason, "deadLettered": True}
    try:
        outcome, enqueued = apply_event(event)
    except TransientDbError:
        return 503, {"error": "temporarily unavailable"}
    if outcome == "duplicate":
        log("duplicate event acknowledged", paymentId=event["paymentId"], idempotencyKey=event["idempotencyKey"])
        return 200, {"received": True, "duplicate": True}
    log("event applied", paymentId=event["paymentId"], idempotencyKey=event["idempotencyKey"],
        eventStatus=event["status"], subscriptionStatus=outcome)
    if enqueued:
        sender_wakeup.set()
    return 200, {"received": True}


def read_subscriptions(payment_id):
    def work(cur):
        cur.execute(
            "SELECT id, user_id, payment_id, status, amount FROM subscriptions WHERE payment_id = %s ORDER BY id",
            (payment_id,),
        )
        return [
            {"id": r[0], "userId": r[1], "paymentId": r[2], "status": r[3], "amount": json_amount(r[4])}
            for r in cur.fetchall()
        ]

    return db.transaction(work, WEBHOOK_DB_BUDGET_S, "read subscriptions")


def read_dead_letters():
    def work(cur):
        cur.execute("SELECT idempotency_key, reason, raw_body FROM dead_letters ORDER BY created_at, body_sha256")
        out = []
        for key, reason, raw_body in cur.fetchall():
            item = {"reason": reason, "rawBody": raw_body}
            if key is not None:
                item["idempotencyKey"] = key
            out.append(item)
        return out

    return db.transaction(work, WEBHOOK_DB_BUDGET_S, "read dead letters")


# --------------------------------------------------------------------------- confirmation sender (outbox)

sender_wakeup = threading.Event()


def claim_due(cur):
    cur.execute(
        "UPDATE notification_outbox o SET locked_until = now() + make_interval(secs => %s), "
        "  attempts = o.attempts + 1 "
        "WHERE o.payment_id IN ("
        "  SELECT payment_id FROM notification_outbox "
        "  WHERE sent_at IS NULL AND next_attempt_at <= now() AND (locked_until IS NULL OR locked_until < now()) "
        "  ORDER BY next_attempt_at LIMIT 10 FOR UPDATE SKIP LOCKED) "
        "RETURNING o.payment_id, o.user_id, o.idempotency_key, o.attempts",
        (NOTIFY_LEASE_S,),
    )
    return cur.fetchall()


def send_confirmation(payment_id, user_id, key):
    body = json.dumps({
        "channel": "email",
        "to": user_id,
        "template": "subscription-confirmed",
        "data": {"paymentId": payment_id},
    }).encode("utf-8")
    req = urllib.request.Request(
        NOTIFICATIONS_URL + "/messages", data=body, method="POST",
        headers={"Content-Type": "application/json", "Idempotency-Key": key},
    )
    try:
        with urllib.request.urlopen(req, timeout=NOTIFY_TIMEOUT_S) as resp:
            resp.read()
            return True, resp.status
    except urllib.error.HTTPError as e:
        try:
            detail = e.read()[:200].decode("utf-8", "replace")
        except Exception:
            detail = ""
        return False, f"{e.code} {detail}"
    except Exception as e:  # reset, timeout, refused, ...
        return False, f"{type(e).__name__}: {e}"


def deliver(row):
    payment_id, user_id, key, attempts = row
    ok, info = send_confirmation(payment_id, user_id, key)
    if ok:
        def done(cur):
            cur.execute(
                "UPDATE notification_outbox SET sent_at = now(), locked_until = NULL, last_error = NULL "
                "WHERE payment_id = %s",
                (payment_id,),
            )
        db.transaction(done, 10.0, "mark confirmation sent")
        log("confirmation sent", paymentId=payment_id, attempts=attempts, idempotencyKey=key)
        return
    delay = random.uniform(0, min(NOTIFY_BACKOFF_CAP_S, NOTIFY_BACKOFF_BASE_S * 2 ** min(attempts, 10)))

    def retry_later(cur):
        cur.execute(
            "UPDATE notification_outbox SET locked_until = NULL, last_error = %s, "
            "  next_attempt_at = now() + make_interval(secs => %s) WHERE payment_id = %s AND sent_at IS NULL",
            (str(info)[:500], delay, payment_id),
        )
    db.transaction(retry_later, 10.0, "reschedule confirmation")
    log("confirmation failed, will retry", paymentId=payment_id, attempts=attempts, error=str(info)[:300],
        retryInMs=round(delay * 1000))


def sender_loop():
    while True:
        try:
            rows = db.transaction(claim_due, 5.0, "claim confirmations")
        except Exception as e:
            log("outbox claim failed", error=str(e).strip()[:300])
            rows = []
        for row in rows:
            try:
                deliver(row)
            except Exception as e:
                # The lease expires and the row is claimed again: nothing is lost.
                log("outbox delivery bookkeeping failed", paymentId=row[0], error=str(e).strip()[:300])
        if len(rows) == 0:
            sender_wakeup.wait(NOTIFY_POLL_S)
            sender_wakeup.clear()


# --------------------------------------------------------------------------- HTTP

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "plain-webhook-py"

    def log_message(self, fmt, *args):  # quiet access log
        pass

    def _send(self, status, body=None):
        payload = b"" if body is None or status == 204 else json.dumps(body).encode("utf-8")
        self.send_response(status)
        if status != 204:
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY_BYTES:
                    raise ValueError("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise ValueError("body too large")
        return self.rfile.read(length) if length > 0 else b""

    def _guard(self, fn):
        try:
            fn()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as e:
            log("request failed", path=self.path, error=str(e)[:300], trace=traceback.format_exc()[-800:])
            try:
                self._send(500, {"error": "internal error"})
            except Exception:
                self.close_connection = True

    def do_POST(self):
        def run():
            path = urlsplit(self.path).path
            try:
                raw = self._read_body()
            except ValueError as e:
                self._send(413, {"error": str(e)})
                self.close_connection = True
                return
            if path != "/webhooks/payment":
                self._send(404, {"error": "not found"})
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, body = handle_webhook(headers, raw)
            self._send(status, body)
        self._guard(run)

    def do_GET(self):
        def run():
            parts = urlsplit(self.path)
            try:
                if parts.path == "/subscriptions":
                    payment_id = parse_qs(parts.query, keep_blank_values=True).get("paymentId", [None])[0]
                    if payment_id is None:
                        self._send(400, {"error": "paymentId is required"})
                        return
                    self._send(200, read_subscriptions(payment_id))
                elif parts.path == "/dead-letters":
                    self._send(200, read_dead_letters())
                elif parts.path in ("/health", "/"):
                    self._send(200, {"ok": True})
                else:
                    self._send(404, {"error": "not found"})
            except TransientDbError:
                self._send(503, {"error": "temporarily unavailable"})
        self._guard(run)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


def main():
    server = Server(("0.0.0.0", PORT), Handler)
    threading.Thread(target=sender_loop, name="outbox-sender", daemon=True).start()
    log("listening", port=PORT)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
