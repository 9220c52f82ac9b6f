-- Mapped secret names are reserved in their folder: creating a rotation, and writing a secret
-- through the secrets API, look for rotations whose mapping holds a name. Without an index
-- that read every rotation of the folder (found by the 10,000-rotation benchmark, where
-- creation slowed as the folder filled).
CREATE INDEX secret_rotations_mapped_names ON secret_rotations
    USING gin ((jsonb_path_query_array(secrets_mapping, '$.*')));
