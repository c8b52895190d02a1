-- Compare: a history row may be a compare of two environments (the row's own columns describe the
-- left side), and each staff member's diff options are remembered per endpoint.
ALTER TABLE history ADD COLUMN compare_environment TEXT;
ALTER TABLE history ADD COLUMN compare_status INTEGER;
ALTER TABLE history ADD COLUMN compare_counts TEXT;
ALTER TABLE history ADD COLUMN compare_json TEXT;

CREATE TABLE IF NOT EXISTS compare_settings (
    staff         TEXT    NOT NULL,
    endpoint      TEXT    NOT NULL,
    options_json  TEXT    NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (staff, endpoint)
);
