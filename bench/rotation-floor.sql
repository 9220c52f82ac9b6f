-- Benchmark 1's floor: the SQL of one scheduled rotation, statement for statement as Rotary
-- sends it (src/store/rotations.rs, src/rotation/engine.rs, src/store/secrets.rs,
-- src/webhooks.rs, src/audit.rs), run by pgbench with no Rotary and no Salesforce: how many
-- rotations per second Postgres alone completes on this machine. Rotary cannot go faster.
-- scripts/bench-rotations.sh throughput runs it on the database the benchmark left
-- (`floor_ids` numbers its rotations), with one client per scheduler slot; each client
-- rotates only its own rotations, one at a time, so two runs never meet.
-- Not counted: the claim's candidate queries (Rotary shares one claim among ~5 runs).
\set r :client_id * :per_client + random(1, :per_client)
SELECT f.rotation_id AS rid, f.secret_a AS sa, f.secret_b AS sb, r.active_index AS ai, r.project_id AS pid, r.env_id AS eid, r.org_id AS oid FROM floor_ids f JOIN secret_rotations r ON r.id = f.rotation_id WHERE f.n = :r \gset
BEGIN;
INSERT INTO rotation_runs (id, rotation_id, trigger, lease_owner, lease_expires_at) VALUES (gen_random_uuid(), :rid, 'scheduled', 'floor', now() + make_interval(secs => 60)) ON CONFLICT (rotation_id) WHERE outcome = 'running' DO NOTHING RETURNING id AS run \gset
COMMIT;
-- journal: retired (before the staged POST), staged (journal and issued credential sealed in journal_ct, before the PATCH)
UPDATE rotation_runs SET step = 'retired', phase = 1, journal_ct = decode(repeat('5e', 96), 'hex'), note = coalesce(NULL, note), lease_expires_at = now() + make_interval(secs => 60), updated_at = now() WHERE id = :run AND fence = 1 AND outcome = 'running' RETURNING *;
UPDATE rotation_runs SET step = 'staged', phase = 3, journal_ct = decode(repeat('5f', 330), 'hex'), note = coalesce(NULL, note), lease_expires_at = now() + make_interval(secs => 60), updated_at = now() WHERE id = :run AND fence = 1 AND outcome = 'running' RETURNING *;
-- publish
SELECT r.*, coalesce(o.ids, '{}') AS owned_ids, coalesce(o.keys, '{}') AS owned_keys FROM secret_rotations r LEFT JOIN LATERAL (SELECT array_agg(s.id ORDER BY s.key) AS ids, array_agg(s.key ORDER BY s.key) AS keys FROM secrets s WHERE s.rotation_id = r.id) o ON true WHERE r.id = :rid;
BEGIN;
UPDATE rotation_runs SET step = 'published', outcome = 'succeeded', error = NULL, phase = 6, finished_at = now(), updated_at = now(), lease_expires_at = NULL WHERE id = :run AND fence = 1 AND outcome = 'running';
WITH new AS (SELECT * FROM unnest(ARRAY[:sa, :sb]::uuid[], ARRAY[NULL, NULL]::text[], ARRAY[decode(repeat('5b', 114), 'hex'), decode(repeat('5c', 93), 'hex')]) AS n(id, key, value_ct)), row AS (UPDATE secrets s SET key = coalesce(new.key, s.key), value_ct = coalesce(new.value_ct, s.value_ct), version = s.version + 1, updated_at = now() FROM new WHERE s.id = new.id RETURNING s.*) INSERT INTO secret_versions (id, secret_id, project_id, env_id, path, key, version, value_ct, comment_ct) SELECT gen_random_uuid(), id, project_id, env_id, path, key, version, value_ct, comment_ct FROM row;
UPDATE secret_rotations SET generated_credentials_ct = decode(repeat('5d', 430), 'hex'), active_index = 1 - :ai, lifecycle = 'active', rotation_status = 'success', last_rotation_attempted_at = now(), last_rotated_at = now(), last_rotation_job_id = :run, next_rotation_at = now() + interval '30 days', is_last_rotation_manual = false, last_rotation_message = NULL, updated_at = now() WHERE id = :rid AND active_index = :ai RETURNING EXISTS (SELECT 1 FROM webhooks w WHERE w.project_id = secret_rotations.project_id AND w.env_id = secret_rotations.env_id AND NOT w.is_disabled AND (secret_rotations.folder_path = w.secret_path OR w.secret_path = '/' OR starts_with(secret_rotations.folder_path, w.secret_path || '/')));
COMMIT;
INSERT INTO audit_logs (id, org_id, project_id, actor_type, actor_id, actor_name, event_type, outcome, metadata) VALUES (gen_random_uuid(), :oid, :pid, 'platform', NULL, NULL, 'SECRET_ROTATION_ROTATE_SECRETS', 'success', jsonb_build_object('jobId', :run::text, 'message', NULL));
