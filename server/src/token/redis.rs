//! The shared token cache on Redis or Valkey: the same server and settings as the sessions.
//!
//! Keys carry a hash of (environment, token URL, client, scope), never a client id:
//! `<prefix>token:<hash>` (the token, AES-256-GCM with the state key, a random 96-bit nonce per
//! value and the key's name as associated data, so a value cannot be moved to another key; it
//! expires when the token enters its refresh skew), `<prefix>token-lock:<hash>` (the lease: `SET NX
//! PX` with a random owner, released by a compare-and-delete script), `<prefix>token-backoff:<hash>`
//! (the last failure, for as long as the backoff runs), `<prefix>token-failures:<hash>` (failed
//! requests in a row by any replica: `INCR`, deleted by a success, so the backoff grows across
//! replicas) and the channel `<prefix>token-ready:<hash>` (`ready:<fingerprint>`, `failed` or
//! `gone`), which waiters subscribe to before they look, and every replica watches to drop copies
//! another replica replaced. `<prefix>token-events:<hash>` is the token page's history, every
//! replica's events as JSON (metadata: times, reasons, fingerprints, errors' texts, replica ids),
//! newest first, capped at `KEPT_EVENTS` (`LPUSH` + `LTRIM`) and gone a day after the latest.

use std::sync::Arc;
use std::time::Duration;

use aes_gcm::aead::{Aead as _, Payload};
use aes_gcm::{Aes256Gcm, KeyInit as _, Nonce};
use app::wire::TokenEvent;
use futures::StreamExt as _;
use redis::aio::ConnectionManager;
use redis::RedisError;
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};

use super::events::KEPT_EVENTS;
use super::shared::{signal, Lease, SharedBackoff, SharedError, SharedToken, SharedTokens};
use crate::config::{RedisSessions, StateKey};

const NONCE_BYTES: usize = 12;

/// How long the shared history outlives its latest event: a key idle for a day goes.
const EVENTS_KEPT_FOR: Duration = Duration::from_secs(86_400);

/// Deletes the lease only if it still holds our owner value: a holder whose lease ran out never
/// releases its successor's.
const RELEASE: &str =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

#[derive(Serialize)]
struct Plain<'a> {
    token: &'a str,
    secret_version: u64,
    obtained_at_wall_ms: i64,
    lifetime_secs: u64,
}

#[derive(Deserialize)]
struct Opened {
    token: String,
    secret_version: u64,
    obtained_at_wall_ms: i64,
    lifetime_secs: u64,
}

/// Shared tokens in Redis. `Debug` shows the prefix only.
#[derive(Clone)]
pub struct RedisTokens {
    client: redis::Client,
    connection: ConnectionManager,
    cipher: Arc<Aes256Gcm>,
    prefix: Arc<str>,
    connect_timeout: Duration,
}

impl std::fmt::Debug for RedisTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisTokens").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

fn failed(operation: &'static str) -> impl Fn(RedisError) -> SharedError {
    move |error| SharedError { operation, cause: error.to_string() }
}

impl RedisTokens {
    /// Connects like the session store (one multiplexed connection, reconnected after failures).
    pub async fn connect(settings: &RedisSessions, key: &StateKey) -> Result<Self, SharedError> {
        let failed = |cause: String| SharedError { operation: "token_connect", cause };
        let (client, connection) = crate::auth::redis_store::connect(settings).await.map_err(failed)?;
        Ok(Self {
            client,
            connection,
            cipher: Arc::new(Aes256Gcm::new(key.bytes().into())),
            prefix: settings.key_prefix.as_str().into(),
            connect_timeout: settings.connect_timeout,
        })
    }

    fn token_key(&self, hash: &str) -> String {
        format!("{}token:{hash}", self.prefix)
    }

    fn lock_key(&self, hash: &str) -> String {
        format!("{}token-lock:{hash}", self.prefix)
    }

    fn backoff_key(&self, hash: &str) -> String {
        format!("{}token-backoff:{hash}", self.prefix)
    }

    fn failures_key(&self, hash: &str) -> String {
        format!("{}token-failures:{hash}", self.prefix)
    }

    fn events_key(&self, hash: &str) -> String {
        format!("{}token-events:{hash}", self.prefix)
    }

    fn channel(&self, hash: &str) -> String {
        format!("{}token-ready:{hash}", self.prefix)
    }

    /// `nonce || AES-256-GCM(plaintext)`, bound to `key` (the Redis key it is stored under).
    fn seal(&self, key: &str, token: &SharedToken) -> Result<Vec<u8>, SharedError> {
        let failed = |cause: &str| SharedError { operation: "token_store", cause: cause.to_owned() };
        let plain = Plain {
            token: token.token.expose_secret(),
            secret_version: token.secret_version,
            obtained_at_wall_ms: token.obtained_at_wall_ms,
            lifetime_secs: token.lifetime_secs,
        };
        let plaintext = SecretString::from(serde_json::to_string(&plain).map_err(|_| failed("cannot encode"))?);
        let nonce: [u8; NONCE_BYTES] = rand::random();
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload { msg: plaintext.expose_secret().as_bytes(), aad: key.as_bytes() },
            )
            .map_err(|_| failed("cannot encrypt"))?;
        Ok([nonce.as_slice(), &sealed].concat())
    }

    fn open(&self, key: &str, value: &[u8]) -> Result<SharedToken, SharedError> {
        let failed = || SharedError {
            operation: "token_load",
            cause: "a stored token does not decrypt with this replica's state key".into(),
        };
        if value.len() <= NONCE_BYTES {
            return Err(failed());
        }
        let (nonce, sealed) = value.split_at(NONCE_BYTES);
        let plaintext = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: key.as_bytes() })
            .map_err(|_| failed())?;
        let opened: Opened = serde_json::from_slice(&plaintext).map_err(|_| failed())?;
        Ok(SharedToken {
            token: SecretString::from(opened.token),
            secret_version: opened.secret_version,
            obtained_at_wall_ms: opened.obtained_at_wall_ms,
            lifetime_secs: opened.lifetime_secs,
        })
    }

    async fn publish(&self, hash: &str, message: &str, operation: &'static str) -> Result<(), SharedError> {
        let mut connection = self.connection.clone();
        redis::cmd("PUBLISH")
            .arg(self.channel(hash))
            .arg(message)
            .query_async::<i64>(&mut connection)
            .await
            .map(|_| ())
            .map_err(failed(operation))
    }

    async fn subscribe(&self, channel: String, pattern: bool) -> Result<redis::aio::PubSub, SharedError> {
        let operation = if pattern { "token_watch" } else { "token_wait" };
        let connect = async {
            let mut pubsub = self.client.get_async_pubsub().await?;
            if pattern {
                pubsub.psubscribe(channel).await?;
            } else {
                pubsub.subscribe(channel).await?;
            }
            Ok::<_, RedisError>(pubsub)
        };
        tokio::time::timeout(self.connect_timeout, connect)
            .await
            .map_err(|_| SharedError { operation, cause: "no answer".into() })?
            .map_err(failed(operation))
    }

    /// Watches every ready channel until the process ends, calling `changed(hash, message)`;
    /// resubscribes after a lost connection. A missed message only delays a drop until the local
    /// copy goes stale, when the leader reads the shared entry anyway.
    pub fn watch(&self, changed: impl Fn(&str, &str) + Send + Sync + 'static) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let pattern = format!("{}token-ready:*", this.prefix);
            let strip = format!("{}token-ready:", this.prefix);
            loop {
                match this.subscribe(pattern.clone(), true).await {
                    Ok(pubsub) => {
                        let mut messages = pubsub.into_on_message();
                        while let Some(message) = messages.next().await {
                            let channel = message.get_channel_name().to_owned();
                            let Ok(payload) = message.get_payload::<String>() else { continue };
                            if let Some(hash) = channel.strip_prefix(&strip) {
                                changed(hash, &payload);
                            }
                        }
                        tracing::debug!("shared token cache: the watch connection ended; resubscribing");
                    }
                    Err(error) => tracing::debug!(error = %error, "shared token cache: cannot watch yet"),
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        })
    }
}

#[async_trait::async_trait]
impl SharedTokens for RedisTokens {
    async fn load(&self, hash: &str) -> Result<Option<SharedToken>, SharedError> {
        let key = self.token_key(hash);
        let mut connection = self.connection.clone();
        let value = redis::cmd("GET")
            .arg(&key)
            .query_async::<Option<Vec<u8>>>(&mut connection)
            .await
            .map_err(failed("token_load"))?;
        value.map(|value| self.open(&key, &value)).transpose()
    }

    async fn store(&self, hash: &str, token: &SharedToken, keep: Duration) -> Result<(), SharedError> {
        let key = self.token_key(hash);
        let value = self.seal(&key, token)?;
        let keep_ms = u64::try_from(keep.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut connection = self.connection.clone();
        redis::pipe()
            .cmd("SET")
            .arg(&key)
            .arg(value)
            .arg("PX")
            .arg(keep_ms)
            .ignore()
            .cmd("DEL")
            .arg(self.failures_key(hash))
            .ignore()
            .cmd("PUBLISH")
            .arg(self.channel(hash))
            .arg(format!("{}{}", signal::READY, super::fingerprint(token.token.expose_secret())))
            .ignore()
            .query_async::<()>(&mut connection)
            .await
            .map_err(failed("token_store"))
    }

    async fn lock(&self, hash: &str, lease: Duration) -> Result<Option<Lease>, SharedError> {
        let owner = hex::encode(rand::random::<[u8; 16]>());
        let mut connection = self.connection.clone();
        let set = redis::cmd("SET")
            .arg(self.lock_key(hash))
            .arg(&owner)
            .arg("NX")
            .arg("PX")
            .arg(u64::try_from(lease.as_millis()).unwrap_or(u64::MAX).max(1))
            .query_async::<Option<String>>(&mut connection)
            .await
            .map_err(failed("token_lock"))?;
        Ok(set.map(|_| Lease { hash: hash.to_owned(), owner }))
    }

    async fn unlock(&self, lease: &Lease) -> Result<(), SharedError> {
        let mut connection = self.connection.clone();
        redis::cmd("EVAL")
            .arg(RELEASE)
            .arg(1)
            .arg(self.lock_key(&lease.hash))
            .arg(&lease.owner)
            .query_async::<i64>(&mut connection)
            .await
            .map(|_| ())
            .map_err(failed("token_unlock"))
    }

    async fn wait(&self, hash: &str, within: Duration) -> Result<Option<SharedToken>, SharedError> {
        // Subscribed before looking: a token stored between the look and the wait is not missed.
        let pubsub = self.subscribe(self.channel(hash), false).await?;
        if let Some(token) = self.load(hash).await? {
            return Ok(Some(token));
        }
        let mut messages = pubsub.into_on_message();
        let _ = tokio::time::timeout(within, messages.next()).await;
        drop(messages);
        self.load(hash).await
    }

    async fn invalidate(&self, hash: &str) -> Result<(), SharedError> {
        let mut connection = self.connection.clone();
        redis::cmd("DEL")
            .arg(self.token_key(hash))
            .query_async::<i64>(&mut connection)
            .await
            .map_err(failed("token_invalidate"))?;
        self.publish(hash, signal::GONE, "token_invalidate").await
    }

    async fn count_failure(&self, hash: &str, remember: Duration) -> Result<u32, SharedError> {
        let key = self.failures_key(hash);
        let mut connection = self.connection.clone();
        let (count,) = redis::pipe()
            .atomic()
            .cmd("INCR")
            .arg(&key)
            .cmd("PEXPIRE")
            .arg(&key)
            .arg(u64::try_from(remember.as_millis()).unwrap_or(u64::MAX).max(1))
            .ignore()
            .query_async::<(u64,)>(&mut connection)
            .await
            .map_err(failed("token_fail"))?;
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    async fn fail(&self, hash: &str, cause: &str, delay: Duration) -> Result<(), SharedError> {
        let mut connection = self.connection.clone();
        redis::cmd("SET")
            .arg(self.backoff_key(hash))
            .arg(cause)
            .arg("PX")
            .arg(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX).max(1))
            .query_async::<()>(&mut connection)
            .await
            .map_err(failed("token_fail"))?;
        self.publish(hash, signal::FAILED, "token_fail").await
    }

    async fn backoff(&self, hash: &str) -> Result<Option<SharedBackoff>, SharedError> {
        let key = self.backoff_key(hash);
        let mut connection = self.connection.clone();
        let (cause, left_ms) = redis::pipe()
            .cmd("GET")
            .arg(&key)
            .cmd("PTTL")
            .arg(&key)
            .query_async::<(Option<String>, i64)>(&mut connection)
            .await
            .map_err(failed("token_backoff"))?;
        Ok(cause
            .filter(|_| left_ms > 0)
            .map(|cause| SharedBackoff { cause, left: Duration::from_millis(u64::try_from(left_ms).unwrap_or(0)) }))
    }

    async fn clear_backoff(&self, hash: &str) -> Result<(), SharedError> {
        let mut connection = self.connection.clone();
        redis::cmd("DEL")
            .arg(self.backoff_key(hash))
            .arg(self.failures_key(hash))
            .query_async::<i64>(&mut connection)
            .await
            .map(|_| ())
            .map_err(failed("token_backoff"))
    }

    async fn record(&self, hash: &str, event: &TokenEvent) -> Result<(), SharedError> {
        let failed_to = |cause: &str| SharedError { operation: "token_event", cause: cause.to_owned() };
        let value = serde_json::to_string(event).map_err(|_| failed_to("cannot encode"))?;
        let key = self.events_key(hash);
        let mut connection = self.connection.clone();
        redis::pipe()
            .atomic()
            .cmd("LPUSH")
            .arg(&key)
            .arg(value)
            .ignore()
            .cmd("LTRIM")
            .arg(&key)
            .arg(0)
            .arg(KEPT_EVENTS - 1)
            .ignore()
            .cmd("PEXPIRE")
            .arg(&key)
            .arg(u64::try_from(EVENTS_KEPT_FOR.as_millis()).unwrap_or(u64::MAX))
            .ignore()
            .query_async::<()>(&mut connection)
            .await
            .map_err(failed("token_event"))
    }

    async fn history(&self, hash: &str) -> Result<Vec<TokenEvent>, SharedError> {
        let mut connection = self.connection.clone();
        let values = redis::cmd("LRANGE")
            .arg(self.events_key(hash))
            .arg(0)
            .arg(KEPT_EVENTS - 1)
            .query_async::<Vec<String>>(&mut connection)
            .await
            .map_err(failed("token_history"))?;
        // An entry this version cannot read (written by a newer one) is left out, not an error.
        Ok(values.iter().filter_map(|value| serde_json::from_str(value).ok()).collect())
    }
}
