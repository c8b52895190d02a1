//! Start-up: turns a validated `Config` into a running console (simulator, services, router, listener).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use app::backend::SharedBackend;
use app::{shell, App};
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use http::header::{self, HeaderValue};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::catalog::{load_catalog, BUNDLED_A55, BUNDLED_NAME};
use crate::clock::SharedClock;
use crate::config::{Config, Target};
use crate::service::{ConsoleService, LiveEnvironment};
use crate::simulator::{self, RunningSimulator, SimulatorSettings};
use crate::token::{TokenBroker, TokenSource};
use crate::upstream::http_client;

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
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningConsole {
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
        if let Some(sim) = self.simulator.take() {
            sim.shutdown().await;
        }
        self.db.close().await;
    }

    /// Serves until Ctrl-C (then shuts down gracefully) or until the server fails.
    pub async fn run_until_ctrl_c(mut self) -> std::io::Result<()> {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {
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
        let settings =
            SimulatorSettings::with_random_secret(config.simulator.client_id.clone(), config.simulator.token_lifetime);
        let secret = settings.client_secret.clone();
        let running =
            simulator::spawn(settings, SocketAddr::from(([127, 0, 0, 1], 0))).await.map_err(StartError::Simulator)?;
        tracing::info!(addr = %running.addr, "built-in simulator listening");
        Some((running, config.simulator.client_id.clone(), secret))
    } else {
        None
    };

    let token_http = http_client(std::time::Duration::from_secs(5)).map_err(StartError::Http)?;
    let broker = Arc::new(TokenBroker::new(token_http, clock));
    let mut environments = Vec::new();
    for env in &config.environments {
        let (api_base, token_url, client_id, client_secret) = match (&env.target, &simulator) {
            (Target::Remote(remote), _) => (
                remote.api_base.clone(),
                remote.token_url.clone(),
                remote.client_id.clone(),
                remote.client_secret.clone(),
            ),
            (Target::Simulator, Some((sim, client_id, secret))) => {
                (sim.api_base(), sim.token_url(), client_id.clone(), secret.clone())
            }
            (Target::Simulator, None) => continue,
        };
        environments.push(LiveEnvironment {
            token: TokenSource {
                environment: env.id.clone(),
                token_url,
                client_id,
                client_secret,
                scope: env.scope.clone(),
                auth: env.client_auth,
                timeout: env.timeouts.token,
                refresh_skew: env.refresh_skew,
            },
            http: http_client(env.timeouts.connect).map_err(StartError::Http)?,
            api_base,
            config: env.clone(),
        });
    }
    let catalog = load_catalog(&[(BUNDLED_NAME, BUNDLED_A55)]);
    let backend: SharedBackend = Arc::new(ConsoleService::new(environments, catalog, broker));
    let router = router(leptos_options(addr), backend);

    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, router.into_make_service())
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await
    });
    Ok(RunningConsole { addr, db, simulator: simulator.map(|(sim, _, _)| sim), shutdown: Some(tx), task })
}

/// The whole HTTP surface: pages, server functions, static files and the health check.
pub fn router(options: LeptosOptions, backend: SharedBackend) -> Router {
    let routes = generate_route_list(App);
    let shell_options = options.clone();
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .leptos_routes_with_context(
            &options,
            routes,
            move || provide_context(backend.clone()),
            move || shell(shell_options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler(shell))
        .layer(middleware::from_fn(security_headers))
        .with_state(options)
}

/// Baseline browser hardening on every response; API answers are never cached.
async fn security_headers(request: Request, next: Next) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if is_api {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
