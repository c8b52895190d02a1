//! Scheduled runs: each configured suite with an interval runs again one interval (plus a random
//! jitter) after its last scheduled start, on the injected clock, as the console itself.

use std::sync::Arc;
use std::time::{Duration, Instant};

use app::wire::{ConsoleError, ParitySuite};
use tokio::task::JoinHandle;

use crate::clock::SharedClock;
use crate::service::ConsoleService;

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

/// Starts the scheduler when any suite has a schedule.
pub fn spawn(service: Arc<ConsoleService>, clock: SharedClock, suites: &[ParitySuite]) -> Option<JoinHandle<()>> {
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
    Some(tokio::spawn(run(service, clock, entries)))
}

async fn run(service: Arc<ConsoleService>, clock: SharedClock, mut entries: Vec<Entry>) {
    loop {
        tokio::time::sleep(POLL).await;
        let now = clock.now();
        for entry in entries.iter_mut().filter(|e| now >= e.next) {
            entry.next = now + entry.interval + jitter(entry.jitter);
            let (service, suite) = (service.clone(), entry.suite.clone());
            // Its own task: a run waiting for its request budget holds up no other suite.
            tokio::spawn(async move {
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
