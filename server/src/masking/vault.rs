//! Originals of masked secrets, kept only for an admin's reveal: per owner, bounded, expiring like the body store.

use std::time::Duration;

use std::sync::Arc;

use crate::clock::SharedClock;
use crate::expiring::seal::Seal;
use crate::expiring::shared::{Encoded, RedisStore, Unavailable};
use crate::expiring::{Backing, Limits, MemoryStore, Weighed};
use crate::metrics::Metrics;

/// How long an original stays revealable (the same as a stored body).
pub const VAULT_TTL: Duration = crate::bodies::BODY_TTL;
/// Originals kept at most; the oldest go first.
pub const VAULT_ENTRIES: usize = 2_048;
/// Longer originals are not kept (nobody reads a 64 KiB secret off a screen).
pub const VAULT_MAX_VALUE: usize = 64 * 1024;
/// Bytes of originals kept at most, whatever their number; the oldest go first.
pub const VAULT_MAX_BYTES: usize = 16 * 1024 * 1024;

/// What a reveal hands back.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Kept {
    pub location: String,
    pub value: String,
}

/// Where, never what: a panic message or a log line with this in it shows no secret.
impl std::fmt::Debug for Kept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kept").field("location", &self.location).field("value", &"[redacted]").finish()
    }
}

impl Weighed for Kept {
    fn weight(&self) -> usize {
        self.location.len() + self.value.len()
    }
}

impl Encoded for Kept {
    fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    fn decode(bytes: Vec<u8>) -> Option<Self> {
        serde_json::from_slice(&bytes).ok()
    }
}

/// The originals: in this process, in Redis sealed with the vault key, or not kept at all (Redis
/// without a vault key: an original kept on one replica only could not be revealed on another).
pub struct RevealVault {
    store: Option<Backing<Kept>>,
}

impl RevealVault {
    pub fn new(clock: SharedClock) -> Self {
        Self::with_limits(clock, VAULT_TTL, VAULT_ENTRIES)
    }

    pub fn with_limits(clock: SharedClock, ttl: Duration, max_entries: usize) -> Self {
        let limits = Limits { ttl, max_entries, max_bytes: VAULT_MAX_BYTES };
        Self { store: Some(Backing::Memory(MemoryStore::new(clock, limits))) }
    }

    /// Originals in Redis under `<prefix>vault:<id>`, sealed with AES-256-GCM under `seal`; with
    /// no seal, none are kept (reveals then say so).
    pub fn in_redis(
        connection: redis::aio::ConnectionManager,
        prefix: &str,
        seal: Option<Seal>,
        metrics: Arc<Metrics>,
        limits: Limits,
    ) -> Self {
        let store = seal.map(|seal| {
            Backing::Redis(Box::new(RedisStore::new(connection, prefix, "vault", limits, metrics).sealed(seal)))
        });
        Self { store }
    }

    pub fn limits() -> Limits {
        Limits { ttl: VAULT_TTL, max_entries: VAULT_ENTRIES, max_bytes: VAULT_MAX_BYTES }
    }

    /// Whether originals are kept at all.
    pub fn keeps(&self) -> bool {
        self.store.is_some()
    }

    /// Keeps `value` for `owner`; the id is 128 random bits in hex. Too long a value is not kept.
    pub async fn keep(&self, owner: &str, location: &str, value: &str) -> Result<Option<String>, Unavailable> {
        let Some(store) = &self.store else { return Ok(None) };
        if value.len() > VAULT_MAX_VALUE {
            return Ok(None);
        }
        store.put(owner, Kept { location: location.to_owned(), value: value.to_owned() }).await
    }

    /// The original kept under `id` for `owner`, unless it expired or was evicted.
    pub async fn get(&self, id: &str, owner: &str) -> Result<Option<Kept>, Unavailable> {
        let Some(store) = &self.store else { return Ok(None) };
        store.get(id, owner).await
    }

    /// Originals and bytes kept now.
    pub async fn usage(&self) -> Result<(usize, usize), Unavailable> {
        match &self.store {
            Some(store) => store.usage().await,
            None => Ok((0, 0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[tokio::test]
    async fn an_original_is_revealed_only_to_its_owner_and_only_until_it_expires() {
        let clock = ManualClock::new();
        let vault = RevealVault::with_limits(clock.clone(), Duration::from_secs(60), 10);
        let id = vault.keep("ana", "$['client_secret']", "s3cr3t").await.unwrap().unwrap();
        assert_eq!(id.len(), 32);
        assert!(vault.get(&id, "bruno").await.unwrap().is_none(), "someone else holding the id gets nothing");
        assert_eq!(vault.get(&id, "ana").await.unwrap().unwrap().value, "s3cr3t");
        clock.advance(Duration::from_secs(60));
        assert!(vault.get(&id, "ana").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn the_vault_is_bounded_and_drops_the_oldest_first() {
        let vault = RevealVault::with_limits(ManualClock::new(), VAULT_TTL, 2);
        let mut ids = Vec::new();
        for i in 0..3 {
            ids.push(vault.keep("ana", "$", &i.to_string()).await.unwrap().unwrap());
        }
        assert_eq!(vault.usage().await.unwrap().0, 2);
        assert!(vault.get(&ids[0], "ana").await.unwrap().is_none());
        assert_eq!(vault.get(&ids[2], "ana").await.unwrap().unwrap().value, "2");
        assert!(vault.keep("ana", "$", &"x".repeat(VAULT_MAX_VALUE + 1)).await.unwrap().is_none());
    }
}
