-- Parity watch: the same tables as server/migrations/0009_parity.sql.
CREATE TABLE parity_suites (
    name          TEXT   PRIMARY KEY,
    compares_json TEXT   NOT NULL,
    updated_by    TEXT   NOT NULL,
    updated_at_ms BIGINT NOT NULL
);

CREATE TABLE parity_baselines (
    suite          TEXT   PRIMARY KEY,
    run_id         BIGINT NOT NULL,
    items_json     TEXT   NOT NULL,
    accepted_by    TEXT   NOT NULL,
    accepted_at_ms BIGINT NOT NULL
);

CREATE TABLE parity_runs (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    suite         TEXT   NOT NULL,
    started_by    TEXT   NOT NULL,
    started_at_ms BIGINT NOT NULL,
    duration_ms   BIGINT NOT NULL,
    new_shape     BIGINT NOT NULL,
    new_value     BIGINT NOT NULL,
    known         BIGINT NOT NULL,
    failed_sides  BIGINT NOT NULL,
    run_json      TEXT   NOT NULL
);
CREATE INDEX parity_runs_by_suite ON parity_runs (suite, id);
