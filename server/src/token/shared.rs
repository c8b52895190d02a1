//! The seam to a token cache shared by replicas: one token request per key and lifetime across all
//! of them, through a lease lock, a ready signal and a shared failure backoff.
//!
//! The broker's leader (one per replica and key, the in-process single-flight) calls
//! `SharedTokens`; the Redis implementation is `token::redis`. Any error from it makes the broker fall
//! back to fetching on its own, so a lost shared cache costs at most one request per replica.

use std::sync::Arc;
use std::time::{Duration, Instant};

use app::wire::TokenEvent;
use secrecy::{ExposeSecret as _, SecretString};
use sha2::{Digest, Sha256};

use super::{decode_part, fingerprint, AccessToken, TokenKey, TokenSource};

/// A token as every replica sees it. `Debug` never prints the token.
#[derive(Clone)]
pub struct SharedToken {
    pub token: SecretString,
    pub secret_version: u64,
    pub obtained_at_wall_ms: i64,
    pub lifetime_secs: u64,
}

impl std::fmt::Debug for SharedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedToken")
            .field("fingerprint", &fingerprint(self.token.expose_secret()))
            .field("lifetime_secs", &self.lifetime_secs)
            .finish_non_exhaustive()
    }
}

impl SharedToken {
    pub fn of(token: &AccessToken) -> Self {
        Self {
            token: token.secret(),
            secret_version: token.secret_version,
            obtained_at_wall_ms: token.obtained_at_wall_ms,
            lifetime_secs: token.lifetime.as_secs(),
        }
    }

    /// This replica's copy, timed from the wall clock the token was obtained at: `None` once it is
    /// inside `source`'s refresh skew (no replica serves what another considers stale) or obtained
    /// with another client secret.
    pub fn adopt(
        &self,
        source: &TokenSource,
        version: u64,
        now: Instant,
        now_wall_ms: i64,
    ) -> Option<Arc<AccessToken>> {
        if self.secret_version != version || self.lifetime_secs == 0 {
            return None;
        }
        let lifetime = Duration::from_secs(self.lifetime_secs);
        let expires_wall_ms = self.obtained_at_wall_ms.saturating_add(i64::try_from(lifetime.as_millis()).ok()?);
        let left = Duration::from_millis(u64::try_from(expires_wall_ms.saturating_sub(now_wall_ms)).ok()?);
        let skew = source.refresh_skew.min(lifetime / 2);
        if left <= skew || left > lifetime {
            return None;
        }
        let expires_at = now + left;
        let token = self.token.expose_secret();
        Some(Arc::new(AccessToken {
            fingerprint: fingerprint(token),
            header: decode_part(token, 0),
            claims: decode_part(token, 1),
            secret: self.token.clone(),
            secret_version: self.secret_version,
            obtained_at: expires_at.checked_sub(lifetime).unwrap_or(now),
            obtained_at_wall_ms: self.obtained_at_wall_ms,
            lifetime,
            refresh_at: expires_at - skew,
            expires_at,
        }))
    }
}

/// Held by the one replica allowed to request a token; `owner` is random, so only it can release.
#[derive(Clone, Debug)]
pub struct Lease {
    pub hash: String,
    pub owner: String,
}

/// A failure of the shared cache (Redis down, a timeout, a value that does not decrypt). Names the
/// operation, never a key, token or password.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("shared token cache: {operation} failed: {cause}")]
pub struct SharedError {
    pub operation: &'static str,
    pub cause: String,
}

/// The last failure of a token request made by any replica, while the shared backoff runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharedBackoff {
    /// The failure as its replica described it (no secret: `TokenError`'s text).
    pub cause: String,
    pub left: Duration,
}

/// A token cache shared by replicas. Keys are `key_hash`es, never client ids.
#[async_trait::async_trait]
pub trait SharedTokens: Send + Sync {
    /// The token stored under `hash`, if any.
    async fn load(&self, hash: &str) -> Result<Option<SharedToken>, SharedError>;
    /// Stores `token` for `keep` (less than its own lifetime), ends the count of failures in a row,
    /// and tells every replica it is ready.
    async fn store(&self, hash: &str, token: &SharedToken, keep: Duration) -> Result<(), SharedError>;
    /// Takes the lease for `lease`, unless another replica holds it (`None`).
    async fn lock(&self, hash: &str, lease: Duration) -> Result<Option<Lease>, SharedError>;
    /// Releases the lease if it is still ours (compare and delete).
    async fn unlock(&self, lease: &Lease) -> Result<(), SharedError>;
    /// Subscribes to `hash`'s ready signal, then loads; with nothing stored, waits up to `within`
    /// for the signal (a store, a failure or an invalidation) and loads again.
    async fn wait(&self, hash: &str, within: Duration) -> Result<Option<SharedToken>, SharedError>;
    /// Deletes the stored token and tells every replica to drop its copy.
    async fn invalidate(&self, hash: &str) -> Result<(), SharedError>;
    /// Counts one more failed token request in a row, by any replica, and answers the count (1 for
    /// the first); the count is forgotten `remember` after the latest failure, or at a success.
    async fn count_failure(&self, hash: &str, remember: Duration) -> Result<u32, SharedError>;
    /// Records a failed token request for `delay` and wakes the waiters.
    async fn fail(&self, hash: &str, cause: &str, delay: Duration) -> Result<(), SharedError>;
    /// The shared backoff, while it runs.
    async fn backoff(&self, hash: &str) -> Result<Option<SharedBackoff>, SharedError>;
    /// Ends the shared backoff and its count (a manual refresh, a forget).
    async fn clear_backoff(&self, hash: &str) -> Result<(), SharedError>;
    /// Adds one event to the history every replica shows (metadata only: never a token, secret or
    /// client id), keeping the newest `events::KEPT_EVENTS`.
    async fn record(&self, hash: &str, event: &TokenEvent) -> Result<(), SharedError>;
    /// The history every replica wrote, newest first.
    async fn history(&self, hash: &str) -> Result<Vec<TokenEvent>, SharedError>;
}

/// What every replica calls a key: the SHA-256 of everything in `TokenKey`, hex. The client id only
/// enters the hash, so no key name reveals it.
pub fn key_hash(key: &TokenKey) -> String {
    let mut digest = Sha256::new().chain_update(b"a55-console token key\0");
    for part in [key.environment.as_str(), key.token_url.as_str(), key.client_id.as_str()] {
        digest.update((part.len() as u64).to_be_bytes());
        digest.update(part.as_bytes());
    }
    match &key.scope {
        Some(scope) => {
            digest.update([1]);
            digest.update(scope.as_bytes());
        }
        None => digest.update([0]),
    }
    hex::encode(digest.finalize())
}

/// How long a replica waits for another's token request: the lease, at least 1.5 times the request
/// timeout, so a live holder always finishes (or gives up) before its lease can be taken.
pub fn lease_for(timeout: Duration) -> Duration {
    timeout.mul_f64(1.5) + Duration::from_millis(500)
}

/// What a new token must not be: any stored token does (`Any`), except the one an API just refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Want {
    Any,
    /// After a 401: not this fingerprint.
    Not(String),
    /// Staff asked for a new one: the stored token is dropped everywhere first.
    New,
}

/// The message on a ready channel: a new token's fingerprint, or why waiters should look again.
pub mod signal {
    /// The stored token was deleted: every replica drops its copy.
    pub const GONE: &str = "gone";
    /// A token request failed: waiters read the backoff.
    pub const FAILED: &str = "failed";
    /// The prefix of "a token is stored"; the fingerprint follows.
    pub const READY: &str = "ready:";
}

#[cfg(test)]
pub mod memory {
    //! An in-process `SharedTokens` for the broker's unit tests: the same contract as Redis, with
    //! expiry read from the injected clock and a switch that makes every command fail.

    use std::collections::HashMap;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Mutex;

    use tokio::sync::Notify;

    use super::*;
    use crate::clock::SharedClock;

    #[derive(Default)]
    struct State {
        tokens: HashMap<String, (SharedToken, Instant)>,
        locks: HashMap<String, (String, Instant)>,
        backoffs: HashMap<String, (String, Instant)>,
        failures: HashMap<String, (u32, Instant)>,
        events: HashMap<String, std::collections::VecDeque<TokenEvent>>,
    }

    pub struct MemoryShared {
        clock: SharedClock,
        state: Mutex<State>,
        ready: Notify,
        pub down: AtomicBool,
        pub commands: AtomicU64,
        owners: AtomicU64,
    }

    impl MemoryShared {
        pub fn new(clock: SharedClock) -> Self {
            Self {
                clock,
                state: Mutex::default(),
                ready: Notify::new(),
                down: AtomicBool::new(false),
                commands: AtomicU64::new(0),
                owners: AtomicU64::new(0),
            }
        }

        fn state(&self, operation: &'static str) -> Result<std::sync::MutexGuard<'_, State>, SharedError> {
            self.commands.fetch_add(1, Ordering::SeqCst);
            if self.down.load(Ordering::SeqCst) {
                return Err(SharedError { operation, cause: "connection refused".into() });
            }
            let now = self.clock.now();
            let mut state = self.state.lock().map_err(|_| SharedError { operation, cause: "poisoned".into() })?;
            state.tokens.retain(|_, (_, until)| *until > now);
            state.locks.retain(|_, (_, until)| *until > now);
            state.backoffs.retain(|_, (_, until)| *until > now);
            state.failures.retain(|_, (_, until)| *until > now);
            Ok(state)
        }

        pub fn holder(&self, hash: &str) -> Option<String> {
            self.state("holder").ok()?.locks.get(hash).map(|(owner, _)| owner.clone())
        }
    }

    #[async_trait::async_trait]
    impl SharedTokens for MemoryShared {
        async fn load(&self, hash: &str) -> Result<Option<SharedToken>, SharedError> {
            Ok(self.state("load")?.tokens.get(hash).map(|(token, _)| token.clone()))
        }

        async fn store(&self, hash: &str, token: &SharedToken, keep: Duration) -> Result<(), SharedError> {
            let until = self.clock.now() + keep;
            let mut state = self.state("store")?;
            state.tokens.insert(hash.to_owned(), (token.clone(), until));
            state.failures.remove(hash);
            drop(state);
            self.ready.notify_waiters();
            Ok(())
        }

        async fn lock(&self, hash: &str, lease: Duration) -> Result<Option<Lease>, SharedError> {
            let until = self.clock.now() + lease;
            let mut state = self.state("lock")?;
            if state.locks.contains_key(hash) {
                return Ok(None);
            }
            let owner = format!("owner-{}", self.owners.fetch_add(1, Ordering::SeqCst));
            state.locks.insert(hash.to_owned(), (owner.clone(), until));
            Ok(Some(Lease { hash: hash.to_owned(), owner }))
        }

        async fn unlock(&self, lease: &Lease) -> Result<(), SharedError> {
            let mut state = self.state("unlock")?;
            if state.locks.get(&lease.hash).is_some_and(|(owner, _)| *owner == lease.owner) {
                state.locks.remove(&lease.hash);
            }
            Ok(())
        }

        async fn wait(&self, hash: &str, within: Duration) -> Result<Option<SharedToken>, SharedError> {
            let notified = self.ready.notified();
            if let Some(token) = self.load(hash).await? {
                return Ok(Some(token));
            }
            let _ = tokio::time::timeout(within, notified).await;
            self.load(hash).await
        }

        async fn invalidate(&self, hash: &str) -> Result<(), SharedError> {
            self.state("invalidate")?.tokens.remove(hash);
            self.ready.notify_waiters();
            Ok(())
        }

        async fn count_failure(&self, hash: &str, remember: Duration) -> Result<u32, SharedError> {
            let until = self.clock.now() + remember;
            let mut state = self.state("count_failure")?;
            let count = state.failures.get(hash).map_or(0, |(count, _)| *count) + 1;
            state.failures.insert(hash.to_owned(), (count, until));
            Ok(count)
        }

        async fn fail(&self, hash: &str, cause: &str, delay: Duration) -> Result<(), SharedError> {
            let until = self.clock.now() + delay;
            self.state("fail")?.backoffs.insert(hash.to_owned(), (cause.to_owned(), until));
            self.ready.notify_waiters();
            Ok(())
        }

        async fn backoff(&self, hash: &str) -> Result<Option<SharedBackoff>, SharedError> {
            let now = self.clock.now();
            Ok(self
                .state("backoff")?
                .backoffs
                .get(hash)
                .map(|(cause, until)| SharedBackoff { cause: cause.clone(), left: *until - now }))
        }

        async fn clear_backoff(&self, hash: &str) -> Result<(), SharedError> {
            let mut state = self.state("clear_backoff")?;
            state.backoffs.remove(hash);
            state.failures.remove(hash);
            Ok(())
        }

        async fn record(&self, hash: &str, event: &TokenEvent) -> Result<(), SharedError> {
            let mut state = self.state("record")?;
            let events = state.events.entry(hash.to_owned()).or_default();
            events.push_front(event.clone());
            events.truncate(crate::token::events::KEPT_EVENTS);
            Ok(())
        }

        async fn history(&self, hash: &str) -> Result<Vec<TokenEvent>, SharedError> {
            let state = self.state("history")?;
            Ok(state.events.get(hash).map(|events| events.iter().cloned().collect()).unwrap_or_default())
        }
    }
}
