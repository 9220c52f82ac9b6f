-- Project webhooks and their outbox. An event is written to the outbox in the same
-- transaction as the change it reports, and delivered (with retries) by the scheduler loop of
-- any replica, so a restart loses nothing.
CREATE TABLE webhooks (
    id                      uuid PRIMARY KEY,
    project_id              uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    env_id                  uuid NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    secret_path             text NOT NULL,
    url                     text NOT NULL,
    -- sealed signing key; NULL when the webhook is not signed
    secret_key_ct           bytea,
    is_disabled             boolean NOT NULL DEFAULT false,
    last_status             text,
    last_run_error_message  text,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_project ON webhooks (project_id);

CREATE TABLE webhook_deliveries (
    id               uuid PRIMARY KEY,
    webhook_id       uuid NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event            text NOT NULL,
    payload          jsonb NOT NULL,
    -- pending | delivered | failed
    status           text NOT NULL DEFAULT 'pending',
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
