//! Failed-login limits per account name and per client address (in memory, sliding window).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::clock::SharedClock;

/// Bounds memory under a flood of distinct names or addresses; the oldest keys are dropped first.
const MAX_KEYS: usize = 10_000;

pub struct LoginThrottle {
    max_failures: usize,
    window: Duration,
    clock: SharedClock,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginThrottle {
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
        let throttle = LoginThrottle::new(3, Duration::from_secs(60), clock.clone());
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
