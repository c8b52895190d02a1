//! The tower-sessions store on Redis or Valkey, shared by every replica of the console.
//!
//! The published Redis stores are built for `tower-sessions-core` 0.14 and cannot serve
//! `tower-sessions` 0.15, so this is ours, on the `redis` crate's `ConnectionManager` (one
//! multiplexed connection, reconnected after a failure). Keys are `<prefix>session:<id>` and carry
//! the record's expiry (`PXAT`), so Redis drops them itself: there is no purge task. `create` never
//! overwrites a session (`SET NX`); `save` only updates one that still exists (`SET XX`), so a request
//! that was in flight while another replica deleted the session at logout cannot bring it back.
//! Values are never logged; errors name the operation, never the data or the password.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{IntoConnectionInfo as _, RedisError};
use secrecy::ExposeSecret as _;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use crate::config::RedisSessions;
use crate::metrics::Metrics;

/// What is stored under a key: the record's data in the same JSON form as the SQLite store's
/// `data` column, and its expiry in Unix seconds (the key itself expires then too).
#[derive(Serialize, Deserialize)]
struct Stored<D> {
    data: D,
    expiry_date: i64,
}

#[derive(Clone)]
pub struct RedisSessionStore {
    connection: ConnectionManager,
    prefix: Arc<str>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for RedisSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSessionStore").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

/// Why the first connection failed: names the host, never the password.
#[derive(Debug, thiserror::Error)]
#[error("could not connect to Redis at {host} for sessions: {cause}")]
pub struct ConnectError {
    pub host: String,
    pub cause: String,
}

impl RedisSessionStore {
    /// Connects once (start-up fails clearly if Redis cannot be reached), then keeps reconnecting
    /// in the background after failures.
    pub async fn connect(settings: &RedisSessions, metrics: Arc<Metrics>) -> Result<Self, ConnectError> {
        let failed = |cause: String| ConnectError { host: settings.host(), cause };
        let (_, connection) = connect(settings).await.map_err(failed)?;
        Ok(Self { connection, prefix: settings.key_prefix.as_str().into(), metrics })
    }

    /// The connection, for the other stores replicas share (one multiplexed connection in all).
    pub fn connection(&self) -> ConnectionManager {
        self.connection.clone()
    }

    fn key(&self, id: &Id) -> String {
        format!("{}session:{id}", self.prefix)
    }

    /// Counts the operation, and the error if there is one, and turns it into the store's error.
    fn outcome<T>(&self, operation: &'static str, result: Result<T, RedisError>) -> session_store::Result<T> {
        self.metrics.session_store_operation("redis", operation);
        result.map_err(|error| {
            self.metrics.redis_error(operation);
            tracing::warn!(operation, error = %error, "Redis session store command failed");
            session_store::Error::Backend(format!("Redis {operation} failed: {error}"))
        })
    }

    /// `PING`, for `/readyz`: whether Redis answers within `within`.
    pub async fn ping(&self, within: Duration) -> Result<(), String> {
        let mut connection = self.connection.clone();
        let answer = tokio::time::timeout(within, redis::cmd("PING").query_async::<String>(&mut connection)).await;
        match answer {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) => {
                self.metrics.redis_error("ping");
                Err(error.to_string())
            }
            Err(_) => {
                self.metrics.redis_error("ping");
                Err(format!("no answer within {} ms", within.as_millis()))
            }
        }
    }

    /// The time to live of a session's key in milliseconds (`PTTL`): -2 when there is no key.
    pub async fn ttl_ms(&self, id: &Id) -> session_store::Result<i64> {
        let mut connection = self.connection.clone();
        let result = redis::cmd("PTTL").arg(self.key(id)).query_async::<i64>(&mut connection).await;
        self.outcome("ttl", result)
    }

    /// `SET key value <condition> PXAT expiry`: whether Redis set it (`NX`/`XX` unmet answers nil).
    async fn set(
        &self,
        record: &Record,
        condition: &'static str,
        operation: &'static str,
    ) -> session_store::Result<bool> {
        let stored = Stored { data: &record.data, expiry_date: record.expiry_date.unix_timestamp() };
        let value = serde_json::to_vec(&stored).map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let expiry_ms = i64::try_from(record.expiry_date.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
        let mut connection = self.connection.clone();
        let result = redis::cmd("SET")
            .arg(self.key(&record.id))
            .arg(value)
            .arg(condition)
            .arg("PXAT")
            .arg(expiry_ms.max(1))
            .query_async::<Option<String>>(&mut connection)
            .await;
        Ok(self.outcome(operation, result)?.is_some())
    }
}

#[async_trait::async_trait]
impl SessionStore for RedisSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A fresh id on collision: `NX` never overwrites another session.
        while !self.set(record, "NX", "create").await? {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        // `XX`: a session deleted meanwhile (logout on any replica) stays deleted.
        if !self.set(record, "XX", "save").await? {
            tracing::debug!("a session was saved after it ended; it stays ended");
        }
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let mut connection = self.connection.clone();
        let result = redis::cmd("GET").arg(self.key(id)).query_async::<Option<Vec<u8>>>(&mut connection).await;
        let Some(bytes) = self.outcome("load", result)? else { return Ok(None) };
        let stored: Stored<std::collections::HashMap<String, serde_json::Value>> =
            serde_json::from_slice(&bytes).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data: stored.data,
            expiry_date: OffsetDateTime::from_unix_timestamp(stored.expiry_date)
                .map_err(|e| session_store::Error::Decode(e.to_string()))?,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let mut connection = self.connection.clone();
        let result = redis::cmd("DEL").arg(self.key(id)).query_async::<i64>(&mut connection).await;
        self.outcome("delete", result).map(|_| ())
    }
}

/// A client and one multiplexed connection to the configured Redis, reconnected after failures;
/// the first connection is bounded, so start-up fails clearly when Redis cannot be reached. The
/// error is a cause for the caller's message: never the password.
pub(crate) async fn connect(settings: &RedisSessions) -> Result<(redis::Client, ConnectionManager), String> {
    let mut info = settings.url.as_str().into_connection_info().map_err(|e| e.to_string())?;
    if let Some(password) = &settings.password {
        let redis = info.redis_settings().clone().set_password(password.expose_secret());
        info = info.set_redis_settings(redis);
    }
    let client = redis::Client::open(info).map_err(|e| e.to_string())?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(settings.connect_timeout))
        .set_response_timeout(Some(settings.command_timeout))
        // Reconnection is tried a few times per failure, then again on the next command: a
        // Redis that is down makes requests fail fast instead of queueing behind retries.
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_millis(500));
    // The crate retries the first connection too; the whole attempt is bounded here.
    let bound = settings.connect_timeout.saturating_mul(4);
    let connection = tokio::time::timeout(bound, ConnectionManager::new_with_config(client.clone(), config))
        .await
        .map_err(|_| format!("no answer within {} ms", bound.as_millis()))?
        .map_err(|e| e.to_string())?;
    Ok((client, connection))
}
