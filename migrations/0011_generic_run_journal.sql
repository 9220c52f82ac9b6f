-- A run's provider state is one sealed blob whatever the rotation type (AAD
-- rotation-run:{run_id}), so a new type adds no columns; `phase` is the ordinal of the last
-- completed phase (0 started, 1 retired, 2 prepared, 3 issued, 4 activated, 5 verified,
-- 6 published), so SQL can compare phases of every type. `step` stays the type's label of it.
-- Runs written before this (Salesforce's own columns, journal_ct NULL) are still read by the
-- Salesforce type and resumed; those columns go once no such run can be open.
ALTER TABLE rotation_runs
    ADD COLUMN journal_ct bytea,
    ADD COLUMN phase smallint NOT NULL DEFAULT 0;
UPDATE rotation_runs SET phase = CASE step
    WHEN 'started' THEN 0 WHEN 'retired' THEN 1 WHEN 'staged' THEN 3
    WHEN 'activated' THEN 4 WHEN 'published' THEN 6 ELSE 0 END;
COMMENT ON COLUMN rotation_runs.step IS 'the label of the last completed phase, as the rotation type names it';
