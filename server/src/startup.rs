//! Start-up: turns a validated `Config` into a running console (simulator, services, router, listener).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use app::backend::{Caller, SharedBackend, SharedStaff};
use app::{shell, App};
use axum::extract::{Path, Query};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use http::header::{self, HeaderValue};
use http::StatusCode;
use leptos::config::LeptosOptions;
use leptos::prelude::{provide_context, use_context};
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::audit::AuditLog;
use crate::auth::store::SqliteSessionStore;
use crate::auth::web::{self, Origins, SESSION_COOKIE};
use crate::auth::StaffAccess;
use crate::bodies::BodyStore;
use crate::catalog::load_with_extras;
use crate::clock::SharedClock;
use crate::config::{Config, Target};
use crate::metrics::Metrics;
use crate::service::{ConsoleService, LiveEnvironment};
use crate::simulator::{self, RunningSimulator, SimulatorSettings};
use crate::token::{SecretProvider, TokenBroker, TokenSource};
use crate::upstream::{api_client, http_client};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("could not start the built-in simulator: {0}")]
    Simulator(std::io::Error),
    #[error("could not build the HTTP client: {0}")]
    Http(reqwest::Error),
    #[error(transparent)]
    Database(#[from] crate::db::DbError),
}

/// A console serving on `addr` until `shutdown` is called.
pub struct RunningConsole {
    pub addr: SocketAddr,
    pub db: sqlx::SqlitePool,
    pub simulator: Option<RunningSimulator>,
    pub audit: AuditLog,
    history: Arc<crate::history::HistoryStore>,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
    background: Vec<JoinHandle<()>>,
}

impl RunningConsole {
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
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

pub fn leptos_options(addr: SocketAddr) -> LeptosOptions {
    let env = match std::env::var("LEPTOS_ENV").as_deref() {
        Ok("DEV" | "dev" | "development") => leptos::config::Env::DEV,
        _ => leptos::config::Env::PROD,
    };
    LeptosOptions::builder()
        .output_name(app::OUTPUT_NAME)
        .site_root(site_root().to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .env(env)
        .build()
}

/// Starts everything on `listener`.
pub async fn start(config: Config, listener: TcpListener, clock: SharedClock) -> Result<RunningConsole, StartError> {
    let addr = listener.local_addr().map_err(StartError::Simulator)?;
    let db = crate::db::open(&config.database_path).await?;
    let simulator = if config.uses_simulator() {
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
        Some((running, config.simulator.client_id.clone(), secret))
    } else {
        None
    };

    let (audit, audit_task) = AuditLog::spawn(db.clone(), clock.clone());
    let token_http = http_client(std::time::Duration::from_secs(5)).map_err(StartError::Http)?;
    let metrics = Arc::new(Metrics::default());
    let broker = Arc::new(TokenBroker::new(token_http, clock.clone()).with_metrics(metrics.clone()));
    let bodies = Arc::new(BodyStore::new(clock.clone()));
    let mut environments = Vec::new();
    for env in &config.environments {
        let (api_base, token_url, client_id, secret) = match (&env.target, &simulator) {
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
    let catalog = load_with_extras(&config.catalog_documents);
    let history = crate::history::HistoryStore::new(db.clone(), config.history.clone(), clock.clone());
    let saved = crate::saved::SavedStore::new(db.clone(), clock.clone());
    let demo = crate::masking::demo::DemoModes::load(config.masking.force_demo, db.clone(), clock.clone())
        .await
        .map_err(|source| {
            StartError::Database(crate::db::DbError::Open { path: config.database_path.display().to_string(), source })
        })?;
    let masking = Arc::new(crate::masking::state::Masking::new(config.masking.clone(), demo, clock.clone()));
    if config.masking.force_demo {
        tracing::info!("demo mode is forced for every session (masking.force_demo)");
    }
    let service = Arc::new(
        ConsoleService::new(environments, catalog, broker, audit.clone(), bodies)
            .with_storage(history.clone(), saved)
            .with_masking(masking),
    );
    // Live specs load in the background: a slow or broken spec server never delays start-up.
    let loading = service.clone();
    let live_specs = tokio::spawn(async move { loading.load_live_specs().await });
    let backend: SharedBackend = service.clone();
    if config.auth.local_mode() {
        tracing::warn!("no staff accounts configured: local mode, everyone reaching {addr} is the local admin");
    }
    let access = Arc::new(StaffAccess::new(config.auth.clone(), db.clone(), clock, audit.clone()));
    let store = SqliteSessionStore::new(db.clone());
    let purge = tokio::spawn(purge_expired_sessions(store.clone()));
    let origins = Arc::new(Origins::new(config.public_url.as_ref()));
    let router = router(leptos_options(addr), backend, access, store, origins, db.clone(), metrics, service);

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
        simulator: simulator.map(|(sim, _, _)| sim),
        audit,
        history,
        shutdown: Some(tx),
        task,
        background: vec![purge, audit_task, live_specs],
    })
}

/// Expired session records are deleted every ten minutes, so the table stays bounded.
async fn purge_expired_sessions(store: SqliteSessionStore) {
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

/// The whole HTTP surface: pages, server functions, static files, the audit export and the health
/// check, behind (outermost first) security headers, host and CSRF checks, the removal-cookie fix,
/// sessions, and the gate that resolves the caller.
pub fn router(
    options: LeptosOptions,
    backend: SharedBackend,
    access: Arc<StaffAccess>,
    store: SqliteSessionStore,
    origins: Arc<Origins>,
    db: sqlx::SqlitePool,
    metrics: Arc<Metrics>,
    service: Arc<ConsoleService>,
) -> Router {
    let routes = generate_route_list(App);
    let shell_options = options.clone();
    let staff: SharedStaff = access.clone();
    let sessions = SessionManagerLayer::new(store)
        .with_name(SESSION_COOKIE)
        .with_secure(true)
        .with_http_only(true)
        .with_same_site(tower_sessions::cookie::SameSite::Strict)
        .with_path("/")
        // Records are only written at login, so this is the absolute lifetime of the record and the
        // cookie; idle and absolute timeouts are enforced on every request by `StaffAccess::resolve`.
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(
            i64::try_from(access.auth.absolute_timeout.as_secs()).unwrap_or(i64::MAX),
        )));
    let export = Router::new().route("/audit/export", get(web::audit_export)).with_state(db);
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/api/bodies/{id}",
            get(
                move |Path(id): Path<String>,
                      Query(download): Query<DownloadName>,
                      caller: Option<axum::Extension<Caller>>| {
                    let service = service.clone();
                    // The staff gate puts the caller on every /api request; without one nothing is served.
                    async move {
                        match caller {
                            Some(axum::Extension(caller)) => {
                                serve_body(service.stored_body(&caller, &id).await, &id, download.name.as_deref())
                            }
                            None => StatusCode::UNAUTHORIZED.into_response(),
                        }
                    }
                },
            ),
        )
        .leptos_routes_with_context(
            &options,
            routes,
            move || {
                provide_context(backend.clone());
                provide_context(staff.clone());
                // Leptos put a fresh nonce on its hydration script; allow exactly that one.
                if let (Some(nonce), Some(response)) =
                    (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>())
                {
                    if let Ok(value) = HeaderValue::from_str(&web::page_csp(&nonce)) {
                        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
                    }
                }
            },
            move || shell(shell_options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(options)
        .merge(export)
        .merge(metrics_route(metrics))
        .layer(middleware::from_fn_with_state(access, web::gate))
        .layer(sessions)
        .layer(middleware::from_fn(web::secure_removal_cookie))
        .layer(middleware::from_fn_with_state(origins.clone(), web::request_guard))
        .layer(middleware::from_fn_with_state(origins, web::security_headers))
}

/// `GET /metrics`: the counters in the Prometheus text format (environment ids and outcomes only).
/// Behind the staff gate like every other page.
fn metrics_route(metrics: Arc<Metrics>) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let metrics = metrics.clone();
            async move {
                ([(header::CONTENT_TYPE, HeaderValue::from_static(crate::metrics::CONTENT_TYPE))], metrics.render())
            }
        }),
    )
}

/// `?name=` of a body download (compare exports name their files).
#[derive(serde::Deserialize)]
struct DownloadName {
    name: Option<String>,
}

/// A download name the browser may use as is: letters, digits, `.`, `-`, `_`, at most 100 characters,
/// not starting with a dot.
fn safe_filename(name: &str) -> Option<String> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    ok.then(|| name.to_owned())
}

/// A stored response body, raw. Served as an opaque download so the browser never sniffs or renders it
/// (an upstream HTML page with a script stays inert even if someone opens this URL).
fn serve_body(body: Option<crate::bodies::StoredBody>, id: &str, name: Option<&str>) -> Response {
    let Some(body) = body else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"))],
            "This response body is no longer kept on the server (it expired or was evicted); run the request again.",
        )
            .into_response();
    };
    let short = id.get(..8).unwrap_or("body");
    let filename = name.and_then(safe_filename).unwrap_or_else(|| format!("response-{short}"));
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream")),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox")),
        ],
        body.bytes,
    )
        .into_response()
}
