//! Retry timing after a failed token request: exponential backoff with jitter, longest for errors a retry cannot fix.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng as _;

/// Where the randomness of the jitter comes from; injected so tests get exact delays.
pub trait Jitter: Send + Sync + 'static {
    /// A number in `[0, 1)`.
    fn sample(&self) -> f64;
}

/// Thread-local randomness: spreads the retries of many consoles hitting one token endpoint.
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomJitter;

impl Jitter for RandomJitter {
    fn sample(&self) -> f64 {
        rand::thread_rng().gen_range(0.0..1.0)
    }
}

/// Always the same sample; for tests and benchmarks.
#[derive(Debug, Clone, Copy)]
pub struct FixedJitter(pub f64);

impl Jitter for FixedJitter {
    fn sample(&self) -> f64 {
        self.0.clamp(0.0, 1.0 - f64::EPSILON)
    }
}

pub type SharedJitter = Arc<dyn Jitter>;

/// How long to wait after the n-th failure in a row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    /// Delay after the first failure.
    pub base: Duration,
    /// Upper bound of the exponential growth, and the delay after a permanent error.
    pub max: Duration,
    /// Share of the delay that jitter may take away: the delay lies in `((1 - jitter) * d, d]`.
    pub jitter: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { base: Duration::from_secs(1), max: Duration::from_secs(300), jitter: 0.2 }
    }
}

impl Backoff {
    /// The shortest delay this policy can ever produce: the bound on requests during an outage.
    pub fn shortest(&self) -> Duration {
        self.base.mul_f64(1.0 - self.jitter.clamp(0.0, 1.0))
    }

    /// Delay after `failures` consecutive failures (1 = the first). `permanent` errors (rejected
    /// credentials) wait the maximum at once: retrying sooner cannot help and Cognito counts every try.
    /// `retry_after` (from a 429/503) is honoured when longer.
    pub fn delay(
        &self,
        failures: u32,
        permanent: bool,
        retry_after: Option<Duration>,
        jitter: &dyn Jitter,
    ) -> Duration {
        let exponential = if permanent {
            self.max
        } else {
            let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(30));
            self.base.saturating_mul(factor).min(self.max)
        };
        let cut = self.jitter.clamp(0.0, 1.0) * jitter.sample();
        let jittered = exponential.mul_f64(1.0 - cut);
        match retry_after {
            Some(wait) if wait > jittered => wait.min(self.max),
            _ => jittered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_from_the_base_up_to_the_maximum() {
        let backoff = Backoff::default();
        let none = FixedJitter(0.0);
        let secs = |n| backoff.delay(n, false, None, &none).as_secs();
        assert_eq!([secs(1), secs(2), secs(3), secs(4), secs(9), secs(10), secs(50)], [1, 2, 4, 8, 256, 300, 300]);
    }

    #[test]
    fn jitter_only_ever_shortens_a_delay_and_by_at_most_its_share() {
        let backoff = Backoff::default();
        assert_eq!(backoff.delay(3, false, None, &FixedJitter(0.5)), Duration::from_millis(3_600));
        assert_eq!(backoff.delay(3, false, None, &FixedJitter(1.0)).as_millis(), 3_200);
        assert_eq!(backoff.shortest(), Duration::from_millis(800));
        for _ in 0..1_000 {
            let d = backoff.delay(1, false, None, &RandomJitter);
            assert!(d > Duration::from_millis(800) && d <= Duration::from_secs(1), "{d:?}");
        }
    }

    #[test]
    fn permanent_errors_wait_the_maximum_and_retry_after_is_honoured_up_to_it() {
        let backoff = Backoff::default();
        let none = FixedJitter(0.0);
        assert_eq!(backoff.delay(1, true, None, &none), Duration::from_secs(300));
        assert_eq!(backoff.delay(1, false, Some(Duration::from_secs(30)), &none), Duration::from_secs(30));
        assert_eq!(backoff.delay(1, false, Some(Duration::from_secs(9_999)), &none), Duration::from_secs(300));
        assert_eq!(backoff.delay(6, false, Some(Duration::from_secs(2)), &none), Duration::from_secs(32));
    }
}
