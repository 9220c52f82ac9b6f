-- Secret rotations and their runs. A run is the journal of one attempt: every provider side
-- effect is recorded here before the next one happens, so a crash at any point can be rolled
-- forward (or cleanly back) from the last durable step.

CREATE TABLE secret_rotations (
    id                          uuid PRIMARY KEY,
    org_id                      uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    project_id                  uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    env_id                      uuid NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    folder_path                 text NOT NULL,
    -- the folder's id, or the environment's id for its root folder
    folder_id                   uuid NOT NULL,
    type                        text NOT NULL,
    name                        text NOT NULL,
    description                 text,
    connection_id               uuid NOT NULL REFERENCES app_connections(id),
    parameters                  jsonb NOT NULL,
    secrets_mapping             jsonb NOT NULL,
    is_auto_rotation_enabled    boolean NOT NULL,
    rotation_interval           integer NOT NULL,
    rotate_at_hours             integer NOT NULL,
    rotate_at_minutes           integer NOT NULL,
    active_index                integer NOT NULL DEFAULT 0,
    -- sealed JSON array of up to two credential slots
    generated_credentials_ct    bytea,
    -- creating: first credential not yet published (invisible to the API); active
    lifecycle                   text NOT NULL DEFAULT 'creating',
    rotation_status             text NOT NULL DEFAULT 'success',
    last_rotation_attempted_at  timestamptz NOT NULL DEFAULT now(),
    last_rotated_at             timestamptz NOT NULL DEFAULT now(),
    last_rotation_job_id        text,
    next_rotation_at            timestamptz,
    is_last_rotation_manual     boolean NOT NULL DEFAULT true,
    last_rotation_message       text,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (env_id, folder_path, name)
);
CREATE INDEX secret_rotations_project ON secret_rotations (project_id);
CREATE INDEX secret_rotations_due ON secret_rotations (next_rotation_at)
    WHERE is_auto_rotation_enabled AND lifecycle = 'active';

CREATE TABLE rotation_runs (
    id                 uuid PRIMARY KEY,
    rotation_id        uuid NOT NULL REFERENCES secret_rotations(id) ON DELETE CASCADE,
    -- create | manual | scheduled
    trigger            text NOT NULL,
    -- started | retired | staged | activated | published
    step               text NOT NULL DEFAULT 'started',
    -- running | succeeded | failed
    outcome            text NOT NULL DEFAULT 'running',
    error              text,
    note               text,
    -- lease: who works on the run until when; fence grows with every takeover
    lease_owner        text,
    lease_expires_at   timestamptz,
    fence              bigint NOT NULL DEFAULT 1,
    attempts           integer NOT NULL DEFAULT 1,
    -- provider state journaled before moving on
    consumer_id        text,
    staged_id          text,
    staged_key         text,
    staged_secret_ct   bytea,
    staged_url         text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    finished_at        timestamptz
);
-- At most one unfinished run per rotation.
CREATE UNIQUE INDEX rotation_runs_one_open ON rotation_runs (rotation_id) WHERE outcome = 'running';
CREATE INDEX rotation_runs_rotation ON rotation_runs (rotation_id, created_at DESC);

ALTER TABLE secrets
    ADD CONSTRAINT secrets_rotation_fk FOREIGN KEY (rotation_id) REFERENCES secret_rotations(id) ON DELETE SET NULL;
