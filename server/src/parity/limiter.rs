//! The request budget of suite runs: at most N requests per environment in any minute, on the
//! injected clock, shared by every run in this process and, with replicas on one Redis, by every
//! replica's runs.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::shared::SharedParity;
use crate::clock::SharedClock;

const WINDOW: Duration = Duration::from_secs(60);
/// How often a waiting run looks at the clock again (the clock may be a test's, moved by hand).
const POLL: Duration = Duration::from_millis(25);

pub struct RateLimiter {
    clock: SharedClock,
    per_minute: u32,
    limits: BTreeMap<String, u32>,
    sent: Mutex<HashMap<String, VecDeque<Instant>>>,
    shared: Option<SharedParity>,
}

impl RateLimiter {
    pub fn new(clock: SharedClock, per_minute: u32, limits: BTreeMap<String, u32>) -> Self {
        Self { clock, per_minute: per_minute.max(1), limits, sent: Mutex::default(), shared: None }
    }

    /// The budget lives in Redis, one for every replica.
    pub fn with_shared(mut self, shared: SharedParity) -> Self {
        self.shared = Some(shared);
        self
    }

    pub fn limit(&self, environment: &str) -> u32 {
        self.limits.get(environment).copied().unwrap_or(self.per_minute).max(1)
    }

    /// Takes one request of `environment`'s budget now, or answers how long until one is free.
    fn try_take(&self, environment: &str) -> Result<(), Duration> {
        let now = self.clock.now();
        let limit = self.limit(environment) as usize;
        let mut sent = self.sent.lock().unwrap_or_else(PoisonError::into_inner);
        let times = sent.entry(environment.to_owned()).or_default();
        while times.front().is_some_and(|t| now.saturating_duration_since(*t) >= WINDOW) {
            times.pop_front();
        }
        if times.len() < limit {
            times.push_back(now);
            return Ok(());
        }
        Err(times.front().map_or(POLL, |t| WINDOW.saturating_sub(now.saturating_duration_since(*t))))
    }

    /// Waits until `environment` has budget for one more request and takes it. When Redis does not
    /// answer, this process's own budget stands in (logged and counted): a run already under way
    /// finishes within one replica's share, and no new run starts without Redis (`Parity::start`).
    pub async fn acquire(&self, environment: &str) {
        loop {
            let taken = match &self.shared {
                Some(shared) => {
                    let limit = self.limit(environment);
                    match shared.take(environment, limit, WINDOW, self.clock.wall_ms()).await {
                        Ok(taken) => taken,
                        Err(_) => self.try_take(environment),
                    }
                }
                None => self.try_take(environment),
            };
            match taken {
                Ok(()) => return,
                Err(wait) => tokio::time::sleep(wait.min(POLL)).await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use std::sync::Arc;

    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn each_environment_gets_its_own_budget_renewed_as_the_clock_moves() {
        let clock = ManualClock::new();
        let limiter = RateLimiter::new(clock.clone(), 2, BTreeMap::from([("production".to_owned(), 1)]));
        assert!(limiter.try_take("sandbox").is_ok());
        assert!(limiter.try_take("sandbox").is_ok());
        assert_eq!(limiter.try_take("sandbox"), Err(WINDOW));
        assert!(limiter.try_take("production").is_ok());
        assert!(limiter.try_take("production").is_err());
        clock.advance(Duration::from_secs(30));
        assert_eq!(limiter.try_take("sandbox"), Err(Duration::from_secs(30)));
        clock.advance(Duration::from_secs(30));
        assert!(limiter.try_take("sandbox").is_ok());
        assert!(limiter.try_take("production").is_ok());
        let _ = Arc::new(limiter);
    }
}
