//! The session stores: `Sessions`, the one chosen at start-up, and the store on the console's
//! database (table `tower_sessions`, SQLite or PostgreSQL); the Redis store is in `redis_store.rs`.
//!
//! The published `tower-sessions-sqlx-store` 0.15.0 is built against `tower-sessions-core` 0.14 and
//! cannot serve `tower-sessions` 0.15, so this is the same design on our pool: collision-safe
//! `create`, upsert `save`, expiry filtered on `load`, and a purge of expired rows.

use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use super::redis_store::RedisSessionStore;
use crate::auth::session_cache::CachedSessionStore;
use crate::clock::SharedClock;
use crate::db::Database;
use crate::on_engine;

/// The session store the console runs on: the SQLite file (one process), PostgreSQL or Redis
/// (shared by every replica; `[sessions] redis_url` wins).
#[derive(Clone, Debug)]
pub enum Sessions {
    /// The SQLite file, behind the in-process cache of validated records (one process: a logout
    /// here drops it).
    Local(CachedSessionStore<DatabaseSessionStore>),
    /// PostgreSQL, read on every request. Never with an in-process cache in front: a session another
    /// replica deleted at logout would live on in this replica's cache.
    Shared(DatabaseSessionStore),
    /// Redis, likewise read on every request.
    Redis(RedisSessionStore),
}

impl Sessions {
    /// The Redis store, when sessions are in Redis (for `/readyz`).
    pub fn redis(&self) -> Option<&RedisSessionStore> {
        match self {
            Self::Redis(store) => Some(store),
            Self::Local(_) | Self::Shared(_) => None,
        }
    }

    /// The store on the database, whose expired rows need purging (Redis expires its keys itself).
    pub fn on_database(&self) -> Option<&DatabaseSessionStore> {
        match self {
            Self::Local(store) => Some(store.inner()),
            Self::Shared(store) => Some(store),
            Self::Redis(_) => None,
        }
    }
}

#[async_trait::async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Self::Local(store) => store.create(record).await,
            Self::Shared(store) => store.create(record).await,
            Self::Redis(store) => store.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Self::Local(store) => store.save(record).await,
            Self::Shared(store) => store.save(record).await,
            Self::Redis(store) => store.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Self::Local(store) => store.load(id).await,
            Self::Shared(store) => store.load(id).await,
            Self::Redis(store) => store.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Self::Local(store) => store.delete(id).await,
            Self::Shared(store) => store.delete(id).await,
            Self::Redis(store) => store.delete(id).await,
        }
    }
}

#[derive(Clone)]
pub struct DatabaseSessionStore {
    db: Database,
    clock: SharedClock,
}

impl std::fmt::Debug for DatabaseSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSessionStore").field("engine", &self.db.engine()).finish_non_exhaustive()
    }
}

fn backend(error: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(error.to_string())
}

impl DatabaseSessionStore {
    pub fn new(db: Database, clock: SharedClock) -> Self {
        Self { db, clock }
    }

    /// Unix seconds, the unit of `expiry_date`.
    fn now(&self) -> i64 {
        self.clock.wall_ms().div_euclid(1000)
    }

    /// Deletes every expired record; returns how many went.
    pub async fn delete_expired(&self) -> Result<u64, sqlx::Error> {
        let now = self.now();
        on_engine!(&self.db, pool => sqlx::query("DELETE FROM tower_sessions WHERE expiry_date <= $1")
            .bind(now)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))
    }

    pub async fn count(&self) -> Result<i64, sqlx::Error> {
        on_engine!(&self.db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM tower_sessions").fetch_one(pool).await)
    }
}

#[async_trait::async_trait]
impl SessionStore for DatabaseSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = serde_json::to_vec(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))?;
        // A fresh id on collision: `INSERT … ON CONFLICT DO NOTHING` never overwrites another session.
        loop {
            let id = record.id.to_string();
            let expiry = record.expiry_date.unix_timestamp();
            let inserted = on_engine!(&self.db, pool => sqlx::query(
                "INSERT INTO tower_sessions (id, data, expiry_date) VALUES ($1, $2, $3) ON CONFLICT(id) DO NOTHING",
            )
            .bind(&id)
            .bind(&data)
            .bind(expiry)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))
            .map_err(backend)?;
            if inserted == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = serde_json::to_vec(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let id = record.id.to_string();
        let expiry = record.expiry_date.unix_timestamp();
        // An update only: a save must never bring back a record deleted meanwhile (a logout on another
        // replica, or the id cycled at login), which an upsert would.
        let updated = on_engine!(&self.db, pool => sqlx::query(
            "UPDATE tower_sessions SET data = $2, expiry_date = $3 WHERE id = $1",
        )
        .bind(&id)
        .bind(&data)
        .bind(expiry)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))
        .map_err(backend)?;
        if updated == 0 {
            tracing::debug!("a session deleted meanwhile was not saved again");
        }
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let (key, now) = (id.to_string(), self.now());
        let row: Option<(Vec<u8>, i64)> = on_engine!(&self.db, pool =>
            sqlx::query_as("SELECT data, expiry_date FROM tower_sessions WHERE id = $1 AND expiry_date > $2")
                .bind(&key)
                .bind(now)
                .fetch_optional(pool)
                .await)
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
        let key = id.to_string();
        on_engine!(&self.db, pool => sqlx::query("DELETE FROM tower_sessions WHERE id = $1")
            .bind(&key)
            .execute(pool)
            .await
            .map(|_| ()))
        .map_err(backend)
    }
}
