//! SQLite storage: one database file (path from config), created on first start and migrated with
//! the numbered scripts in `server/migrations/`.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot open the database {path}: {source}")]
    Open { path: String, source: sqlx::Error },
    #[error("cannot migrate the database {path}: {source}")]
    Migrate { path: String, source: sqlx::migrate::MigrateError },
}

/// Waits for this process's turn to write. SQLite lets one connection write at a time; a second
/// writer gets `SQLITE_BUSY` and SQLite's busy handler sleeps (1 ms, then 2, 5, 10 ms …) before it
/// tries again, which was most of what a request cost under load (a run's history rows and the audit
/// batch writer collided on nearly every request). Writers on the hot path (history, audit, last seen)
/// queue here instead and are woken the moment the previous write ends; readers never wait (WAL). The
/// busy timeout stays as the backstop for writers that do not take a turn. One turn for the process:
/// writes are short, and a process serves one database outside tests.
pub async fn write_turn() -> tokio::sync::MutexGuard<'static, ()> {
    static WRITES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    WRITES.lock().await
}

/// Opens (creating if needed) and migrates the database at `path`.
pub async fn open(path: &Path) -> Result<SqlitePool, DbError> {
    let display = path.display().to_string();
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{display}"))
        .map_err(|source| DbError::Open { path: display.clone(), source })?
        .create_if_missing(true)
        // WAL lets readers (history, audit pages) proceed while a request is being recorded.
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        // A local file cannot drop a connection the way a network database does; the ping sqlx sends
        // before handing out each connection was one more hop to the connection's thread per query.
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .map_err(|source| DbError::Open { path: display.clone(), source })?;
    sqlx::migrate!("./migrations").run(&pool).await.map_err(|source| DbError::Migrate { path: display, source })?;
    Ok(pool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_new_database_file_is_created_and_migrated_and_reopens() {
        let dir = std::env::temp_dir().join(format!("a55-db-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("console.db");
        let pool = open(&path).await.unwrap();
        let created: (String,) =
            sqlx::query_as("SELECT value FROM console_meta WHERE key = 'created_at'").fetch_one(&pool).await.unwrap();
        assert!(created.0.starts_with("20"));
        pool.close().await;
        assert!(path.is_file());
        let again = open(&path).await.unwrap();
        let again_created: (String,) =
            sqlx::query_as("SELECT value FROM console_meta WHERE key = 'created_at'").fetch_one(&again).await.unwrap();
        assert_eq!(again_created, created, "reopening keeps the data");
        again.close().await;
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
