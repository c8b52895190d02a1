//! Response bodies kept for the browser to fetch raw: keyed by unguessable ids, bounded by age, count and bytes.
//!
//! The execute answer carries metadata and a body id; the bytes travel on their own request
//! (`GET /api/bodies/{id}`) so a 20 MB body is never re-encoded as a JSON string. Bodies are stored
//! after token redaction and masking, so this path keeps the "token never reaches the browser" promise.

use std::time::Duration;

use bytes::Bytes;

use crate::clock::SharedClock;
use crate::expiring::{ExpiringStore, Limits, MemoryStore, Weighed};

/// How long a body stays fetchable after its request.
pub const BODY_TTL: Duration = Duration::from_secs(30 * 60);
/// Total bytes kept across all bodies; the oldest go first.
pub const MAX_TOTAL_BYTES: usize = 256 * 1024 * 1024;
/// Bodies kept at most, whatever their size.
pub const MAX_BODIES: usize = 128;

/// One stored body.
#[derive(Clone, Debug)]
pub struct StoredBody {
    pub bytes: Bytes,
    pub content_type: Option<String>,
    /// The staff member whose request produced it: nobody else may read it, even holding the id.
    pub owner: String,
    /// Masked for demo mode when stored; a body stored outside demo mode is masked again before a
    /// session in demo mode sees it.
    pub demo_masked: bool,
}

impl Weighed for StoredBody {
    fn weight(&self) -> usize {
        self.bytes.len()
    }
}

/// The bodies, behind the store seam: in memory by default.
pub struct BodyStore {
    store: Box<dyn ExpiringStore<StoredBody>>,
}

impl BodyStore {
    pub fn new(clock: SharedClock) -> Self {
        Self::with_limits(clock, BODY_TTL, MAX_TOTAL_BYTES, MAX_BODIES)
    }

    pub fn with_limits(clock: SharedClock, ttl: Duration, max_total: usize, max_bodies: usize) -> Self {
        let limits = Limits { ttl, max_entries: max_bodies, max_bytes: max_total };
        Self::with_store(Box::new(MemoryStore::new(clock, limits)))
    }

    pub fn with_store(store: Box<dyn ExpiringStore<StoredBody>>) -> Self {
        Self { store }
    }

    /// Keeps `body` and returns its id. A body larger than the whole store is not kept (`None`).
    pub fn insert(&self, body: StoredBody) -> Option<String> {
        let owner = body.owner.clone();
        self.store.put(&owner, body)
    }

    /// The body stored under `id` for `owner`, unless it has expired or been evicted.
    pub fn get(&self, id: &str, owner: &str) -> Option<StoredBody> {
        self.store.get(id, owner)
    }

    /// Bodies and bytes kept now.
    pub fn usage(&self) -> (usize, usize) {
        self.store.usage()
    }
}

/// Replaces every occurrence of `needle` in `haystack` (bytes, so binary bodies survive untouched).
pub fn replace_bytes(haystack: &[u8], needle: &[u8], replacement: &[u8]) -> Option<Vec<u8>> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0;
    // A vectorised substring search: this runs on every answer, and the token is rarely there.
    let finder = memchr::memmem::Finder::new(needle);
    while let Some(found) = finder.find(&haystack[copied..]) {
        let i = copied + found;
        let buffer = out.get_or_insert_with(|| Vec::with_capacity(haystack.len()));
        buffer.extend_from_slice(&haystack[copied..i]);
        buffer.extend_from_slice(replacement);
        copied = i + needle.len();
    }
    if let Some(buffer) = &mut out {
        buffer.extend_from_slice(&haystack[copied..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::clock::ManualClock;

    fn body(text: &str) -> StoredBody {
        StoredBody { bytes: Bytes::from(text.to_owned()), content_type: None, owner: "ana".into(), demo_masked: false }
    }

    #[test]
    fn ids_are_128_random_bits_and_fetch_their_own_body() {
        let store = BodyStore::new(ManualClock::new());
        let a = store.insert(body("a")).unwrap();
        let b = store.insert(body("b")).unwrap();
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        assert_eq!(store.get(&a, "ana").unwrap().bytes, "a");
        assert_eq!(store.get(&b, "ana").unwrap().bytes, "b");
        assert!(store.get("0123456789abcdef0123456789abcdef", "ana").is_none());
        assert!(store.get("", "ana").is_none());
    }

    #[test]
    fn a_body_is_served_only_to_the_staff_member_who_ran_the_request() {
        let store = BodyStore::new(ManualClock::new());
        let id = store.insert(body("private")).unwrap();
        assert!(store.get(&id, "bruno").is_none());
        assert_eq!(store.get(&id, "ana").unwrap().bytes, "private");
    }

    #[test]
    fn bodies_expire_after_the_ttl() {
        let clock = ManualClock::new();
        let store = BodyStore::with_limits(clock.clone(), Duration::from_secs(60), 1_000, 10);
        let id = store.insert(body("x")).unwrap();
        clock.advance(Duration::from_secs(59));
        assert!(store.get(&id, "ana").is_some());
        clock.advance(Duration::from_secs(1));
        assert!(store.get(&id, "ana").is_none());
    }

    #[test]
    fn the_oldest_bodies_go_when_the_byte_or_count_cap_is_reached() {
        let store = BodyStore::with_limits(ManualClock::new(), BODY_TTL, 10, 3);
        let first = store.insert(body("aaaa")).unwrap();
        let second = store.insert(body("bbbb")).unwrap();
        let third = store.insert(body("cccc")).unwrap();
        assert!(store.get(&first, "ana").is_none(), "12 bytes do not fit in 10");
        assert!(store.get(&second, "ana").is_some() && store.get(&third, "ana").is_some());
        assert!(store.insert(body("01234567890")).is_none(), "larger than the whole store");
        let store = BodyStore::with_limits(Arc::new(crate::clock::SystemClock), BODY_TTL, 1_000, 2);
        let ids: Vec<_> = (0..3).map(|i| store.insert(body(&i.to_string())).unwrap()).collect();
        assert!(store.get(&ids[0], "ana").is_none());
        assert!(store.get(&ids[2], "ana").is_some());
    }

    #[test]
    fn every_occurrence_of_the_token_is_replaced_in_bytes() {
        let out = replace_bytes(b"\x00tok and tok\xff", b"tok", b"[removed]").unwrap();
        assert_eq!(out, b"\x00[removed] and [removed]\xff");
        assert!(replace_bytes(b"nothing here", b"tok", b"x").is_none());
        assert!(replace_bytes(b"to", b"tok", b"x").is_none());
    }
}
