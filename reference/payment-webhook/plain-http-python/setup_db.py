"""Creates the schema once per scenario (gauntlet's `setup` command)."""
import json
import os
import sys
import time

import psycopg2


def main() -> int:
    dsn = os.environ["DATABASE_URL"]
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "schema.sql"), encoding="utf-8") as f:
        ddl = f.read()
    last = None
    for attempt in range(10):
        try:
            conn = psycopg2.connect(dsn, connect_timeout=5)
            try:
                with conn, conn.cursor() as cur:
                    cur.execute(ddl)
            finally:
                conn.close()
            print(json.dumps({"msg": "schema ready"}), flush=True)
            return 0
        except psycopg2.Error as e:
            last = e
            print(json.dumps({"msg": "setup failed, retrying", "attempt": attempt + 1, "error": str(e).strip()}), flush=True)
            time.sleep(min(2.0, 0.1 * 2 ** attempt))
    print(json.dumps({"msg": "setup gave up", "error": str(last).strip()}), flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
