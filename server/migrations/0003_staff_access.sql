-- Staff access: tower-sessions records, the console's own login records, and the audit trail.

-- One row per browser session, written by `auth::store::SqliteSessionStore` (tower-sessions).
-- `data` is JSON; it only ever holds the id of a `staff_logins` row.
CREATE TABLE tower_sessions (
    id TEXT PRIMARY KEY NOT NULL,
    data BLOB NOT NULL,
    expiry_date INTEGER NOT NULL -- unix seconds, UTC
);
CREATE INDEX tower_sessions_expiry ON tower_sessions (expiry_date);

-- One row per successful login. The session record points here; ending the row (logout, timeout)
-- ends the session even if a request that was in flight re-saves the tower-sessions record.
CREATE TABLE staff_logins (
    login_id TEXT PRIMARY KEY NOT NULL,
    staff TEXT NOT NULL,
    login_at_ms INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL,
    ended_at_ms INTEGER,
    end_reason TEXT
);

-- Append-only: the triggers below refuse UPDATE and DELETE.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms INTEGER NOT NULL,          -- unix milliseconds, UTC
    actor TEXT NOT NULL,             -- staff name, or the name tried at a failed login
    event TEXT NOT NULL,             -- login, login_failed, logout, session_expired, request, token_refresh, refused, reveal
    environment TEXT,
    method TEXT,
    path_template TEXT,
    path TEXT,                       -- concrete path, without query string
    status INTEGER,                  -- upstream HTTP status
    duration_ms INTEGER,
    outcome TEXT NOT NULL,           -- ok, failed, refused, error
    detail TEXT,                     -- short reason; never bodies, tokens or passwords
    address TEXT,                    -- client address
    session TEXT                     -- hash of the login id, to group one session's events
);
CREATE INDEX audit_log_at ON audit_log (at_ms);
CREATE INDEX audit_log_actor ON audit_log (actor, at_ms);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
