-- Played time is booked while a space is live, so it survives a restart:
-- booked_until says up to when a live space's time is in usage already.
ALTER TABLE spaces ADD COLUMN booked_until timestamptz;
