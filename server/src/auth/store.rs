//! The session stores: `Sessions`, the one chosen at start-up, and the SQLite store on the
//! console's database (table `tower_sessions`); the Redis store is in `redis_store.rs`.
//!
//! The published `tower-sessions-sqlx-store` 0.15.0 is built against `tower-sessions-core` 0.14 and
//! cannot serve `tower-sessions` 0.15, so this is the same design on our pool: collision-safe
//! `create`, upsert `save`, expiry filtered on `load`, and a purge of expired rows.

use sqlx::SqlitePool;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use super::redis_store::RedisSessionStore;
use crate::auth::session_cache::CachedSessionStore;
use crate::clock::SharedClock;

/// The session store the console runs on: the SQLite file (one process), or Redis shared by every
/// replica (`[sessions] redis_url`).
#[derive(Clone, Debug)]
pub enum Sessions {
    /// Behind the in-process cache of validated records (one process: a logout here drops it).
    Sqlite(CachedSessionStore<SqliteSessionStore>),
    /// Never with an in-process cache in front: a session another replica deleted at logout would
    /// live on in this replica's cache. Every request reads Redis.
    Redis(RedisSessionStore),
}

impl Sessions {
    /// The Redis store, when sessions are in Redis (for `/readyz`).
    pub fn redis(&self) -> Option<&RedisSessionStore> {
        match self {
            Self::Redis(store) => Some(store),
            Self::Sqlite(_) => None,
        }
    }
}

#[async_trait::async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Self::Sqlite(store) => store.create(record).await,
            Self::Redis(store) => store.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Self::Sqlite(store) => store.save(record).await,
            Self::Redis(store) => store.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Self::Sqlite(store) => store.load(id).await,
            Self::Redis(store) => store.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Self::Sqlite(store) => store.delete(id).await,
            Self::Redis(store) => store.delete(id).await,
        }
    }
}

#[derive(Clone)]
pub struct SqliteSessionStore {
    pool: SqlitePool,
    clock: SharedClock,
}

impl std::fmt::Debug for SqliteSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteSessionStore").finish_non_exhaustive()
    }
}

fn backend(error: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(error.to_string())
}

impl SqliteSessionStore {
    pub fn new(pool: SqlitePool, clock: SharedClock) -> Self {
        Self { pool, clock }
    }

    /// Unix seconds, the unit of `expiry_date`.
    fn now(&self) -> i64 {
        self.clock.wall_ms().div_euclid(1000)
    }

    /// Deletes every expired record; returns how many went.
    pub async fn delete_expired(&self) -> Result<u64, sqlx::Error> {
        let now = self.now();
        Ok(sqlx::query("DELETE FROM tower_sessions WHERE expiry_date <= ?")
            .bind(now)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    pub async fn count(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM tower_sessions").fetch_one(&self.pool).await
    }
}

#[async_trait::async_trait]
impl SessionStore for SqliteSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = serde_json::to_vec(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))?;
        // A fresh id on collision: `INSERT … ON CONFLICT DO NOTHING` never overwrites another session.
        loop {
            let inserted = sqlx::query(
                "INSERT INTO tower_sessions (id, data, expiry_date) VALUES (?, ?, ?) ON CONFLICT(id) DO NOTHING",
            )
            .bind(record.id.to_string())
            .bind(&data)
            .bind(record.expiry_date.unix_timestamp())
            .execute(&self.pool)
            .await
            .map_err(backend)?
            .rows_affected();
            if inserted == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = serde_json::to_vec(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))?;
        sqlx::query(
            "INSERT INTO tower_sessions (id, data, expiry_date) VALUES (?, ?, ?) \
             ON CONFLICT(id) DO UPDATE SET data = excluded.data, expiry_date = excluded.expiry_date",
        )
        .bind(record.id.to_string())
        .bind(data)
        .bind(record.expiry_date.unix_timestamp())
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row: Option<(Vec<u8>, i64)> =
            sqlx::query_as("SELECT data, expiry_date FROM tower_sessions WHERE id = ? AND expiry_date > ?")
                .bind(id.to_string())
                .bind(self.now())
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
        let Some((data, expiry)) = row else { return Ok(None) };
        Ok(Some(Record {
            id: *id,
            data: serde_json::from_slice(&data).map_err(|e| session_store::Error::Decode(e.to_string()))?,
            expiry_date: OffsetDateTime::from_unix_timestamp(expiry)
                .map_err(|e| session_store::Error::Decode(e.to_string()))?,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query("DELETE FROM tower_sessions WHERE id = ?")
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
