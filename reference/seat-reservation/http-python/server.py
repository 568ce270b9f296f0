# HTTP-mode reference for seat-reservation in Python (standard library + Debian's python3-psycopg2): the
# routes of CONTRACT §6 on $PORT, one conditional UPDATE per call (the strategy of ../conditional-update.ts),
# transient database errors retried with capped, jittered backoff. `server.py setup` creates the schema.
import json
import os
import random
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2
import psycopg2.pool

COLS = "seat_id, user_id, status, claimed_at, expires_at"
FREE = "(user_id IS NULL OR user_id = %(u)s OR expires_at <= clock_timestamp())"
SQL = {
    "reserve": f"""UPDATE seats SET claimed_at = CASE WHEN user_id = %(u)s AND status = 'reserved' THEN claimed_at ELSE clock_timestamp() END,
        user_id = %(u)s, status = 'reserved', expires_at = NULL WHERE seat_id = %(s)s AND {FREE} RETURNING {COLS}""",
    "hold": f"""UPDATE seats SET claimed_at = clock_timestamp(),
        expires_at = CASE WHEN user_id = %(u)s AND status = 'reserved' THEN NULL ELSE clock_timestamp() + %(ttl)s * interval '1 millisecond' END,
        status = CASE WHEN user_id = %(u)s AND status = 'reserved' THEN 'reserved' ELSE 'held' END, user_id = %(u)s
        WHERE seat_id = %(s)s AND {FREE} RETURNING {COLS}""",
    "confirm": f"""UPDATE seats SET status = 'reserved', expires_at = NULL
        WHERE seat_id = %(s)s AND user_id = %(u)s AND (status = 'reserved' OR expires_at > clock_timestamp()) RETURNING {COLS}""",
    "release": f"""UPDATE seats SET user_id = NULL, status = NULL, claimed_at = NULL, expires_at = NULL
        WHERE seat_id = %(s)s AND {FREE} RETURNING seat_id""",
    "read": f"""SELECT {COLS}, user_id IS NOT NULL AND (status = 'reserved' OR expires_at > clock_timestamp()) AS live
        FROM seats WHERE seat_id = %(s)s""",
    "exists": "SELECT 1 FROM seats WHERE seat_id = %(s)s",
}
STATUS = {"SEAT_TAKEN": 409, "SEAT_NOT_FOUND": 404, "HOLD_EXPIRED": 410}


class Refusal(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


def connect():
    return psycopg2.connect(os.environ["DATABASE_URL"], connect_timeout=4, options="-c statement_timeout=3000")


pool = None
pool_lock = threading.BoundedSemaphore(10)


def run(sql, params):
    """One autocommitted statement on a pooled connection; a broken connection is discarded, not reused."""
    with pool_lock:
        conn = pool.getconn()
        broken = False
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchone() if cur.description else None
        except (psycopg2.OperationalError, psycopg2.InterfaceError):
            broken = True
            raise
        finally:
            pool.putconn(conn, close=broken or conn.closed != 0)


def transient(err):
    return isinstance(err, (psycopg2.OperationalError, psycopg2.InterfaceError)) or getattr(err, "pgcode", None) in ("40001", "40P01", "57014", "57P01")


def with_retry(fn):
    for attempt in range(25):
        try:
            return fn()
        except Refusal:
            raise
        except Exception as err:  # noqa: BLE001 — classified below
            if not transient(err) or attempt == 24:
                raise
            time.sleep(random.random() * min(0.25, 0.01 * 2**attempt))


def claim(row):
    seat, user, status, claimed, expires = row[:5]
    out = {"seatId": seat, "userId": user, "timestamp": claimed.isoformat() if claimed else None}
    if status == "held":
        out.update(hold=True, expiresAt=expires.isoformat())
    return out


def log(message, **fields):
    """Structured log: one JSON object per line on stdout (HTTP mode's ctx.log; the harness collects it)."""
    sys.stdout.write(json.dumps({"time": time.time(), "instance": os.environ.get("GAUNTLET_INSTANCE"), "message": message, **fields}) + "\n")
    sys.stdout.flush()


def change(kind, params, refusal):
    row = run(SQL[kind], params)
    if row:
        return row
    raise Refusal(refusal if run(SQL["exists"], params) else "SEAT_NOT_FOUND")


def read(seat):
    row = run(SQL["read"], {"s": seat})
    if not row:
        raise Refusal("SEAT_NOT_FOUND")
    return claim(row) if row[5] else None


ROUTES = [
    ("POST", re.compile(r"^/seats/([^/]+)/reservations$"), lambda s, b: claim(change("reserve", {"s": s, "u": b.get("userId")}, "SEAT_TAKEN"))),
    ("POST", re.compile(r"^/seats/([^/]+)/holds$"), lambda s, b: claim(change("hold", {"s": s, "u": b.get("userId"), "ttl": b.get("ttlMs")}, "SEAT_TAKEN"))),
    ("POST", re.compile(r"^/seats/([^/]+)/holds/confirm$"), lambda s, b: claim(change("confirm", {"s": s, "u": b.get("userId")}, "HOLD_EXPIRED"))),
    ("DELETE", re.compile(r"^/seats/([^/]+)/reservation$"), lambda s, b: change("release", {"s": s, "u": b.get("userId")}, "SEAT_TAKEN") and None),
    ("GET", re.compile(r"^/seats/([^/]+)/reservation$"), lambda s, b: read(s)),
]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet: the harness records every call itself
        pass

    def handle_any(self):
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        from urllib.parse import unquote, urlsplit

        path = urlsplit(self.path).path
        for method, pattern, handler in ROUTES:
            m = pattern.match(path) if method == self.command else None
            if not m:
                continue
            seat = unquote(m.group(1))
            try:
                body = json.loads(raw) if raw else {}
                out = with_retry(lambda: handler(seat, body))
                if method != "GET":
                    log("granted", route=pattern.pattern, seatId=seat, userId=body.get("userId"))
                return self.send(200, out)
            except Refusal as r:
                log("refused", route=pattern.pattern, seatId=seat, code=r.code)
                return self.send(STATUS[r.code], {"code": r.code})
            except Exception as err:  # noqa: BLE001 — anything else is indeterminate for the caller
                log("failed", route=pattern.pattern, seatId=seat, error=str(err))
                return self.send(500, {"error": str(err)})
        self.send(404, {"code": "NO_SUCH_ROUTE"})

    def send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = handle_any


class Server(ThreadingHTTPServer):
    # The listen backlog is fixed when the socket is bound: the default (5) would drop a burst's connections.
    request_queue_size = 1024
    daemon_threads = True


def setup():
    with open(os.environ["GAUNTLET_SCENARIO"]) as f:
        seats = json.load(f).get("seats", [])
    conn = connect()
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("""CREATE TABLE IF NOT EXISTS seats (seat_id text PRIMARY KEY, user_id text,
            status text CHECK (status IN ('held', 'reserved')), claimed_at timestamptz, expires_at timestamptz)""")
        cur.execute("INSERT INTO seats (seat_id) SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING", (seats,))
    conn.close()


def serve():
    global pool
    # minconn = maxconn: psycopg2's pool closes every returned connection beyond minconn, so minconn 0 would open
    # (and fork a PostgreSQL backend for) a new connection per statement: correct, and ten times slower.
    pool = psycopg2.pool.ThreadedConnectionPool(10, 10, os.environ["DATABASE_URL"], connect_timeout=4, options="-c statement_timeout=3000")
    server = Server(("127.0.0.1", int(os.environ["PORT"])), Handler)
    server.serve_forever()


if __name__ == "__main__":
    setup() if sys.argv[1:] == ["setup"] else serve()
