-- Who did what to which rotation, and how it ended. Metadata never holds secret values.
CREATE TABLE audit_logs (
    id          uuid PRIMARY KEY,
    org_id      uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    project_id  uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    -- identity | platform
    actor_type  text NOT NULL,
    actor_id    uuid,
    actor_name  text,
    event_type  text NOT NULL,
    outcome     text NOT NULL,
    metadata    jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_logs_project_time ON audit_logs (project_id, created_at DESC, id);
