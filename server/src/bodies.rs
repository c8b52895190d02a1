//! Response bodies kept for the browser to fetch raw: keyed by unguessable ids, bounded by age, count and bytes.
//!
//! The execute answer carries metadata and a body id; the bytes travel on their own request
//! (`GET /api/bodies/{id}`) so a 20 MB body is never re-encoded as a JSON string. Bodies are stored
//! after token redaction and masking, so this path keeps the "token never reaches the browser" promise.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rand::RngCore as _;

use crate::clock::SharedClock;

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

struct Entry {
    id: String,
    body: StoredBody,
    stored_at: Instant,
}

/// The bounded in-memory store. Ids are 128 random bits in hex.
pub struct BodyStore {
    clock: SharedClock,
    ttl: Duration,
    max_total: usize,
    max_bodies: usize,
    entries: Mutex<VecDeque<Entry>>,
}

impl BodyStore {
    pub fn new(clock: SharedClock) -> Self {
        Self::with_limits(clock, BODY_TTL, MAX_TOTAL_BYTES, MAX_BODIES)
    }

    pub fn with_limits(clock: SharedClock, ttl: Duration, max_total: usize, max_bodies: usize) -> Self {
        Self { clock, ttl, max_total, max_bodies, entries: Mutex::new(VecDeque::new()) }
    }

    /// Keeps `body` and returns its id. A body larger than the whole store is not kept (`None`).
    pub fn insert(&self, body: StoredBody) -> Option<String> {
        if body.bytes.len() > self.max_total {
            return None;
        }
        let mut raw = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        let id = hex::encode(raw);
        let now = self.clock.now();
        let mut entries = self.entries.lock().ok()?;
        self.evict(&mut entries, now);
        let incoming = body.bytes.len();
        while !entries.is_empty()
            && (entries.len() >= self.max_bodies
                || entries.iter().map(|e| e.body.bytes.len()).sum::<usize>() + incoming > self.max_total)
        {
            entries.pop_front();
        }
        entries.push_back(Entry { id: id.clone(), body, stored_at: now });
        Some(id)
    }

    /// The body stored under `id` for `owner`, unless it has expired or been evicted.
    pub fn get(&self, id: &str, owner: &str) -> Option<StoredBody> {
        let now = self.clock.now();
        let mut entries = self.entries.lock().ok()?;
        self.evict(&mut entries, now);
        entries
            .iter()
            .find(|e| constant_time_eq(e.id.as_bytes(), id.as_bytes()) && e.body.owner == owner)
            .map(|e| e.body.clone())
    }

    fn evict(&self, entries: &mut VecDeque<Entry>, now: Instant) {
        entries.retain(|e| now.saturating_duration_since(e.stored_at) < self.ttl);
    }
}

/// Ids are secrets of a kind (whoever holds one may read the body): compare without early exit.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Replaces every occurrence of `needle` in `haystack` (bytes, so binary bodies survive untouched).
pub fn replace_bytes(haystack: &[u8], needle: &[u8], replacement: &[u8]) -> Option<Vec<u8>> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0;
    let mut i = 0;
    while i + needle.len() <= haystack.len() {
        if haystack[i..].starts_with(needle) {
            let buffer = out.get_or_insert_with(|| Vec::with_capacity(haystack.len()));
            buffer.extend_from_slice(&haystack[copied..i]);
            buffer.extend_from_slice(replacement);
            i += needle.len();
            copied = i;
        } else {
            i += 1;
        }
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
