-- Schema bookkeeping for the console's own tables. Each concern adds its own numbered migration.
CREATE TABLE IF NOT EXISTS console_meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
INSERT OR IGNORE INTO console_meta (key, value) VALUES ('created_at', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
