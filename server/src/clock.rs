//! The time source, injected wherever expiry matters so tests move time instead of sleeping.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Monotonic time for expiry arithmetic, wall time only for display.
pub trait Clock: Send + Sync + 'static {
    /// Monotonic: immune to wall-clock jumps, so expiry never moves when the system clock does.
    fn now(&self) -> Instant;
    /// Unix milliseconds, for showing "obtained at" and "expires at" to people.
    fn wall_ms(&self) -> i64;
}

pub type SharedClock = Arc<dyn Clock>;

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

// The one place that reads the machine's clocks (clippy's `disallowed-methods` keeps it so).
#[allow(clippy::disallowed_methods)]
impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
    fn wall_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

/// Measures how long something took (latency shown to staff, logged, benchmarked). Durations are
/// not expiry: they need no injected clock, only a monotonic start, and this is the one place that
/// reads it.
#[derive(Debug, Clone, Copy)]
pub struct Stopwatch(Instant);

impl Stopwatch {
    #[allow(clippy::disallowed_methods)]
    pub fn start() -> Self {
        Self(Instant::now())
    }

    pub fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }

    /// Whole milliseconds, saturating (for audit rows).
    pub fn elapsed_ms(&self) -> i64 {
        i64::try_from(self.0.elapsed().as_millis()).unwrap_or(i64::MAX)
    }
}

impl SystemClock {
    /// Wall time as a `SystemTime`, for the simulator, which stands in for services that stamp
    /// absolute times into tokens and headers.
    #[allow(clippy::disallowed_methods)]
    pub fn system_time() -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that only moves when told to; for tests.
#[derive(Debug)]
pub struct ManualClock {
    start: Instant,
    start_wall_ms: i64,
    offset: Mutex<Duration>,
}

impl ManualClock {
    #[allow(clippy::disallowed_methods)]
    pub fn new() -> Arc<Self> {
        Arc::new(Self { start: Instant::now(), start_wall_ms: 1_795_000_000_000, offset: Mutex::new(Duration::ZERO) })
    }

    pub fn advance(&self, by: Duration) {
        if let Ok(mut offset) = self.offset.lock() {
            *offset += by;
        }
    }

    fn offset(&self) -> Duration {
        self.offset.lock().map(|o| *o).unwrap_or_default()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + self.offset()
    }
    fn wall_ms(&self) -> i64 {
        self.start_wall_ms + i64::try_from(self.offset().as_millis()).unwrap_or(i64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_both_times_together_and_only_when_told() {
        let clock = ManualClock::new();
        let (t0, w0) = (clock.now(), clock.wall_ms());
        assert_eq!(clock.now(), t0);
        clock.advance(Duration::from_secs(90));
        assert_eq!(clock.now() - t0, Duration::from_secs(90));
        assert_eq!(clock.wall_ms() - w0, 90_000);
    }
}
