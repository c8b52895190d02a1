//! Token broker: one cached client-credentials access token per (environment, token URL, client, scope).
//!
//! States: empty → fresh → stale (inside the refresh skew: the cached token is served while one
//! background refresh runs) → expired (callers wait on one refresh). Exactly one token request is in
//! flight per key; every waiter shares its outcome. Failures back off exponentially (with jitter);
//! while backing off, a still-valid token keeps being served and callers without one fail at once.
//! Nothing refreshes on a timer: a token is only requested because someone needs it (Cognito bills
//! every request).

pub mod backoff;
pub mod endpoint;
pub mod events;
mod leader;
pub mod redis;
pub mod secret;
pub mod shared;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use app::wire::{
    JsonDocument, TokenCache, TokenDetails, TokenEvent, TokenEventOutcome, TokenEventReason, TokenState, TokenView,
};
use futures::future::{BoxFuture, FutureExt, Shared};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use url::Url;

pub use backoff::{Backoff, FixedJitter, Jitter, RandomJitter, SharedJitter};
pub use endpoint::{accept, basic_authorization, decode_part, TokenResponse};
pub use secret::SecretProvider;
pub use shared::{SharedTokens, Want};

use crate::clock::SharedClock;
use crate::config::ClientAuth;
use crate::metrics::Metrics;
use events::EventLog;

/// Everything that changes which token you get. Two requests share a token only if all of it matches.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TokenKey {
    pub environment: String,
    pub token_url: String,
    pub client_id: String,
    pub scope: Option<String>,
}

/// How to obtain a token for one environment.
#[derive(Clone)]
pub struct TokenSource {
    pub environment: String,
    pub token_url: Url,
    pub client_id: String,
    /// Read at each token request; a changed secret drops the cached token (rotation).
    pub secret: Arc<SecretProvider>,
    pub scope: Option<String>,
    pub auth: ClientAuth,
    pub timeout: Duration,
    pub refresh_skew: Duration,
}

impl TokenSource {
    pub fn key(&self) -> TokenKey {
        TokenKey {
            environment: self.environment.clone(),
            token_url: self.token_url.to_string(),
            client_id: self.client_id.clone(),
            scope: self.scope.clone(),
        }
    }
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSource")
            .field("environment", &self.environment)
            .field("token_url", &self.token_url.as_str())
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("scope", &self.scope)
            .field("auth", &self.auth)
            .finish()
    }
}

/// A cached access token. `Debug` never prints the token.
pub struct AccessToken {
    secret: SecretString,
    /// Version of the client secret it was obtained with (see `SecretProvider`).
    pub secret_version: u64,
    pub obtained_at: Instant,
    pub obtained_at_wall_ms: i64,
    pub lifetime: Duration,
    /// Start of the stale window: skew clamped to at most half the lifetime.
    pub refresh_at: Instant,
    pub expires_at: Instant,
    pub fingerprint: String,
    pub header: Option<serde_json::Value>,
    pub claims: Option<serde_json::Value>,
}

impl AccessToken {
    /// The only way to read the token: used where the `Authorization` header is set, and for redaction.
    pub fn expose(&self) -> &str {
        self.secret.expose_secret()
    }

    /// The token, still wrapped, for the one place that attaches it to a request.
    pub fn secret(&self) -> SecretString {
        self.secret.clone()
    }

    pub fn state_at(&self, now: Instant) -> TokenState {
        if now >= self.expires_at {
            TokenState::Expired
        } else if now >= self.refresh_at {
            TokenState::Stale
        } else {
            TokenState::Fresh
        }
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("fingerprint", &self.fingerprint)
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

/// A short, stable, non-reversible label for a token: the first 8 hex characters of its SHA-256.
pub fn fingerprint(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    hex::encode(&digest[..4])
}

/// Why no token could be had. Messages name the environment, never a secret or a response body.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("credentials rejected by the token endpoint for {environment} ({code})")]
    Rejected { environment: String, code: String },
    #[error("the token endpoint for {environment} answered HTTP {status}")]
    Endpoint { environment: String, status: u16, retry_after_secs: Option<u64> },
    #[error("the token endpoint for {environment} did not answer within {seconds} s")]
    Timeout { environment: String, seconds: u64 },
    #[error("the token endpoint for {environment} could not be reached ({reason})")]
    Unreachable { environment: String, reason: String },
    #[error("the token endpoint for {environment} sent an unusable answer: {reason}")]
    BadResponse { environment: String, reason: String },
    /// No valid token and the endpoint failed recently: callers fail at once instead of piling on.
    #[error("no valid token for {environment}: {cause}; the console tries again in {retry_in_secs} s (or use Refresh now on the token page)")]
    CoolingDown { environment: String, cause: String, retry_in_secs: u64 },
}

impl TokenError {
    /// Errors a retry cannot fix: wrong credentials or a broken endpoint. They wait the longest backoff.
    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::Rejected { .. } | Self::BadResponse { .. })
    }

    /// The `outcome` label of the token request metric.
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::Rejected { .. } => "rejected",
            Self::Endpoint { .. } => "endpoint_error",
            Self::Timeout { .. } => "timeout",
            Self::Unreachable { .. } => "unreachable",
            Self::BadResponse { .. } => "bad_response",
            Self::CoolingDown { .. } => "cooling_down",
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Endpoint { retry_after_secs, .. } => retry_after_secs.map(Duration::from_secs),
            _ => None,
        }
    }
}

/// Tuning of the broker's failure handling.
#[derive(Clone, Copy, Debug)]
pub struct BrokerSettings {
    pub backoff: Backoff,
    /// At most one forced refresh (after an API 401) per key in this interval: a 401 storm must not
    /// become a token storm.
    pub forced_refresh_interval: Duration,
}

impl Default for BrokerSettings {
    fn default() -> Self {
        Self { backoff: Backoff::default(), forced_refresh_interval: Duration::from_secs(30) }
    }
}

/// What a forced refresh after an API 401 produced.
#[derive(Debug)]
pub enum Renewal {
    /// A token other than the rejected one (new, or already replaced by a concurrent caller).
    Renewed(Arc<AccessToken>),
    /// A forced refresh ran less than `forced_refresh_interval` ago; the next is allowed after `retry_in`.
    Limited { retry_in: Duration },
}

type Fetch = Shared<BoxFuture<'static, Result<Arc<AccessToken>, TokenError>>>;

#[derive(Default)]
struct Slot {
    token: Option<Arc<AccessToken>>,
    inflight: Option<Fetch>,
    last_error: Option<TokenError>,
    /// Failed requests in a row.
    failures: u32,
    /// No automatic request before this instant (backoff).
    retry_at: Option<Instant>,
    last_forced_at: Option<Instant>,
    /// Secret version of the latest request, to notice a rotation that should end a backoff.
    attempted_version: Option<u64>,
    /// The reason to record for the next request when there is no token (rotation, forget).
    next_reason: Option<TokenEventReason>,
    /// The fingerprint of the token staff forgot: the next request must not take that shared copy,
    /// which the background deletion may not have reached yet (another replica's newer one is fine).
    forgotten: Option<String>,
    events: EventLog,
}

impl Slot {
    /// A changed client secret drops the token obtained with the old one and ends any backoff.
    fn notice_rotation(
        &mut self,
        version: u64,
        wall_ms: impl FnOnce() -> i64,
        replica: Option<&str>,
    ) -> Option<TokenEvent> {
        let token_rotated = self.token.as_ref().is_some_and(|t| t.secret_version != version);
        let failed_with_old = self.last_error.is_some() && self.attempted_version.is_some_and(|v| v != version);
        if token_rotated || failed_with_old {
            let event =
                self.events.push(wall_ms(), TokenEventReason::Rotation, None, TokenEventOutcome::Dropped, replica);
            self.token = None;
            self.failures = 0;
            self.retry_at = None;
            self.last_error = None;
            self.attempted_version = Some(version);
            self.next_reason = Some(TokenEventReason::Rotation);
            return Some(event);
        }
        None
    }

    fn may_retry(&self, now: Instant) -> bool {
        self.retry_at.is_none_or(|at| now >= at)
    }

    /// The error for a caller with no usable token while the backoff runs.
    fn cooling_error(&self, environment: &str, now: Instant) -> Option<TokenError> {
        let retry_at = self.retry_at.filter(|at| now < *at)?;
        let last = self.last_error.clone()?;
        if last.is_permanent() {
            return Some(last);
        }
        let wait = retry_at - now;
        let cause = match last {
            // Another replica's failure, already described.
            TokenError::CoolingDown { cause, .. } => cause,
            other => other.to_string(),
        };
        Some(TokenError::CoolingDown {
            environment: environment.to_owned(),
            cause,
            retry_in_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
        })
    }
}

fn lock(slot: &Mutex<Slot>) -> MutexGuard<'_, Slot> {
    slot.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Told of every token event as it happens (the audit trail listens): the environment, the event,
/// and the staff member who asked for it when one did (refresh now, forget).
pub type EventSink = Arc<dyn Fn(&str, &TokenEvent, Option<&str>) + Send + Sync>;

/// The broker. Cheap to share behind an `Arc`.
pub struct TokenBroker {
    sink: Option<EventSink>,
    http: reqwest::Client,
    clock: SharedClock,
    jitter: SharedJitter,
    metrics: Arc<Metrics>,
    settings: BrokerSettings,
    /// The cache shared by replicas, when Redis and the state key are configured.
    shared: Option<Arc<dyn SharedTokens>>,
    /// The shared cache failed at the latest token request: this replica is on its own for now.
    falling_back: Arc<std::sync::atomic::AtomicBool>,
    /// This replica's id in a shared token history.
    replica: Option<Arc<str>>,
    slots: Mutex<HashMap<TokenKey, Arc<Mutex<Slot>>>>,
}

impl TokenBroker {
    pub fn new(http: reqwest::Client, clock: SharedClock) -> Self {
        Self {
            sink: None,
            http,
            clock,
            jitter: Arc::new(RandomJitter),
            metrics: Arc::new(Metrics::default()),
            settings: BrokerSettings::default(),
            shared: None,
            falling_back: Arc::default(),
            replica: None,
            slots: Mutex::new(HashMap::new()),
        }
    }

    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    pub fn with_event_sink(mut self, sink: EventSink) -> Self {
        self.sink = Some(sink);
        self
    }

    /// Tells the sink of `event` and adds it to the history every replica shows.
    fn tell(&self, source: &TokenSource, event: Option<TokenEvent>, by: Option<&str>) {
        let Some(event) = event else { return };
        if let Some(sink) = &self.sink {
            sink(&source.environment, &event, by);
        }
        share_event(self.shared.as_ref(), &self.metrics, source, &event);
    }

    /// Names this replica in the token events it records (for a history shared by replicas).
    pub fn with_replica(mut self, replica: &str) -> Self {
        self.replica = Some(replica.into());
        self
    }

    pub fn with_jitter(mut self, jitter: SharedJitter) -> Self {
        self.jitter = jitter;
        self
    }

    pub fn with_settings(mut self, settings: BrokerSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Shares tokens with the other replicas through `shared` (one token request per lifetime for all).
    pub fn with_shared(mut self, shared: Arc<dyn SharedTokens>) -> Self {
        self.shared = Some(shared);
        self
    }

    /// Whether tokens are shared with other replicas (else each replica requests its own).
    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    /// Another replica stored a token (`signal::READY` + fingerprint) or deleted it
    /// (`signal::GONE`) under `hash`: a local copy that differs is dropped, so the next caller takes
    /// the shared one. Nothing is requested here.
    pub fn shared_changed(&self, hash: &str, message: &str) {
        let keep = match message {
            shared::signal::GONE => None,
            other => match other.strip_prefix(shared::signal::READY) {
                Some(fingerprint) => Some(fingerprint),
                None => return,
            },
        };
        let slots: Vec<(TokenKey, Arc<Mutex<Slot>>)> = {
            let slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            slots.iter().map(|(key, slot)| (key.clone(), slot.clone())).collect()
        };
        for (key, slot) in slots {
            if shared::key_hash(&key) != hash {
                continue;
            }
            let mut guard = lock(&slot);
            if guard.token.as_ref().is_some_and(|t| Some(t.fingerprint.as_str()) != keep) {
                tracing::debug!(environment = %key.environment, "another replica replaced the token; the local copy is dropped");
                guard.token = None;
            }
        }
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    pub fn settings(&self) -> BrokerSettings {
        self.settings
    }

    fn slot(&self, source: &TokenSource) -> Arc<Mutex<Slot>> {
        let key = source.key();
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.entry(key).or_default().clone()
    }

    /// A valid token for `source`: cached when fresh, cached plus a background refresh when stale,
    /// otherwise the outcome of the one in-flight request (or, while backing off, an error at once).
    pub async fn token(&self, source: &TokenSource) -> Result<Arc<AccessToken>, TokenError> {
        let slot = self.slot(source);
        let version = source.secret.version();
        let fetch = {
            let mut guard = lock(&slot);
            let now = self.clock.now();
            let rotated = guard.notice_rotation(version, || self.clock.wall_ms(), self.replica.as_deref());
            self.tell(source, rotated, None);
            if let Some(token) = guard.token.clone() {
                match token.state_at(now) {
                    TokenState::Fresh => return Ok(token),
                    TokenState::Stale => {
                        if guard.inflight.is_none() && guard.may_retry(now) {
                            // Nobody awaits it: the spawned task completes it and fills the cache.
                            let _background =
                                self.start_fetch(source, &slot, &mut guard, TokenEventReason::Stale, None, Want::Any);
                        }
                        return Ok(token);
                    }
                    TokenState::Expired | TokenState::Empty => {}
                }
            }
            if let Some(fetch) = &guard.inflight {
                fetch.clone()
            } else if let Some(error) = guard.cooling_error(&source.environment, now) {
                self.metrics.token_fast_failure(&source.environment);
                return Err(error);
            } else {
                let reason = if guard.token.is_some() {
                    TokenEventReason::Expired
                } else {
                    guard.next_reason.take().unwrap_or(TokenEventReason::Cold)
                };
                let want = guard.forgotten.take().map_or(Want::Any, Want::Not);
                self.start_fetch(source, &slot, &mut guard, reason, None, want)
            }
        };
        fetch.await
    }

    /// After the API answered 401 to `rejected` (a token fingerprint): drops that token and gets a new
    /// one, single-flight and at most once per `forced_refresh_interval`. When another caller already
    /// replaced the token, that one is returned without a new request.
    pub async fn renew_after_unauthorized(&self, source: &TokenSource, rejected: &str) -> Result<Renewal, TokenError> {
        let slot = self.slot(source);
        let version = source.secret.version();
        let fetch = {
            let mut guard = lock(&slot);
            let now = self.clock.now();
            let rotated = guard.notice_rotation(version, || self.clock.wall_ms(), self.replica.as_deref());
            self.tell(source, rotated, None);
            if let Some(token) = &guard.token {
                if token.fingerprint != rejected && token.state_at(now) != TokenState::Expired {
                    return Ok(Renewal::Renewed(token.clone()));
                }
            }
            if let Some(fetch) = &guard.inflight {
                fetch.clone()
            } else if let Some(retry_in) = guard
                .last_forced_at
                .map(|at| at + self.settings.forced_refresh_interval)
                .filter(|until| now < *until)
                .map(|until| until - now)
            {
                return Ok(Renewal::Limited { retry_in });
            } else if let Some(error) = guard.cooling_error(&source.environment, now) {
                self.metrics.token_fast_failure(&source.environment);
                return Err(error);
            } else {
                if guard.token.as_ref().is_some_and(|t| t.fingerprint == rejected) {
                    guard.token = None;
                }
                guard.last_forced_at = Some(now);
                let want = Want::Not(rejected.to_owned());
                self.start_fetch(source, &slot, &mut guard, TokenEventReason::Unauthorized, None, want)
            }
        };
        fetch.await.map(Renewal::Renewed)
    }

    /// Staff pressed "refresh now": one request now, whatever the state or backoff (joins one in flight).
    /// `by`: the staff member who asked (recorded with the event).
    pub async fn refresh_now(&self, source: &TokenSource, by: Option<&str>) -> Result<Arc<AccessToken>, TokenError> {
        let slot = self.slot(source);
        let version = source.secret.version();
        let fetch = {
            let mut guard = lock(&slot);
            let rotated = guard.notice_rotation(version, || self.clock.wall_ms(), self.replica.as_deref());
            self.tell(source, rotated, None);
            match &guard.inflight {
                Some(fetch) => fetch.clone(),
                None => {
                    let by = by.map(str::to_owned);
                    self.start_fetch(source, &slot, &mut guard, TokenEventReason::Manual, by, Want::New)
                }
            }
        };
        fetch.await
    }

    /// Staff pressed "forget token": drop the token and any backoff; the next request fetches anew.
    pub fn forget(&self, source: &TokenSource, by: Option<&str>) {
        let slot = self.slot(source);
        let mut guard = lock(&slot);
        guard.forgotten = guard.token.take().filter(|_| self.shared.is_some()).map(|t| t.fingerprint.clone());
        guard.failures = 0;
        guard.retry_at = None;
        guard.last_error = None;
        guard.next_reason = None;
        let event = guard.events.push(
            self.clock.wall_ms(),
            TokenEventReason::Manual,
            None,
            TokenEventOutcome::Forgotten,
            self.replica.as_deref(),
        );
        self.tell(source, Some(event), by);
        drop(guard);
        self.forget_shared(source);
    }

    /// Deletes the shared copy and backoff, telling every replica to drop theirs. In the background:
    /// forgetting never waits for Redis; a failure is counted and logged.
    fn forget_shared(&self, source: &TokenSource) {
        let (Some(shared), Ok(runtime)) = (self.shared.clone(), tokio::runtime::Handle::try_current()) else {
            return;
        };
        let hash = shared::key_hash(&source.key());
        let metrics = self.metrics.clone();
        runtime.spawn(async move {
            let result = match shared.clear_backoff(&hash).await {
                Ok(()) => shared.invalidate(&hash).await,
                Err(error) => Err(error),
            };
            if let Err(error) = result {
                metrics.redis_error(error.operation);
                tracing::warn!(error = %error, "shared token cache: could not forget the token on every replica");
            }
        });
    }

    /// Metadata for the UI. Never requests a token.
    pub fn view(&self, source: &TokenSource) -> TokenView {
        let slot = self.slot(source);
        let guard = lock(&slot);
        self.view_of(source, &guard)
    }

    fn view_of(&self, source: &TokenSource, guard: &Slot) -> TokenView {
        let now = self.clock.now();
        let now_wall = self.clock.wall_ms();
        let last_error = guard.last_error.as_ref().map(ToString::to_string);
        match &guard.token {
            None => TokenView {
                environment: source.environment.clone(),
                state: TokenState::Empty,
                obtained_at_ms: None,
                expires_at_ms: None,
                seconds_left: None,
                lifetime_secs: None,
                refresh_in_secs: None,
                fingerprint: None,
                claims: None,
                last_error,
            },
            Some(token) => {
                let left = token.expires_at.saturating_duration_since(now);
                TokenView {
                    environment: source.environment.clone(),
                    state: token.state_at(now),
                    obtained_at_ms: Some(token.obtained_at_wall_ms),
                    expires_at_ms: Some(now_wall + i64::try_from(left.as_millis()).unwrap_or(i64::MAX)),
                    seconds_left: Some(left.as_secs_f64()),
                    lifetime_secs: Some(token.lifetime.as_secs()),
                    refresh_in_secs: Some(token.refresh_at.saturating_duration_since(now).as_secs_f64()),
                    fingerprint: Some(token.fingerprint.clone()),
                    claims: token.claims.clone().map(JsonDocument),
                    last_error,
                }
            }
        }
    }

    /// Everything the token page shows. Never requests a token.
    pub fn details(&self, source: &TokenSource) -> TokenDetails {
        let slot = self.slot(source);
        let guard = lock(&slot);
        let now = self.clock.now();
        TokenDetails {
            token: self.view_of(source, &guard),
            header: guard.token.as_ref().and_then(|t| t.header.clone()).map(JsonDocument),
            events: guard.events.snapshot(),
            refresh_skew_secs: source.refresh_skew.as_secs(),
            effective_skew_secs: guard.token.as_ref().map(|t| (t.expires_at - t.refresh_at).as_secs()),
            retry_in_secs: guard.retry_at.filter(|at| now < *at).map(|at| (at - now).as_secs_f64()),
            refreshing: guard.inflight.is_some(),
            token_url: source.token_url.to_string(),
            client_id: source.client_id.clone(),
            client_auth: match source.auth {
                ClientAuth::SecretPost => "client_secret_post".into(),
                ClientAuth::SecretBasic => "client_secret_basic".into(),
            },
            scope: source.scope.clone(),
            cache: match (&self.shared, self.falling_back.load(std::sync::atomic::Ordering::Relaxed)) {
                (None, _) => TokenCache::PerReplica,
                (Some(_), false) => TokenCache::Shared,
                (Some(_), true) => TokenCache::FallingBack,
            },
        }
    }

    /// `details`, with the history every replica wrote (the shared list, plus this replica's events
    /// still on their way there). When Redis does not answer: this replica's own events, and the
    /// cache shown as this replica only right now.
    pub async fn details_shared(&self, source: &TokenSource) -> TokenDetails {
        let mut details = self.details(source);
        let Some(shared) = &self.shared else { return details };
        match shared.history(&shared::key_hash(&source.key())).await {
            Ok(events) => details.events = events::merged(events, std::mem::take(&mut details.events)),
            Err(error) => {
                self.metrics.redis_error(error.operation);
                tracing::debug!(error = %error, "shared token history unavailable; showing this replica's");
                details.cache = TokenCache::FallingBack;
            }
        }
        details
    }

    /// Starts the one request for this slot (the caller holds its lock and has checked none runs).
    fn start_fetch(
        &self,
        source: &TokenSource,
        slot: &Arc<Mutex<Slot>>,
        guard: &mut Slot,
        reason: TokenEventReason,
        by: Option<String>,
        want: Want,
    ) -> Fetch {
        let leader = leader::Leader {
            http: self.http.clone(),
            clock: self.clock.clone(),
            metrics: self.metrics.clone(),
            shared: self.shared.clone(),
            falling_back: self.falling_back.clone(),
            backoff: self.settings.backoff,
            jitter: self.jitter.clone(),
        };
        let sink = self.sink.clone();
        let replica = self.replica.clone();
        let source = source.clone();
        let environment = source.environment.clone();
        let slot = slot.clone();
        let (secret, version) = source.secret.current();
        guard.attempted_version = Some(version);
        self.metrics.token_refresh(&source.environment, reason_label(reason));
        // Spawned so the request completes and is cached even if every caller goes away.
        let task = tokio::spawn(async move {
            // Real elapsed time for the history, whatever clock drives expiry.
            let started = crate::clock::Stopwatch::start();
            let outcome = leader.obtain(&source, &secret, version, want).await;
            let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
            let mut guard = lock(&slot);
            guard.inflight = None;
            let done = Done {
                leader: &leader,
                source: &source,
                reason,
                latency_ms,
                sink: sink.as_ref(),
                by: by.as_deref(),
                shared_backoff: outcome.shared_backoff,
                replica: replica.as_deref(),
            };
            match (&outcome.result, outcome.sent) {
                (Ok(token), true) => done.obtained(&mut guard, token),
                (Ok(token), false) => done.adopted(&mut guard, token),
                (Err(error), true) => done.failed(&mut guard, error),
                (Err(error), false) => done.cooling(&mut guard, error),
            }
            outcome.result
        });
        let fetch = async move {
            task.await.unwrap_or_else(|join_error| {
                Err(TokenError::Unreachable { environment, reason: format!("token task failed: {join_error}") })
            })
        }
        .boxed()
        .shared();
        guard.inflight = Some(fetch.clone());
        fetch
    }
}

/// How one token fetch ended, written into its slot (under the slot's lock).
struct Done<'a> {
    leader: &'a leader::Leader,
    source: &'a TokenSource,
    reason: TokenEventReason,
    latency_ms: f64,
    sink: Option<&'a EventSink>,
    by: Option<&'a str>,
    /// The backoff shared with every replica, when Redis took (or had) it.
    shared_backoff: Option<leader::SharedStep>,
    replica: Option<&'a str>,
}

impl Done<'_> {
    fn tell(&self, event: &TokenEvent) {
        if let Some(sink) = self.sink {
            sink(&self.source.environment, event, self.by);
        }
        self.share(event);
    }

    fn share(&self, event: &TokenEvent) {
        share_event(self.leader.shared.as_ref(), &self.leader.metrics, self.source, event);
    }

    /// This replica requested the token.
    fn obtained(&self, guard: &mut Slot, token: &Arc<AccessToken>) {
        let (source, reason) = (self.source, self.reason);
        tracing::info!(
            environment = %source.environment,
            reason = reason_label(reason),
            fingerprint = %token.fingerprint,
            lifetime_secs = token.lifetime.as_secs(),
            latency_ms = self.latency_ms as u64,
            "access token obtained"
        );
        self.leader.metrics.token_request(&source.environment, "success");
        let event = guard.events.push(
            self.leader.clock.wall_ms(),
            reason,
            Some(self.latency_ms),
            TokenEventOutcome::Obtained {
                fingerprint: token.fingerprint.clone(),
                lifetime_secs: token.lifetime.as_secs(),
            },
            self.replica,
        );
        self.tell(&event);
        Self::keep(guard, token);
    }

    /// The token another replica requested (or this one's, from the shared cache): no request was
    /// sent, so nothing is counted or audited as one; the history says where it came from.
    fn adopted(&self, guard: &mut Slot, token: &Arc<AccessToken>) {
        tracing::debug!(environment = %self.source.environment, fingerprint = %token.fingerprint, "access token taken from the shared cache");
        let event = guard.events.push(
            self.leader.clock.wall_ms(),
            self.reason,
            None,
            TokenEventOutcome::Adopted {
                fingerprint: token.fingerprint.clone(),
                lifetime_secs: token.lifetime.as_secs(),
            },
            self.replica,
        );
        self.share(&event);
        Self::keep(guard, token);
    }

    fn keep(guard: &mut Slot, token: &Arc<AccessToken>) {
        guard.token = Some(token.clone());
        guard.last_error = None;
        guard.failures = 0;
        guard.retry_at = None;
    }

    /// This replica's token request failed.
    fn failed(&self, guard: &mut Slot, error: &TokenError) {
        let (source, reason, leader) = (self.source, self.reason, self.leader);
        let delay = match self.shared_backoff {
            // Every replica's failures in a row, and the wait every replica keeps to.
            Some(leader::SharedStep { failures: Some(failures), wait }) => {
                guard.failures = failures;
                wait
            }
            _ => {
                guard.failures = guard.failures.saturating_add(1);
                leader.backoff.delay(guard.failures, error.is_permanent(), error.retry_after(), leader.jitter.as_ref())
            }
        };
        guard.retry_at = Some(leader.clock.now() + delay);
        if error.is_permanent() {
            tracing::error!(
                environment = %source.environment,
                reason = reason_label(reason),
                error = %error,
                retry_in_secs = delay.as_secs(),
                "token request failed permanently: fix the credentials or the token endpoint"
            );
        } else {
            tracing::warn!(
                environment = %source.environment,
                reason = reason_label(reason),
                error = %error,
                failures = guard.failures,
                retry_in_ms = delay.as_millis() as u64,
                "token request failed"
            );
        }
        leader.metrics.token_request(&source.environment, error.outcome());
        let event = guard.events.push(
            leader.clock.wall_ms(),
            reason,
            Some(self.latency_ms),
            TokenEventOutcome::Failed { error: error.to_string() },
            self.replica,
        );
        self.tell(&event);
        guard.last_error = Some(error.clone());
    }

    /// Another replica's request failed and the shared backoff runs: this replica waits it out too.
    fn cooling(&self, guard: &mut Slot, error: &TokenError) {
        let leader = self.leader;
        leader.metrics.token_fast_failure(&self.source.environment);
        match (self.shared_backoff, error) {
            // The exact time the shared backoff ends, not rounded up to the second.
            (Some(step), _) => guard.retry_at = Some(leader.clock.now() + step.wait),
            (None, TokenError::CoolingDown { retry_in_secs, .. }) => {
                guard.retry_at = Some(leader.clock.now() + Duration::from_secs(*retry_in_secs));
            }
            (None, _) => {}
        }
        guard.last_error = Some(error.clone());
    }
}

/// Adds `event` to the history every replica shows, in the background: a token event never waits
/// for Redis. A failure is counted and logged; this replica's page still shows its own events.
fn share_event(
    shared: Option<&Arc<dyn SharedTokens>>,
    metrics: &Arc<Metrics>,
    source: &TokenSource,
    event: &TokenEvent,
) {
    let (Some(shared), Ok(runtime)) = (shared.cloned(), tokio::runtime::Handle::try_current()) else {
        return;
    };
    let hash = shared::key_hash(&source.key());
    let (metrics, event) = (metrics.clone(), event.clone());
    runtime.spawn(async move {
        if let Err(error) = shared.record(&hash, &event).await {
            metrics.redis_error(error.operation);
            tracing::debug!(error = %error, "shared token history: an event was not shared");
        }
    });
}

/// The `reason` label of metrics and logs.
pub fn reason_label(reason: TokenEventReason) -> &'static str {
    match reason {
        TokenEventReason::Cold => "cold",
        TokenEventReason::Stale => "stale",
        TokenEventReason::Expired => "expired",
        TokenEventReason::Unauthorized => "unauthorized",
        TokenEventReason::Manual => "manual",
        TokenEventReason::Rotation => "rotation",
    }
}

#[cfg(test)]
mod tests;
