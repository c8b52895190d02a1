-- A saved suite's schedule, set on the Parity page: every interval_secs, each start moved by a random
-- 0..=jitter_secs; both empty for a suite run only on demand.
ALTER TABLE parity_suites ADD COLUMN interval_secs INTEGER;
ALTER TABLE parity_suites ADD COLUMN jitter_secs INTEGER;
