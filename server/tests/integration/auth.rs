#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed step is a failed test")]
//! Staff access over real HTTP: sessions and cookies, fixation, timeouts with the injected clock,
//! the CSRF matrix on every server function, roles and guard rails, the audit trail, headers.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use app::wire::{AuditRecord, ConsoleError, EnvironmentView, ExecuteRequest, StaffView};
use console_server::auth::password;
use console_server::clock::{ManualClock, SharedClock, SystemClock};
use console_server::config::{self, RawConfig, RawEnvironment, RawUser};
use http::Method;
use serde_json::json;

use crate::support::*;

pub(crate) const PASSWORD: &str = "correct horse battery staple";
pub(crate) const COOKIE: &str = "__Host-a55-session";

pub(crate) fn user(name: &str, role: &str, overrides: &[(&str, &str)]) -> RawUser {
    RawUser {
        name: name.into(),
        password_hash: password::hash(PASSWORD).unwrap(),
        role: role.into(),
        environments: overrides.iter().map(|(e, r)| ((*e).to_owned(), (*r).to_owned())).collect::<BTreeMap<_, _>>(),
    }
}

/// A console with staff accounts: the built-in simulator plus a "production" pointing at a standalone simulator.
struct Staffed {
    console: TestConsole,
    _production: console_server::simulator::RunningSimulator,
}

async fn staffed(clock: SharedClock) -> Staffed {
    let production = standalone("prod-secret", Duration::from_secs(3600)).await;
    let mut raw = RawConfig::default();
    raw.environments.insert(
        "simulator".into(),
        RawEnvironment { kind: Some("simulator".into()), label: Some("Simulator".into()), ..RawEnvironment::default() },
    );
    raw.environments.insert("production".into(), remote_env(&production, "production", "PROD_SECRET"));
    raw.environments.insert(
        "sandbox".into(),
        RawEnvironment { read_only: Some(true), ..remote_env(&production, "sandbox", "PROD_SECRET") },
    );
    raw.auth.users = vec![
        user("alice", "admin", &[]),
        user("olga", "operator", &[]),
        user("victor", "viewer", &[]),
        user("pat", "operator", &[("production", "none")]),
    ];
    let mut vars = Vars::default();
    vars.0.insert("PROD_SECRET".into(), "prod-secret".into());
    Staffed { console: TestConsole::start(raw, vars, clock).await, _production: production }
}

/// The session cookie value from a response, if it sets one.
fn set_cookie(response: &reqwest::Response) -> Option<String> {
    set_cookie_named(response, COOKIE)
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().trim_start_matches(&format!("{COOKIE}=")).to_owned()
}

impl TestConsole {
    async fn login_raw(&self, name: &str, password: &str, cookie: Option<&str>) -> reqwest::Response {
        let mut request =
            self.http.post(format!("{}/api/login", self.base)).form(&[("name", name), ("password", password)]);
        if let Some(cookie) = cookie {
            request = request.header("cookie", format!("{COOKIE}={cookie}"));
        }
        request.send().await.unwrap()
    }

    /// Logs in and returns the session cookie value.
    pub(crate) async fn login(&self, name: &str) -> String {
        let response = self.login_raw(name, PASSWORD, None).await;
        assert_eq!(response.status(), 200, "login as {name}");
        cookie_value(&set_cookie(&response).expect("login sets the session cookie"))
    }

    pub(crate) async fn call(&self, path: &str, cookie: &str, json_body: serde_json::Value) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .header("cookie", format!("{COOKIE}={cookie}"))
            .json(&json_body)
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn whoami(&self, cookie: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/api/whoami", self.base))
            .header("cookie", format!("{COOKIE}={cookie}"))
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn run_as(&self, cookie: &str, request: &ExecuteRequest) -> (u16, String) {
        let response = self.call("/api/execute", cookie, json!({ "request": request })).await;
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }
}

#[tokio::test]
async fn login_sets_a_host_prefixed_secure_http_only_strict_cookie_and_the_session_knows_who_it_is() {
    let s = staffed(Arc::new(SystemClock)).await;
    let response = s.console.login_raw("alice", PASSWORD, None).await;
    assert_eq!(response.status(), 200);
    let header = set_cookie(&response).unwrap();
    for attribute in ["; HttpOnly", "; SameSite=Strict", "; Secure", "; Path=/", "; Max-Age="] {
        assert!(header.contains(attribute), "{attribute} missing in {header}");
    }
    assert!(!header.to_ascii_lowercase().contains("domain="), "{header}");
    let cookie = cookie_value(&header);
    assert_eq!(cookie.len(), 22, "a 128-bit id in base64url");
    let me: StaffView = s.console.whoami(&cookie).await.json().await.unwrap();
    assert_eq!(me, StaffView { name: "alice".into(), role: app::wire::Role::Admin, local: false });
    s.console.console.shutdown().await;
}

#[tokio::test]
async fn unknown_names_and_wrong_passwords_get_the_same_answer_and_failures_are_rate_limited() {
    let s = staffed(Arc::new(SystemClock)).await;
    let unknown = s.console.login_raw("mallory", PASSWORD, None).await;
    let (unknown_status, unknown_text) = (unknown.status(), unknown.text().await.unwrap());
    let wrong = s.console.login_raw("alice", "wrong password!", None).await;
    assert!(set_cookie(&wrong).is_none(), "a failed login sets no cookie");
    let (wrong_status, wrong_text) = (wrong.status(), wrong.text().await.unwrap());
    assert_eq!((unknown_status.as_u16(), &unknown_text), (wrong_status.as_u16(), &wrong_text));
    assert_eq!(unknown_status, 401);
    assert!(unknown_text.contains("wrong name or password"), "{unknown_text}");
    // Five failures (the default) from one address: the next attempt is refused even with the right password.
    for _ in 0..3 {
        assert_eq!(s.console.login_raw("alice", "wrong password!", None).await.status(), 401);
    }
    let limited = s.console.login_raw("alice", PASSWORD, None).await;
    assert_eq!(limited.status(), 429);
    let error: ConsoleError = limited.json().await.unwrap();
    assert!(matches!(&error, ConsoleError::RateLimited(m) if m.contains("too many failed logins")), "{error:?}");
    // The address is blocked for every account.
    assert_eq!(s.console.login_raw("olga", PASSWORD, None).await.status(), 429);
    s.console.console.shutdown().await;
}

#[tokio::test]
async fn a_session_id_from_before_login_stops_working_after_login() {
    let s = staffed(Arc::new(SystemClock)).await;
    let planted = s.console.login("olga").await;
    // The victim logs in while the attacker's (valid) id is in their browser.
    let response = s.console.login_raw("alice", PASSWORD, Some(&planted)).await;
    assert_eq!(response.status(), 200);
    let fresh = cookie_value(&set_cookie(&response).expect("a new id is issued"));
    assert_ne!(fresh, planted);
    assert_eq!(s.console.whoami(&planted).await.status(), 401, "the planted id is dead");
    let me: StaffView = s.console.whoami(&fresh).await.json().await.unwrap();
    assert_eq!(me.name, "alice");
    s.console.console.shutdown().await;
}

#[tokio::test]
async fn unknown_and_malformed_session_ids_are_never_adopted() {
    let s = staffed(Arc::new(SystemClock)).await;
    for bogus in ["AAAAAAAAAAAAAAAAAAAAAA", "not a session id", "", "%00%0d%0a"] {
        let response = s.console.whoami(bogus).await;
        assert_eq!(response.status(), 401, "{bogus:?}");
        if let Some(header) = set_cookie(&response) {
            assert!(header.contains("Max-Age=0") && header.contains("; Secure"), "only a removal: {header}");
        }
    }
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tower_sessions")
        .fetch_one(s.console.console.db.sqlite().unwrap())
        .await
        .unwrap();
    assert_eq!(rows, 0, "no session record was created for unknown ids or anonymous visitors");
    s.console.console.shutdown().await;
}

#[tokio::test]
async fn logout_deletes_the_record_and_sends_a_removal_cookie_browsers_accept() {
    let s = staffed(Arc::new(SystemClock)).await;
    let cookie = s.console.login("alice").await;
    let response = s.console.call("/api/logout", &cookie, json!({})).await;
    assert_eq!(response.status(), 200);
    let removal = set_cookie(&response).expect("logout clears the cookie");
    for attribute in ["Max-Age=0", "; Secure", "; Path=/", "; HttpOnly", "; SameSite=Strict"] {
        assert!(removal.contains(attribute), "{attribute} missing in {removal}");
    }
    assert_eq!(cookie_value(&removal), "");
    assert_eq!(s.console.whoami(&cookie).await.status(), 401, "replaying the old cookie fails");
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tower_sessions")
        .fetch_one(s.console.console.db.sqlite().unwrap())
        .await
        .unwrap();
    assert_eq!(rows, 0);
    s.console.console.shutdown().await;
}

#[tokio::test]
async fn a_session_the_server_keeps_in_memory_is_refused_at_once_after_logout() {
    let s = staffed(Arc::new(SystemClock)).await;
    let cookie = s.console.login("alice").await;
    let other = s.console.login("alice").await;
    // Busy sessions: their records and login rows are now answered from the in-process cache.
    for _ in 0..3 {
        assert_eq!(s.console.whoami(&cookie).await.status(), 200);
        assert_eq!(s.console.whoami(&other).await.status(), 200);
    }
    assert_eq!(s.console.call("/api/logout", &cookie, json!({})).await.status(), 200);
    assert_eq!(s.console.whoami(&cookie).await.status(), 401, "the old cookie is refused on the very next request");
    assert_eq!(s.console.whoami(&other).await.status(), 200, "another login of the same member goes on");
    s.console.console.shutdown().await;
}

#[tokio::test]
async fn a_request_in_flight_during_logout_cannot_bring_the_session_back() {
    let s = staffed(Arc::new(SystemClock)).await;
    let cookie = s.console.login("alice").await;
    let db = s.console.console.db.sqlite().unwrap();
    // What an in-flight request holds: the record as it was loaded before logout.
    let (id, data, expiry): (String, Vec<u8>, i64) =
        sqlx::query_as("SELECT id, data, expiry_date FROM tower_sessions").fetch_one(db).await.unwrap();
    assert_eq!(id, cookie);
    assert_eq!(s.console.call("/api/logout", &cookie, json!({})).await.status(), 200);
    // ...and its save after logout: tower-sessions' save is an upsert, so the record reappears.
    sqlx::query("INSERT INTO tower_sessions (id, data, expiry_date) VALUES (?, ?, ?)")
        .bind(&id)
        .bind(&data)
        .bind(expiry)
        .execute(db)
        .await
        .unwrap();
    assert_eq!(s.console.whoami(&cookie).await.status(), 401, "the login row is ended, so the record is worthless");
    s.console.console.shutdown().await;
}

#[tokio::test]
async fn idle_and_absolute_timeouts_are_enforced_by_the_server_with_the_injected_clock() {
    let clock = ManualClock::new();
    let s = staffed(clock.clone()).await;
    let cookie = s.console.login("alice").await;
    // Idle: 30 minutes by default, reset by activity.
    clock.advance(Duration::from_secs(29 * 60));
    assert_eq!(s.console.whoami(&cookie).await.status(), 200);
    clock.advance(Duration::from_secs(29 * 60));
    assert_eq!(s.console.whoami(&cookie).await.status(), 200, "activity resets the idle timer");
    clock.advance(Duration::from_secs(30 * 60));
    let expired = s.console.whoami(&cookie).await;
    assert_eq!(expired.status(), 401);
    let error: ConsoleError = expired.json().await.unwrap();
    assert!(error.to_string().contains("inactivity"), "{error}");
    assert_eq!(s.console.whoami(&cookie).await.status(), 401, "and it stays dead");

    // Absolute: 12 hours by default, however busy the session is.
    let busy = s.console.login("alice").await;
    for _ in 0..35 {
        clock.advance(Duration::from_secs(20 * 60));
        assert_eq!(s.console.whoami(&busy).await.status(), 200);
    }
    clock.advance(Duration::from_secs(20 * 60)); // 12 h since login
    let expired = s.console.whoami(&busy).await;
    assert_eq!(expired.status(), 401);
    let error: ConsoleError = expired.json().await.unwrap();
    assert!(error.to_string().contains("maximum length"), "{error}");
    s.console.console.shutdown().await;
}

/// Every state-changing route: all server functions (enumerated, so a new one is covered
/// automatically) plus page and export paths that must not accept writes.
fn state_changing_routes() -> Vec<String> {
    let mut paths: Vec<String> = leptos::server_fn::axum::server_fn_paths().map(|(path, _)| path.to_owned()).collect();
    paths.sort();
    paths.dedup();
    assert!(paths.len() >= 8, "server functions found: {paths:?}");
    for expected in ["/api/execute", "/api/login", "/api/logout", "/api/token", "/api/audit"] {
        assert!(paths.iter().any(|p| p == expected), "{expected} missing from {paths:?}");
    }
    // `POST /login` is the login page's form, which proves its origin without the header: its own
    // matrix is in `login_form.rs`.
    paths.extend(["/".to_owned(), "/audit".to_owned(), "/audit/export".to_owned()]);
    paths
}

#[tokio::test]
async fn the_csrf_matrix_refuses_every_cross_site_shape_on_every_route() {
    let s = staffed(Arc::new(SystemClock)).await;
    let cookie = s.console.login("alice").await;
    let origin = s.console.base.clone();
    let plain = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let session = format!("{COOKIE}={cookie}");
    let sessions_before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM staff_logins")
        .fetch_one(s.console.console.db.sqlite().unwrap())
        .await
        .unwrap();
    for path in state_changing_routes() {
        let url = format!("{}{path}", s.console.base);
        let with = |builder: reqwest::RequestBuilder, headers: &[(&str, &str)]| {
            headers.iter().fold(builder.header("cookie", &session), |b, (k, v)| b.header(*k, *v))
        };
        let cases: Vec<(&str, reqwest::RequestBuilder)> = vec![
            (
                "(a) no custom header",
                with(plain.post(&url), &[("origin", &origin), ("sec-fetch-site", "same-origin")]).json(&json!({})),
            ),
            (
                "(b) foreign Origin",
                with(plain.post(&url), &[("x-a55-csrf", "1"), ("origin", "https://evil.example")]).json(&json!({})),
            ),
            (
                "(c) Sec-Fetch-Site cross-site",
                with(plain.post(&url), &[("x-a55-csrf", "1"), ("sec-fetch-site", "cross-site")]).json(&json!({})),
            ),
            (
                "(d) Sec-Fetch-Site same-site",
                with(plain.post(&url), &[("x-a55-csrf", "1"), ("sec-fetch-site", "same-site")]).json(&json!({})),
            ),
            ("(e) text/plain", with(plain.post(&url), &[("content-type", "text/plain")]).body("{}")),
            ("(e) urlencoded", with(plain.post(&url), &[]).form(&[("name", "alice"), ("password", PASSWORD)])),
            (
                "(e) multipart",
                with(plain.post(&url), &[("content-type", "multipart/form-data; boundary=x")]).body("--x--\r\n"),
            ),
            ("(f) Origin: null", with(plain.post(&url), &[("x-a55-csrf", "1"), ("origin", "null")]).json(&json!({}))),
            (
                "(h) wrong header value",
                with(plain.post(&url), &[("x-a55-csrf", "0"), ("origin", &origin)]).json(&json!({})),
            ),
            ("(i) PUT without header", with(plain.put(&url), &[]).json(&json!({}))),
            ("(j) DELETE without header", with(plain.delete(&url), &[]).json(&json!({}))),
        ];
        for (case, request) in cases {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 403, "{case} on POST {path}");
            assert!(set_cookie(&response).is_none(), "{case} on {path}: a refused request touches no session");
        }
        // The control: same-origin with the header passes the CSRF check (whatever the route then says).
        if path == "/api/logout" {
            continue; // checked last, so the session survives the matrix
        }
        let allowed =
            with(plain.post(&url), &[("x-a55-csrf", "1"), ("origin", &origin), ("sec-fetch-site", "same-origin")])
                .json(&json!({}))
                .send()
                .await
                .unwrap();
        assert_ne!(allowed.status(), 403, "same-origin with the header on {path}");
    }
    let logout = plain
        .post(format!("{}/api/logout", s.console.base))
        .header("cookie", &session)
        .header("x-a55-csrf", "1")
        .header("origin", &origin)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 200, "same-origin logout with the header");
    let cookie = s.console.login("alice").await;
    let session = format!("{COOKIE}={cookie}");
    // (g) GET never runs a server function.
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        assert_eq!(method, Method::POST, "{path} must be POST-only");
        let response = plain.get(format!("{}{path}", s.console.base)).header("cookie", &session).send().await.unwrap();
        assert_eq!(response.status(), 405, "GET {path}");
    }
    let sessions_after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM staff_logins")
        .fetch_one(s.console.console.db.sqlite().unwrap())
        .await
        .unwrap();
    assert_eq!(sessions_after, sessions_before + 1, "no refused login got through (one re-login above)");
    // CORS: a preflight from a foreign origin is never granted.
    let preflight = plain
        .request(Method::OPTIONS, format!("{}/api/execute", s.console.base))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "x-a55-csrf, content-type")
        .send()
        .await
        .unwrap();
    assert!(preflight.headers().get("access-control-allow-origin").is_none());
    s.console.console.shutdown().await;
}

#[tokio::test]
async fn a_request_for_a_foreign_host_name_is_refused() {
    let s = staffed(Arc::new(SystemClock)).await;
    let response =
        s.console.http.get(format!("{}/login", s.console.base)).header("host", "evil.example").send().await.unwrap();
    assert_eq!(response.status(), 421, "DNS rebinding: only loopback names or server.public_url");
    s.console.console.shutdown().await;
}

#[tokio::test]
async fn without_a_session_every_api_route_answers_401_and_pages_redirect_to_login() {
    let s = staffed(Arc::new(SystemClock)).await;
    for (path, _) in leptos::server_fn::axum::server_fn_paths() {
        // The two the login page needs before anyone is signed in.
        if path == "/api/login" || path == "/api/login/options" {
            continue;
        }
        let response = s.console.http.post(format!("{}{path}", s.console.base)).json(&json!({})).send().await.unwrap();
        assert_eq!(response.status(), 401, "{path}");
    }
    let options = s.console.http.post(format!("{}/api/login/options", s.console.base)).send().await.unwrap();
    assert_eq!(
        options.json::<app::wire::LoginOptions>().await.unwrap(),
        app::wire::LoginOptions { provider: None, password: true }
    );
    for page in ["/", "/audit"] {
        let response = s.console.http.get(format!("{}{page}", s.console.base)).send().await.unwrap();
        assert_eq!(response.status(), 303, "{page}");
        assert_eq!(response.headers()["location"], format!("/login?next=%2F{}", &page[1..]).as_str());
    }
    let export = s.console.http.get(format!("{}/audit/export", s.console.base)).send().await.unwrap();
    assert_eq!(export.status(), 303);
    let login = s.console.http.get(format!("{}/login", s.console.base)).send().await.unwrap();
    assert_eq!(login.status(), 200);
    s.console.console.shutdown().await;
}

fn write_to(environment: &str) -> ExecuteRequest {
    ExecuteRequest {
        environment: environment.into(),
        method: "POST".into(),
        path: "/bank/wallet/charges/".into(),
        body: Some("{}".into()),
        ..ExecuteRequest::default()
    }
}

#[tokio::test]
async fn the_server_enforces_the_role_environment_method_matrix_and_per_environment_overrides() {
    let s = staffed(Arc::new(SystemClock)).await;
    let mut cookies = HashMap::new();
    for name in ["alice", "olga", "victor", "pat"] {
        cookies.insert(name, s.console.login(name).await);
    }
    // (staff, environment, method, expected console status: 200 sent, 403 refused, 404 hidden)
    let cases = [
        ("victor", "simulator", "GET", 200),
        ("victor", "simulator", "POST", 403),
        ("victor", "production", "GET", 404),
        ("olga", "simulator", "POST", 200),
        ("olga", "production", "GET", 200),
        ("olga", "production", "POST", 403),
        ("pat", "simulator", "POST", 200),
        ("pat", "production", "GET", 404),
        ("alice", "production", "GET", 200),
        ("alice", "sandbox", "POST", 403), // read_only binds admins too
        ("alice", "sandbox", "GET", 200),
    ];
    for (name, environment, method, expected) in cases {
        let request = if method == "GET" { list_charges(environment, 1) } else { write_to(environment) };
        let (status, text) = s.console.run_as(&cookies[name], &request).await;
        assert_eq!(status, expected, "{name} {method} {environment}: {text}");
    }
    let views: Vec<EnvironmentView> =
        s.console.call("/api/environments", &cookies["victor"], json!({})).await.json().await.unwrap();
    let ids: Vec<_> = views.iter().map(|v| v.id.as_str()).collect();
    assert_eq!(ids, ["simulator", "sandbox"], "viewers do not see production");
    assert_eq!(views[0].guard.methods, ["GET", "HEAD", "OPTIONS"]);
    s.console.console.shutdown().await;
}

#[tokio::test]
async fn viewers_may_see_the_shared_token_but_only_operators_and_admins_refresh_or_forget_it() {
    let s = staffed(Arc::new(SystemClock)).await;
    let token_call = |action: &'static str, cookie: String| {
        let http = s.console.http.clone();
        let url = format!("{}/api/token/{action}", s.console.base);
        async move {
            let response = http
                .post(url)
                .header("cookie", format!("{COOKIE}={cookie}"))
                .form(&[("environment", "simulator")])
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let victor = s.console.login("victor").await;
    let olga = s.console.login("olga").await;
    assert_eq!(token_call("details", victor.clone()).await.0, 200);
    for action in ["refresh", "forget"] {
        let (status, text) = token_call(action, victor.clone()).await;
        assert_eq!(status, 403, "{action}: {text}");
        assert!(text.contains("operator or admin role"), "{text}");
    }
    assert_eq!(s.console.builtin().simulator().token_requests(), 0, "a refused refresh sends nothing");
    assert_eq!(token_call("refresh", olga.clone()).await.0, 200);
    assert_eq!(token_call("forget", olga).await.0, 200);
    assert_eq!(s.console.builtin().simulator().token_requests(), 1);
    s.console.console.shutdown().await;
}

#[tokio::test]
async fn a_production_write_is_sent_only_with_the_environment_id_typed() {
    let s = staffed(Arc::new(SystemClock)).await;
    let cookie = s.console.login("alice").await;
    let (status, text) = s.console.run_as(&cookie, &write_to("production")).await;
    assert_eq!(status, 428, "{text}");
    assert!(text.contains("type \\\"production\\\""), "{text}");
    let wrong = ExecuteRequest { confirm: Some("Production".into()), ..write_to("production") };
    assert_eq!(s.console.run_as(&cookie, &wrong).await.0, 428);
    let confirmed = ExecuteRequest { confirm: Some("production".into()), ..write_to("production") };
    let (status, text) = s.console.run_as(&cookie, &confirmed).await;
    assert_eq!(status, 200, "{text}");
    s.console.console.shutdown().await;
}

async fn audit_rows(
    db: &sqlx::SqlitePool,
) -> Vec<(String, String, Option<String>, Option<String>, Option<i64>, String)> {
    sqlx::query_as("SELECT actor, event, environment, path_template, status, outcome FROM audit_log ORDER BY id")
        .fetch_all(db)
        .await
        .unwrap()
}

#[tokio::test]
async fn every_event_is_audited_without_secrets_and_nothing_is_lost_on_graceful_shutdown() {
    let s = staffed(Arc::new(SystemClock)).await;
    let path = s.console.console.db.sqlite().unwrap().connect_options().get_filename().to_owned();
    assert_eq!(s.console.login_raw("alice", "wrong password!", None).await.status(), 401);
    let cookie = s.console.login("alice").await;
    let (status, _) = s.console.run_as(&cookie, &list_charges("simulator", 2)).await;
    assert_eq!(status, 200);
    assert_eq!(s.console.run_as(&cookie, &write_to("production")).await.0, 428);
    // A burst, then shut down at once: every row must be on disk afterwards.
    let mut burst = Vec::new();
    for _ in 0..100 {
        let (console, cookie) = (&s.console, cookie.clone());
        burst.push(async move { console.run_as(&cookie, &list_charges("simulator", 1)).await.0 });
    }
    assert!(futures::future::join_all(burst).await.into_iter().all(|s| s == 200));
    assert_eq!(s.console.call("/api/logout", &cookie, json!({})).await.status(), 200);
    s.console.console.shutdown().await;

    let db = console_server::db::open(&path).await.unwrap();
    let rows = audit_rows(&db).await;
    let events: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(events.iter().filter(|e| **e == "request").count(), 101, "{events:?}");
    for expected in ["login_failed", "login", "token_obtained", "refused", "logout"] {
        assert!(events.contains(&expected), "{expected} missing: {events:?}");
    }
    let first_request = rows.iter().find(|r| r.1 == "request").unwrap();
    assert_eq!(first_request.0, "alice");
    assert_eq!(first_request.2.as_deref(), Some("simulator"));
    assert_eq!(first_request.3.as_deref(), Some("/bank/wallet/charges/"));
    assert_eq!(first_request.4, Some(200));
    let dump: String = sqlx::query_scalar(
        "SELECT group_concat(coalesce(actor,'') || coalesce(detail,'') || coalesce(path,'') || coalesce(session,''), '|') FROM audit_log",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert!(
        !dump.contains(PASSWORD) && !dump.contains("wrong password!") && !dump.contains(&cookie),
        "no secrets in the trail"
    );
    assert!(!dump.contains("eyJ"), "no tokens in the trail");
    // Append-only.
    assert!(sqlx::query("UPDATE audit_log SET actor = 'x'").execute(&db).await.is_err());
    assert!(sqlx::query("DELETE FROM audit_log").execute(&db).await.is_err());
    db.close().await;
}

#[tokio::test]
async fn admins_read_and_export_the_audit_trail_and_nobody_else_can() {
    let s = staffed(Arc::new(SystemClock)).await;
    let admin = s.console.login("alice").await;
    let operator = s.console.login("olga").await;
    s.console.run_as(&operator, &list_charges("simulator", 1)).await;
    s.console.console.audit.flush().await;
    let denied = s.console.call("/api/audit", &operator, json!({ "filter": {} })).await;
    assert_eq!(denied.status(), 403);
    let rows: Vec<AuditRecord> = s
        .console
        .call("/api/audit", &admin, json!({ "filter": { "actor": "olga", "event": "request" } }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, Some(200));
    let by_status: Vec<AuditRecord> =
        s.console.call("/api/audit", &admin, json!({ "filter": { "status": "2xx" } })).await.json().await.unwrap();
    assert!(by_status.iter().all(|r| r.status.is_some_and(|s| (200..300).contains(&s))) && !by_status.is_empty());

    let get = |cookie: &str, query: &str| {
        s.console
            .http
            .get(format!("{}/audit/export?{query}", s.console.base))
            .header("cookie", format!("{COOKIE}={cookie}"))
            .send()
    };
    assert_eq!(get(&operator, "format=csv").await.unwrap().status(), 403);
    let csv = get(&admin, "format=csv&actor=olga").await.unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("id,time_utc,actor,event"), "{csv}");
    assert!(lines.iter().skip(1).all(|l| l.contains(",olga,")), "{csv}");
    let jsonl = get(&admin, "format=jsonl").await.unwrap().text().await.unwrap();
    let parsed: Vec<serde_json::Value> = jsonl.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(parsed.len() >= 3, "{jsonl}");
    assert!(parsed.iter().all(|v| v["time_utc"].as_str().is_some_and(|t| t.ends_with('Z'))));
    s.console.console.shutdown().await;
}

#[tokio::test]
async fn the_login_page_and_every_response_carry_the_security_headers() {
    let s = staffed(Arc::new(SystemClock)).await;
    let cookie = s.console.login("alice").await;
    let page = s.console.http.get(format!("{}/login", s.console.base)).send().await.unwrap();
    let headers = page.headers().clone();
    let html = page.text().await.unwrap();
    let csp = headers["content-security-policy"].to_str().unwrap().to_owned();
    let nonce =
        csp.split("'nonce-").nth(1).and_then(|r| r.split('\'').next()).expect("the page CSP has a nonce").to_owned();
    assert!(nonce.len() >= 16, "{csp}");
    for directive in ["frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'", "form-action 'self'"] {
        assert!(csp.contains(directive), "{directive} missing: {csp}");
    }
    assert!(!csp.contains("'wasm-unsafe-eval'"), "the login page runs no WASM: {csp}");
    let script_src = csp.split(';').find(|d| d.trim().starts_with("script-src")).unwrap();
    assert!(!script_src.contains("unsafe-inline") && !script_src.contains(" 'unsafe-eval'"), "{csp}");
    // Every inline script of the page carries this response's nonce.
    let scripts = html.matches("<script").count();
    assert!(scripts > 0);
    assert_eq!(
        html.matches(&format!("nonce=\"{nonce}\"")).count() + html.matches("<script src=").count(),
        scripts,
        "{html}"
    );

    let api = s.console.call("/api/whoami", &cookie, json!({})).await;
    let home = s.console.http.get(&s.console.base).header("cookie", format!("{COOKIE}={cookie}")).send().await.unwrap();
    let missing = s
        .console
        .http
        .get(format!("{}/no-such-page", s.console.base))
        .header("cookie", format!("{COOKIE}={cookie}"))
        .send()
        .await
        .unwrap();
    for (what, headers) in
        [("login", &headers), ("api", api.headers()), ("home", home.headers()), ("404", missing.headers())]
    {
        assert_eq!(headers["x-content-type-options"], "nosniff", "{what}");
        assert_eq!(headers["x-frame-options"], "DENY", "{what}");
        // The login page sends a same-origin Referer, for its form's origin check (`login_form.rs`).
        let referrer = if what == "login" { "same-origin" } else { "no-referrer" };
        assert_eq!(headers["referrer-policy"], referrer, "{what}");
        assert_eq!(headers["cache-control"], "no-store", "{what}");
        assert!(headers["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"), "{what}");
        assert!(headers.get("strict-transport-security").is_none(), "{what}: no HSTS over plain http");
    }
    s.console.console.shutdown().await;
}

#[tokio::test]
async fn local_mode_runs_as_one_local_admin_and_refuses_to_listen_beyond_loopback() {
    let console = TestConsole::simulator_only().await;
    let me: StaffView =
        console.http.post(format!("{}/api/whoami", console.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(me, StaffView { name: "local".into(), role: app::wire::Role::Admin, local: true });
    let login = console.http.get(format!("{}/login", console.base)).send().await.unwrap();
    assert_eq!(login.status(), 303, "there is nothing to log in to");
    console.console.shutdown().await;

    let mut raw = RawConfig::default();
    raw.server.bind = "0.0.0.0:3000".into();
    let text = config::validate(raw, &Vars::default()).unwrap_err().to_string();
    assert!(text.contains("no staff accounts are configured"), "{text}");
    assert!(text.contains("[[auth.users]]") && text.contains("hash-password"), "says how to add accounts: {text}");
}

impl TestConsole {
    async fn form_as(&self, path: &str, cookie: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .header("cookie", format!("{COOKIE}={cookie}"))
            .form(fields)
            .send()
            .await
            .unwrap()
    }
}

async fn audit_details(console: &TestConsole, event: &str) -> Vec<(String, String, String)> {
    let rows = audit_rows_of(console, event).await;
    rows.into_iter().map(|(actor, outcome, detail)| (actor, outcome, detail.unwrap_or_default())).collect()
}

#[tokio::test]
async fn a_saved_request_is_changed_or_deleted_only_by_its_owner_or_an_admin_and_others_may_copy_it() {
    let s = staffed(Arc::new(SystemClock)).await;
    let (olga, victor, alice) =
        (s.console.login("olga").await, s.console.login("victor").await, s.console.login("alice").await);
    let save = |id: Option<i64>, name: &str| json!({ "request": { "id": id, "name": name, "collection": "Partners", "request": list_charges("simulator", 2) } });
    let created: app::wire::SavedRequest =
        s.console.call("/api/saved/save", &olga, save(None, "Olga's charges")).await.json().await.unwrap();
    assert!(created.can_change, "the owner may change what she saved");

    let listed: Vec<app::wire::SavedRequest> =
        s.console.call("/api/saved", &victor, json!({})).await.json().await.unwrap();
    let seen = listed.iter().find(|r| r.id == created.id).unwrap();
    assert!(!seen.can_change, "a viewer sees it as read-only");
    let id = created.id.to_string();
    let refused = s.console.form_as("/api/saved/delete", &victor, &[("id", &id)]).await;
    assert_eq!(refused.status(), 403);
    let error: ConsoleError = refused.json().await.unwrap();
    assert!(error.to_string().contains("only olga"), "{error}");
    let overwrite = s.console.call("/api/saved/save", &victor, save(Some(created.id), "Hijacked")).await;
    assert_eq!(overwrite.status(), 403);
    // A copy is his own.
    let copy: app::wire::SavedRequest =
        s.console.call("/api/saved/save", &victor, save(None, "Olga's charges (copy)")).await.json().await.unwrap();
    assert!(copy.can_change);
    assert_eq!(s.console.form_as("/api/saved/delete", &victor, &[("id", &copy.id.to_string())]).await.status(), 200);
    // The admin may delete anyone's.
    assert_eq!(s.console.form_as("/api/saved/delete", &alice, &[("id", &id)]).await.status(), 200);
    let left: Vec<app::wire::SavedRequest> = s.console.call("/api/saved", &olga, json!({})).await.json().await.unwrap();
    assert!(left.iter().all(|r| r.id != created.id && r.name != "Hijacked"), "{left:?}");

    let rows = audit_details(&s.console, "saved_delete").await;
    let summary: Vec<(&str, &str)> = rows.iter().map(|r| (r.0.as_str(), r.1.as_str())).collect();
    assert_eq!(summary, [("victor", "refused"), ("victor", "ok"), ("alice", "ok")], "{rows:?}");
    assert!(rows.iter().all(|r| r.2.contains("Olga's charges")), "every delete names the request: {rows:?}");
    s.console.console.shutdown().await;
}

#[tokio::test]
async fn staff_clear_their_own_history_one_run_or_all_and_only_an_admin_clears_another_members() {
    let s = staffed(Arc::new(SystemClock)).await;
    let (olga, victor, alice) =
        (s.console.login("olga").await, s.console.login("victor").await, s.console.login("alice").await);
    for cookie in [&olga, &victor, &victor] {
        assert_eq!(s.console.run_as(cookie, &list_charges("simulator", 1)).await.0, 200);
    }
    let history = |cookie: &str| {
        let cookie = cookie.to_owned();
        let console = &s.console;
        async move {
            let entries: Vec<app::wire::HistoryEntry> =
                console.form_as("/api/history", &cookie, &[("limit", "50")]).await.json().await.unwrap();
            entries
        }
    };
    let mine = history(&victor).await;
    assert_eq!(mine.len(), 2);
    let olgas = history(&olga).await;
    // One run: his own only; someone else's id reads as not found.
    assert_eq!(
        s.console.form_as("/api/history/delete", &victor, &[("id", &olgas[0].id.to_string())]).await.status(),
        404
    );
    assert_eq!(
        s.console.form_as("/api/history/delete", &victor, &[("id", &mine[0].id.to_string())]).await.status(),
        200
    );
    assert_eq!(history(&victor).await.len(), 1);
    // All of another member's: admins only.
    assert_eq!(s.console.call("/api/history/clear", &victor, json!({ "staff": "olga" })).await.status(), 403);
    assert_eq!(history(&olga).await.len(), 1);
    let cleared: u64 =
        s.console.call("/api/history/clear", &victor, json!({ "staff": null })).await.json().await.unwrap();
    assert_eq!(cleared, 1);
    assert!(history(&victor).await.is_empty());
    let cleared: u64 =
        s.console.call("/api/history/clear", &alice, json!({ "staff": "olga" })).await.json().await.unwrap();
    assert_eq!(cleared, 1);
    assert!(history(&olga).await.is_empty());

    let rows = audit_details(&s.console, "history_clear").await;
    let summary: Vec<(&str, &str)> = rows.iter().map(|r| (r.0.as_str(), r.1.as_str())).collect();
    assert_eq!(summary, [("victor", "refused"), ("victor", "ok"), ("alice", "ok")], "{rows:?}");
    assert!(rows[2].2.contains("olga"), "{rows:?}");
    assert_eq!(audit_details(&s.console, "history_delete").await.len(), 1);
    s.console.console.shutdown().await;
}

/// A server function called with arguments that do not decode is the caller's mistake: 400 and
/// which field, for every server function (enumerated, so a new one is covered).
#[tokio::test]
async fn every_server_function_answers_a_call_whose_arguments_do_not_decode_with_400_naming_the_field() {
    let s = staffed(Arc::new(SystemClock)).await;
    let cookie = s.console.login("alice").await;
    let mut refused = Vec::new();
    for path in state_changing_routes().into_iter().filter(|p| p.starts_with("/api/") && p != "/api/logout") {
        for (shape, request) in [
            ("an empty form", s.console.http.post(format!("{}{path}", s.console.base)).form(&[("unrelated", "x")])),
            ("an empty JSON object", s.console.http.post(format!("{}{path}", s.console.base)).json(&json!({}))),
        ] {
            let response = request.header("cookie", format!("{COOKIE}={cookie}")).send().await.unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            assert_ne!(status, 500, "{path} with {shape} is the caller's mistake, not the server's: {text}");
            if status == 400 {
                let error: ConsoleError =
                    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {text} ({e})"));
                assert!(matches!(error, ConsoleError::InvalidRequest(_)), "{path} with {shape}: {error:?}");
                refused.push(path.clone());
            } else {
                assert!((200..300).contains(&status), "{path} with {shape}: {status} {text}");
            }
        }
    }
    refused.dedup();
    for expected in ["/api/execute", "/api/history", "/api/token", "/api/saved/delete", "/api/compare", "/api/login"] {
        assert!(
            refused.iter().any(|p| p == expected),
            "{expected} should refuse a call without its arguments: {refused:?}"
        );
    }
    let missing = s.console.form_as("/api/history", &cookie, &[]).await;
    assert_eq!(missing.status(), 400);
    let text = missing.text().await.unwrap();
    assert!(text.contains("limit"), "names the missing field: {text}");
    let malformed = s.console.form_as("/api/history", &cookie, &[("limit", "many")]).await;
    assert_eq!(malformed.status(), 400);
    let execute = s.console.call("/api/execute", &cookie, json!({ "request": { "environment": 7 } })).await;
    assert_eq!(execute.status(), 400);
    let text = execute.text().await.unwrap();
    assert!(text.contains("environment") || text.contains("invalid type"), "says what is wrong: {text}");
    s.console.console.shutdown().await;
}

/// A Prometheus scraper has no session: `/metrics` (and only it) takes the configured token.
#[tokio::test]
async fn the_metrics_scrape_token_opens_metrics_only_and_a_wrong_one_is_refused() {
    let token = "scrape-token-0123456789abcdef0123456789abcdef";
    let production = standalone("prod-secret", Duration::from_secs(3600)).await;
    let mut raw = RawConfig::default();
    raw.environments.insert("production".into(), remote_env(&production, "production", "PROD_SECRET"));
    raw.auth.users = vec![user("alice", "admin", &[])];
    raw.server.metrics_token_env = Some("A55_TEST_METRICS_TOKEN".into());
    let mut vars = Vars::default();
    vars.0.insert("PROD_SECRET".into(), "prod-secret".into());
    vars.0.insert("A55_TEST_METRICS_TOKEN".into(), token.into());
    let console = TestConsole::start(raw, vars, Arc::new(SystemClock)).await;
    let plain = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let get = |path: &str, bearer: Option<&str>| {
        let mut request = plain.get(format!("{}{path}", console.base));
        if let Some(bearer) = bearer {
            request = request.header("authorization", format!("Bearer {bearer}"));
        }
        request.send()
    };
    let scraped = get("/metrics", Some(token)).await.unwrap();
    assert_eq!(scraped.status(), 200);
    assert!(scraped.text().await.unwrap().contains("# TYPE a55_console_token_requests_total counter"));
    for (path, bearer) in [
        ("/metrics", Some("scrape-token-0123456789abcdef0123456789abcdeX")),
        ("/metrics", Some("")),
        ("/metrics", None),
    ] {
        let response = get(path, bearer).await.unwrap();
        assert_eq!(response.status(), 401, "{path} with {bearer:?}");
        assert!(!response.text().await.unwrap().contains(token));
    }
    // The token opens nothing else.
    let audit = get("/audit/export", Some(token)).await.unwrap();
    assert_eq!(audit.status(), 303, "sent to the login page like anyone without a session");
    assert!(audit.headers()["location"].to_str().unwrap().starts_with("/login"));
    let execute = plain
        .post(format!("{}/api/whoami", console.base))
        .header("authorization", format!("Bearer {token}"))
        .header("x-a55-csrf", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(execute.status(), 401);
    // A staff session still works on /metrics.
    let cookie = console.login("alice").await;
    let staff = plain
        .get(format!("{}/metrics", console.base))
        .header("cookie", format!("{COOKIE}={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(staff.status(), 200);
    console.console.shutdown().await;
}

#[tokio::test]
async fn without_a_scrape_token_metrics_stay_staff_only() {
    let s = staffed(Arc::new(SystemClock)).await;
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/metrics", s.console.base))
        .header("authorization", "Bearer anything-at-all-0123456789abcdef0123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    s.console.console.shutdown().await;
}
