//! In-process simulator of the Cognito token endpoint and the a55 REST API, for tests and offline demos.

mod api;
mod cognito;
mod data;
mod fixtures;
mod jwt;
mod large;
mod production;
mod spec;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod testkit;
mod validate;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::routing::any;
use axum::Router;
use hmac::digest::KeyInit;
use hmac::Mac;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The scope `with_random_secret` allows (the one the CLI's `simulate` command uses too).
pub const DEFAULT_SCOPE: &str = "a55/api";

/// Generous by default so that test suites never trip it; tests of the 429 path lower it.
const DEFAULT_RATE_LIMIT_PER_MINUTE: u32 = 100_000;

/// The large charge list the simulator serves at `/sim/large` (at least `target_bytes` of JSON), for
/// benchmarks that need realistic a55-like bodies without a server.
pub fn large_charge_list(target_bytes: usize) -> Vec<u8> {
    large::charges_page(target_bytes, 1).unwrap_or_default()
}

/// The production data set's drift applied to a body (see `production.rs`), for the same benchmarks.
pub fn production_drift(value: &mut serde_json::Value) {
    production::drift(value);
}

/// Where the production-like data set is served (with the same token endpoint and API).
pub const PRODUCTION_PREFIX: &str = "/production/api/v1";

/// Configuration of one simulator instance.
#[derive(Debug, Clone)]
pub struct SimulatorSettings {
    pub client_id: String,
    pub client_secret: SecretString,
    /// `expires_in` of issued tokens.
    pub token_lifetime: Duration,
    /// Scopes the client may request; a token gets all of them when the request names none (Cognito behaviour).
    pub allowed_scopes: Vec<String>,
    /// Test aid: append every issued access token (one per line) to this file. Off by default.
    pub issued_tokens_file: Option<PathBuf>,
}

impl SimulatorSettings {
    /// Settings with a fresh secret of 32 random bytes, hex encoded (read it back from `client_secret`),
    /// and the single scope `a55/api`: Cognito gives client-credentials app clients at least one custom scope.
    pub fn with_random_secret(client_id: impl Into<String>, token_lifetime: Duration) -> Self {
        let mut bytes = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut bytes);
        Self {
            client_id: client_id.into(),
            client_secret: SecretString::from(hex::encode(bytes)),
            token_lifetime,
            allowed_scopes: vec![DEFAULT_SCOPE.to_owned()],
            issued_tokens_file: None,
        }
    }
}

/// A simulator instance; cheap to clone, all clones share state.
#[derive(Clone)]
pub struct Simulator {
    inner: Arc<Inner>,
}

struct Inner {
    settings: SimulatorSettings,
    /// Keyed once per instance so that tokens from another instance fail signature checks.
    mac: HmacSha256,
    /// MAC of the configured secret, so that secrets are compared in constant time and never kept twice in clear.
    secret_tag: Vec<u8>,
    issuer: RwLock<Option<String>>,
    token_requests: AtomicU64,
    tokens_issued: AtomicU64,
    rate_limit: AtomicU32,
    windows: Mutex<HashMap<String, api::RateWindow>>,
    idempotency: Mutex<HashMap<String, api::StoredResponse>>,
    created_charges: Mutex<HashMap<String, data::Charge>>,
    created_wallets: Mutex<Vec<data::Wallet>>,
    large_cache: Mutex<VecDeque<(large::CacheKey, axum::body::Bytes)>>,
    tokens_file_lock: Mutex<()>,
    /// Test aid: fields production answers leave out on top of their usual drift.
    production_removed: Mutex<Vec<String>>,
    /// Test aid: (method, path) of operations production's OpenAPI document leaves out.
    production_dropped_operations: Mutex<Vec<(String, String)>>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("client_id", &self.inner.settings.client_id)
            .field("tokens_issued", &self.tokens_issued())
            .finish_non_exhaustive()
    }
}

impl Simulator {
    pub fn new(settings: SimulatorSettings) -> Self {
        let mut key = hmac::digest::Key::<HmacSha256>::default();
        rand::thread_rng().fill_bytes(&mut key);
        let mac = <HmacSha256 as KeyInit>::new(&key);
        let secret_tag = secret_tag(&mac, settings.client_secret.expose_secret().as_bytes());
        Self {
            inner: Arc::new(Inner {
                settings,
                mac,
                secret_tag,
                issuer: RwLock::new(None),
                token_requests: AtomicU64::new(0),
                tokens_issued: AtomicU64::new(0),
                rate_limit: AtomicU32::new(DEFAULT_RATE_LIMIT_PER_MINUTE),
                windows: Mutex::new(HashMap::new()),
                idempotency: Mutex::new(HashMap::new()),
                created_charges: Mutex::new(HashMap::new()),
                created_wallets: Mutex::new(Vec::new()),
                large_cache: Mutex::new(VecDeque::new()),
                tokens_file_lock: Mutex::new(()),
                production_removed: Mutex::new(Vec::new()),
                production_dropped_operations: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Routes: POST /oauth2/token, everything under /api/v1, and the same API with production-like
    /// data under /production/api/v1 (see `production.rs`). Needs to know its own base URL for `iss`;
    /// it takes it from the Host header unless `set_issuer` was called.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/oauth2/token", any(cognito::token))
            .nest("/api/v1", api::router(self.clone(), false))
            .nest(
                PRODUCTION_PREFIX,
                api::router(self.clone(), true)
                    .layer(axum::middleware::map_response_with_state(self.clone(), production::reshape)),
            )
            .with_state(self.clone())
    }

    /// Number of token requests answered with 200 so far.
    pub fn tokens_issued(&self) -> u64 {
        self.inner.tokens_issued.load(Ordering::SeqCst)
    }

    /// Total number of requests received by the token endpoint, whatever their outcome.
    pub fn token_requests(&self) -> u64 {
        self.inner.token_requests.load(Ordering::SeqCst)
    }

    /// Fixes the `iss` claim to `{base_url}/simulator-pool` instead of deriving it from each request's Host.
    pub fn set_issuer(&self, base_url: &url::Url) {
        let issuer = format!("{}/simulator-pool", base_url.as_str().trim_end_matches('/'));
        *self.inner.issuer.write().unwrap_or_else(PoisonError::into_inner) = Some(issuer);
    }

    /// Test aid: from now on production answers (`/production/api/v1`) leave out `field` wherever it
    /// occurs, a new drift on top of the known ones.
    pub fn drop_production_field(&self, field: &str) {
        lock(&self.inner.production_removed).push(field.to_owned());
    }

    /// Test aid: from now on production's OpenAPI document leaves out the operation `method`
    /// `path` (as the sandbox's document writes it), a new spec drift on top of the known ones.
    pub fn drop_production_operation(&self, method: &str, path: &str) {
        lock(&self.inner.production_dropped_operations).push((method.to_owned(), path.to_owned()));
    }

    fn production_dropped_operations(&self) -> Vec<(String, String)> {
        lock(&self.inner.production_dropped_operations).clone()
    }

    fn production_removed(&self) -> Vec<String> {
        lock(&self.inner.production_removed).clone()
    }

    /// Requests allowed per client_id per minute on /api/v1 (default 100000).
    pub fn set_rate_limit(&self, per_minute: u32) {
        self.inner.rate_limit.store(per_minute.max(1), Ordering::SeqCst);
    }

    /// Test aid: a token for the configured client with all allowed scopes, as if issued at `issued_at`;
    /// not counted and not written to the issued-tokens file. Lets tests make expired tokens without sleeping.
    pub fn mint_token(&self, issued_at: SystemTime, lifetime: Duration) -> String {
        let iat = issued_at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let issuer = self.issuer().unwrap_or_else(|| "http://localhost/simulator-pool".to_owned());
        let claims = jwt::Claims::new(
            &self.inner.settings.client_id,
            self.inner.settings.allowed_scopes.join(" "),
            issuer,
            iat,
            lifetime.as_secs(),
        );
        jwt::sign(&self.inner.mac, &claims)
    }

    fn settings(&self) -> &SimulatorSettings {
        &self.inner.settings
    }

    fn issuer(&self) -> Option<String> {
        self.inner.issuer.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn secret_matches(&self, candidate: &str) -> bool {
        let mut mac = self.inner.mac.clone();
        mac.update(SECRET_TAG_CONTEXT);
        mac.update(candidate.as_bytes());
        mac.verify_slice(&self.inner.secret_tag).is_ok()
    }
}

const SECRET_TAG_CONTEXT: &[u8] = b"client-secret\0";

fn secret_tag(mac: &HmacSha256, secret: &[u8]) -> Vec<u8> {
    let mut mac = mac.clone();
    mac.update(SECRET_TAG_CONTEXT);
    mac.update(secret);
    mac.finalize().into_bytes().to_vec()
}

/// Wall-clock seconds: the simulator stands in for separate services whose tokens carry absolute times.
fn now_secs() -> u64 {
    crate::clock::SystemClock::system_time().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Poisoning only means another request panicked mid-update; the maps stay usable for a simulator.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A simulator serving on a background task.
pub struct RunningSimulator {
    pub addr: SocketAddr,
    simulator: Simulator,
    token_url: url::Url,
    api_base: url::Url,
    shutdown_tx: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for RunningSimulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningSimulator")
            .field("addr", &self.addr)
            .field("simulator", &self.simulator)
            .finish_non_exhaustive()
    }
}

impl RunningSimulator {
    pub fn simulator(&self) -> &Simulator {
        &self.simulator
    }

    /// `http://{addr}/oauth2/token`
    pub fn token_url(&self) -> url::Url {
        self.token_url.clone()
    }

    /// `http://{addr}/api/v1/` (with the trailing slash, so that relative joins stay under it).
    pub fn api_base(&self) -> url::Url {
        self.api_base.clone()
    }

    /// `http://{addr}/production/api/v1/`: the same API with production-like data.
    pub fn production_api_base(&self) -> url::Url {
        let mut base = self.api_base.clone();
        base.set_path(&format!("{PRODUCTION_PREFIX}/"));
        base
    }

    /// Stops accepting connections and waits (at most 5 s) for the server task to finish.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown_tx.take() {
            // The receiver is gone only if the server task already ended.
            let _ = tx.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(Duration::from_secs(5), &mut task).await.is_err() {
                tracing::warn!("simulator did not stop within 5 s; aborting it");
                task.abort();
            }
        }
    }
}

impl Drop for RunningSimulator {
    fn drop(&mut self) {
        // A forgotten handle must not leave a server running for the rest of a test binary.
        if let Some(tx) = self.shutdown_tx.take() {
            let _ = tx.send(());
        }
    }
}

/// Bind (use port 0 for an ephemeral port) and serve on a background tokio task.
pub async fn spawn(settings: SimulatorSettings, bind: SocketAddr) -> std::io::Result<RunningSimulator> {
    let listener = tokio::net::TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    let invalid = |e: url::ParseError| std::io::Error::new(std::io::ErrorKind::InvalidInput, e);
    let base = url::Url::parse(&format!("http://{addr}/")).map_err(invalid)?;
    let token_url = base.join("oauth2/token").map_err(invalid)?;
    let api_base = base.join("api/v1/").map_err(invalid)?;

    let simulator = Simulator::new(settings);
    simulator.set_issuer(&base);
    let router = simulator.router();
    let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = shutdown_rx.await;
            })
            .await;
        if let Err(error) = served {
            tracing::error!(%error, "simulator server stopped with an error");
        }
    });
    tracing::info!(%addr, "simulator listening");
    Ok(RunningSimulator { addr, simulator, token_url, api_base, shutdown_tx: Some(shutdown_tx), task: Some(task) })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn settings_debug_output_does_not_reveal_the_secret() {
        let settings = SimulatorSettings::with_random_secret("client-a", Duration::from_secs(60));
        let secret = settings.client_secret.expose_secret().to_owned();
        assert_eq!(secret.len(), 64);
        assert!(secret.bytes().all(|b| b.is_ascii_hexdigit()));
        let debug = format!("{settings:?}");
        assert!(!debug.contains(&secret), "{debug}");
        assert!(debug.contains("client-a"));
        assert_eq!(settings.allowed_scopes, [DEFAULT_SCOPE]);
        let sim = Simulator::new(settings);
        assert!(!format!("{sim:?}").contains(&secret));
    }

    #[test]
    fn random_secrets_differ_between_calls() {
        let a = SimulatorSettings::with_random_secret("c", Duration::from_secs(1));
        let b = SimulatorSettings::with_random_secret("c", Duration::from_secs(1));
        assert_ne!(a.client_secret.expose_secret(), b.client_secret.expose_secret());
    }

    #[tokio::test]
    async fn spawn_reports_urls_on_the_bound_port_and_shuts_down() {
        let settings = SimulatorSettings::with_random_secret("c", Duration::from_secs(60));
        let running = spawn(settings, "127.0.0.1:0".parse().unwrap()).await.unwrap();
        let port = running.addr.port();
        assert_ne!(port, 0);
        assert_eq!(running.token_url().as_str(), format!("http://127.0.0.1:{port}/oauth2/token"));
        assert_eq!(running.api_base().as_str(), format!("http://127.0.0.1:{port}/api/v1/"));
        assert_eq!(running.simulator().tokens_issued(), 0);
        // An idle keep-alive connection from a client must not hold the shutdown up.
        let client = reqwest::Client::new();
        let wallets = client.get(running.api_base().join("wallets").unwrap()).send().await.unwrap();
        assert_eq!(wallets.status(), 401);
        let addr = running.addr;
        tokio::time::timeout(Duration::from_secs(2), running.shutdown()).await.unwrap();
        assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    }
}
