-- The `secrets.rotation-upcoming` webhook event is sent once per scheduled time: this column
-- remembers the nextRotationAt a notice went out for, so replicas never send it twice and a
-- rescheduled rotation gets a fresh notice.
ALTER TABLE secret_rotations ADD COLUMN upcoming_notice_for timestamptz;
