//! Failed-login limits per account name and per client address: in memory (sliding window), or
//! in Redis for every replica (`LoginThrottle::in_redis`), so failures on one count on all.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use std::sync::Arc;

use redis::aio::ConnectionManager;
use sha2::{Digest as _, Sha256};

use crate::clock::SharedClock;
use crate::expiring::shared::Unavailable;
use crate::metrics::Metrics;

/// Bounds memory under a flood of distinct names or addresses; the oldest keys are dropped first.
const MAX_KEYS: usize = 10_000;

/// Where failures are counted.
pub enum LoginThrottle {
    Memory(MemoryThrottle),
    Redis(RedisThrottle),
}

impl LoginThrottle {
    pub fn new(max_failures: u32, window: Duration, clock: SharedClock) -> Self {
        Self::Memory(MemoryThrottle::new(max_failures, window, clock))
    }

    /// Counted in Redis under `<prefix>throttle:<sha256 of the key>`: never the name or address.
    pub fn in_redis(
        max_failures: u32,
        window: Duration,
        connection: ConnectionManager,
        prefix: &str,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self::Redis(RedisThrottle { max_failures, window, connection, prefix: prefix.to_owned(), metrics })
    }

    /// `Some(wait)` when any key has used up its failures within the window. With Redis, an
    /// error when it does not answer: logins then fail closed (the sessions they would open live
    /// in the same Redis, so nothing more is lost).
    pub async fn blocked(&self, keys: &[String]) -> Result<Option<Duration>, Unavailable> {
        match self {
            Self::Memory(throttle) => Ok(throttle.blocked(keys)),
            Self::Redis(throttle) => throttle.blocked(keys).await,
        }
    }

    pub async fn record_failure(&self, keys: &[String]) -> Result<(), Unavailable> {
        match self {
            Self::Memory(throttle) => {
                throttle.record_failure(keys);
                Ok(())
            }
            Self::Redis(throttle) => throttle.record_failure(keys).await,
        }
    }

    pub async fn clear(&self, key: &str) -> Result<(), Unavailable> {
        match self {
            Self::Memory(throttle) => {
                throttle.clear(key);
                Ok(())
            }
            Self::Redis(throttle) => throttle.clear(key).await,
        }
    }
}

/// In Redis: one counter per key, started by the first failure and expiring a window later
/// (`SET NX PX` then `INCR`, one atomic round trip). A key is locked while its counter has
/// reached the limit, until the counter expires: a fixed window from the first failure, where
/// the in-memory throttle slides from the oldest of the last failures.
pub struct RedisThrottle {
    max_failures: u32,
    window: Duration,
    connection: ConnectionManager,
    prefix: String,
    metrics: Arc<Metrics>,
}

impl RedisThrottle {
    fn key(&self, key: &str) -> String {
        format!("{}throttle:{}", self.prefix, hex::encode(Sha256::digest(key.as_bytes())))
    }

    fn outcome<T>(&self, operation: &'static str, result: Result<T, redis::RedisError>) -> Result<T, Unavailable> {
        self.metrics.shared_store_operation("throttle", operation);
        result.map_err(|error| {
            self.metrics.redis_error(match operation {
                "check" => "throttle_check",
                "fail" => "throttle_fail",
                _ => "throttle_clear",
            });
            tracing::warn!(operation, error = %error, "Redis login throttle command failed");
            Unavailable
        })
    }

    async fn blocked(&self, keys: &[String]) -> Result<Option<Duration>, Unavailable> {
        let mut pipe = redis::pipe();
        for key in keys {
            let key = self.key(key);
            pipe.cmd("GET").arg(&key).cmd("PTTL").arg(&key);
        }
        let mut connection = self.connection.clone();
        let answers: Vec<(Option<u64>, i64)> = {
            let flat: Result<Vec<redis::Value>, _> = pipe.query_async(&mut connection).await;
            let flat = self.outcome("check", flat)?;
            flat.chunks(2)
                .map(|pair| {
                    let count = redis::from_redis_value::<Option<u64>>(pair[0].clone()).ok().flatten();
                    let ttl = pair.get(1).and_then(|v| redis::from_redis_value::<i64>(v.clone()).ok()).unwrap_or(-2);
                    (count, ttl)
                })
                .collect()
        };
        Ok(answers
            .into_iter()
            .filter(|(count, ttl)| count.is_some_and(|c| c >= u64::from(self.max_failures)) && *ttl > 0)
            .map(|(_, ttl)| Duration::from_millis(ttl.unsigned_abs()))
            .max())
    }

    async fn record_failure(&self, keys: &[String]) -> Result<(), Unavailable> {
        let window = u64::try_from(self.window.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut pipe = redis::pipe();
        pipe.atomic();
        for key in keys {
            let key = self.key(key);
            pipe.cmd("SET").arg(&key).arg(0).arg("NX").arg("PX").arg(window).ignore();
            pipe.cmd("INCR").arg(&key).ignore();
        }
        let mut connection = self.connection.clone();
        let result: Result<(), _> = pipe.query_async(&mut connection).await;
        self.outcome("fail", result)
    }

    async fn clear(&self, key: &str) -> Result<(), Unavailable> {
        let mut connection = self.connection.clone();
        let result = redis::cmd("DEL").arg(self.key(key)).query_async::<i64>(&mut connection).await;
        self.outcome("clear", result).map(|_| ())
    }
}

/// In memory: the times of each key's last failures.
pub struct MemoryThrottle {
    max_failures: usize,
    window: Duration,
    clock: SharedClock,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl MemoryThrottle {
    pub fn new(max_failures: u32, window: Duration, clock: SharedClock) -> Self {
        Self { max_failures: max_failures as usize, window, clock, failures: Mutex::new(HashMap::new()) }
    }

    /// `Some(wait)` when any key has used up its failures within the window.
    pub fn blocked(&self, keys: &[String]) -> Option<Duration> {
        let now = self.clock.now();
        let mut map = self.failures.lock().ok()?;
        keys.iter()
            .filter_map(|key| {
                let entries = map.get_mut(key)?;
                while entries.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
                    entries.pop_front();
                }
                (entries.len() >= self.max_failures)
                    .then(|| entries.front().map(|first| self.window.saturating_sub(now.duration_since(*first))))
                    .flatten()
            })
            .max()
    }

    pub fn record_failure(&self, keys: &[String]) {
        let now = self.clock.now();
        let Ok(mut map) = self.failures.lock() else { return };
        if map.len() >= MAX_KEYS {
            let window = self.window;
            map.retain(|_, entries| entries.back().is_some_and(|t| now.duration_since(*t) < window));
            if map.len() >= MAX_KEYS {
                map.clear();
            }
        }
        for key in keys {
            let entries = map.entry(key.clone()).or_default();
            entries.push_back(now);
            while entries.len() > self.max_failures {
                entries.pop_front();
            }
        }
    }

    pub fn clear(&self, key: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn failures_block_after_the_limit_until_the_window_passes() {
        let clock = ManualClock::new();
        let throttle = MemoryThrottle::new(3, Duration::from_secs(60), clock.clone());
        let keys = ["account:alice".to_owned(), "address:127.0.0.1".to_owned()];
        for _ in 0..3 {
            assert!(throttle.blocked(&keys).is_none());
            throttle.record_failure(&keys);
        }
        let wait = throttle.blocked(&keys).unwrap();
        assert!(wait <= Duration::from_secs(60) && wait > Duration::from_secs(59));
        assert!(throttle.blocked(&["address:127.0.0.1".to_owned()]).is_some(), "the address is blocked too");
        clock.advance(Duration::from_secs(61));
        assert!(throttle.blocked(&keys).is_none());
    }
}
