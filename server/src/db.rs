//! Storage: the console's records (history, audit, saved requests, preferences, logins, demo
//! switches, sessions without Redis) in one SQLite file (the embedded default, migrated with
//! `server/migrations/`) or in PostgreSQL shared by every replica (migrated with
//! `server/migrations-postgres/`), chosen at start-up from `[storage]`.
//!
//! Every store (history, saved requests, the audit trail, logins, demo switches, the session store)
//! is one type with one SQL source per statement, run through [`on_engine!`] on the engine's own
//! typed pool: the statement is compiled and type-checked once per engine (no `sqlx::Any`), and
//! its text is the portable subset both speak (`$n` parameters, `ON CONFLICT`, `RETURNING`).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use secrecy::ExposeSecret;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

use crate::config::{PostgresStorage, Storage};

mod migrations;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot open the database {path}: {source}")]
    Open { path: String, source: sqlx::Error },
    #[error("cannot migrate the database {path}: {source}")]
    Migrate { path: String, source: sqlx::migrate::MigrateError },
}

/// The database the console runs on. Cloning shares the pool.
#[derive(Clone, Debug)]
pub enum Database {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the engine's typed pool (`&SqlitePool` or `&PgPool`). The
/// body is written once and compiled once per engine, so each statement is checked against both.
#[macro_export]
macro_rules! on_engine {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Database::Sqlite($pool) => $body,
            $crate::db::Database::Postgres($pool) => $body,
        }
    };
}

/// A batch cut into the rows of its multi-row `INSERT`s: as many of the largest size as fit, then
/// powers of two down to one. A batch writer sends one statement per chunk instead of one per row,
/// and each statement is a round trip to the database (for SQLite a hand-off to its connection
/// thread and back); the fixed sizes keep the distinct statement texts, each one prepared and
/// cached per connection, to six per table.
pub fn insert_chunks<T>(rows: &[T]) -> impl Iterator<Item = &[T]> {
    let mut rest = rows;
    chunk_sizes(rows.len()).map(move |size| {
        let (chunk, later) = rest.split_at(size);
        rest = later;
        chunk
    })
}

/// The row counts of [`insert_chunks`]; they add up to `rows`.
fn chunk_sizes(rows: usize) -> impl Iterator<Item = usize> {
    const SIZES: [usize; 6] = [32, 16, 8, 4, 2, 1];
    let mut left = rows;
    std::iter::from_fn(move || {
        let size = SIZES.into_iter().find(|size| *size <= left)?;
        left -= size;
        Some(size)
    })
}

impl Database {
    /// Opens (creating the SQLite file if needed) and migrates the configured database.
    pub async fn open(storage: &Storage) -> Result<Self, DbError> {
        match storage {
            Storage::Sqlite { path } => open(path).await.map(Self::Sqlite),
            Storage::Postgres(settings) => open_postgres(settings).await.map(Self::Postgres),
        }
    }

    /// "sqlite" or "postgres", for logs and `/metrics`.
    pub fn engine(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }

    /// Whether the database answers a query (for `/readyz`).
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        on_engine!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))
    }

    /// The SQLite pool, when the console runs on SQLite (for tools and tests reading the file).
    pub fn sqlite(&self) -> Option<&SqlitePool> {
        match self {
            Self::Sqlite(pool) => Some(pool),
            Self::Postgres(_) => None,
        }
    }

    /// The PostgreSQL pool, when the console runs on PostgreSQL.
    pub fn postgres(&self) -> Option<&PgPool> {
        match self {
            Self::Postgres(pool) => Some(pool),
            Self::Sqlite(_) => None,
        }
    }

    pub async fn close(&self) {
        on_engine!(self, pool => pool.close().await);
    }

    /// The database the batch writers (history, audit) write through. On SQLite, a pool of its own
    /// with one connection: a connection drops its whole page cache whenever another one has written
    /// since its last transaction, so writers taking turns on the shared pool's four connections
    /// read the pages they insert into again and again. PostgreSQL: the same pool.
    pub async fn for_batch_writers(&self) -> Result<Self, DbError> {
        match self {
            Self::Sqlite(pool) => {
                let options = (*pool.connect_options()).clone();
                let path = options.get_filename().display().to_string();
                SqlitePoolOptions::new()
                    .max_connections(1)
                    .test_before_acquire(false)
                    .connect_with(options)
                    .await
                    .map(Self::Sqlite)
                    .map_err(|source| DbError::Open { path, source })
            }
            Self::Postgres(_) => Ok(self.clone()),
        }
    }

    /// This process's turn to write, where the engine needs one (see [`write_turn`]); PostgreSQL
    /// takes concurrent writers itself.
    pub async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'static, ()>> {
        match self {
            Self::Sqlite(_) => Some(write_turn().await),
            Self::Postgres(_) => None,
        }
    }
}

/// Connects to PostgreSQL and migrates it. Replicas starting together on an empty database migrate
/// once: sqlx's migrator holds a PostgreSQL advisory lock while it applies the scripts, so the
/// others wait and then find every version applied.
async fn open_postgres(settings: &PostgresStorage) -> Result<PgPool, DbError> {
    let display = settings.display();
    let mut options = PgConnectOptions::from_str(settings.url.as_str())
        .map_err(|source| DbError::Open { path: display.clone(), source })?
        .application_name("a55-console");
    if let Some(password) = &settings.password {
        options = options.password(password.expose_secret());
    }
    let pool = PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.connect_timeout)
        .connect_with(options)
        .await
        .map_err(|source| DbError::Open { path: display.clone(), source })?;
    migrations::run(migrations::POSTGRES, &pool).await.map_err(|source| DbError::Migrate { path: display, source })?;
    Ok(pool)
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

/// Opens (creating if needed) and migrates the SQLite file at `path`.
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
    migrations::run(migrations::SQLITE, &pool).await.map_err(|source| DbError::Migrate { path: display, source })?;
    Ok(pool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_inserted_in_chunks_of_six_fixed_sizes_that_add_up_to_its_rows() {
        assert_eq!(chunk_sizes(0).count(), 0);
        assert_eq!(chunk_sizes(1).collect::<Vec<_>>(), [1]);
        assert_eq!(chunk_sizes(31).collect::<Vec<_>>(), [16, 8, 4, 2, 1]);
        assert_eq!(chunk_sizes(100).collect::<Vec<_>>(), [32, 32, 32, 4]);
        for rows in 0..=300 {
            let batch: Vec<usize> = (0..rows).collect();
            let slices: Vec<&[usize]> = insert_chunks(&batch).collect();
            assert_eq!(slices.concat(), batch, "every row once, in order");
            let chunks: Vec<usize> = slices.iter().map(|slice| slice.len()).collect();
            assert_eq!(chunks.iter().sum::<usize>(), rows, "{rows} rows");
            assert!(chunks.iter().all(|size| [32, 16, 8, 4, 2, 1].contains(size)));
            assert!(chunks.windows(2).all(|pair| pair[0] >= pair[1]), "largest first: {chunks:?}");
            assert!(chunks.len() <= rows / 32 + 5, "{rows} rows in {} statements", chunks.len());
        }
    }

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
