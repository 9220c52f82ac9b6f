-- Found by the rotation benchmark (benches/rotations.rs): publishing looked up a rotation's
-- secrets by owner with a sequential scan of all secrets.
CREATE INDEX secrets_rotation ON secrets (rotation_id) WHERE rotation_id IS NOT NULL;
