//! What a replica's leader does to obtain a token: ask the token endpoint itself, or, with a shared
//! cache, take the token another replica stored, or the lease to request one, or wait for the holder.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;

use super::shared::{key_hash, lease_for, SharedError, SharedToken, SharedTokens, Want};
use super::{accept, endpoint, AccessToken, Backoff, TokenError, TokenSource};
use crate::clock::SharedClock;
use crate::metrics::Metrics;

/// Rounds of "look, lock or wait" before a replica gives up on the others and asks itself: each
/// round waits at most one lease, so a holder that keeps dying cannot stall callers for long.
const ROUNDS: usize = 4;

/// Everything the leader needs, cloned into the fetch task.
#[derive(Clone)]
pub(super) struct Leader {
    pub http: reqwest::Client,
    pub clock: SharedClock,
    pub metrics: Arc<Metrics>,
    pub shared: Option<Arc<dyn SharedTokens>>,
    /// Set while the shared cache fails (shown on the token page), cleared when it answers again.
    pub falling_back: Arc<AtomicBool>,
    pub backoff: Backoff,
    pub jitter: super::SharedJitter,
}

/// The token (or error) and whether this replica sent a token request to get it.
pub(super) struct Outcome {
    pub result: Result<Arc<AccessToken>, TokenError>,
    pub sent: bool,
    /// The shared backoff this outcome recorded or found, which this replica keeps to as well.
    pub shared_backoff: Option<SharedStep>,
}

/// A step of the backoff every replica keeps to.
#[derive(Clone, Copy, Debug)]
pub(super) struct SharedStep {
    /// Failed requests in a row by any replica, this one included (`None`: found, not recorded).
    pub failures: Option<u32>,
    /// How long from now no replica asks again.
    pub wait: Duration,
}

impl Outcome {
    fn of(result: Result<Arc<AccessToken>, TokenError>, sent: bool) -> Self {
        Self { result, sent, shared_backoff: None }
    }
}

impl Leader {
    /// A token for `source` obtained with the secret of `version`.
    pub async fn obtain(&self, source: &TokenSource, secret: &SecretString, version: u64, want: Want) -> Outcome {
        let Some(shared) = &self.shared else {
            return Outcome::of(self.request(source, secret, version).await, true);
        };
        match self.through(shared.as_ref(), source, secret, version, &want).await {
            Ok(outcome) => {
                self.falling_back.store(false, Ordering::Relaxed);
                outcome
            }
            Err(error) => {
                self.falling_back.store(true, Ordering::Relaxed);
                // Redis is gone or broken: this replica asks alone (still one request per replica).
                self.metrics.redis_error(error.operation);
                self.metrics.token_shared_fallback(&source.environment);
                tracing::warn!(
                    environment = %source.environment,
                    error = %error,
                    "shared token cache unavailable; this replica requests its own token"
                );
                Outcome::of(self.request(source, secret, version).await, true)
            }
        }
    }

    async fn request(
        &self,
        source: &TokenSource,
        secret: &SecretString,
        version: u64,
    ) -> Result<Arc<AccessToken>, TokenError> {
        let response = endpoint::request_token(&self.http, source, secret).await?;
        accept(response, source, version, self.clock.now(), self.clock.wall_ms())
    }

    fn usable(&self, stored: Option<SharedToken>, source: &TokenSource, version: u64, want: &Want) -> Option<Outcome> {
        let token = stored?.adopt(source, version, self.clock.now(), self.clock.wall_ms())?;
        if matches!(want, Want::Not(rejected) if *rejected == token.fingerprint) {
            return None;
        }
        self.metrics.token_shared_adopted(&source.environment);
        Some(Outcome::of(Ok(token), false))
    }

    async fn through(
        &self,
        shared: &dyn SharedTokens,
        source: &TokenSource,
        secret: &SecretString,
        version: u64,
        want: &Want,
    ) -> Result<Outcome, SharedError> {
        let hash = key_hash(&source.key());
        let lease = lease_for(source.timeout);
        if *want == Want::New {
            shared.clear_backoff(&hash).await?;
            shared.invalidate(&hash).await?;
        }
        for _ in 0..ROUNDS {
            if let Some(outcome) = self.usable(shared.load(&hash).await?, source, version, want) {
                return Ok(outcome);
            }
            if *want != Want::New {
                if let Some(backoff) = shared.backoff(&hash).await? {
                    let left = backoff.left;
                    let retry_in_secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
                    let error = TokenError::CoolingDown {
                        environment: source.environment.clone(),
                        cause: backoff.cause,
                        retry_in_secs,
                    };
                    let found = SharedStep { failures: None, wait: left };
                    return Ok(Outcome { result: Err(error), sent: false, shared_backoff: Some(found) });
                }
            }
            match shared.lock(&hash, lease).await? {
                Some(held) => {
                    self.metrics.token_shared_lock(&source.environment, "won");
                    // Another replica may have stored a token between the look and the lock.
                    let again = shared.load(&hash).await;
                    if let Some(outcome) = again.ok().and_then(|stored| self.usable(stored, source, version, want)) {
                        self.settle(shared.unlock(&held).await);
                        return Ok(outcome);
                    }
                    let result = self.request(source, secret, version).await;
                    let shared_backoff = match &result {
                        Ok(token) => {
                            self.settle(shared.store(&hash, &SharedToken::of(token), keep(token)).await);
                            None
                        }
                        Err(error) => self.share_failure(shared, &hash, error).await,
                    };
                    self.settle(shared.unlock(&held).await);
                    return Ok(Outcome { result, sent: true, shared_backoff });
                }
                None => {
                    self.metrics.token_shared_lock(&source.environment, "waited");
                    if let Some(outcome) = self.usable(shared.wait(&hash, lease).await?, source, version, want) {
                        return Ok(outcome);
                    }
                    // The holder failed, died (its lease ran out) or stored what this replica
                    // cannot use: look again.
                }
            }
        }
        tracing::warn!(environment = %source.environment, "no replica obtained a token in {ROUNDS} leases; requesting one here");
        Ok(Outcome::of(self.request(source, secret, version).await, true))
    }

    /// After the token request: a failure to share its outcome costs the others a request of their
    /// own (or a wait of one lease), never this caller's token.
    fn settle(&self, result: Result<(), SharedError>) {
        if let Err(error) = result {
            self.metrics.redis_error(error.operation);
            tracing::warn!(error = %error, "shared token cache: could not share a token request's outcome");
        }
    }

    /// Counts the failure with every replica's, then backs every replica off by the step of that
    /// count: replica B failing after replica A's backoff waits the next step, not the first again.
    /// `None` when Redis did not take it: this replica then backs off by its own count.
    async fn share_failure(&self, shared: &dyn SharedTokens, hash: &str, error: &TokenError) -> Option<SharedStep> {
        let failures = match shared.count_failure(hash, self.backoff.max.saturating_mul(2)).await {
            Ok(failures) => failures,
            Err(error) => {
                self.settle(Err(error));
                return None;
            }
        };
        let wait = self.backoff.delay(failures, error.is_permanent(), error.retry_after(), self.jitter.as_ref());
        match shared.fail(hash, &error.to_string(), wait).await {
            Ok(()) => Some(SharedStep { failures: Some(failures), wait }),
            Err(error) => {
                self.settle(Err(error));
                None
            }
        }
    }
}

/// How long the shared copy is kept: until the token enters its refresh skew, so no replica
/// serves a token another already considers stale.
fn keep(token: &AccessToken) -> Duration {
    token.refresh_at.saturating_duration_since(token.obtained_at).max(Duration::from_millis(1))
}
