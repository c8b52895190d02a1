//! `[storage]`: the system of record — the SQLite file (the embedded default) or PostgreSQL shared
//! by every replica — chosen from `database_url`, and the validation of its address and password.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use url::Url;

use super::secrets::{read_secret, SecretSource};
use super::validate::EnvSource;

const DEFAULT_FILE: &str = "a55-console.db";

/// The file shape of `[storage]`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawStorage {
    /// The SQLite file (created on first start). Default `a55-console.db`; not with `database_url`.
    pub database_path: Option<PathBuf>,
    /// `sqlite:path/to/file.db`, or `postgres://user@host:5432/db` (PostgreSQL 15 or later, shared
    /// by every replica; `?sslmode=require` and the other libpq URL options are understood). A
    /// user name may be in the URL; the password never is.
    pub database_url: Option<String>,
    /// The PostgreSQL password: the name of an env var holding it, or a file holding only it.
    pub database_password_env: Option<String>,
    pub database_password_file: Option<PathBuf>,
    /// Connections each replica keeps to PostgreSQL at most.
    pub max_connections: u32,
    /// Connecting (and waiting for a free connection) gives up after this long; the request then
    /// answers 503.
    pub connect_timeout_ms: u64,
}

impl Default for RawStorage {
    fn default() -> Self {
        Self {
            database_path: None,
            database_url: None,
            database_password_env: None,
            database_password_file: None,
            max_connections: 10,
            connect_timeout_ms: 5_000,
        }
    }
}

/// A password wrongly written into `database_url` is refused by validation, and never shown here.
impl fmt::Debug for RawStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawStorage")
            .field("database_path", &self.database_path)
            .field("database_url", &self.database_url.as_deref().map(redacted))
            .field("database_password_env", &self.database_password_env)
            .field("database_password_file", &self.database_password_file)
            .field("max_connections", &self.max_connections)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .finish()
    }
}

fn redacted(value: &str) -> String {
    match Url::parse(value) {
        Ok(mut url) => {
            if url.password().is_some() {
                let _ = url.set_password(Some("[redacted]"));
            }
            url.to_string()
        }
        Err(_) if value.starts_with("sqlite:") => value.to_owned(),
        Err(_) => "[not a URL]".to_owned(),
    }
}

/// Where the console keeps its records.
#[derive(Clone)]
pub enum Storage {
    /// One SQLite file: one process.
    Sqlite { path: PathBuf },
    /// PostgreSQL, which several replicas share.
    Postgres(PostgresStorage),
}

#[derive(Clone)]
pub struct PostgresStorage {
    /// The server's address, without a password (validation refuses one).
    pub url: Url,
    pub password: Option<SecretString>,
    pub max_connections: u32,
    pub connect_timeout: Duration,
}

impl PostgresStorage {
    /// `host:port/database` only, for messages: never the user name or the password.
    pub fn display(&self) -> String {
        let host = self.url.host_str().unwrap_or("(no host)");
        let port = self.url.port().unwrap_or(5432);
        format!("postgres://{host}:{port}{}", self.url.path())
    }
}

impl Storage {
    /// What logs and `check-config` may show.
    pub fn display(&self) -> String {
        match self {
            Self::Sqlite { path } => format!("sqlite:{}", path.display()),
            Self::Postgres(pg) => pg.display(),
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }
}

impl fmt::Debug for Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite { path } => f.debug_struct("Sqlite").field("path", path).finish(),
            Self::Postgres(pg) => f
                .debug_struct("Postgres")
                .field("url", &pg.url.as_str())
                .field("password", &pg.password.as_ref().map(|_| "[redacted]"))
                .field("max_connections", &pg.max_connections)
                .field("connect_timeout", &pg.connect_timeout)
                .finish(),
        }
    }
}

/// The storage the console runs on; `None` with problems, which are added to `problems`.
pub(super) fn validate_storage(raw: &RawStorage, env: &dyn EnvSource, problems: &mut Vec<String>) -> Option<Storage> {
    let source = SecretSource {
        env_key: "storage.database_password_env",
        env_var: raw.database_password_env.as_deref(),
        file_key: "storage.database_password_file",
        file: raw.database_password_file.as_deref(),
    };
    let has_password = raw.database_password_env.is_some() || raw.database_password_file.is_some();
    let Some(value) = raw.database_url.as_deref().map(str::trim) else {
        if has_password {
            problems
                .push("storage.database_password_env/_file is set without a postgres:// storage.database_url".into());
        }
        let path = raw.database_path.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_FILE));
        if path.as_os_str().is_empty() {
            problems.push(format!("storage.database_path must name a file, e.g. {DEFAULT_FILE:?}"));
            return None;
        }
        return Some(Storage::Sqlite { path });
    };
    if raw.database_path.is_some() {
        problems.push("set only one of storage.database_path and storage.database_url".into());
        return None;
    }
    if let Some(file) = value.strip_prefix("sqlite:") {
        let file = file.strip_prefix("//").unwrap_or(file);
        if has_password {
            problems
                .push("storage.database_password_env/_file is for PostgreSQL; a SQLite file takes no password".into());
        }
        if file.is_empty() {
            problems
                .push(format!("storage.database_url = \"sqlite:\" must name a file, e.g. \"sqlite:{DEFAULT_FILE}\""));
            return None;
        }
        return Some(Storage::Sqlite { path: PathBuf::from(file) });
    }
    let url = postgres_url(value, problems);
    let password = read_secret(&source, env, problems);
    if !(1..=1_000).contains(&raw.max_connections) {
        problems.push(format!("storage.max_connections = {} must be between 1 and 1000", raw.max_connections));
    }
    if !(100..=120_000).contains(&raw.connect_timeout_ms) {
        problems.push(format!(
            "storage.connect_timeout_ms = {} must be between 100 and 120000 milliseconds",
            raw.connect_timeout_ms
        ));
    }
    Some(Storage::Postgres(PostgresStorage {
        url: url?,
        password,
        max_connections: raw.max_connections,
        connect_timeout: Duration::from_millis(raw.connect_timeout_ms),
    }))
}

/// `postgres://` or `postgresql://` with a host and no password. The value is never repeated in a
/// problem, since it may hold the very password that must not be there.
fn postgres_url(value: &str, problems: &mut Vec<String>) -> Option<Url> {
    let Ok(url) = Url::parse(value) else {
        problems.push(
            "storage.database_url is neither sqlite:<file> nor a URL such as postgres://console@db.internal:5432/console"
                .into(),
        );
        return None;
    };
    if url.password().is_some() {
        problems.push(
            "storage.database_url must not carry a password: set storage.database_password_env (the name of an env \
             var) or storage.database_password_file (a file holding only the password)"
                .into(),
        );
        return None;
    }
    if !matches!(url.scheme(), "postgres" | "postgresql") || url.host_str().is_none_or(str::is_empty) {
        problems.push(format!(
            "storage.database_url must be sqlite:<file> or postgres://user@host[:port]/database, not a {}: URL",
            url.scheme()
        ));
        return None;
    }
    if url.path().trim_matches('/').is_empty() {
        problems.push("storage.database_url names no database: postgres://user@host:5432/<database>".into());
        return None;
    }
    if url.query_pairs().any(|(key, _)| key == "password") {
        problems.push("storage.database_url must not carry a password, not even as ?password=".into());
        return None;
    }
    Some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Env(Vec<(&'static str, &'static str)>);
    impl EnvSource for Env {
        fn var(&self, name: &str) -> Option<String> {
            self.0.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
        }
        fn vars_with_prefix(&self, _prefix: &str) -> Vec<(String, String)> {
            Vec::new()
        }
    }

    fn check(raw: RawStorage) -> (Option<Storage>, Vec<String>) {
        let mut problems = Vec::new();
        let env = Env(vec![("DB_PASSWORD", "s3cret-db-pass")]);
        let storage = validate_storage(&raw, &env, &mut problems);
        (storage, problems)
    }

    #[test]
    fn without_a_url_the_console_keeps_its_sqlite_file_by_default() {
        let (storage, problems) = check(RawStorage::default());
        assert!(problems.is_empty(), "{problems:?}");
        assert!(
            matches!(storage, Some(Storage::Sqlite { path }) if path.as_path() == std::path::Path::new("a55-console.db"))
        );
    }

    #[test]
    fn a_sqlite_url_names_the_file_and_a_postgres_url_selects_postgres_with_its_password_from_the_env() {
        let (storage, problems) =
            check(RawStorage { database_url: Some("sqlite:data/console.db".into()), ..RawStorage::default() });
        assert!(problems.is_empty(), "{problems:?}");
        assert!(
            matches!(storage, Some(Storage::Sqlite { path }) if path.as_path() == std::path::Path::new("data/console.db"))
        );

        let (storage, problems) = check(RawStorage {
            database_url: Some("postgres://console@db.internal:5433/console?sslmode=require".into()),
            database_password_env: Some("DB_PASSWORD".into()),
            ..RawStorage::default()
        });
        assert!(problems.is_empty(), "{problems:?}");
        let Some(Storage::Postgres(pg)) = storage else { panic!("postgres expected") };
        assert_eq!(pg.display(), "postgres://db.internal:5433/console");
        assert!(pg.password.is_some());
        let shown = format!("{:?}", Storage::Postgres(pg));
        assert!(!shown.contains("s3cret-db-pass"), "{shown}");
    }

    #[test]
    fn a_password_in_the_url_is_refused_without_being_repeated_and_never_shown_by_debug() {
        for url in
            ["postgres://console:hunter2-pw@db:5432/console", "postgres://console@db:5432/console?password=hunter2-pw"]
        {
            let raw = RawStorage { database_url: Some(url.into()), ..RawStorage::default() };
            let (storage, problems) = check(raw);
            assert!(storage.is_none() || !problems.is_empty());
            assert!(problems.iter().any(|p| p.contains("must not carry a password")), "{problems:?}");
            assert!(problems.iter().all(|p| !p.contains("hunter2-pw")), "{problems:?}");
        }
        let raw = RawStorage {
            database_url: Some("postgres://console:hunter2-pw@db:5432/console".into()),
            ..RawStorage::default()
        };
        assert!(!format!("{raw:?}").contains("hunter2-pw"));
    }

    #[test]
    fn conflicting_or_incomplete_storage_settings_each_say_what_to_fix() {
        let cases: Vec<(RawStorage, &str)> = vec![
            (
                RawStorage {
                    database_path: Some("a.db".into()),
                    database_url: Some("sqlite:b.db".into()),
                    ..RawStorage::default()
                },
                "only one of storage.database_path and storage.database_url",
            ),
            (RawStorage { database_url: Some("mysql://db/x".into()), ..RawStorage::default() }, "not a mysql: URL"),
            (
                RawStorage { database_url: Some("postgres://db:5432".into()), ..RawStorage::default() },
                "names no database",
            ),
            (
                RawStorage { database_password_env: Some("DB_PASSWORD".into()), ..RawStorage::default() },
                "without a postgres:// storage.database_url",
            ),
            (
                RawStorage {
                    database_url: Some("postgres://c@db/x".into()),
                    database_password_env: Some("MISSING".into()),
                    ..RawStorage::default()
                },
                "names env var MISSING",
            ),
            (
                RawStorage {
                    database_url: Some("postgres://c@db/x".into()),
                    max_connections: 0,
                    ..RawStorage::default()
                },
                "storage.max_connections = 0",
            ),
            (RawStorage { database_path: Some(PathBuf::new()), ..RawStorage::default() }, "must name a file"),
        ];
        for (raw, expected) in cases {
            let (_, problems) = check(raw);
            assert!(problems.iter().any(|p| p.contains(expected)), "{expected}: {problems:?}");
        }
    }
}
