-- A saved suite's schedule: the same columns as server/migrations/0011_parity_schedule.sql.
ALTER TABLE parity_suites ADD COLUMN interval_secs BIGINT;
ALTER TABLE parity_suites ADD COLUMN jitter_secs BIGINT;
