//! Originals of masked secrets, kept only for an admin's reveal: per owner, bounded, expiring like the body store.

use std::time::Duration;

use crate::clock::SharedClock;
use crate::expiring::{ExpiringStore, Limits, MemoryStore, Weighed};

/// How long an original stays revealable (the same as a stored body).
pub const VAULT_TTL: Duration = crate::bodies::BODY_TTL;
/// Originals kept at most; the oldest go first.
pub const VAULT_ENTRIES: usize = 2_048;
/// Longer originals are not kept (nobody reads a 64 KiB secret off a screen).
pub const VAULT_MAX_VALUE: usize = 64 * 1024;
/// Bytes of originals kept at most, whatever their number; the oldest go first.
pub const VAULT_MAX_BYTES: usize = 16 * 1024 * 1024;

/// What a reveal hands back.
#[derive(Clone, PartialEq, Eq)]
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

/// The originals, behind the store seam: in memory by default.
pub struct RevealVault {
    store: Box<dyn ExpiringStore<Kept>>,
}

impl RevealVault {
    pub fn new(clock: SharedClock) -> Self {
        Self::with_limits(clock, VAULT_TTL, VAULT_ENTRIES)
    }

    pub fn with_limits(clock: SharedClock, ttl: Duration, max_entries: usize) -> Self {
        let limits = Limits { ttl, max_entries, max_bytes: VAULT_MAX_BYTES };
        Self { store: Box::new(MemoryStore::new(clock, limits)) }
    }

    /// Keeps `value` for `owner`; the id is 128 random bits in hex. Too long a value is not kept.
    pub fn keep(&self, owner: &str, location: &str, value: &str) -> Option<String> {
        if value.len() > VAULT_MAX_VALUE {
            return None;
        }
        self.store.put(owner, Kept { location: location.to_owned(), value: value.to_owned() })
    }

    /// The original kept under `id` for `owner`, unless it expired or was evicted.
    pub fn get(&self, id: &str, owner: &str) -> Option<Kept> {
        self.store.get(id, owner)
    }

    pub fn len(&self) -> usize {
        self.store.usage().0
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes kept now.
    pub fn bytes(&self) -> usize {
        self.store.usage().1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn an_original_is_revealed_only_to_its_owner_and_only_until_it_expires() {
        let clock = ManualClock::new();
        let vault = RevealVault::with_limits(clock.clone(), Duration::from_secs(60), 10);
        let id = vault.keep("ana", "$['client_secret']", "s3cr3t").unwrap();
        assert_eq!(id.len(), 32);
        assert!(vault.get(&id, "bruno").is_none(), "someone else holding the id gets nothing");
        assert_eq!(vault.get(&id, "ana").unwrap().value, "s3cr3t");
        clock.advance(Duration::from_secs(60));
        assert!(vault.get(&id, "ana").is_none());
    }

    #[test]
    fn the_vault_is_bounded_and_drops_the_oldest_first() {
        let vault = RevealVault::with_limits(ManualClock::new(), VAULT_TTL, 2);
        let ids: Vec<_> = (0..3).map(|i| vault.keep("ana", "$", &i.to_string()).unwrap()).collect();
        assert_eq!(vault.len(), 2);
        assert!(vault.get(&ids[0], "ana").is_none());
        assert_eq!(vault.get(&ids[2], "ana").unwrap().value, "2");
        assert!(vault.keep("ana", "$", &"x".repeat(VAULT_MAX_VALUE + 1)).is_none());
    }
}
