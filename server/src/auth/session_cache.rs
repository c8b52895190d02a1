//! An in-process cache of session records in front of any tower-sessions store, so a busy session
//! is not a store round trip on every request.
//!
//! `CachedSessionStore<S>` wraps any `SessionStore`: `load` answers from memory when it can and
//! otherwise asks the store behind it and keeps the answer; `create` and `save` write through and
//! keep the record; `delete` (logout, `cycle_id` at login) drops it at once. A kept record is
//! never served past its own expiry on the injected clock, unknown ids are never cached (a
//! session created elsewhere is found in the store), and the cache holds at most `capacity`
//! records (oldest first out). A load that raced a `save` or `delete` of any session does not keep
//! what it read, so a deleted record cannot come back from a read that started before the delete.
//!
//! Several replicas sharing one store: this cache is local to the process. A logout handled by
//! another replica deletes the record in the shared store but not from this cache, so it would
//! outlive that logout. It is therefore used only in front of the SQLite store of one process
//! (`auth::store::Sessions`); with sessions in Redis neither it nor the login cache in
//! `StaffAccess` (`LoginCache`) is used.

use std::borrow::Borrow;
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use crate::clock::SharedClock;

/// Records kept by default: far more than the console's staff have sessions at once.
pub const DEFAULT_CAPACITY: usize = 10_000;

/// A map bounded in entries: inserting into a full map drops the oldest insertion first.
/// Every change bumps `epoch`, so a reader can tell whether the map moved while it awaited.
#[derive(Debug)]
pub struct Bounded<K, V> {
    capacity: usize,
    entries: HashMap<K, (V, u64)>,
    /// Insertion order as (key, stamp); a stale pair (re-inserted or removed key) is skipped.
    order: VecDeque<(K, u64)>,
    next_stamp: u64,
    epoch: u64,
}

impl<K: Eq + Hash + Clone, V> Bounded<K, V> {
    pub fn new(capacity: usize) -> Self {
        Self { capacity: capacity.max(1), entries: HashMap::new(), order: VecDeque::new(), next_stamp: 0, epoch: 0 }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Changes since the map was made; equal epochs mean nothing was inserted or removed between.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    pub fn get<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.entries.get(key).map(|(value, _)| value)
    }

    pub fn get_mut<Q: Hash + Eq + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        self.entries.get_mut(key).map(|(value, _)| value)
    }

    pub fn insert(&mut self, key: K, value: V) {
        self.epoch += 1;
        let stamp = self.next_stamp;
        self.next_stamp += 1;
        if self.entries.insert(key.clone(), (value, stamp)).is_none() {
            while self.entries.len() > self.capacity {
                self.evict_oldest();
            }
        }
        self.order.push_back((key, stamp));
        // Re-inserted keys leave stale pairs behind; rebuild before they outnumber the live ones.
        if self.order.len() > self.capacity.saturating_mul(2) {
            let mut live: Vec<(K, u64)> = self.entries.iter().map(|(k, (_, s))| (k.clone(), *s)).collect();
            live.sort_unstable_by_key(|(_, s)| *s);
            self.order = live.into();
        }
    }

    pub fn remove<Q: Hash + Eq + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.epoch += 1;
        self.entries.remove(key).map(|(value, _)| value)
    }

    fn evict_oldest(&mut self) {
        while let Some((key, stamp)) = self.order.pop_front() {
            if self.entries.get(&key).is_some_and(|(_, s)| *s == stamp) {
                self.entries.remove(&key);
                return;
            }
        }
    }
}

/// A `SessionStore` that keeps the records it has seen in memory (see the module documentation).
#[derive(Clone)]
pub struct CachedSessionStore<S> {
    inner: S,
    clock: SharedClock,
    records: Arc<Mutex<Bounded<Id, Record>>>,
}

impl<S> std::fmt::Debug for CachedSessionStore<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedSessionStore").finish_non_exhaustive()
    }
}

impl<S> CachedSessionStore<S> {
    pub fn new(inner: S, clock: SharedClock, capacity: usize) -> Self {
        Self { inner, clock, records: Arc::new(Mutex::new(Bounded::new(capacity))) }
    }

    /// The store behind the cache.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Records kept in memory now.
    pub fn cached(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Bounded<Id, Record>> {
        // The map stays consistent whatever panicked while holding it: every change is one call.
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether a record is still valid now: the store's own rule, in whole seconds.
    fn alive(&self, record: &Record) -> bool {
        record.expiry_date.unix_timestamp() > self.clock.wall_ms().div_euclid(1000)
    }
}

#[async_trait::async_trait]
impl<S: SessionStore + Clone> SessionStore for CachedSessionStore<S> {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.inner.create(record).await?;
        self.lock().insert(record.id, record.clone());
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        // Dropped first, so a failed save never leaves the old record served from here.
        let epoch = {
            let mut records = self.lock();
            records.remove(&record.id);
            records.epoch()
        };
        self.inner.save(record).await?;
        // The stores never bring back a record deleted meanwhile (a logout racing this save), so
        // neither does the cache: kept only when nothing was dropped while the store answered.
        let mut records = self.lock();
        if records.epoch() == epoch {
            records.insert(record.id, record.clone());
        }
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let epoch = {
            let mut records = self.lock();
            match records.get(id) {
                Some(record) if self.alive(record) => return Ok(Some(record.clone())),
                Some(_) => {
                    records.remove(id);
                }
                None => {}
            }
            records.epoch()
        };
        let loaded = self.inner.load(id).await?;
        if let Some(record) = &loaded {
            let mut records = self.lock();
            // A save or delete while the store answered may have made this copy stale: not kept.
            if records.epoch() == epoch && self.alive(record) {
                records.insert(*id, record.clone());
            }
        }
        Ok(loaded)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.lock().remove(id);
        let outcome = self.inner.delete(id).await;
        // Again after the store: a load that started before the delete cannot keep its copy.
        self.lock().remove(id);
        outcome
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use time::OffsetDateTime;

    use super::*;
    use crate::clock::ManualClock;

    /// A store in a map that never judges expiry itself, so only the cache's rules are seen.
    #[derive(Clone, Debug, Default)]
    struct MemoryStore(Arc<Mutex<HashMap<Id, Record>>>);

    #[async_trait::async_trait]
    impl SessionStore for MemoryStore {
        async fn save(&self, record: &Record) -> session_store::Result<()> {
            self.0.lock().unwrap().insert(record.id, record.clone());
            Ok(())
        }
        async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
            Ok(self.0.lock().unwrap().get(id).cloned())
        }
        async fn delete(&self, id: &Id) -> session_store::Result<()> {
            self.0.lock().unwrap().remove(id);
            Ok(())
        }
    }

    fn record(clock: &ManualClock, lifetime: Duration) -> Record {
        use crate::clock::Clock as _;
        let expiry = clock.wall_ms().div_euclid(1000) + i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX);
        Record {
            id: Id::default(),
            data: HashMap::from([("login".to_owned(), serde_json::json!("abc"))]),
            expiry_date: OffsetDateTime::from_unix_timestamp(expiry).unwrap_or(OffsetDateTime::UNIX_EPOCH),
        }
    }

    #[tokio::test]
    async fn a_record_is_served_from_memory_after_the_store_forgot_it() {
        let clock = ManualClock::new();
        let inner = MemoryStore::default();
        let store = CachedSessionStore::new(inner.clone(), clock.clone(), 8);
        let mut rec = record(&clock, Duration::from_secs(60));
        store.create(&mut rec).await.unwrap();
        // Removed behind the cache's back: only the cache can still answer.
        inner.delete(&rec.id).await.unwrap();
        assert_eq!(store.load(&rec.id).await.unwrap().map(|r| r.id), Some(rec.id));
    }

    #[tokio::test]
    async fn a_deleted_session_is_gone_from_the_cache_at_once() {
        let clock = ManualClock::new();
        let store = CachedSessionStore::new(MemoryStore::default(), clock.clone(), 8);
        let mut rec = record(&clock, Duration::from_secs(60));
        store.create(&mut rec).await.unwrap();
        assert!(store.load(&rec.id).await.unwrap().is_some());
        store.delete(&rec.id).await.unwrap();
        assert_eq!(store.cached(), 0);
        assert!(store.load(&rec.id).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_cached_record_is_not_served_past_its_expiry_on_the_clock() {
        let clock = ManualClock::new();
        let inner = MemoryStore::default();
        let store = CachedSessionStore::new(inner.clone(), clock.clone(), 8);
        let mut rec = record(&clock, Duration::from_secs(60));
        store.create(&mut rec).await.unwrap();
        // Only the cache holds it now, so every answer below is the cache's own.
        inner.delete(&rec.id).await.unwrap();
        clock.advance(Duration::from_secs(59));
        assert!(store.load(&rec.id).await.unwrap().is_some());
        clock.advance(Duration::from_secs(1));
        assert!(store.load(&rec.id).await.unwrap().is_none());
        assert_eq!(store.cached(), 0);
    }

    #[tokio::test]
    async fn the_cache_keeps_at_most_its_capacity_and_drops_the_oldest_first() {
        let clock = ManualClock::new();
        let inner = MemoryStore::default();
        let store = CachedSessionStore::new(inner.clone(), clock.clone(), 3);
        let mut ids = Vec::new();
        for _ in 0..5 {
            let mut rec = record(&clock, Duration::from_secs(60));
            store.create(&mut rec).await.unwrap();
            ids.push(rec.id);
        }
        assert_eq!(store.cached(), 3);
        for id in &ids {
            inner.delete(id).await.unwrap();
        }
        let kept: Vec<bool> = {
            let mut kept = Vec::new();
            for id in &ids {
                kept.push(store.load(id).await.unwrap().is_some());
            }
            kept
        };
        assert_eq!(kept, [false, false, true, true, true]);
    }

    #[tokio::test]
    async fn a_saved_record_replaces_the_cached_one() {
        let clock = ManualClock::new();
        let store = CachedSessionStore::new(MemoryStore::default(), clock.clone(), 8);
        let mut rec = record(&clock, Duration::from_secs(60));
        store.create(&mut rec).await.unwrap();
        rec.data.insert("login".into(), serde_json::json!("other"));
        store.save(&rec).await.unwrap();
        let loaded = store.load(&rec.id).await.unwrap().unwrap();
        assert_eq!(loaded.data.get("login"), Some(&serde_json::json!("other")));
    }

    #[test]
    fn re_inserting_one_key_many_times_keeps_the_order_queue_bounded() {
        let mut map = Bounded::new(4);
        for i in 0..1_000 {
            map.insert(1, i);
        }
        assert_eq!(map.len(), 1);
        assert!(map.order.len() <= 8);
        assert_eq!(map.get(&1), Some(&999));
    }
}
