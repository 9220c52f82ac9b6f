-- What a rotation rotates (for Salesforce: the org's instance and the External Client App),
-- reserved: two rotations of one target retire each other's credentials and the first one's
-- consumers fail while it says `success` (issue 15, D4). Unique per organization while the
-- rotation exists (deleting the row frees it), creating ones included.
ALTER TABLE secret_rotations ADD COLUMN target text;

-- Existing rotations: the oldest of each target keeps it; later duplicates stay unreserved
-- (they keep working as before, and the next edit of their parameters is checked).
WITH targets AS (
    SELECT r.id, lower(regexp_replace(c.public_config->>'instanceUrl', '^[a-z]+://', '')) || '/' || (r.parameters->>'appId') AS target,
           row_number() OVER (PARTITION BY r.org_id, r.type,
               lower(regexp_replace(c.public_config->>'instanceUrl', '^[a-z]+://', '')) || '/' || (r.parameters->>'appId')
               ORDER BY r.created_at, r.id) AS n
    FROM secret_rotations r JOIN app_connections c ON c.id = r.connection_id
    WHERE r.type = 'salesforce-oauth-credentials'
)
UPDATE secret_rotations r SET target = t.target FROM targets t WHERE t.id = r.id AND t.n = 1 AND t.target IS NOT NULL;

CREATE UNIQUE INDEX secret_rotations_target ON secret_rotations (org_id, type, target) WHERE target IS NOT NULL;

-- The API now bounds rotationInterval (36500 days); older rows above it could not be scheduled.
UPDATE secret_rotations SET rotation_interval = 36500 WHERE rotation_interval > 36500;
