-- Request builder: history of runs (per staff member), saved requests (shared), last used choices.
-- No column ever holds a token, a secret or an Authorization header: requests are stored as the
-- browser described them, and the console refuses Authorization from the browser.
CREATE TABLE IF NOT EXISTS history (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    staff         TEXT    NOT NULL,
    at_ms         INTEGER NOT NULL,
    environment   TEXT    NOT NULL,
    method        TEXT    NOT NULL,
    path          TEXT    NOT NULL,
    endpoint_id   TEXT,
    status        INTEGER,
    duration_ms   REAL,
    error         TEXT,
    request_json  TEXT    NOT NULL,
    response_json TEXT
);
CREATE INDEX IF NOT EXISTS history_by_staff ON history (staff, at_ms DESC);

CREATE TABLE IF NOT EXISTS saved_requests (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL,
    collection    TEXT    NOT NULL,
    request_json  TEXT    NOT NULL,
    created_by    TEXT    NOT NULL,
    updated_by    TEXT    NOT NULL,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    UNIQUE (collection, name)
);

CREATE TABLE IF NOT EXISTS staff_preferences (
    staff            TEXT PRIMARY KEY NOT NULL,
    last_environment TEXT,
    last_endpoint    TEXT,
    updated_at_ms    INTEGER NOT NULL
);
