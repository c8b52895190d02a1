//! Start-up: turns a validated `Config` into a running console (simulator, services, router, listener).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use leptos::config::LeptosOptions;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::audit::AuditLog;
use crate::auth::redis_store::{ConnectError, RedisSessionStore};
use crate::auth::session_cache::{self, CachedSessionStore};
use crate::auth::store::{DatabaseSessionStore, Sessions};
use crate::auth::web::Origins;
use crate::auth::StaffAccess;
use crate::bodies::BodyStore;
use crate::catalog::load_with_extras;
use crate::clock::SharedClock;
use crate::config::{Config, Target};
use crate::expiring::seal::Seal;
use crate::masking::demo::{DemoModes, DemoSwitch};
use crate::masking::demo_shared::SharedDemoModes;
use crate::masking::vault::RevealVault;
use crate::metrics::Metrics;
use crate::service::{ConsoleService, LiveEnvironment};
use crate::simulator::{self, RunningSimulator, SimulatorSettings};
use crate::state::AppState;
use crate::token::redis::RedisTokens;
use crate::token::{SecretProvider, TokenBroker, TokenSource};
use crate::upstream::{api_client, http_client};
use secrecy::SecretString;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("could not start the built-in simulator: {0}")]
    Simulator(std::io::Error),
    #[error("could not build the HTTP client: {0}")]
    Http(reqwest::Error),
    #[error(transparent)]
    Database(#[from] crate::db::DbError),
    /// The identity provider could not be discovered; the message names the issuer.
    #[error("could not set up sign-in: {0}")]
    IdentityProvider(String),
    /// Redis for sessions is configured but does not answer; the message names the host.
    #[error(transparent)]
    Sessions(#[from] ConnectError),
    /// Redis answered for sessions but not for the shared token cache.
    #[error("could not set up the shared token cache: {0}")]
    TokenCache(String),
}

/// A console serving on `addr` until `shutdown` is called.
pub struct RunningConsole {
    pub addr: SocketAddr,
    pub db: crate::db::Database,
    /// Where history and the audit trail write their batches (see `Database::for_batch_writers`).
    batch_db: crate::db::Database,
    pub simulator: Option<RunningSimulator>,
    pub audit: AuditLog,
    history: Arc<crate::history::HistoryStore>,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
    background: Vec<JoinHandle<()>>,
}

/// How long shutdown (SIGTERM, Ctrl-C) waits for requests in flight before closing connections:
/// under the 30 s grace period orchestrators give before SIGKILL, so queued audit and history rows
/// are still written after it.
const DRAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

impl RunningConsole {
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        // Requests in flight finish; a connection that outlives the drain (a client holding a
        // response open, a stuck peer) is cut, so shutdown always ends, as an orchestrator's grace
        // period would end it anyway.
        if tokio::time::timeout(DRAIN_TIMEOUT, &mut self.task).await.is_err() {
            tracing::warn!(seconds = DRAIN_TIMEOUT.as_secs(), "connections still open after the drain; closing them");
            self.task.abort();
        }
        // No request runs any more: write every audit event and history run still queued before
        // closing the database.
        self.audit.flush().await;
        self.history.flush().await;
        for task in &self.background {
            task.abort();
        }
        if let Some(sim) = self.simulator.take() {
            sim.shutdown().await;
        }
        self.batch_db.close().await;
        self.db.close().await;
    }

    /// Serves until Ctrl-C (then shuts down gracefully) or until the server fails.
    pub async fn run_until_ctrl_c(mut self) -> std::io::Result<()> {
        tokio::select! {
            _ = shutdown_signal() => {
                tracing::info!("shutting down");
                self.shutdown().await;
                Ok(())
            }
            joined = &mut self.task => match joined {
                Ok(result) => result,
                Err(join) => Err(std::io::Error::other(join)),
            },
        }
    }
}

/// Ctrl-C, or SIGTERM (what service managers and container runtimes send).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Where the compiled site (WASM, JS, CSS, public files) lives: `LEPTOS_SITE_ROOT`, else
/// `target/site` under the working directory, else next to the executable's `target/<profile>/`.
pub fn site_root() -> PathBuf {
    if let Ok(root) = std::env::var("LEPTOS_SITE_ROOT") {
        return PathBuf::from(root);
    }
    let local = PathBuf::from("target/site");
    if local.is_dir() {
        return local;
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().and_then(|dir| dir.parent()).map(|target| target.join("site")))
        .filter(|p| p.is_dir())
        .unwrap_or(local)
}

/// Whether the front end was built with content-hashed names: the site build writes `hash.txt` next
/// to the executable it builds. A test binary has none, and then pages name the plain files.
fn hash_file_present() -> bool {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("hash.txt")))
        .is_some_and(|f| f.is_file())
}

pub fn leptos_options(addr: SocketAddr) -> LeptosOptions {
    let env = match std::env::var("LEPTOS_ENV").as_deref() {
        Ok("DEV" | "dev" | "development") => leptos::config::Env::DEV,
        _ => leptos::config::Env::PROD,
    };
    LeptosOptions::builder()
        .output_name(app::OUTPUT_NAME)
        .site_root(site_root().to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .hash_files(hash_file_present())
        .site_addr(addr)
        .env(env)
        .build()
}

/// Starts everything on `listener`.
pub async fn start(config: Config, listener: TcpListener, clock: SharedClock) -> Result<RunningConsole, StartError> {
    let addr = listener.local_addr().map_err(StartError::Simulator)?;
    let provider = discover_identity_provider(&config, addr, &clock).await?;
    let db = crate::db::Database::open(&config.storage).await?;
    tracing::info!(database = %config.storage.display(), "records are kept in {}", db.engine());
    let metrics = Arc::new(Metrics::default());
    let sessions = session_store(&config, &db, &clock, &metrics).await?;
    let simulator = start_simulator(&config).await?;

    let batch_db = db.for_batch_writers().await?;
    let (audit, audit_task) = AuditLog::spawn(batch_db.clone(), clock.clone());
    let token_http = http_client(std::time::Duration::from_secs(5)).map_err(StartError::Http)?;
    let token_audit = audit.clone();
    let broker = TokenBroker::new(token_http, clock.clone()).with_metrics(metrics.clone()).with_event_sink(Arc::new(
        move |environment: &str, event: &app::wire::TokenEvent, by: Option<&str>| {
            token_audit.queue(crate::audit::token_event(environment, event, by));
        },
    ));
    let shared_tokens = shared_tokens(&config).await?;
    let broker = Arc::new(match &shared_tokens {
        Some(tokens) => {
            // Names this process in the token history every replica shows; random, so replicas on
            // one host differ and the page never shows the host's name. Logged to map it back.
            let replica = hex::encode(rand::random::<[u8; 3]>());
            tracing::info!(replica = %replica, "token events are shared by every replica; this one is {replica}");
            broker.with_shared(Arc::new(tokens.clone())).with_replica(&replica)
        }
        None => broker,
    });
    let (bodies, vault) = match shared_stores(&config, &sessions, &metrics) {
        Some((bodies, vault)) => (bodies, Some(vault)),
        None => (BodyStore::new(clock.clone()), None),
    };
    let bodies = Arc::new(bodies);
    let environments = live_environments(&config, simulator.as_ref())?;
    let catalog = load_with_extras(&config.catalog_documents);
    let history =
        crate::history::HistoryStore::new(db.clone(), batch_db.clone(), config.history.clone(), clock.clone());
    let saved = crate::saved::SavedStore::new(db.clone(), clock.clone());
    let demo = demo_switch(&config, &sessions, &db, &clock, &metrics).await?;
    let mut masking = crate::masking::state::Masking::new(config.masking.clone(), demo, clock.clone());
    if let Some(vault) = vault {
        masking = masking.with_vault(vault);
    }
    let masking = Arc::new(masking);
    if config.masking.force_demo {
        tracing::info!("demo mode is forced for every session (masking.force_demo)");
    }
    let mut parity = crate::parity::Parity::new(
        config.parity.clone(),
        crate::parity::store::ParityStore::new(db.clone()),
        crate::parity::limiter::RateLimiter::new(
            clock.clone(),
            config.parity.requests_per_minute,
            config.parity.environment_limits.clone(),
        ),
        metrics.clone(),
    );
    if let Some(url) = &config.parity.webhook {
        let webhook = crate::parity::webhook::Webhook::new(url.clone()).map_err(StartError::Http)?;
        parity = parity.with_webhook(webhook);
    }
    if let (Sessions::Redis(store), Some(settings)) = (&sessions, &config.redis_sessions) {
        // Replicas share each suite's run lock and each environment's request budget.
        parity = parity.with_shared(crate::parity::shared::SharedParity::new(
            store.connection(),
            &settings.key_prefix,
            metrics.clone(),
        ));
    }
    let parity = Arc::new(parity);
    let service = Arc::new(
        ConsoleService::new(environments, catalog, broker.clone(), audit.clone(), bodies, clock.clone())
            .with_storage(history.clone(), saved)
            .with_masking(masking)
            .with_parity(parity),
    );
    // Live specs load in the background: a slow or broken spec server never delays start-up.
    let loading = service.clone();
    let live_specs = tokio::spawn(async move { loading.load_live_specs().await });
    if config.auth.local_mode() {
        tracing::warn!("no staff accounts configured: local mode, everyone reaching {addr} is the local admin");
    }
    let mut access = StaffAccess::new(config.auth.clone(), db.clone(), clock.clone(), audit.clone())
        .with_metrics_token(config.metrics_token.clone())
        .with_oidc(provider);
    if let (Sessions::Redis(store), Some(settings)) = (&sessions, &config.redis_sessions) {
        access = access.with_shared_throttle(store.connection(), &settings.key_prefix, metrics.clone());
    }
    if db.is_postgres() || config.redis_sessions.is_some() {
        // Replicas share the logins table: a login another replica ended must not live on here.
        access = access.without_login_cache();
    }
    let access = Arc::new(access);
    let mut background = vec![audit_task, live_specs];
    let lease = match (&sessions, &config.redis_sessions) {
        (Sessions::Redis(store), Some(settings)) => {
            Some(crate::parity::schedule::ScheduleLease::new(store.connection(), &settings.key_prefix, metrics.clone()))
        }
        _ => None,
    };
    background.extend(crate::parity::schedule::spawn(service.clone(), clock.clone(), lease));
    if let Some(tokens) = &shared_tokens {
        // Drops a replica's copy of a token another replica replaced or forgot.
        let watching = Arc::downgrade(&broker);
        background.push(tokens.watch(move |hash, message| {
            if let Some(broker) = watching.upgrade() {
                broker.shared_changed(hash, message);
            }
        }));
    }
    // Redis expires its keys itself; only the database's table needs purging.
    if let Some(store) = sessions.on_database() {
        background.push(tokio::spawn(purge_expired_sessions(store.clone())));
    }
    let state = AppState::new(crate::state::Parts {
        leptos: leptos_options(addr),
        service,
        access,
        sessions,
        origins: Arc::new(Origins::new(config.public_url.as_ref(), Some(addr))),
        db: db.clone(),
        metrics,
    });
    let router = crate::http::router(state);

    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await
    });
    Ok(RunningConsole {
        addr,
        db,
        batch_db,
        simulator: simulator.map(|(sim, _, _)| sim),
        audit,
        history,
        shutdown: Some(tx),
        task,
        background,
    })
}

/// Sessions in Redis when `[sessions] redis_url` is set (start-up fails if it does not answer),
/// else in the database: PostgreSQL read on every request, or SQLite behind the in-process cache.
async fn session_store(
    config: &Config,
    db: &crate::db::Database,
    clock: &SharedClock,
    metrics: &Arc<Metrics>,
) -> Result<Sessions, StartError> {
    let Some(settings) = &config.redis_sessions else {
        let store = DatabaseSessionStore::new(db.clone(), clock.clone());
        if db.is_postgres() {
            tracing::info!("sessions are in PostgreSQL, shared by every replica");
            return Ok(Sessions::Shared(store));
        }
        // One process: records and open logins are served from memory, dropped at logout.
        return Ok(Sessions::Local(CachedSessionStore::new(store, clock.clone(), session_cache::DEFAULT_CAPACITY)));
    };
    let store = RedisSessionStore::connect(settings, metrics.clone()).await?;
    tracing::info!(host = %settings.host(), "sessions are in Redis, shared by every replica");
    Ok(Sessions::Redis(store))
}

/// With sessions in Redis, stored bodies and the reveal vault live there too, so any replica
/// serves what another stored; `None` keeps them in this process.
fn shared_stores(config: &Config, sessions: &Sessions, metrics: &Arc<Metrics>) -> Option<(BodyStore, RevealVault)> {
    let (Sessions::Redis(store), Some(settings)) = (sessions, &config.redis_sessions) else { return None };
    let prefix = settings.key_prefix.as_str();
    let bodies = BodyStore::in_redis(store.connection(), prefix, metrics.clone());
    let seal = settings.vault_key.as_ref().map(Seal::new);
    match &seal {
        Some(seal) => tracing::info!(key_id = %seal.key_id(), "stored bodies and the reveal vault are in Redis"),
        None => tracing::warn!(
            "stored bodies are in Redis; no vault key (sessions.vault_key_env/_file), so masked secrets are \
             not kept for reveals"
        ),
    }
    let vault = RevealVault::in_redis(store.connection(), prefix, seal, metrics.clone(), RevealVault::limits());
    Some((bodies, vault))
}

/// Demo mode per session: in Redis with the sessions (every replica sees a switch at once), else in
/// this process with its SQLite rows.
async fn demo_switch(
    config: &Config,
    sessions: &Sessions,
    db: &crate::db::Database,
    clock: &SharedClock,
    metrics: &Arc<Metrics>,
) -> Result<DemoSwitch, StartError> {
    if let (Sessions::Redis(store), Some(settings)) = (sessions, &config.redis_sessions) {
        tracing::info!("demo mode is kept in Redis, shared by every replica");
        return Ok(DemoSwitch::Shared(SharedDemoModes::new(
            config.masking.force_demo,
            store.connection(),
            &settings.key_prefix,
            metrics.clone(),
            config.auth.absolute_timeout,
        )));
    }
    let modes = DemoModes::load(config.masking.force_demo, db.clone(), clock.clone())
        .await
        .map_err(|source| StartError::Database(crate::db::DbError::Open { path: config.storage.display(), source }))?;
    Ok(modes.into())
}

/// The token cache shared by replicas: on with Redis and `[sessions] state_key_env`/`_file`.
async fn shared_tokens(config: &Config) -> Result<Option<RedisTokens>, StartError> {
    let Some(settings) = &config.redis_sessions else { return Ok(None) };
    let Some(key) = &config.state_key else {
        tracing::warn!(
            "tokens are cached per replica: set [sessions] state_key_env or state_key_file to share them through Redis"
        );
        return Ok(None);
    };
    let tokens =
        RedisTokens::connect(settings, key).await.map_err(|error| StartError::TokenCache(error.to_string()))?;
    tracing::info!(host = %settings.host(), "access tokens are shared by every replica through Redis (encrypted)");
    Ok(Some(tokens))
}

/// Expired session records are deleted every ten minutes, so the table stays bounded.
async fn purge_expired_sessions(store: DatabaseSessionStore) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
    loop {
        every.tick().await;
        match store.delete_expired().await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(deleted = n, "purged expired sessions"),
            Err(error) => tracing::warn!(%error, "could not purge expired sessions"),
        }
    }
}

/// The built-in simulator, when an environment uses it, with the client id and secret it accepts.
/// Discovers `[auth.oidc]`'s provider; its callback is under `server.public_url`, or on loopback
/// under the address the console listens on.
async fn discover_identity_provider(
    config: &Config,
    addr: SocketAddr,
    clock: &SharedClock,
) -> Result<Option<Arc<crate::auth::oidc::OidcProvider>>, StartError> {
    let Some(settings) = config.auth.oidc.clone() else { return Ok(None) };
    let origin = match &config.public_url {
        Some(url) => url.clone(),
        None => url::Url::parse(&format!("http://{addr}")).map_err(|e| StartError::IdentityProvider(e.to_string()))?,
    };
    let provider = crate::auth::oidc::OidcProvider::discover(settings, &origin, clock.clone())
        .await
        .map_err(StartError::IdentityProvider)?;
    tracing::info!(provider = provider.display_name(), "staff sign in through OpenID Connect");
    Ok(Some(Arc::new(provider)))
}

async fn start_simulator(config: &Config) -> Result<Option<(RunningSimulator, String, SecretString)>, StartError> {
    if !config.uses_simulator() {
        return Ok(None);
    }
    let mut settings =
        SimulatorSettings::with_random_secret(config.simulator.client_id.clone(), config.simulator.token_lifetime);
    if let Some(secret) = &config.simulator.client_secret {
        settings.client_secret = secret.clone();
    }
    settings.issued_tokens_file.clone_from(&config.simulator.issued_tokens_file);
    let secret = settings.client_secret.clone();
    let running =
        simulator::spawn(settings, SocketAddr::from(([127, 0, 0, 1], 0))).await.map_err(StartError::Simulator)?;
    tracing::info!(addr = %running.addr, "built-in simulator listening");
    Ok(Some((running, config.simulator.client_id.clone(), secret)))
}

/// Every configured environment resolved to its API base, token source and client.
fn live_environments(
    config: &Config,
    simulator: Option<&(RunningSimulator, String, SecretString)>,
) -> Result<Vec<LiveEnvironment>, StartError> {
    let mut environments = Vec::new();
    for env in &config.environments {
        let (api_base, token_url, client_id, secret) = match (&env.target, simulator) {
            (Target::Remote(remote), _) => (
                remote.api_base.clone(),
                remote.token_url.clone(),
                remote.client_id.clone(),
                match &remote.client_secret_file {
                    Some(path) => SecretProvider::file(path.clone(), remote.client_secret.clone()),
                    None => SecretProvider::fixed(remote.client_secret.clone()),
                },
            ),
            (Target::Simulator, Some((sim, client_id, secret))) => {
                (sim.api_base(), sim.token_url(), client_id.clone(), SecretProvider::fixed(secret.clone()))
            }
            (Target::SimulatorProduction, Some((sim, client_id, secret))) => {
                (sim.production_api_base(), sim.token_url(), client_id.clone(), SecretProvider::fixed(secret.clone()))
            }
            (Target::Simulator | Target::SimulatorProduction, None) => continue,
        };
        environments.push(LiveEnvironment {
            token: TokenSource {
                environment: env.id.clone(),
                token_url,
                client_id,
                secret: Arc::new(secret),
                scope: env.scope.clone(),
                auth: env.client_auth,
                timeout: env.timeouts.token,
                refresh_skew: env.refresh_skew,
            },
            http: api_client(env.timeouts.connect).map_err(StartError::Http)?,
            api_base,
            config: env.clone(),
        });
    }
    Ok(environments)
}
