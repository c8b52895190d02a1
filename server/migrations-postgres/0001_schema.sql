-- The console's records on PostgreSQL: the same tables and columns as the SQLite scripts in
-- server/migrations/ up to 0008, in one script. A later change to the schema gets a script in both
-- folders. Times are unix milliseconds (UTC) in BIGINT, like SQLite's INTEGER.

CREATE TABLE console_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO console_meta (key, value)
VALUES ('created_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
ON CONFLICT (key) DO NOTHING;

CREATE TABLE history (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    staff               TEXT   NOT NULL,
    at_ms               BIGINT NOT NULL,
    environment         TEXT   NOT NULL,
    method              TEXT   NOT NULL,
    path                TEXT   NOT NULL,
    endpoint_id         TEXT,
    status              BIGINT,
    duration_ms         DOUBLE PRECISION,
    error               TEXT,
    request_json        TEXT   NOT NULL,
    response_json       TEXT,
    compare_environment TEXT,
    compare_status      BIGINT,
    compare_counts      TEXT,
    compare_json        TEXT
);
CREATE INDEX history_by_staff ON history (staff, at_ms DESC);
CREATE INDEX history_by_staff_id ON history (staff, id);

CREATE TABLE saved_requests (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          TEXT   NOT NULL,
    collection    TEXT   NOT NULL,
    request_json  TEXT   NOT NULL,
    created_by    TEXT   NOT NULL,
    updated_by    TEXT   NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    UNIQUE (collection, name)
);

CREATE TABLE staff_preferences (
    staff            TEXT PRIMARY KEY,
    last_environment TEXT,
    last_endpoint    TEXT,
    updated_at_ms    BIGINT NOT NULL,
    theme            TEXT
);

CREATE TABLE compare_settings (
    staff         TEXT   NOT NULL,
    endpoint      TEXT   NOT NULL,
    options_json  TEXT   NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (staff, endpoint)
);

-- Sessions, when they are not in Redis.
CREATE TABLE tower_sessions (
    id          TEXT PRIMARY KEY,
    data        BYTEA  NOT NULL,
    expiry_date BIGINT NOT NULL -- unix seconds, UTC
);
CREATE INDEX tower_sessions_expiry ON tower_sessions (expiry_date);

CREATE TABLE staff_logins (
    login_id          TEXT PRIMARY KEY,
    staff             TEXT   NOT NULL,
    login_at_ms       BIGINT NOT NULL,
    last_seen_ms      BIGINT NOT NULL,
    ended_at_ms       BIGINT,
    end_reason        TEXT,
    source            TEXT   NOT NULL DEFAULT 'local', -- 'local' | 'oidc'
    role              TEXT,                            -- oidc only
    environment_roles TEXT                             -- oidc only: JSON [[env, role|null]]
);

CREATE TABLE demo_sessions (
    session_key   TEXT PRIMARY KEY,
    enabled_at_ms BIGINT NOT NULL
);

CREATE TABLE audit_log (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at_ms         BIGINT NOT NULL, -- unix milliseconds, UTC
    actor         TEXT   NOT NULL, -- staff name, or the name tried at a failed login
    event         TEXT   NOT NULL, -- login, login_failed, logout, session_expired, request, token_refresh, refused, reveal
    environment   TEXT,
    method        TEXT,
    path_template TEXT,
    path          TEXT,            -- concrete path, without query string
    status        BIGINT,          -- upstream HTTP status
    duration_ms   BIGINT,
    outcome       TEXT   NOT NULL, -- ok, failed, refused, error
    detail        TEXT,            -- short reason; never bodies, tokens or passwords
    address       TEXT,            -- client address
    session       TEXT             -- hash of the login id, to group one session's events
);
CREATE INDEX audit_log_at ON audit_log (at_ms);
CREATE INDEX audit_log_actor ON audit_log (actor, at_ms);

-- Append-only, whatever the client: UPDATE, DELETE and TRUNCATE are refused by the database.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
