-- Every valid event, recorded once (its idempotencyKey is unique per event).
CREATE TABLE IF NOT EXISTS processed_events (
    idempotency_key text PRIMARY KEY,
    payment_id      text NOT NULL,
    status          text NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now()
);

-- Exactly one subscription per payment.
CREATE TABLE IF NOT EXISTS subscriptions (
    id          text PRIMARY KEY,
    payment_id  text NOT NULL UNIQUE,
    user_id     text NOT NULL,
    status      text NOT NULL CHECK (status IN ('active', 'pending', 'failed')),
    amount      numeric NOT NULL CHECK (amount >= 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Transactional outbox: one confirmation per payment whose subscription became active.
CREATE TABLE IF NOT EXISTS notification_outbox (
    payment_id       text PRIMARY KEY REFERENCES subscriptions (payment_id),
    user_id          text NOT NULL,
    idempotency_key  text NOT NULL UNIQUE,
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    locked_until     timestamptz,
    last_error       text,
    sent_at          timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS notification_outbox_due
    ON notification_outbox (next_attempt_at) WHERE sent_at IS NULL;

-- Signed deliveries whose body is not a valid PaymentWebhook (poison), once per distinct body.
CREATE TABLE IF NOT EXISTS dead_letters (
    body_sha256      text PRIMARY KEY,
    idempotency_key  text,
    reason           text NOT NULL,
    raw_body         text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);
