//! The HTTP side of staff access: host and CSRF checks, the session gate, the removal-cookie fix and
//! browser hardening headers.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use app::csrf::{CSRF_HEADER, CSRF_VALUE};
use app::ui::pages::login::LOGIN_PATH;
use app::wire::ConsoleError;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http::header::{self, HeaderMap, HeaderValue};
use http::Method;
use tower_sessions::Session;
use url::Url;

use super::{SessionState, StaffAccess};
use crate::error::refusal;

/// Name of the session cookie: `__Host-` binds it to this exact origin, path `/`, Secure, no Domain.
pub const SESSION_COOKIE: &str = "__Host-a55-session";

/// The methods the console's own routes answer (pages and downloads: GET/HEAD; server functions: POST).
pub const ALLOWED_METHODS: &str = "GET, HEAD, POST";

/// Where requests may come from and be addressed to.
#[derive(Clone, Debug)]
pub struct Origins {
    /// `scheme://host[:port]` of `server.public_url`, when configured.
    pub public: Option<String>,
    pub public_host: Option<String>,
    pub https: bool,
    /// The address the console listens on: an absolute-form target must name it (or the public host).
    pub served: Option<SocketAddr>,
}

impl Origins {
    pub fn new(public_url: Option<&Url>, served: Option<SocketAddr>) -> Self {
        Self {
            served,
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

    /// An absolute-form target (`GET http://host/path`) must name this console exactly: the public
    /// host, or the listening address (by IP or as `localhost`) with its port. Any loopback name is
    /// not enough: `http://127.0.0.2/` names another server, whoever answers on this socket.
    fn target_allowed(&self, authority: &str) -> bool {
        if self.public_host.as_deref().is_some_and(|p| p.eq_ignore_ascii_case(authority)) {
            return true;
        }
        let Some(served) = self.served else { return false };
        let Some((name, port)) = authority.rsplit_once(':') else { return false };
        let name = name.trim_start_matches('[').trim_end_matches(']');
        let port_matches = port.parse::<u16>().is_ok_and(|p| p == served.port());
        let names_us = name.parse::<IpAddr>().map_or(name.eq_ignore_ascii_case("localhost"), |ip| ip == served.ip());
        port_matches && names_us
    }

    fn origin_allowed(&self, origin: &str, host: &str) -> bool {
        if self.public.as_deref() == Some(origin) {
            return true;
        }
        Self::host_is_loopback(host) && (origin == format!("http://{host}") || origin == format!("https://{host}"))
    }
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

/// Why a post of the login page's form looks cross-site, or `None` when it may proceed. A plain
/// HTML form cannot add the custom header, so it must prove instead that this console's own page
/// sent it: `Sec-Fetch-Site: same-origin` when the browser sends that header, otherwise an `Origin`
/// (or, failing that, a `Referer`) on this console's origin. The login page's referrer policy is
/// `same-origin`, so browsers without `Sec-Fetch-Site` send a real `Origin` and `Referer` for it.
pub fn form_csrf_problem(origins: &Origins, headers: &HeaderMap, host: &str) -> Option<&'static str> {
    let site = headers.get("sec-fetch-site").map(HeaderValue::as_bytes);
    if site.is_some_and(|site| site != b"same-origin") {
        return Some("the browser says this form was sent from another site");
    }
    // `null` is what a sandboxed frame, or a page with a no-referrer policy, sends: no proof either way.
    if let Some(origin) = headers.get(header::ORIGIN).map(|o| o.to_str().unwrap_or("")).filter(|o| *o != "null") {
        return (!origins.origin_allowed(origin, host)).then_some("the form was sent from another origin");
    }
    if site.is_some() {
        return None;
    }
    let referer = headers.get(header::REFERER).and_then(|r| r.to_str().ok()).and_then(|r| Url::parse(r).ok());
    match referer.map(|r| r.origin().ascii_serialization()) {
        Some(origin) if origins.origin_allowed(&origin, host) => None,
        Some(_) => Some("the form was sent from another origin's page"),
        None => Some(
            "the form carries no proof that it was sent from this console's login page \
             (no Sec-Fetch-Site, Origin or Referer header): send it from the login page",
        ),
    }
}

/// Outermost check: the Host must be ours, and state-changing requests must be same-origin and carry
/// the custom header (the login form: a same-origin proof instead). Runs before the session is
/// loaded, so refused requests never touch the store.
pub async fn request_guard(State(origins): State<Arc<Origins>>, request: Request, next: Next) -> Response {
    // TRACE would echo the request (cookies included) back; CONNECT asks for a tunnel. Neither is
    // something this console does, whatever the target.
    if matches!(*request.method(), Method::TRACE | Method::CONNECT) {
        tracing::warn!(method = %request.method(), "refused a method the console does not serve");
        let mut response = refusal(ConsoleError::MethodNotAllowed(format!(
            "the console does not answer {}; it serves {ALLOWED_METHODS}",
            request.method()
        )));
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static(ALLOWED_METHODS));
        return response;
    }
    // Only a path names something here: `OPTIONS *` (asterisk form) and CONNECT's `host:port`
    // (authority form) would otherwise reach the page renderer, which cannot route them.
    if !request.uri().path().starts_with('/') {
        tracing::warn!(method = %request.method(), "refused a request whose target is not a path");
        return refusal(ConsoleError::InvalidRequest("the request target must be a path such as /api/execute".into()));
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
    let foreign_target = target_host.as_deref().is_some_and(|target| !origins.target_allowed(target));
    if !origins.host_allowed(&host) || foreign_target {
        let host = target_host.filter(|_| foreign_target).unwrap_or(host);
        tracing::warn!(host = %host.escape_debug(), "refused a request for an unknown host");
        return refusal(ConsoleError::MisdirectedRequest(
            "this console does not serve that host name (set server.public_url)".into(),
        ));
    }
    // The login page's form is the one state-changing request without the custom header.
    let problem = if request.method() == Method::POST && request.uri().path() == LOGIN_PATH {
        form_csrf_problem(&origins, request.headers(), &host)
    } else {
        csrf_problem(&origins, request.method(), request.headers(), &host)
    };
    if let Some(problem) = problem {
        tracing::warn!(method = %request.method(), path = %request.uri().path().escape_debug(), problem, "refused a cross-site request");
        return refusal(ConsoleError::Forbidden(format!("refused: {problem}")));
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
    matches!(
        path,
        "/login"
            | "/api/login"
            | "/api/login/options"
            | "/auth/oidc/start"
            | crate::auth::oidc::CALLBACK_PATH
            | "/healthz"
            | "/readyz"
            | "/favicon.svg"
            | "/favicon.ico"
    ) || path.starts_with("/pkg/")
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
    if path.starts_with("/pkg/") || path == "/healthz" || path == "/readyz" {
        return next.run(request).await;
    }
    // A Prometheus scraper has no session: `/metrics`, and nothing else, takes the scrape token.
    if path == "/metrics" && access.has_metrics_token() {
        if let Some(presented) = request.headers().get(http::header::AUTHORIZATION) {
            let token = presented.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).map(str::trim);
            if token.is_some_and(|t| access.is_metrics_token(t)) {
                return next.run(request).await;
            }
            tracing::warn!(address = address.as_deref().unwrap_or("-"), "refused a /metrics scrape with a wrong token");
            return refusal(ConsoleError::Unauthenticated("wrong scrape token for /metrics".into()));
        }
    }
    let Some(session) = request.extensions().get::<Session>().cloned() else {
        return refusal(ConsoleError::Internal("sessions are not configured".into()));
    };
    let state = match access.resolve(&session, address).await {
        Ok(state) => state,
        // Fail closed: a broken store never lets anyone in.
        Err(error) => return refusal(error),
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
            // Pages send people to the login page; machine endpoints (`/api/*`, `/metrics`) say 401.
            if request.method() == Method::GET && !path.starts_with("/api/") && path != "/metrics" {
                let next_path = request.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
                let target = format!(
                    "/login?next={}",
                    percent_encoding::utf8_percent_encode(next_path, percent_encoding::NON_ALPHANUMERIC)
                );
                Redirect::to(&target).into_response()
            } else {
                refusal(ConsoleError::Unauthenticated(message.into()))
            }
        }
    }
}

/// The page CSP: scripts only from this origin or with this response's nonce (Leptos' hydration
/// script carries it), WASM compilation allowed on pages that hydrate and nowhere else, inline style
/// *attributes* only (environment colours). `form-action 'self'` covers the login form's post and
/// the redirect that answers it, which goes to a path on this origin only (`safe_next`).
pub fn page_csp(nonce: &str, wasm: bool) -> String {
    let wasm = if wasm { " 'wasm-unsafe-eval'" } else { "" };
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}'{wasm}; style-src 'self'; \
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
    // A page may ask for less strict (the login page: `same-origin`, so its form carries proof of
    // where it was sent from); nothing ever goes to another site.
    if !headers.contains_key(header::REFERRER_POLICY) {
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_and_the_public_host_are_allowed_and_nothing_else() {
        let origins = Origins::new(Some(&Url::parse("https://console.example.com").unwrap()), None);
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

    #[test]
    fn an_absolute_form_target_must_name_the_listening_address_not_just_any_loopback_host() {
        let origins = Origins::new(None, Some("127.0.0.1:3000".parse().unwrap()));
        for target in ["127.0.0.1:3000", "localhost:3000", "LOCALHOST:3000"] {
            assert!(origins.target_allowed(target), "{target}");
        }
        for target in ["127.0.0.2:3000", "127.0.0.1:3001", "[::1]:3000", "127.0.0.1", "localhost", "evil.example:3000"]
        {
            assert!(!origins.target_allowed(target), "{target}");
        }
        let public = Origins::new(Some(&Url::parse("https://console.example.com").unwrap()), None);
        assert!(public.target_allowed("console.example.com"));
        assert!(!public.target_allowed("127.0.0.2:3000"));
    }
}
