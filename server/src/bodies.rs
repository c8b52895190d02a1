//! Response bodies kept for the browser to fetch raw: keyed by unguessable ids, bounded by age, count and bytes.
//!
//! The execute answer carries metadata and a body id; the bytes travel on their own request
//! (`GET /api/bodies/{id}`) so a 20 MB body is never re-encoded as a JSON string. Bodies are stored
//! after token redaction and masking, so this path keeps the "token never reaches the browser" promise.

use std::time::Duration;

use bytes::Bytes;

use crate::clock::SharedClock;
use crate::expiring::shared::{Encoded, RedisStore, Unavailable};
use crate::expiring::{Backing, Limits, MemoryStore, Weighed};

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

/// In Redis: a 4-byte length, a small JSON header, then the bytes as they are (no escaping of a
/// 20 MB body). Stored plain: they are what the staff member was shown, already redacted.
impl Encoded for StoredBody {
    fn encode(&self) -> Vec<u8> {
        let header = serde_json::json!({
            "content_type": self.content_type,
            "owner": self.owner,
            "demo_masked": self.demo_masked,
        })
        .to_string();
        let mut out = Vec::with_capacity(4 + header.len() + self.bytes.len());
        out.extend_from_slice(&u32::try_from(header.len()).unwrap_or(u32::MAX).to_be_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(&self.bytes);
        out
    }

    fn decode(bytes: Vec<u8>) -> Option<Self> {
        #[derive(serde::Deserialize)]
        struct Header {
            content_type: Option<String>,
            owner: String,
            demo_masked: bool,
        }
        let length = usize::try_from(u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?)).ok()?;
        let header: Header = serde_json::from_slice(bytes.get(4..4 + length)?).ok()?;
        let mut bytes = Bytes::from(bytes);
        let body = bytes.split_off(4 + length);
        Some(Self {
            bytes: body,
            content_type: header.content_type,
            owner: header.owner,
            demo_masked: header.demo_masked,
        })
    }
}

/// The bodies, in this process or in Redis for every replica.
pub struct BodyStore {
    store: Backing<StoredBody>,
}

impl BodyStore {
    pub fn new(clock: SharedClock) -> Self {
        Self::with_limits(clock, BODY_TTL, MAX_TOTAL_BYTES, MAX_BODIES)
    }

    pub fn with_limits(clock: SharedClock, ttl: Duration, max_total: usize, max_bodies: usize) -> Self {
        Self { store: Backing::Memory(MemoryStore::new(clock, Self::limits(ttl, max_total, max_bodies))) }
    }

    /// Bodies in Redis under `<prefix>body:<id>`, with the same bounds, across every replica.
    pub fn in_redis(
        connection: redis::aio::ConnectionManager,
        prefix: &str,
        metrics: std::sync::Arc<crate::metrics::Metrics>,
    ) -> Self {
        Self::in_redis_with_limits(connection, prefix, metrics, Self::limits(BODY_TTL, MAX_TOTAL_BYTES, MAX_BODIES))
    }

    pub fn in_redis_with_limits(
        connection: redis::aio::ConnectionManager,
        prefix: &str,
        metrics: std::sync::Arc<crate::metrics::Metrics>,
        limits: Limits,
    ) -> Self {
        Self { store: Backing::Redis(Box::new(RedisStore::new(connection, prefix, "body", limits, metrics))) }
    }

    pub fn limits(ttl: Duration, max_total: usize, max_bodies: usize) -> Limits {
        Limits { ttl, max_entries: max_bodies, max_bytes: max_total }
    }

    /// Keeps `body` and returns its id. A body larger than the whole store is not kept (`None`).
    pub async fn insert(&self, body: StoredBody) -> Result<Option<String>, Unavailable> {
        let owner = body.owner.clone();
        self.store.put(&owner, body).await
    }

    /// The body stored under `id` for `owner`, unless it has expired or been evicted.
    pub async fn get(&self, id: &str, owner: &str) -> Result<Option<StoredBody>, Unavailable> {
        self.store.get(id, owner).await
    }

    /// Bodies and bytes kept now.
    pub async fn usage(&self) -> Result<(usize, usize), Unavailable> {
        self.store.usage().await
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

    #[tokio::test]
    async fn ids_are_128_random_bits_and_fetch_their_own_body() {
        let store = BodyStore::new(ManualClock::new());
        let a = store.insert(body("a")).await.unwrap().unwrap();
        let b = store.insert(body("b")).await.unwrap().unwrap();
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        assert_eq!(store.get(&a, "ana").await.unwrap().unwrap().bytes, "a");
        assert_eq!(store.get(&b, "ana").await.unwrap().unwrap().bytes, "b");
        assert!(store.get("0123456789abcdef0123456789abcdef", "ana").await.unwrap().is_none());
        assert!(store.get("", "ana").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_body_is_served_only_to_the_staff_member_who_ran_the_request() {
        let store = BodyStore::new(ManualClock::new());
        let id = store.insert(body("private")).await.unwrap().unwrap();
        assert!(store.get(&id, "bruno").await.unwrap().is_none());
        assert_eq!(store.get(&id, "ana").await.unwrap().unwrap().bytes, "private");
    }

    #[tokio::test]
    async fn bodies_expire_after_the_ttl() {
        let clock = ManualClock::new();
        let store = BodyStore::with_limits(clock.clone(), Duration::from_secs(60), 1_000, 10);
        let id = store.insert(body("x")).await.unwrap().unwrap();
        clock.advance(Duration::from_secs(59));
        assert!(store.get(&id, "ana").await.unwrap().is_some());
        clock.advance(Duration::from_secs(1));
        assert!(store.get(&id, "ana").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn the_oldest_bodies_go_when_the_byte_or_count_cap_is_reached() {
        let store = BodyStore::with_limits(ManualClock::new(), BODY_TTL, 10, 3);
        let first = store.insert(body("aaaa")).await.unwrap().unwrap();
        let second = store.insert(body("bbbb")).await.unwrap().unwrap();
        let third = store.insert(body("cccc")).await.unwrap().unwrap();
        assert!(store.get(&first, "ana").await.unwrap().is_none(), "12 bytes do not fit in 10");
        assert!(
            store.get(&second, "ana").await.unwrap().is_some() && store.get(&third, "ana").await.unwrap().is_some()
        );
        assert!(store.insert(body("01234567890")).await.unwrap().is_none(), "larger than the whole store");
        let store = BodyStore::with_limits(Arc::new(crate::clock::SystemClock), BODY_TTL, 1_000, 2);
        let mut ids = Vec::new();
        for i in 0..3 {
            ids.push(store.insert(body(&i.to_string())).await.unwrap().unwrap());
        }
        assert!(store.get(&ids[0], "ana").await.unwrap().is_none());
        assert!(store.get(&ids[2], "ana").await.unwrap().is_some());
    }

    #[test]
    fn a_body_travels_to_the_shared_store_and_back_unchanged() {
        let stored = StoredBody {
            bytes: Bytes::from_static(b"\x00{\"raw\": true}\xff"),
            content_type: Some("application/json".into()),
            owner: "ana".into(),
            demo_masked: true,
        };
        let back = StoredBody::decode(stored.encode()).unwrap();
        assert_eq!(back.bytes, stored.bytes);
        assert_eq!(back.content_type, stored.content_type);
        assert_eq!((back.owner.as_str(), back.demo_masked), ("ana", true));
        assert!(StoredBody::decode(vec![0, 0, 0, 9, b'{']).is_none());
    }

    #[test]
    fn every_occurrence_of_the_token_is_replaced_in_bytes() {
        let out = replace_bytes(b"\x00tok and tok\xff", b"tok", b"[removed]").unwrap();
        assert_eq!(out, b"\x00[removed] and [removed]\xff");
        assert!(replace_bytes(b"nothing here", b"tok", b"x").is_none());
        assert!(replace_bytes(b"to", b"tok", b"x").is_none());
    }
}
