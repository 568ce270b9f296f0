"""Once per scenario: create the table and every user of the scenario (plan, 'active', requestId 'initial')."""
import json
import os

import psycopg2
from psycopg2.extras import execute_values

SCHEMA = """
CREATE TABLE IF NOT EXISTS subscriptions (
    user_id    text   PRIMARY KEY,
    plan       text   NOT NULL CHECK (plan IN ('free', 'starter', 'pro', 'team')),
    status     text   NOT NULL CHECK (status IN ('active', 'cancelled')),
    request_id text   NOT NULL,
    version    bigint NOT NULL
)
"""


def main():
    with open(os.environ["GAUNTLET_SCENARIO"]) as f:
        scenario = json.load(f)
    conn = psycopg2.connect(os.environ["DATABASE_URL"], connect_timeout=10)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(SCHEMA)
            rows = [(u["userId"], u["plan"]) for u in scenario.get("users", [])]
            if rows:
                execute_values(
                    cur,
                    "INSERT INTO subscriptions (user_id, plan, status, request_id, version) VALUES %s "
                    "ON CONFLICT (user_id) DO NOTHING",
                    rows,
                    template="(%s, %s, 'active', 'initial', 1)",
                )
    finally:
        conn.close()
    print(json.dumps({"msg": "setup done", "users": len(scenario.get("users", []))}), flush=True)


if __name__ == "__main__":
    main()
