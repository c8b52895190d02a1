//! Scheduled runs: each suite with a schedule (configured, or set on the Parity page) runs again one
//! interval (plus a random jitter) after its last scheduled start, on the injected clock, as the
//! console itself; with replicas on one Redis, a lease there lets one replica run each scheduled
//! start. Saved schedules are read again every 30 s (another replica may have changed one) and at
//! once when this replica changes one.

use std::sync::Arc;
use std::time::{Duration, Instant};

use app::wire::{ConsoleError, ParitySuite, SuiteSchedule};
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
        match super::shared::set_absent(&self.connection, &key, &owner, hold).await {
            Ok(taken) => taken,
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

/// How many polls between two readings of the schedules (30 s).
const REFRESH_POLLS: u32 = 300;

struct Entry {
    suite: String,
    schedule: SuiteSchedule,
    next: Instant,
}

impl Entry {
    fn interval(&self) -> Duration {
        Duration::from_secs(self.schedule.interval_secs)
    }

    fn jitter(&self) -> Duration {
        Duration::from_secs(self.schedule.jitter_secs)
    }
}

fn jitter(up_to: Duration) -> Duration {
    let ms = u64::try_from(up_to.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(if ms == 0 { 0 } else { rand::random::<u64>() % (ms + 1) })
}

/// The entries for `suites` at `now`: a suite whose schedule is unchanged keeps its next start, a
/// new or changed one starts one interval (plus jitter) from now, a suite without one is dropped.
fn merge(old: Vec<Entry>, suites: Vec<ParitySuite>, now: Instant) -> Vec<Entry> {
    suites
        .into_iter()
        .filter_map(|suite| {
            let schedule = suite.schedule?;
            if let Some(kept) = old.iter().find(|e| e.suite == suite.name && e.schedule == schedule) {
                return Some(Entry { suite: suite.name, schedule, next: kept.next });
            }
            let mut entry = Entry { suite: suite.name, schedule, next: now };
            entry.next = now + entry.interval() + jitter(entry.jitter());
            Some(entry)
        })
        .collect()
}

/// Starts the scheduler (with `lease`, one replica runs each start). The configured schedules count
/// from now; saved ones from when the scheduler first reads them, a moment later.
pub fn spawn(service: Arc<ConsoleService>, clock: SharedClock, lease: Option<ScheduleLease>) -> Option<JoinHandle<()>> {
    let parity = service.parity().ok()?;
    let entries = merge(Vec::new(), parity.settings.suites.clone(), clock.now());
    Some(tokio::spawn(run(service, clock, lease, entries)))
}

async fn run(service: Arc<ConsoleService>, clock: SharedClock, lease: Option<ScheduleLease>, mut entries: Vec<Entry>) {
    let Ok(changed) = service.parity().map(|p| p.schedules_changed.clone()) else { return };
    let mut polls_until_refresh = 0_u32;
    loop {
        if polls_until_refresh == 0 {
            match service.scheduled_suites().await {
                Ok(suites) => entries = merge(entries, suites, clock.now()),
                Err(error) => tracing::warn!(%error, "parity schedules could not be read; the last ones stand"),
            }
            polls_until_refresh = REFRESH_POLLS;
        }
        tokio::select! {
            () = tokio::time::sleep(POLL) => polls_until_refresh -= 1,
            () = changed.notified() => polls_until_refresh = 0,
        }
        let now = clock.now();
        for entry in entries.iter_mut().filter(|e| now >= e.next) {
            entry.next = now + entry.interval() + jitter(entry.jitter());
            let (service, suite, lease, interval) =
                (service.clone(), entry.suite.clone(), lease.clone(), entry.interval());
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

#[cfg(test)]
mod tests {
    use super::*;
    use app::wire::SuiteSource;

    fn suite(name: &str, interval_secs: Option<u64>) -> ParitySuite {
        ParitySuite {
            name: name.into(),
            source: SuiteSource::Saved,
            compares: Vec::new(),
            schedule: interval_secs.map(|interval_secs| SuiteSchedule { interval_secs, jitter_secs: 0 }),
        }
    }

    #[test]
    fn a_schedule_read_again_keeps_its_next_start_unless_it_changed_and_a_stopped_one_goes() {
        #[allow(clippy::disallowed_methods, reason = "a fixed point in time to compute from")]
        let start = Instant::now();
        let entries = merge(Vec::new(), vec![suite("a", Some(600)), suite("b", Some(60)), suite("c", None)], start);
        let next = |entries: &[Entry], name: &str| entries.iter().find(|e| e.suite == name).map(|e| e.next);
        assert_eq!(entries.len(), 2);
        assert_eq!(next(&entries, "a"), Some(start + Duration::from_secs(600)));
        let later = start + Duration::from_secs(30);
        let entries = merge(entries, vec![suite("a", Some(600)), suite("b", Some(120))], later);
        assert_eq!(next(&entries, "a"), Some(start + Duration::from_secs(600)), "unchanged: same next start");
        assert_eq!(next(&entries, "b"), Some(later + Duration::from_secs(120)), "changed: one interval from now");
        let entries = merge(entries, vec![suite("b", None)], later);
        assert!(entries.is_empty());
    }
}
