-- App connections: how Rotary reaches a provider (Salesforce first). The credentials live only
-- as AES-256-GCM ciphertext: under the project's data key for project connections, under the
-- root key for organization connections.
CREATE TABLE app_connections (
    id              uuid PRIMARY KEY,
    org_id          uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    project_id      uuid REFERENCES projects(id) ON DELETE CASCADE,
    app             text NOT NULL,
    method          text NOT NULL,
    name            text NOT NULL,
    description     text,
    version         integer NOT NULL DEFAULT 1,
    -- instanceUrl and other non-secret parts, returned by the API
    public_config   jsonb NOT NULL,
    credentials_ct  bytea NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX app_connections_name ON app_connections (org_id, coalesce(project_id, '00000000-0000-0000-0000-000000000000'::uuid), name);
