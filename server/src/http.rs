//! The HTTP surface: one router per area, merged with the Leptos pages and server functions, behind
//! (outermost first) security headers, host and CSRF checks, the removal-cookie fix, sessions, and
//! the gate that resolves the caller.

mod assets;
mod audit;
mod bodies;
mod gzip;
mod health;
mod login;
mod metrics;
mod oidc;
mod parity;

use app::{shell, App};
use axum::response::IntoResponse as _;
use axum::{middleware, Router};
use http::header::{self, HeaderValue};
use leptos::prelude::{provide_context, use_context};
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::compression::predicate::{And, DefaultPredicate, SizeAbove};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::auth::web::{self, SESSION_COOKIE};
use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    let routes = route_list();
    let shell_options = state.leptos.clone();
    Router::new()
        .merge(health::routes())
        .merge(assets::routes(std::path::Path::new(&*state.leptos.site_root)))
        .merge(bodies::routes())
        .merge(audit::routes())
        .merge(metrics::routes())
        .merge(parity::routes())
        .merge(oidc::routes())
        .merge(login::routes())
        .leptos_routes_with_context(&state, routes, page_context(&state), move || shell(shell_options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn(server_fn_status))
        // Each middleware is given only the part of the state it reads: axum clones a middleware's
        // state for every request.
        .layer(middleware::from_fn_with_state(state.service.clone(), crate::masking::demo_shared::read_per_request))
        .layer(middleware::from_fn_with_state(state.access.clone(), web::gate))
        .layer(session_layer(&state))
        .layer(middleware::from_fn(session_save_failed))
        .layer(middleware::from_fn(web::secure_removal_cookie))
        .layer(middleware::from_fn_with_state(state.origins.clone(), web::request_guard))
        .layer(middleware::from_fn_with_state(state.origins.clone(), web::security_headers))
        .layer(middleware::from_fn(gzip::compress_whole))
        .layer(compression())
        .with_state(state)
}

/// The pages' routes, worked out once per process.
///
/// Working them out renders the app with resource loading switched off by a flag Leptos keeps for
/// the whole process (`leptos_server`'s `SuppressResourceLoad`, 0.8): a resource of a page being
/// rendered at that moment on another thread waits forever, and that page never finishes. Every
/// router of the process waits here until the one list exists, so no page renders while it is
/// made. One router per process in production; tests start many consoles side by side.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// Pages, server-function answers and stored bodies, compressed when the client asks (assets under
/// /pkg come precompressed and pass through). Whole answers are gzipped by `gzip::compress_whole`
/// first; this layer takes the rest (streams, answers above its one-shot limit, clients that refuse
/// gzip). The fastest levels: these answers are made per request, and level 1 already takes most of
/// the bytes off JSON. Nothing a page carries is a secret an attacker could guess byte by byte
/// through sizes (BREACH): no CSRF token is in a body (the check is a header), and tokens and client
/// secrets never reach the browser.
fn compression() -> CompressionLayer<And<DefaultPredicate, SizeAbove>> {
    CompressionLayer::new().quality(CompressionLevel::Fastest).compress_when(gzip::predicate())
}

/// server_fn answers every error it raises itself (arguments that do not decode, for one) with 500;
/// the status follows the error instead, so `ConsoleError::status_code` stays the one status map.
async fn server_fn_status(request: axum::extract::Request, next: middleware::Next) -> axum::response::Response {
    let response = next.run(request).await;
    if response.status() != http::StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(leptos::server_fn::error::SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // Error bodies are a short JSON error; anything larger is passed on as it is.
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Ok(error) = serde_json::from_slice::<app::wire::ConsoleError>(&bytes) {
        if let Ok(status) = http::StatusCode::from_u16(error.status_code()) {
            parts.status = status;
        }
    }
    axum::response::Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// tower-sessions answers a bare, empty 500 when it cannot save the session at the end of a request
/// (a login while Redis is down); every 500 of our own carries a body. Say what happened instead.
async fn session_save_failed(request: axum::extract::Request, next: middleware::Next) -> axum::response::Response {
    use axum::body::HttpBody as _;
    let response = next.run(request).await;
    if response.status() == http::StatusCode::INTERNAL_SERVER_ERROR
        && response.body().size_hint().exact() == Some(0)
        && !response.headers().contains_key(header::CONTENT_TYPE)
    {
        tracing::warn!("the session could not be saved: the session store is unavailable");
        return crate::error::refusal(app::wire::ConsoleError::Unavailable(
            "the session store is unavailable: try again in a moment".into(),
        ));
    }
    response
}

/// What every rendered page has in context: the backends, and its response headers.
fn page_context(state: &AppState) -> impl Fn() + Clone + Send + Sync + 'static {
    let (backend, staff) = (state.backend(), state.staff());
    move || {
        provide_context(backend.clone());
        provide_context(staff.clone());
        page_headers();
    }
}

/// Renders the page at the request's path the way the Leptos routes do, with `extra` context (the
/// login form's handler shows the login page again with the reason it was refused).
pub(crate) async fn render_page(
    state: &AppState,
    extra: impl Fn() + Clone + Send + Sync + 'static,
    request: axum::extract::Request,
) -> axum::response::Response {
    let (context, options) = (page_context(state), state.leptos.clone());
    let render = leptos_axum::render_app_async_with_context(
        move || {
            context();
            extra();
        },
        move || shell(options.clone()),
    );
    render(request).await
}

/// Leptos put a fresh nonce on its hydration script; the page's CSP allows exactly that one. A
/// plain page (the login page) runs no WASM, so its CSP allows none, and it sends a same-origin
/// `Referer` so that its form can prove where it was sent from (`web::form_csrf_problem`).
fn page_headers() {
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else { return };
    let plain = use_context::<http::request::Parts>().is_some_and(|parts| app::is_plain_page(parts.uri.path()));
    if let Some(nonce) = leptos::nonce::use_nonce() {
        if let Ok(value) = HeaderValue::from_str(&web::page_csp(&nonce, !plain)) {
            response.insert_header(header::CONTENT_SECURITY_POLICY, value);
        }
    }
    if plain {
        response.insert_header(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    }
}

fn session_layer(state: &AppState) -> SessionManagerLayer<crate::auth::store::Sessions> {
    SessionManagerLayer::new(state.sessions.clone())
        .with_name(SESSION_COOKIE)
        .with_secure(true)
        .with_http_only(true)
        .with_same_site(tower_sessions::cookie::SameSite::Strict)
        .with_path("/")
        // Records are only written at login, so this is the absolute lifetime of the record and the
        // cookie; idle and absolute timeouts are enforced on every request by `StaffAccess::resolve`.
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(
            i64::try_from(state.access.auth.absolute_timeout.as_secs()).unwrap_or(i64::MAX),
        )))
}
