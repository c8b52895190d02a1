//! Scheduled runs: each configured suite with an interval runs again one interval (plus a random
//! jitter) after its last scheduled start, on the injected clock, as the console itself; with
//! replicas on one Redis, a lease there lets one replica run each scheduled start.

use std::sync::Arc;
use std::time::{Duration, Instant};

use app::wire::{ConsoleError, ParitySuite};
use tokio::task::JoinHandle;

use crate::clock::SharedClock;
use crate::metrics::Metrics;
use crate::service::ConsoleService;

/// The lease on a suite's schedule in Redis (`<prefix>parity-schedule:<SHA-256 of the name>`, `SET NX
/// PX` for nine tenths of the interval): the replica that takes it runs that start; the others skip
/// theirs until it runs out, so one run per interval whichever replica comes due first.
#[derive(Clone)]
pub struct ScheduleLease {
    connection: redis::aio::ConnectionManager,
    prefix: String,
    metrics: Arc<Metrics>,
}

impl ScheduleLease {
    pub fn new(connection: redis::aio::ConnectionManager, prefix: &str, metrics: Arc<Metrics>) -> Self {
        Self { connection, prefix: prefix.to_owned(), metrics }
    }

    /// Whether this replica runs this start. A Redis failure skips it (counted and logged): a start
    /// missed is retried next interval, a start run twice would double the load on production.
    async fn take(&self, suite: &str, interval: Duration) -> bool {
        use sha2::Digest as _;
        let key = format!("{}parity-schedule:{}", self.prefix, hex::encode(sha2::Sha256::digest(suite.as_bytes())));
        let hold = u64::try_from(interval.as_millis() * 9 / 10).unwrap_or(u64::MAX).max(1);
        let owner = hex::encode(rand::random::<[u8; 8]>());
        let mut connection = self.connection.clone();
        let taken = redis::cmd("SET")
            .arg(&key)
            .arg(&owner)
            .arg("NX")
            .arg("PX")
            .arg(hold)
            .query_async::<Option<String>>(&mut connection)
            .await;
        match taken {
            Ok(taken) => taken.is_some(),
            Err(error) => {
                self.metrics.redis_error("parity_lease");
                tracing::warn!(suite = %suite, %error, "scheduled parity run skipped: Redis did not answer for its lease");
                false
            }
        }
    }
}

/// How often the scheduler looks at the clock (which may be a test's, moved by hand).
const POLL: Duration = Duration::from_millis(100);

struct Entry {
    suite: String,
    interval: Duration,
    jitter: Duration,
    next: Instant,
}

fn jitter(up_to: Duration) -> Duration {
    let ms = u64::try_from(up_to.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(if ms == 0 { 0 } else { rand::random::<u64>() % (ms + 1) })
}

/// Starts the scheduler when any suite has a schedule (with `lease`, one replica runs each start).
pub fn spawn(
    service: Arc<ConsoleService>,
    clock: SharedClock,
    suites: &[ParitySuite],
    lease: Option<ScheduleLease>,
) -> Option<JoinHandle<()>> {
    let start = clock.now();
    let entries: Vec<Entry> = suites
        .iter()
        .filter_map(|suite| {
            let schedule = suite.schedule?;
            let (interval, up_to) =
                (Duration::from_secs(schedule.interval_secs), Duration::from_secs(schedule.jitter_secs));
            Some(Entry { suite: suite.name.clone(), interval, jitter: up_to, next: start + interval + jitter(up_to) })
        })
        .collect();
    if entries.is_empty() {
        return None;
    }
    Some(tokio::spawn(run(service, clock, entries, lease)))
}

async fn run(service: Arc<ConsoleService>, clock: SharedClock, mut entries: Vec<Entry>, lease: Option<ScheduleLease>) {
    loop {
        tokio::time::sleep(POLL).await;
        let now = clock.now();
        for entry in entries.iter_mut().filter(|e| now >= e.next) {
            entry.next = now + entry.interval + jitter(entry.jitter);
            let (service, suite, lease, interval) =
                (service.clone(), entry.suite.clone(), lease.clone(), entry.interval);
            // Its own task: a run waiting for its request budget holds up no other suite.
            tokio::spawn(async move {
                if let Some(lease) = lease {
                    if !lease.take(&suite, interval).await {
                        tracing::debug!(suite = %suite, "scheduled parity run left to the replica holding its lease");
                        return;
                    }
                }
                match service.run_scheduled(&suite).await {
                    Ok(run) => {
                        tracing::info!(suite = %suite, run = run.id, new_drift = run.new_drift(), "scheduled parity run")
                    }
                    Err(ConsoleError::Conflict(_)) => {
                        tracing::info!(suite = %suite, "scheduled parity run skipped: the suite is still running")
                    }
                    Err(error) => tracing::warn!(suite = %suite, %error, "scheduled parity run failed"),
                }
            });
        }
    }
}
