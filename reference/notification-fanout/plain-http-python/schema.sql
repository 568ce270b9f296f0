-- notification-fanout schema (PostgreSQL) of the plain HTTP-mode reference: created by setup.py once per scenario.

CREATE TABLE IF NOT EXISTS recipients (
    user_id     text PRIMARY KEY,
    email       text NOT NULL,
    phone       text NOT NULL,
    push_token  text NOT NULL,
    preferences jsonb NOT NULL,          -- {"created": ["email", ...], ...}
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS settings (
    name  text PRIMARY KEY,
    value jsonb NOT NULL
);

-- One row per accepted event: makes publish idempotent even for events with no deliveries.
CREATE TABLE IF NOT EXISTS events (
    event_id    text PRIMARY KEY,
    kind        text NOT NULL,
    user_id     text NOT NULL,
    occurred_at text,
    accepted_at timestamptz NOT NULL DEFAULT now()
);

-- The outbox: one row per (event, channel) delivery. next_attempt_at doubles as the claim lease.
CREATE TABLE IF NOT EXISTS deliveries (
    id               bigserial PRIMARY KEY,
    event_id         text NOT NULL REFERENCES events (event_id),
    channel          text NOT NULL CHECK (channel IN ('email', 'sms', 'push')),
    user_id          text NOT NULL,
    kind             text NOT NULL,
    to_addr          text NOT NULL,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts         integer NOT NULL DEFAULT 0,        -- failed attempts (429 / 409 not counted)
    first_failed_at  timestamptz,                        -- start of the first failed attempt
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    claim_token      uuid,
    reason           text,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    UNIQUE (event_id, channel)
);
CREATE INDEX IF NOT EXISTS deliveries_due_idx ON deliveries (channel, next_attempt_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS deliveries_dead_idx ON deliveries (id) WHERE status = 'dead';

-- SMS slots taken per user, for the per-user limit across instances.
CREATE TABLE IF NOT EXISTS sms_slots (
    delivery_id bigint PRIMARY KEY REFERENCES deliveries (id),
    user_id     text NOT NULL,
    taken_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS sms_slots_user_idx ON sms_slots (user_id, taken_at);
