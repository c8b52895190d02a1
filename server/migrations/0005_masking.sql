-- Demo mode per session: a row means demo mode is on for that session (or local-mode staff member).
-- The key is the hashed login id (never the session cookie), or `staff:<name>` in local mode.
CREATE TABLE demo_sessions (
    session_key TEXT PRIMARY KEY NOT NULL,
    enabled_at_ms INTEGER NOT NULL
);
