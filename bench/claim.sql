-- Benchmark 5: the cost of one scheduler claim with many rotations stored.
-- psql -v rows=1000000 -v due=1000 -f bench/claim.sql on a database `rotary migrate` prepared.
-- Fills secret_rotations with :rows rotations (:due of them due now, the rest spread over the
-- next 30 days, a tenth with auto-rotation off), 20 of them with a running run and each with a
-- finished one, then shows the plans and timings of the claim's statements
-- (src/store/rotations.rs, claim_due).
\set ON_ERROR_STOP on
SET session_replication_role = replica;  -- no foreign keys for the synthetic rows
INSERT INTO secret_rotations (id, org_id, project_id, env_id, folder_path, folder_id, type, name,
    connection_id, parameters, secrets_mapping, is_auto_rotation_enabled, rotation_interval,
    rotate_at_hours, rotate_at_minutes, lifecycle, next_rotation_at)
SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), '/', gen_random_uuid(),
    'salesforce-oauth-credentials', 'rotation-' || i,
    ('00000000-0000-0000-0000-' || lpad((i % 100)::text, 12, '0'))::uuid,
    '{}', '{}', i % 10 <> 0, 30, 0, 0, 'active',
    CASE WHEN i <= :due THEN now() - interval '1 second'
         ELSE now() + (i % 43200) * interval '1 minute' END
FROM generate_series(1, :rows) AS i;
INSERT INTO rotation_runs (id, rotation_id, trigger, lease_owner, lease_expires_at)
SELECT gen_random_uuid(), id, 'scheduled', 'bench', now() + interval '1 hour'
FROM secret_rotations WHERE next_rotation_at <= now() LIMIT 20;
-- History: one finished run per rotation, as a year of monthly rotations would leave twelve.
INSERT INTO rotation_runs (id, rotation_id, trigger, step, outcome, finished_at)
SELECT gen_random_uuid(), id, 'scheduled', 'published', 'succeeded', now() - interval '1 day'
FROM secret_rotations;
SET session_replication_role = origin;
VACUUM ANALYZE secret_rotations;
VACUUM ANALYZE rotation_runs;
SELECT count(*) AS rotations, count(*) FILTER (WHERE next_rotation_at <= now()) AS due FROM secret_rotations;

\echo '== open runs per connection =='
EXPLAIN (ANALYZE, BUFFERS, TIMING)
SELECT r.connection_id, count(*) FILTER (WHERE x.lease_owner IS NOT NULL AND x.lease_expires_at > now()), count(*)
FROM rotation_runs x JOIN secret_rotations r ON r.id = x.rotation_id
WHERE x.outcome = 'running' GROUP BY r.connection_id;

\echo '== candidates (no locks), 16 free slots and 20 open runs: LIMIT 148 =='
EXPLAIN (ANALYZE, BUFFERS, TIMING)
SELECT c.id, c.connection_id, extract(epoch FROM now() - c.next_rotation_at)::float8 FROM (
  SELECT r.id, r.connection_id, r.next_rotation_at FROM secret_rotations r
  WHERE r.lifecycle = 'active' AND r.is_auto_rotation_enabled ORDER BY r.next_rotation_at LIMIT 148) c
WHERE c.next_rotation_at <= now()
AND NOT EXISTS (SELECT 1 FROM rotation_runs x WHERE x.rotation_id = c.id AND x.outcome = 'running')
ORDER BY c.next_rotation_at;

\echo '== lock 16 picked rows =='
SELECT array_agg(id)::text AS picked FROM (SELECT id FROM secret_rotations
    WHERE is_auto_rotation_enabled AND lifecycle = 'active' AND next_rotation_at <= now()
    ORDER BY next_rotation_at OFFSET 20 LIMIT 16) p \gset
BEGIN;
EXPLAIN (ANALYZE, BUFFERS, TIMING)
SELECT r.id FROM secret_rotations r WHERE r.id = ANY(:'picked'::uuid[])
AND r.lifecycle = 'active' AND r.is_auto_rotation_enabled AND r.next_rotation_at <= now()
AND NOT EXISTS (SELECT 1 FROM rotation_runs x WHERE x.rotation_id = r.id AND x.outcome = 'running')
ORDER BY r.next_rotation_at FOR UPDATE OF r SKIP LOCKED;
ROLLBACK;

\echo '== is a secret name reserved by a rotation of the folder (secrets API, rotation create) =='
-- 20,000 rotations in one folder of one environment, as in the burst benchmark.
SET session_replication_role = replica;
UPDATE secret_rotations SET secrets_mapping = jsonb_build_object('consumerKey', 'KEY_' || name, 'consumerSecret', 'SECRET_' || name),
    env_id = '00000000-0000-0000-0000-0000000000e1'
WHERE id IN (SELECT id FROM secret_rotations ORDER BY name LIMIT 20000);
SET session_replication_role = origin;
VACUUM ANALYZE secret_rotations;
EXPLAIN (ANALYZE, TIMING)
SELECT r.name FROM secret_rotations r
WHERE jsonb_path_query_array(r.secrets_mapping, '$.*') ? 'KEY_rotation-1'
AND r.env_id = '00000000-0000-0000-0000-0000000000e1' AND r.folder_path = '/' LIMIT 1;
