-- Servers cache tokens, memberships, projects, environments, app connections, secrets and
-- rotations in memory (src/cache.rs). Any change to those tables notifies every server, in the
-- writing transaction (delivered at commit), with the table's name; each clears its cache.
-- Inserts need no notice, a missing row is never cached, except for secrets (folder listings
-- are).
CREATE FUNCTION rotary_notify_cache() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('rotary_cache', TG_TABLE_NAME);
    RETURN NULL;
END
$$;

CREATE TRIGGER access_tokens_cache AFTER UPDATE OR DELETE OR TRUNCATE ON access_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION rotary_notify_cache();
CREATE TRIGGER identities_cache AFTER UPDATE OR DELETE OR TRUNCATE ON identities
    FOR EACH STATEMENT EXECUTE FUNCTION rotary_notify_cache();
CREATE TRIGGER organizations_cache AFTER UPDATE OR DELETE OR TRUNCATE ON organizations
    FOR EACH STATEMENT EXECUTE FUNCTION rotary_notify_cache();
CREATE TRIGGER projects_cache AFTER UPDATE OR DELETE OR TRUNCATE ON projects
    FOR EACH STATEMENT EXECUTE FUNCTION rotary_notify_cache();
CREATE TRIGGER project_memberships_cache AFTER UPDATE OR DELETE OR TRUNCATE ON project_memberships
    FOR EACH STATEMENT EXECUTE FUNCTION rotary_notify_cache();
CREATE TRIGGER environments_cache AFTER UPDATE OR DELETE OR TRUNCATE ON environments
    FOR EACH STATEMENT EXECUTE FUNCTION rotary_notify_cache();
CREATE TRIGGER app_connections_cache AFTER UPDATE OR DELETE OR TRUNCATE ON app_connections
    FOR EACH STATEMENT EXECUTE FUNCTION rotary_notify_cache();
CREATE TRIGGER secrets_cache AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON secrets
    FOR EACH STATEMENT EXECUTE FUNCTION rotary_notify_cache();
CREATE TRIGGER secret_rotations_cache AFTER UPDATE OR DELETE OR TRUNCATE ON secret_rotations
    FOR EACH STATEMENT EXECUTE FUNCTION rotary_notify_cache();
