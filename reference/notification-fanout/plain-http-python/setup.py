"""notification-fanout, HTTP mode (plain reference, see server.py): run once per scenario (gauntlet.json "setup"),
create the schema (schema.sql) and load the scenario's recipients and limits."""
import json
import os
import sys

import psycopg2
from psycopg2.extras import Json, execute_values


def main() -> None:
    with open(os.environ["GAUNTLET_SCENARIO"], encoding="utf-8") as f:
        scenario = json.load(f)
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "schema.sql"), encoding="utf-8") as f:
        ddl = f.read()

    conn = psycopg2.connect(os.environ["DATABASE_URL"])
    try:
        with conn, conn.cursor() as cur:
            cur.execute(ddl)
            rows = [
                (u["userId"], u.get("email", ""), u.get("phone", ""), u.get("pushToken", ""),
                 Json(u.get("preferences") or {}))
                for u in scenario.get("users", [])
            ]
            if rows:
                execute_values(
                    cur,
                    """INSERT INTO recipients (user_id, email, phone, push_token, preferences) VALUES %s
                       ON CONFLICT (user_id) DO UPDATE SET email = EXCLUDED.email, phone = EXCLUDED.phone,
                         push_token = EXCLUDED.push_token, preferences = EXCLUDED.preferences""",
                    rows,
                )
            cur.execute(
                """INSERT INTO settings (name, value) VALUES ('limits', %s)
                   ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value""",
                (Json(scenario.get("limits") or {}),),
            )
    finally:
        conn.close()
    print(json.dumps({"msg": "setup done", "users": len(scenario.get("users", []))}), flush=True)


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # make the failure visible, then fail the setup
        print(json.dumps({"msg": "setup failed", "error": repr(exc)}), file=sys.stderr, flush=True)
        raise
