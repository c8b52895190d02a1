//! Parity watch: suites of read-only compares between two environments, run on demand, kept, and
//! judged against a per-suite baseline so a run reports only new drift (see ARCHITECTURE.md,
//! Parity). The service side (running a suite through `execute`) is `service/parity.rs`; spec drift
//! (live OpenAPI documents compared) is `spec.rs` and `service/spec_drift.rs`.

pub mod drift;
pub mod export;
pub mod limiter;
pub mod schedule;
pub mod shared;
pub mod spec;
pub mod store;
pub mod suites;
pub mod webhook;

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use app::wire::ConsoleError;

use crate::config::ParitySettings;
use crate::metrics::Metrics;

/// What the service needs to run suites: settings, the store, the request budget and the runs in
/// progress.
pub struct Parity {
    pub settings: ParitySettings,
    pub store: store::ParityStore,
    pub limiter: limiter::RateLimiter,
    pub metrics: Arc<Metrics>,
    pub webhook: Option<Arc<webhook::Webhook>>,
    running: Arc<Mutex<HashSet<String>>>,
    /// With replicas on one Redis: the run lock every replica honours.
    shared: Option<shared::SharedParity>,
    /// Told when a saved suite's schedule changes here, so the scheduler reads them again at once.
    pub schedules_changed: Arc<tokio::sync::Notify>,
}

impl Parity {
    pub fn new(
        settings: ParitySettings,
        store: store::ParityStore,
        limiter: limiter::RateLimiter,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            settings,
            store,
            limiter,
            metrics,
            webhook: None,
            running: Arc::default(),
            shared: None,
            schedules_changed: Arc::default(),
        }
    }

    /// Posts runs with new drift to `webhook`.
    pub fn with_webhook(mut self, webhook: webhook::Webhook) -> Self {
        self.webhook = Some(Arc::new(webhook));
        self
    }

    /// Runs on every replica take a lock in `shared` and draw on its request budget.
    pub fn with_shared(mut self, shared: shared::SharedParity) -> Self {
        self.limiter = self.limiter.with_shared(shared.clone());
        self.shared = Some(shared);
        self
    }

    /// Marks `suite` as running until the guard drops; refused while another run of it is going,
    /// here or, with replicas, on any of them. Without Redis's answer nothing starts: two runs at
    /// once would double the load on production.
    pub async fn start(&self, suite: &str) -> Result<RunGuard, ConsoleError> {
        let busy = || {
            ConsoleError::Conflict(format!(
                "suite {suite:?} is already running; wait for that run to finish and look at its result"
            ))
        };
        {
            let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
            if !running.insert(suite.to_owned()) {
                return Err(busy());
            }
        }
        let mut guard = RunGuard { suite: suite.to_owned(), running: self.running.clone(), _lock: None };
        let Some(shared) = &self.shared else { return Ok(guard) };
        match shared.lock_run(suite).await {
            Ok(Some(lock)) => {
                guard._lock = Some(lock);
                Ok(guard)
            }
            Ok(None) => Err(ConsoleError::Conflict(format!(
                "suite {suite:?} is already running on another replica of the console; wait for that run to \
                 finish and look at its result"
            ))),
            Err(_) => Err(ConsoleError::Unavailable(
                "the shared store (Redis) did not answer, so the console cannot make sure this suite runs only \
                 once; try again in a moment"
                    .into(),
            )),
        }
    }

    pub fn is_running(&self, suite: &str) -> bool {
        self.running.lock().unwrap_or_else(PoisonError::into_inner).contains(suite)
    }
}

/// Ends a suite's run when dropped (the replicas' lock too, when there is one).
pub struct RunGuard {
    suite: String,
    running: Arc<Mutex<HashSet<String>>>,
    /// Held for its drop, which releases the replicas' lock.
    _lock: Option<shared::RunLock>,
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        self.running.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.suite);
    }
}
