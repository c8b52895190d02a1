//! Parity watch: suites of read-only compares between two environments, run on demand, kept, and
//! judged against a per-suite baseline so a run reports only new drift (see ARCHITECTURE.md,
//! Parity). The service side (running a suite through `execute`) is `service/parity.rs`; spec drift
//! (live OpenAPI documents compared) is `spec.rs` and `service/spec_drift.rs`.

pub mod drift;
pub mod export;
pub mod limiter;
pub mod schedule;
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
}

impl Parity {
    pub fn new(
        settings: ParitySettings,
        store: store::ParityStore,
        limiter: limiter::RateLimiter,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self { settings, store, limiter, metrics, webhook: None, running: Arc::default() }
    }

    /// Posts runs with new drift to `webhook`.
    pub fn with_webhook(mut self, webhook: webhook::Webhook) -> Self {
        self.webhook = Some(Arc::new(webhook));
        self
    }

    /// Marks `suite` as running until the guard drops; refused while another run of it is going.
    pub fn start(&self, suite: &str) -> Result<RunGuard, ConsoleError> {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        if !running.insert(suite.to_owned()) {
            return Err(ConsoleError::Conflict(format!(
                "suite {suite:?} is already running; wait for that run to finish and look at its result"
            )));
        }
        Ok(RunGuard { suite: suite.to_owned(), running: self.running.clone() })
    }

    pub fn is_running(&self, suite: &str) -> bool {
        self.running.lock().unwrap_or_else(PoisonError::into_inner).contains(suite)
    }
}

/// Ends a suite's run when dropped, also when the caller goes away mid-run.
pub struct RunGuard {
    suite: String,
    running: Arc<Mutex<HashSet<String>>>,
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        self.running.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.suite);
    }
}
