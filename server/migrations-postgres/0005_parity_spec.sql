-- Spec drift in parity runs: the same columns as server/migrations/0012_parity_spec.sql.
ALTER TABLE parity_runs ADD COLUMN new_spec BIGINT NOT NULL DEFAULT 0;
ALTER TABLE parity_baselines ADD COLUMN spec_json TEXT NOT NULL DEFAULT '[]';
