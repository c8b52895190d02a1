-- Spec drift in parity runs: a run's new spec changes as a summary column (the changes themselves
-- are in run_json), and the spec changes a baseline accepts.
ALTER TABLE parity_runs ADD COLUMN new_spec INTEGER NOT NULL DEFAULT 0;
ALTER TABLE parity_baselines ADD COLUMN spec_json TEXT NOT NULL DEFAULT '[]';
