-- Parity watch: suites saved from the Compare page, each suite's baseline (the differences accepted
-- as known) and its kept runs (pruned to the newest `parity.runs_kept` per suite).
CREATE TABLE IF NOT EXISTS parity_suites (
    name          TEXT    PRIMARY KEY,
    compares_json TEXT    NOT NULL,
    updated_by    TEXT    NOT NULL,
    updated_at_ms INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS parity_baselines (
    suite          TEXT    PRIMARY KEY,
    run_id         INTEGER NOT NULL,
    items_json     TEXT    NOT NULL,
    accepted_by    TEXT    NOT NULL,
    accepted_at_ms INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS parity_runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    suite         TEXT    NOT NULL,
    started_by    TEXT    NOT NULL,
    started_at_ms INTEGER NOT NULL,
    duration_ms   INTEGER NOT NULL,
    new_shape     INTEGER NOT NULL,
    new_value     INTEGER NOT NULL,
    known         INTEGER NOT NULL,
    failed_sides  INTEGER NOT NULL,
    run_json      TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS parity_runs_by_suite ON parity_runs (suite, id);
