-- A rotation may reserve more than one target: a PostgreSQL rotation rotates two users, and a
-- user rotated by two rotations gets its password changed by both, so one rotation's
-- published password stops working (and two ALTER ROLEs of one role at once fail with
-- "tuple concurrently updated"). One row per reserved target, unique per organization and
-- type, gone with the rotation. `secret_rotations.target` keeps the first target, for
-- replicas of the previous version during a rolling upgrade.
CREATE TABLE rotation_targets (
    org_id      uuid NOT NULL,
    type        text NOT NULL,
    target      text NOT NULL,
    rotation_id uuid NOT NULL REFERENCES secret_rotations (id) ON DELETE CASCADE,
    PRIMARY KEY (org_id, type, target)
);
CREATE INDEX rotation_targets_rotation ON rotation_targets (rotation_id);

INSERT INTO rotation_targets (org_id, type, target, rotation_id)
SELECT org_id, type, target, id FROM secret_rotations WHERE target IS NOT NULL;
