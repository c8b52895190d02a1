//! The `ExpiringStore` kinds on Redis, shared by every replica: a value stored by one replica is
//! read by another, so a round-robin balancer needs no sticky sessions for bodies or reveals.
//!
//! Keys (one Redis, not Cluster: the scripts touch keys they compute):
//! - `<prefix><kind>:<id>` — a hash of `owner` and `data` (sealed with AES-256-GCM when the store
//!   has a `Seal`), expiring after the TTL (`PEXPIRE`);
//! - `<prefix><kind>:index` — a sorted set of ids by the time stored (Redis's own clock, `TIME`,
//!   so replicas whose clocks differ agree; nudged by a microsecond to stay in insertion order), `<prefix><kind>:weights` (id → bytes) and
//!   `<prefix><kind>:bytes` (their sum). They carry the bounds: a store is bounded in total, across
//!   every replica and owner, exactly like the in-process store (count and bytes, oldest evicted
//!   first), and a put evicts in the same script, so two replicas never both fill the last place.
//!
//! Every command is counted in `/metrics`; a failed one is `Unavailable`, never a fallback to a
//! per-process store (a value kept on one replica only would be missing on the next request).

use std::marker::PhantomData;
use std::sync::Arc;

use rand::RngCore as _;
use redis::aio::ConnectionManager;
use redis::{RedisError, Script};
use subtle::ConstantTimeEq as _;

use super::seal::Seal;
use super::{Limits, Weighed};
use crate::metrics::Metrics;

/// The shared store did not answer (or answered an error); callers answer 503 with this text.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the shared store is unavailable; try again in a moment")]
pub struct Unavailable;

/// How a value travels as bytes.
pub trait Encoded: Sized {
    fn encode(&self) -> Vec<u8>;
    fn decode(bytes: Vec<u8>) -> Option<Self>;
}

/// Drops every id stored at least the TTL ago (their keys have expired already) with its weight.
const PRELUDE: &str = r"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ttl = tonumber(ARGV[1])
local function drop(id)
  local weight = tonumber(redis.call('HGET', KEYS[2], id) or '0')
  redis.call('HDEL', KEYS[2], id)
  redis.call('ZREM', KEYS[1], id)
  redis.call('DEL', ARGV[2] .. id)
  if weight > 0 then redis.call('DECRBY', KEYS[3], weight) end
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - ttl)) do drop(id) end
";

/// ARGV: ttl, key stem, id, owner, data, weight, max entries, max bytes.
const PUT: &str = r"
local weight = tonumber(ARGV[6])
local function total() return tonumber(redis.call('GET', KEYS[3]) or '0') end
while redis.call('ZCARD', KEYS[1]) > 0
  and (redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[7]) or total() + weight > tonumber(ARGV[8])) do
  drop(redis.call('ZRANGE', KEYS[1], 0, 0)[1])
end
-- Strictly after the newest, so the oldest is first even within one millisecond.
local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2]
local score = now
if newest and tonumber(newest) >= now then score = tonumber(newest) + 0.001 end
local key = ARGV[2] .. ARGV[3]
redis.call('HSET', key, 'owner', ARGV[4], 'data', ARGV[5])
redis.call('PEXPIRE', key, ttl)
redis.call('ZADD', KEYS[1], score, ARGV[3])
redis.call('HSET', KEYS[2], ARGV[3], weight)
redis.call('INCRBY', KEYS[3], weight)
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ttl) end
return 1
";

const USAGE: &str = r"
return { redis.call('ZCARD', KEYS[1]), tonumber(redis.call('GET', KEYS[3]) or '0') }
";

pub struct RedisStore<V> {
    connection: ConnectionManager,
    /// `<prefix><kind>:`, the stem of every key of this store.
    stem: String,
    kind: &'static str,
    limits: Limits,
    seal: Option<Seal>,
    metrics: Arc<Metrics>,
    put: Script,
    usage: Script,
    value: PhantomData<fn() -> V>,
}

impl<V> RedisStore<V> {
    pub fn new(
        connection: ConnectionManager,
        prefix: &str,
        kind: &'static str,
        limits: Limits,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            connection,
            stem: format!("{prefix}{kind}:"),
            kind,
            limits,
            seal: None,
            metrics,
            put: Script::new(&format!("{PRELUDE}{PUT}")),
            usage: Script::new(&format!("{PRELUDE}{USAGE}")),
            value: PhantomData,
        }
    }

    /// Values are sealed with `seal` before they reach Redis.
    pub fn sealed(mut self, seal: Seal) -> Self {
        self.seal = Some(seal);
        self
    }

    fn bookkeeping(&self) -> [String; 3] {
        ["index", "weights", "bytes"].map(|name| format!("{}{name}", self.stem))
    }

    fn ttl_ms(&self) -> u64 {
        u64::try_from(self.limits.ttl.as_millis()).unwrap_or(u64::MAX).max(1)
    }

    /// What a sealed value is bound to: its key and owner.
    fn binding(&self, id: &str, owner: &str) -> Vec<u8> {
        format!("{}{id}\0{owner}", self.stem).into_bytes()
    }

    fn outcome<T>(&self, operation: &'static str, result: Result<T, RedisError>) -> Result<T, Unavailable> {
        self.metrics.shared_store_operation(self.kind, operation);
        result.map_err(|error| {
            let counted = match operation {
                "put" => "shared_put",
                "get" => "shared_get",
                _ => "shared_usage",
            };
            self.metrics.redis_error(counted);
            tracing::warn!(store = self.kind, operation, error = %error, "Redis shared store command failed");
            Unavailable
        })
    }
}

impl<V: Encoded + Weighed> RedisStore<V> {
    /// Keeps `value` for `owner` and answers its new id; `Ok(None)` when it is larger than the
    /// whole store (or cannot be sealed).
    pub async fn put(&self, owner: &str, value: &V) -> Result<Option<String>, Unavailable> {
        let weight = value.weight();
        if weight > self.limits.max_bytes {
            return Ok(None);
        }
        let mut raw = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        let id = hex::encode(raw);
        let plain = value.encode();
        let data = match &self.seal {
            Some(seal) => match seal.seal(&plain, &self.binding(&id, owner)) {
                Some(sealed) => sealed,
                None => return Ok(None),
            },
            None => plain,
        };
        let mut invocation = self.put.prepare_invoke();
        for key in self.bookkeeping() {
            invocation.key(key);
        }
        invocation
            .arg(self.ttl_ms())
            .arg(&self.stem)
            .arg(&id)
            .arg(owner)
            .arg(data)
            .arg(weight)
            .arg(self.limits.max_entries)
            .arg(self.limits.max_bytes);
        let mut connection = self.connection.clone();
        let result = invocation.invoke_async::<i64>(&mut connection).await;
        self.outcome("put", result)?;
        Ok(Some(id))
    }

    /// The value kept under `id` for `owner`; `Ok(None)` for anyone else, or once it expired or
    /// was evicted. One round trip.
    pub async fn get(&self, id: &str, owner: &str) -> Result<Option<V>, Unavailable> {
        // Ids are 32 hex digits: anything else names no key (and never reaches Redis).
        if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let mut connection = self.connection.clone();
        let result = redis::cmd("HMGET")
            .arg(format!("{}{id}", self.stem))
            .arg("owner")
            .arg("data")
            .query_async::<(Option<Vec<u8>>, Option<Vec<u8>>)>(&mut connection)
            .await;
        let (Some(stored_owner), Some(data)) = self.outcome("get", result)? else { return Ok(None) };
        if !bool::from(stored_owner.as_slice().ct_eq(owner.as_bytes())) {
            return Ok(None);
        }
        let plain = match &self.seal {
            Some(seal) => match seal.open(&data, &self.binding(id, owner)) {
                Some(plain) => plain,
                None => return Ok(None),
            },
            None => data,
        };
        Ok(V::decode(plain))
    }

    /// Values and bytes kept now, across every replica (expired ones dropped first).
    pub async fn usage(&self) -> Result<(usize, usize), Unavailable> {
        let mut invocation = self.usage.prepare_invoke();
        for key in self.bookkeeping() {
            invocation.key(key);
        }
        invocation.arg(self.ttl_ms()).arg(&self.stem);
        let mut connection = self.connection.clone();
        let result = invocation.invoke_async::<(usize, usize)>(&mut connection).await;
        self.outcome("usage", result)
    }
}
