//! The HTTP side of staff access: host and CSRF checks, the session gate, the removal-cookie fix,
//! browser hardening headers and the audit export.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use app::backend::Caller;
use app::csrf::{CSRF_HEADER, CSRF_VALUE};
use app::wire::{AuditFilter, ConsoleError, Role};
use axum::body::Body;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, StatusCode};
use serde::Deserialize;
use tower_sessions::Session;
use url::Url;

use super::{SessionState, StaffAccess};
use crate::audit;

/// Name of the session cookie: `__Host-` binds it to this exact origin, path `/`, Secure, no Domain.
pub const SESSION_COOKIE: &str = "__Host-a55-session";

/// Where requests may come from and be addressed to.
#[derive(Clone, Debug)]
pub struct Origins {
    /// `scheme://host[:port]` of `server.public_url`, when configured.
    pub public: Option<String>,
    pub public_host: Option<String>,
    pub https: bool,
}

impl Origins {
    pub fn new(public_url: Option<&Url>) -> Self {
        Self {
            public: public_url.map(|u| u.origin().ascii_serialization()),
            public_host: public_url.and_then(|u| {
                u.host_str().map(|h| match u.port() {
                    Some(port) => format!("{h}:{port}"),
                    None => h.to_owned(),
                })
            }),
            https: public_url.is_some_and(|u| u.scheme() == "https"),
        }
    }

    fn host_is_loopback(host: &str) -> bool {
        let name = match host.rsplit_once(':') {
            // `[::1]:3000`, `127.0.0.1:3000`, `localhost:3000`; a bare IPv6 literal has more colons.
            Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) && !name.ends_with(':') => name,
            _ => host,
        };
        let name = name.trim_start_matches('[').trim_end_matches(']');
        name.eq_ignore_ascii_case("localhost") || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }

    /// Loopback names, or the configured public host. Anything else (DNS rebinding) is refused.
    fn host_allowed(&self, host: &str) -> bool {
        Self::host_is_loopback(host) || self.public_host.as_deref().is_some_and(|p| p.eq_ignore_ascii_case(host))
    }

    fn origin_allowed(&self, origin: &str, host: &str) -> bool {
        if self.public.as_deref() == Some(origin) {
            return true;
        }
        Self::host_is_loopback(host) && (origin == format!("http://{host}") || origin == format!("https://{host}"))
    }
}

fn refuse(status: StatusCode, error: ConsoleError) -> Response {
    let body = serde_json::to_string(&error).unwrap_or_default();
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Why a state-changing request looks cross-site, or `None` when it may proceed.
pub fn csrf_problem(origins: &Origins, method: &Method, headers: &HeaderMap, host: &str) -> Option<&'static str> {
    if is_safe(method) {
        return None;
    }
    if let Some(site) = headers.get("sec-fetch-site") {
        if site.as_bytes() != b"same-origin" {
            return Some("the browser says this request comes from another site");
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("null");
        if origin == "null" || !origins.origin_allowed(origin, host) {
            return Some("the request comes from another origin");
        }
    }
    if headers.get(CSRF_HEADER).map(HeaderValue::as_bytes) != Some(CSRF_VALUE.as_bytes()) {
        return Some("the anti-CSRF header is missing");
    }
    None
}

/// Outermost check: the Host must be ours, and state-changing requests must be same-origin and carry
/// the custom header. Runs before the session is loaded, so refused requests never touch the store.
pub async fn request_guard(State(origins): State<Arc<Origins>>, request: Request, next: Next) -> Response {
    // Only a path names something here: `OPTIONS *` (asterisk form) and CONNECT's `host:port`
    // (authority form) would otherwise reach the page renderer, which cannot route them.
    if !request.uri().path().starts_with('/') {
        tracing::warn!(method = %request.method(), "refused a request whose target is not a path");
        return refuse(
            StatusCode::BAD_REQUEST,
            ConsoleError::InvalidRequest("the request target must be a path such as /api/execute".into()),
        );
    }
    let header_host = request.headers().get(header::HOST).map(|h| h.to_str().map(str::to_owned));
    // An absolute-form target (`GET http://host/path`) names the host with authority over the Host
    // header (RFC 9112 §3.2.2), so both must be ours when both are present.
    let target_host = request.uri().authority().map(|a| a.to_string());
    let host = match (&header_host, &target_host) {
        (Some(Ok(header)), _) => header.clone(),
        (None, Some(target)) => target.clone(),
        _ => String::new(),
    };
    let foreign_target = target_host.as_deref().is_some_and(|target| !origins.host_allowed(target));
    if !origins.host_allowed(&host) || foreign_target {
        let host = target_host.filter(|_| foreign_target).unwrap_or(host);
        tracing::warn!(host = %host.escape_debug(), "refused a request for an unknown host");
        return refuse(
            StatusCode::MISDIRECTED_REQUEST,
            ConsoleError::Forbidden("this console does not serve that host name (set server.public_url)".into()),
        );
    }
    if let Some(problem) = csrf_problem(&origins, request.method(), request.headers(), &host) {
        tracing::warn!(method = %request.method(), path = %request.uri().path().escape_debug(), problem, "refused a cross-site request");
        return refuse(StatusCode::FORBIDDEN, ConsoleError::Forbidden(format!("refused: {problem}")));
    }
    next.run(request).await
}

/// tower-sessions 0.15.0 removes the cookie with a `Set-Cookie` lacking `Secure`, which browsers
/// ignore for `__Host-` names: the cookie would stay in the browser after logout. Rewrite it.
pub async fn secure_removal_cookie(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let prefix = format!("{SESSION_COOKIE}=");
    let cookies: Vec<HeaderValue> = response.headers().get_all(header::SET_COOKIE).iter().cloned().collect();
    if cookies.iter().any(|c| c.to_str().is_ok_and(|c| c.starts_with(&prefix) && !c.contains("; Secure"))) {
        response.headers_mut().remove(header::SET_COOKIE);
        for cookie in cookies {
            let fixed = match cookie.to_str() {
                Ok(text) if text.starts_with(&prefix) && !text.contains("; Secure") => HeaderValue::from_str(&format!(
                    "{SESSION_COOKIE}=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure; HttpOnly; SameSite=Strict"
                ))
                .unwrap_or(cookie),
                _ => cookie,
            };
            response.headers_mut().append(header::SET_COOKIE, fixed);
        }
    }
    response
}

/// Paths served without a session: the login page and its server function, assets, health.
fn is_public(path: &str) -> bool {
    matches!(path, "/login" | "/api/login" | "/healthz" | "/favicon.svg" | "/favicon.ico") || path.starts_with("/pkg/")
}

/// Resolves the session into a `Caller` (request extension) and keeps everyone else out.
pub async fn gate(State(access): State<Arc<StaffAccess>>, mut request: Request, next: Next) -> Response {
    let address = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
    let path = request.uri().path().to_owned();
    if access.auth.local_mode() {
        if path == "/login" {
            return Redirect::to("/").into_response();
        }
        request.extensions_mut().insert(StaffAccess::local_caller(address));
        return next.run(request).await;
    }
    if path.starts_with("/pkg/") || path == "/healthz" {
        return next.run(request).await;
    }
    let Some(session) = request.extensions().get::<Session>().cloned() else {
        return refuse(StatusCode::INTERNAL_SERVER_ERROR, ConsoleError::Internal("sessions are not configured".into()));
    };
    let state = match access.resolve(&session, address).await {
        Ok(state) => state,
        // Fail closed: a broken store never lets anyone in.
        Err(error) => return refuse(StatusCode::SERVICE_UNAVAILABLE, error),
    };
    match state {
        SessionState::Valid(caller) => {
            if path == "/login" && request.method() == Method::GET {
                return Redirect::to("/").into_response();
            }
            request.extensions_mut().insert(*caller);
            next.run(request).await
        }
        _ if is_public(&path) => next.run(request).await,
        state => {
            let message = match state {
                SessionState::Expired("idle_timeout") => {
                    "your session ended after a period of inactivity: log in again"
                }
                SessionState::Expired(_) => "your session reached its maximum length: log in again",
                _ => "log in to use the console",
            };
            if request.method() == Method::GET && !path.starts_with("/api/") {
                let next_path = request.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
                let target = format!(
                    "/login?next={}",
                    percent_encoding::utf8_percent_encode(next_path, percent_encoding::NON_ALPHANUMERIC)
                );
                Redirect::to(&target).into_response()
            } else {
                refuse(StatusCode::UNAUTHORIZED, ConsoleError::Unauthenticated(message.into()))
            }
        }
    }
}

/// The page CSP: scripts only from this origin or with this response's nonce (Leptos' hydration
/// script carries it), WASM compilation allowed, inline style *attributes* only (environment colours).
pub fn page_csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         style-src-attr 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// For everything that is not a rendered page (JSON, files): nothing may run or be framed.
const STRICT_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Browser hardening on every response. Pages get their nonce CSP from the renderer.
pub async fn security_headers(State(origins): State<Arc<Origins>>, request: Request, next: Next) -> Response {
    let is_asset = request.uri().path().starts_with("/pkg/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    headers.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
    headers
        .insert("permissions-policy", HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"));
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(STRICT_CSP));
    }
    if !is_asset {
        // Pages and API answers carry staff data and partner responses: never cached.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if origins.https {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    response
}

#[derive(Debug, Default, Deserialize)]
pub struct ExportQuery {
    format: Option<String>,
    actor: Option<String>,
    environment: Option<String>,
    event: Option<String>,
    status: Option<String>,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
}

/// `GET /audit/export?format=jsonl|csv&…filters`: the whole filtered trail, newest first, admins only.
pub async fn audit_export(
    State(db): State<sqlx::SqlitePool>,
    caller: Option<axum::Extension<Caller>>,
    Query(query): Query<ExportQuery>,
) -> Response {
    if caller.is_none_or(|c| c.role != Role::Admin) {
        return refuse(StatusCode::FORBIDDEN, ConsoleError::Forbidden("the audit trail is for admins".into()));
    }
    let csv = match query.format.as_deref() {
        None | Some("jsonl") => false,
        Some("csv") => true,
        Some(other) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                ConsoleError::InvalidRequest(format!("format={other:?}: use jsonl or csv")),
            )
        }
    };
    let filter = AuditFilter {
        actor: query.actor,
        environment: query.environment,
        event: query.event,
        status: query.status,
        from_ms: query.from_ms,
        to_ms: query.to_ms,
        before_id: None,
        limit: Some(audit::MAX_PAGE),
    };
    // Pages of rows, streamed: an export of a long trail never sits in memory whole.
    let header_line = csv.then(|| Ok::<_, std::io::Error>(bytes::Bytes::from_static(audit::CSV_HEADER.as_bytes())));
    let pages = futures::stream::unfold(Some(filter), move |filter| {
        let db = db.clone();
        async move {
            let filter = filter?;
            match audit::query(&db, &filter).await {
                Ok(rows) if rows.is_empty() => None,
                Ok(rows) => {
                    let last = rows.last().map(|r| r.id);
                    let text: String =
                        rows.iter().map(|r| if csv { audit::csv_line(r) } else { audit::json_line(r) }).collect();
                    let next =
                        (rows.len() as u32 == audit::MAX_PAGE).then_some(AuditFilter { before_id: last, ..filter });
                    Some((Ok(bytes::Bytes::from(text)), next))
                }
                Err(error) => Some((Err(std::io::Error::other(error)), None)),
            }
        }
    });
    let body = Body::from_stream(futures::StreamExt::chain(futures::stream::iter(header_line), pages));
    let (content_type, name) =
        if csv { ("text/csv; charset=utf-8", "audit.csv") } else { ("application/x-ndjson", "audit.jsonl") };
    let mut response = Response::new(body);
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_and_the_public_host_are_allowed_and_nothing_else() {
        let origins = Origins::new(Some(&Url::parse("https://console.example.com").unwrap()));
        for host in ["127.0.0.1:3000", "localhost:3000", "[::1]:3000", "localhost", "console.example.com"] {
            assert!(origins.host_allowed(host), "{host}");
        }
        for host in ["evil.example:3000", "127.0.0.1.evil.example", "", "console.example.com.evil"] {
            assert!(!origins.host_allowed(host), "{host}");
        }
        assert!(origins.origin_allowed("https://console.example.com", "console.example.com"));
        assert!(origins.origin_allowed("http://127.0.0.1:3000", "127.0.0.1:3000"));
        assert!(!origins.origin_allowed("http://127.0.0.1:3001", "127.0.0.1:3000"));
        assert!(!origins.origin_allowed("https://evil.example", "console.example.com"));
    }
}
