//! An expiring, id-keyed store: values kept under unguessable ids (128 random bits, hex, compared
//! in constant time), each readable by its owner only, bounded by age, count and bytes, oldest
//! evicted first. The response body store and the reveal vault are its two uses; `Backing` is
//! either the in-process `MemoryStore` or the `RedisStore` every replica shares.

pub mod seal;
pub mod shared;

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::RngCore as _;

use crate::clock::SharedClock;
use shared::{Encoded, RedisStore, Unavailable};

/// What a value costs against the store's byte bound.
pub trait Weighed {
    fn weight(&self) -> usize;
}

pub trait ExpiringStore<V>: Send + Sync {
    /// Keeps `value` for `owner` and answers its new id; `None` when it cannot be kept (larger than
    /// the whole store).
    fn put(&self, owner: &str, value: V) -> Option<String>;
    /// The value kept under `id` for `owner`, unless it expired or was evicted. Anyone else, even
    /// holding the id, gets `None`.
    fn get(&self, id: &str, owner: &str) -> Option<V>;
    /// Like `get`, and removes it: a value that must be used once (a pending sign-in).
    fn take(&self, id: &str, owner: &str) -> Option<V>;
    /// Values and bytes kept now (expired ones not counted).
    fn usage(&self) -> (usize, usize);
}

/// Bounds of a store.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub ttl: Duration,
    pub max_entries: usize,
    pub max_bytes: usize,
}

struct Entry<V> {
    id: String,
    owner: String,
    value: V,
    weight: usize,
    stored_at: Instant,
}

struct Entries<V> {
    queue: VecDeque<Entry<V>>,
    bytes: usize,
}

impl<V> Entries<V> {
    fn pop_oldest(&mut self) {
        if let Some(entry) = self.queue.pop_front() {
            self.bytes -= entry.weight;
        }
    }
}

/// The in-process implementation: one lock, a queue in insertion (so expiry) order.
pub struct MemoryStore<V> {
    clock: SharedClock,
    limits: Limits,
    entries: Mutex<Entries<V>>,
}

impl<V> MemoryStore<V> {
    pub fn new(clock: SharedClock, limits: Limits) -> Self {
        Self { clock, limits, entries: Mutex::new(Entries { queue: VecDeque::new(), bytes: 0 }) }
    }

    fn expire(&self, entries: &mut Entries<V>, now: Instant) {
        while entries.queue.front().is_some_and(|e| now.saturating_duration_since(e.stored_at) >= self.limits.ttl) {
            entries.pop_oldest();
        }
    }
}

impl<V: Clone + Weighed + Send> ExpiringStore<V> for MemoryStore<V> {
    fn put(&self, owner: &str, value: V) -> Option<String> {
        let weight = value.weight();
        if weight > self.limits.max_bytes {
            return None;
        }
        let mut raw = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        let id = hex::encode(raw);
        let now = self.clock.now();
        let mut entries = self.entries.lock().ok()?;
        self.expire(&mut entries, now);
        while !entries.queue.is_empty()
            && (entries.queue.len() >= self.limits.max_entries || entries.bytes + weight > self.limits.max_bytes)
        {
            entries.pop_oldest();
        }
        entries.bytes += weight;
        entries.queue.push_back(Entry { id: id.clone(), owner: owner.to_owned(), value, weight, stored_at: now });
        Some(id)
    }

    fn get(&self, id: &str, owner: &str) -> Option<V> {
        let now = self.clock.now();
        let mut entries = self.entries.lock().ok()?;
        self.expire(&mut entries, now);
        // Every entry is compared, so the time taken says nothing about which id matched.
        let mut found = None;
        for entry in &entries.queue {
            if constant_time_eq(entry.id.as_bytes(), id.as_bytes()) && entry.owner == owner {
                found = Some(entry.value.clone());
            }
        }
        found
    }

    fn take(&self, id: &str, owner: &str) -> Option<V> {
        let now = self.clock.now();
        let mut entries = self.entries.lock().ok()?;
        self.expire(&mut entries, now);
        let mut found = None;
        for (at, entry) in entries.queue.iter().enumerate() {
            if constant_time_eq(entry.id.as_bytes(), id.as_bytes()) && entry.owner == owner {
                found = Some(at);
            }
        }
        let entry = entries.queue.remove(found?)?;
        entries.bytes -= entry.weight;
        Some(entry.value)
    }

    fn usage(&self) -> (usize, usize) {
        let now = self.clock.now();
        match self.entries.lock() {
            Ok(mut entries) => {
                self.expire(&mut entries, now);
                (entries.queue.len(), entries.bytes)
            }
            Err(_) => (0, 0),
        }
    }
}

/// Where a store's values live: in this process, or in Redis for every replica. Without Redis
/// nothing can fail; with it, a command that fails is `Unavailable`, never a silent fallback.
pub enum Backing<V> {
    Memory(MemoryStore<V>),
    Redis(Box<RedisStore<V>>),
}

impl<V: Clone + Weighed + Send + Encoded> Backing<V> {
    pub async fn put(&self, owner: &str, value: V) -> Result<Option<String>, Unavailable> {
        match self {
            Self::Memory(store) => Ok(store.put(owner, value)),
            Self::Redis(store) => store.put(owner, &value).await,
        }
    }

    pub async fn get(&self, id: &str, owner: &str) -> Result<Option<V>, Unavailable> {
        match self {
            Self::Memory(store) => Ok(store.get(id, owner)),
            Self::Redis(store) => store.get(id, owner).await,
        }
    }

    /// Values and bytes kept now; in Redis, by every replica together.
    pub async fn usage(&self) -> Result<(usize, usize), Unavailable> {
        match self {
            Self::Memory(store) => Ok(store.usage()),
            Self::Redis(store) => store.usage().await,
        }
    }
}

/// Ids are secrets of a kind (whoever holds one may read the value): compare without early exit.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    impl Weighed for String {
        fn weight(&self) -> usize {
            self.len()
        }
    }

    fn store(clock: SharedClock, max_entries: usize, max_bytes: usize) -> MemoryStore<String> {
        MemoryStore::new(clock, Limits { ttl: Duration::from_secs(60), max_entries, max_bytes })
    }

    #[test]
    fn a_value_is_read_back_by_its_owner_only_and_under_its_own_id_only() {
        let kept = store(ManualClock::new(), 10, 1_000);
        let id = kept.put("ana", "one".to_owned()).unwrap();
        assert_eq!(id.len(), 32);
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(kept.get(&id, "ana").as_deref(), Some("one"));
        assert_eq!(kept.get(&id, "bruno"), None);
        assert_eq!(kept.get(&id[..31], "ana"), None);
        assert_ne!(kept.put("ana", "two".to_owned()).unwrap(), id);
    }

    #[test]
    fn a_taken_value_is_gone_and_only_its_owner_can_take_it() {
        let kept = store(ManualClock::new(), 10, 1_000);
        let id = kept.put("ana", "one".to_owned()).unwrap();
        assert_eq!(kept.take(&id, "bruno"), None);
        assert_eq!(kept.take(&id, "ana").as_deref(), Some("one"));
        assert_eq!(kept.take(&id, "ana"), None);
        assert_eq!(kept.get(&id, "ana"), None);
        assert_eq!(kept.usage(), (0, 0));
    }

    #[test]
    fn values_expire_after_the_ttl_on_the_injected_clock() {
        let clock = ManualClock::new();
        let kept = store(clock.clone(), 10, 1_000);
        let id = kept.put("ana", "x".to_owned()).unwrap();
        clock.advance(Duration::from_secs(59));
        assert!(kept.get(&id, "ana").is_some());
        clock.advance(Duration::from_secs(1));
        assert_eq!(kept.get(&id, "ana"), None);
        assert_eq!(kept.usage(), (0, 0));
    }

    #[test]
    fn the_oldest_values_go_first_when_count_or_bytes_would_be_exceeded() {
        let kept = store(ManualClock::new(), 3, 10);
        let ids: Vec<String> =
            ["aaaa", "bbbb", "cc"].iter().map(|v| kept.put("ana", (*v).to_owned()).unwrap()).collect();
        assert_eq!(kept.usage(), (3, 10));
        // Count bound: a fourth evicts the first.
        let fourth = kept.put("ana", "d".to_owned()).unwrap();
        assert_eq!(kept.get(&ids[0], "ana"), None);
        assert_eq!(kept.usage(), (3, 7));
        // Byte bound: 9 more bytes evict until they fit.
        let big = kept.put("ana", "e".repeat(9)).unwrap();
        assert_eq!(kept.get(&ids[1], "ana"), None);
        assert_eq!(kept.get(&ids[2], "ana"), None);
        assert_eq!(kept.get(&fourth, "ana"), Some("d".to_owned()));
        assert!(kept.get(&big, "ana").is_some());
        assert_eq!(kept.usage(), (2, 10));
        // Larger than the whole store: not kept, nothing evicted.
        assert_eq!(kept.put("ana", "f".repeat(11)), None);
        assert_eq!(kept.usage(), (2, 10));
    }
}
