#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "a failed set-up step is a failed test")]
//! Token lifecycle through the whole console: 401 handling, secret rotation, the token page's server
//! functions, `/metrics`, and an independent OAuth2 server (npm `oauth2-mock-server`).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use app::wire::{ExecuteRequest, TokenDetails, TokenEventReason, TokenState};
use axum::extract::State;
use console_server::clock::SystemClock;
use console_server::config::{RawConfig, RawEnvironment};
use console_server::simulator::RunningSimulator;
use serde_json::{json, Value};

use crate::support::*;

/// A token endpoint that hands out tokens signed by a standalone simulator, in a scripted order:
/// `false` = already expired (the simulator's API answers 401), `true` = valid.
struct TokenScript {
    queue: Mutex<VecDeque<bool>>,
    /// Used once the queue is empty.
    otherwise: bool,
    requests: AtomicU64,
    api: RunningSimulator,
}

async fn scripted_tokens(script: Vec<bool>, otherwise: bool) -> (Arc<TokenScript>, String) {
    let api = standalone("unused-secret", Duration::from_secs(3600)).await;
    let script =
        Arc::new(TokenScript { queue: Mutex::new(script.into()), otherwise, requests: AtomicU64::new(0), api });
    let app =
        axum::Router::new().route("/oauth2/token", axum::routing::post(issue_scripted)).with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/oauth2/token", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (script, url)
}

async fn issue_scripted(State(script): State<Arc<TokenScript>>) -> axum::Json<Value> {
    script.requests.fetch_add(1, Ordering::SeqCst);
    let valid = script.queue.lock().unwrap().pop_front().unwrap_or(script.otherwise);
    let issued_at = if valid { SystemTime::now() } else { SystemTime::now() - Duration::from_secs(7_200) };
    let token = script.api.simulator().mint_token(issued_at, Duration::from_secs(3_600));
    // The console trusts expires_in, not the JWT: it believes the expired token is good for an hour.
    axum::Json(json!({"access_token": token, "token_type": "Bearer", "expires_in": 3600}))
}

async fn console_for(script: &TokenScript, token_url: &str) -> TestConsole {
    let mut raw = RawConfig::default();
    raw.environments.insert(
        "sandbox".into(),
        RawEnvironment {
            kind: Some("sandbox".into()),
            api_base: Some(script.api.api_base().to_string()),
            token_url: Some(token_url.to_owned()),
            client_id: Some("partner-client".into()),
            client_secret_env: Some("SB".into()),
            ..RawEnvironment::default()
        },
    );
    TestConsole::start(raw, Vars(HashMap::from([("SB".into(), "any".into())])), Arc::new(SystemClock)).await
}

fn create_charge(idempotency_key: Option<&str>) -> ExecuteRequest {
    let mut headers = Vec::new();
    if let Some(key) = idempotency_key {
        headers.push(("Idempotency-Key".to_owned(), key.to_owned()));
    }
    ExecuteRequest {
        environment: "sandbox".into(),
        method: "POST".into(),
        path: "/bank/wallet/charge/".into(),
        headers,
        body: Some(
            json!({
                "wallet_uuid": WALLET,
                "merchant_id": "7b2e1d4f-1a3c-4d6e-9f80-b1c2d3e4f5a6",
                "payer_name": "Cliente 12",
                "payer_email": "cliente12@example.com.br",
                "payer_tax_id": "00000000012",
                "payer_cell_phone": "+5511900000012",
                "installment_value": 100.5,
                "installment_count": 2,
                "currency": "BRL",
                "due_date": "2026-11-20",
                "description": "Pedido 12",
                "type_charge": "credit_card",
                "payer_address": {
                    "street": "Rua Exemplo", "address_number": 12, "neighborhood": "Centro",
                    "city": "Sao Paulo", "state": "SP", "postal_code": "01000-000", "country": "BR"
                }
            })
            .to_string(),
        ),
        endpoint_id: Some("createCharge".into()),
        ..ExecuteRequest::default()
    }
}

impl TestConsole {
    async fn token_action(&self, action: &str, environment: &str) -> (u16, String) {
        let response = self
            .http
            .post(format!("{}/api/token/{action}", self.base))
            .form(&[("environment", environment)])
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    async fn details(&self, environment: &str) -> TokenDetails {
        let (status, text) = self.token_action("details", environment).await;
        assert_eq!(status, 200, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    async fn metrics(&self) -> String {
        let response = self.http.get(format!("{}/metrics", self.base)).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
        response.text().await.unwrap()
    }
}

#[tokio::test]
async fn a_get_that_meets_a_401_gets_one_forced_refresh_and_one_retry() {
    let (script, token_url) = scripted_tokens(vec![false], true).await;
    let console = console_for(&script, &token_url).await;
    let response = console.execute(&list_charges("sandbox", 1)).await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert!(response.retried);
    assert_eq!(response.hint, None);
    assert_eq!(script.requests.load(Ordering::SeqCst), 2);
    let details = console.details("sandbox").await;
    assert_eq!(details.token.fingerprint, response.token_fingerprint);
    assert_eq!(details.events[0].reason, TokenEventReason::Unauthorized);
    assert_eq!(details.events[1].reason, TokenEventReason::Cold);
    let metrics = console.metrics().await;
    assert!(metrics.contains("a55_console_upstream_retries_total{environment=\"sandbox\"} 1\n"), "{metrics}");
    assert!(metrics.contains("a55_console_upstream_requests_total{environment=\"sandbox\",class=\"4xx\"} 1\n"));
    assert!(metrics.contains("a55_console_upstream_requests_total{environment=\"sandbox\",class=\"2xx\"} 1\n"));
    console.console.shutdown().await;
}

#[tokio::test]
async fn a_post_without_an_idempotency_key_is_not_resent_after_a_401_and_says_send_again() {
    let (script, token_url) = scripted_tokens(vec![false], true).await;
    let console = console_for(&script, &token_url).await;
    let response = console.execute(&create_charge(None)).await;
    assert_eq!(response.status, 401);
    assert!(!response.retried);
    let hint = response.hint.unwrap();
    assert!(hint.starts_with("token was refreshed, send again"), "{hint}");
    assert_eq!(script.requests.load(Ordering::SeqCst), 2, "the token was refreshed all the same");
    // Sending again uses the refreshed token.
    let again = console.execute(&create_charge(None)).await;
    assert!(again.status < 300, "{}: {}", again.status, again.body);
    assert_eq!(again.hint, None);
    assert_eq!(script.requests.load(Ordering::SeqCst), 2);
    console.console.shutdown().await;
}

#[tokio::test]
async fn a_post_with_an_idempotency_key_is_retried_once_after_a_401() {
    let (script, token_url) = scripted_tokens(vec![false], true).await;
    let console = console_for(&script, &token_url).await;
    let response = console.execute(&create_charge(Some("order-12-retry-once"))).await;
    assert!(response.status < 300, "{}: {}", response.status, response.body);
    assert!(response.retried);
    console.console.shutdown().await;
}

#[tokio::test]
async fn a_401_storm_from_the_api_becomes_one_forced_refresh_not_a_token_storm() {
    // Every token the endpoint hands out is rejected by the API.
    let (script, token_url) = scripted_tokens(vec![], false).await;
    let console = Arc::new(console_for(&script, &token_url).await);
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let console = console.clone();
        tasks.push(tokio::spawn(async move { console.execute(&list_charges("sandbox", 1)).await }));
    }
    for task in tasks {
        let response = task.await.unwrap();
        assert_eq!(response.status, 401);
        let hint = response.hint.unwrap();
        assert!(hint.contains("rejected a freshly obtained token"), "{hint}");
    }
    assert_eq!(script.requests.load(Ordering::SeqCst), 2, "one cold request and one forced refresh");
}

#[tokio::test]
async fn a_secret_file_fixed_on_disk_is_used_at_once_for_the_next_token() {
    let sandbox = standalone("the-right-secret", Duration::from_secs(3600)).await;
    let path = std::env::temp_dir().join(format!("a55-it-secret-{}", uuid::Uuid::new_v4()));
    std::fs::write(&path, "a-wrong-secret\n").unwrap();
    let mut raw = RawConfig::default();
    let mut env = remote_env(&sandbox, "sandbox", "UNUSED");
    env.client_secret_env = None;
    env.client_secret_file = Some(path.clone());
    raw.environments.insert("sandbox".into(), env);
    let console = TestConsole::start(raw, Vars::default(), Arc::new(SystemClock)).await;
    let (status, error, _) = console.execute_error(&list_charges("sandbox", 1)).await;
    assert_eq!(status, 502);
    assert_eq!(error.to_string(), "credentials rejected by the token endpoint for sandbox (invalid_client)");
    // Rejected credentials are not retried on their own for minutes…
    assert_eq!(console.execute_error(&list_charges("sandbox", 1)).await.0, 502);
    assert_eq!(sandbox.simulator().token_requests(), 1);
    // …but the rotated secret is picked up by the very next request.
    std::fs::write(&path, "the-right-secret\n").unwrap();
    let response = console.execute(&list_charges("sandbox", 1)).await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(sandbox.simulator().token_requests(), 2);
    let details = console.details("sandbox").await;
    assert_eq!(details.events[0].reason, TokenEventReason::Rotation);
    std::fs::remove_file(&path).unwrap();
    console.console.shutdown().await;
}

#[tokio::test]
async fn the_token_page_functions_show_details_refresh_and_forget_without_the_token() {
    let console = TestConsole::simulator_only().await;
    let empty = console.details("simulator").await;
    assert_eq!(empty.token.state, TokenState::Empty);
    assert!(empty.events.is_empty());
    assert_eq!(empty.client_auth, "client_secret_post");
    assert_eq!(console.builtin().simulator().token_requests(), 0, "details never fetch a token");

    let (status, text) = console.token_action("refresh", "simulator").await;
    assert_eq!(status, 200, "{text}");
    assert!(!text.contains("eyJ"), "no JWT in the answer: {text}");
    let refreshed: TokenDetails = serde_json::from_str(&text).unwrap();
    assert_eq!(refreshed.token.state, TokenState::Fresh);
    assert_eq!(refreshed.header.as_ref().unwrap()["alg"], "HS256");
    assert_eq!(refreshed.token.claims.as_ref().unwrap()["token_use"], "access");
    assert_eq!(refreshed.events[0].reason, TokenEventReason::Manual);
    assert_eq!(refreshed.effective_skew_secs, Some(300));

    let (status, text) = console.token_action("forget", "simulator").await;
    assert_eq!(status, 200, "{text}");
    let forgotten: TokenDetails = serde_json::from_str(&text).unwrap();
    assert_eq!(forgotten.token.state, TokenState::Empty);
    assert_eq!(console.builtin().simulator().token_requests(), 1);
    let metrics = console.metrics().await;
    assert!(metrics.contains("a55_console_token_requests_total{environment=\"simulator\",outcome=\"success\"} 1\n"));
    assert!(metrics.contains("a55_console_token_refreshes_total{environment=\"simulator\",reason=\"manual\"} 1\n"));
    assert!(!metrics.contains("eyJ"));

    let (status, _) = console.token_action("details", "nowhere").await;
    assert_eq!(status, 404);
    console.console.shutdown().await;
}

#[tokio::test]
async fn the_backoff_error_reaches_staff_once_the_token_endpoint_is_down() {
    let sandbox = standalone("s", Duration::from_secs(3600)).await;
    let mut raw = RawConfig::default();
    let mut env = remote_env(&sandbox, "sandbox", "SB");
    env.token_url = Some(format!("http://{}/oauth2/token", closed_port()));
    raw.environments.insert("sandbox".into(), env);
    let vars = Vars(HashMap::from([("SB".into(), "s".into())]));
    let console = TestConsole::start(raw, vars, Arc::new(SystemClock)).await;
    let (status, first, _) = console.execute_error(&list_charges("sandbox", 1)).await;
    assert_eq!(status, 502);
    assert_eq!(first.to_string(), "the token endpoint for sandbox could not be reached (connection failed)");
    let (status, second, _) = console.execute_error(&list_charges("sandbox", 1)).await;
    assert_eq!(status, 502);
    assert!(second
        .to_string()
        .starts_with("no valid token for sandbox: the token endpoint for sandbox could not be reached"));
    console.console.shutdown().await;
    sandbox.shutdown().await;
}

/// The independent OAuth2 server (npm `oauth2-mock-server`, see `end2end/oauth2-mock.mjs`), or `None`
/// with a message when node or the package is missing. `make test` installs both and sets
/// `A55_REQUIRE_OAUTH2_MOCK=1`, which turns a skip into a failure.
struct OAuth2Mock {
    child: std::process::Child,
    token_url: String,
    api_base: String,
    stats_url: String,
}

impl Drop for OAuth2Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn oauth2_mock(client_id: &str, secret: &str) -> Option<OAuth2Mock> {
    use std::io::BufRead as _;
    let end2end = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../end2end");
    let required = std::env::var_os("A55_REQUIRE_OAUTH2_MOCK").is_some();
    let missing = |what: &str| {
        let message =
            format!("{what}: run `make node-deps` (or `npm ci --prefix end2end`) to install oauth2-mock-server");
        assert!(!required, "{message}");
        eprintln!("SKIPPED: {message}");
        None
    };
    if !end2end.join("node_modules/oauth2-mock-server/package.json").is_file() {
        return missing("end2end/node_modules/oauth2-mock-server is not installed");
    }
    let spawned = std::process::Command::new("node")
        .arg(end2end.join("oauth2-mock.mjs"))
        .current_dir(&end2end)
        .env("MOCK_CLIENT_ID", client_id)
        .env("MOCK_CLIENT_SECRET", secret)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn();
    let Ok(mut child) = spawned else {
        return missing("node is not on PATH");
    };
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    // The script prints its line as soon as both servers listen (well under a second).
    std::io::BufReader::new(stdout).read_line(&mut line).unwrap();
    let started: Value =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("oauth2-mock.mjs printed {line:?}: {e}"));
    let text = |key: &str| started[key].as_str().unwrap().to_owned();
    Some(OAuth2Mock { token_url: text("token_url"), api_base: text("api_base"), stats_url: text("stats_url"), child })
}

#[tokio::test]
async fn tokens_from_an_independent_oauth2_server_work_with_both_client_authentication_methods() {
    let secret = "in+dep%end:ent/se=cret";
    let Some(mock) = oauth2_mock("console-client", secret) else { return };
    let env = |auth: &str, var: &str| RawEnvironment {
        kind: Some("sandbox".into()),
        api_base: Some(mock.api_base.clone()),
        token_url: Some(mock.token_url.clone()),
        client_id: Some("console-client".into()),
        client_secret_env: Some(var.into()),
        client_auth: Some(auth.into()),
        scope: Some("a55/api".into()),
        ..RawEnvironment::default()
    };
    let mut raw = RawConfig::default();
    raw.environments.insert("post".into(), env("client_secret_post", "GOOD"));
    raw.environments.insert("basic".into(), env("client_secret_basic", "GOOD"));
    raw.environments.insert("wrong".into(), env("client_secret_basic", "WRONG"));
    let vars = Vars(HashMap::from([("GOOD".into(), secret.into()), ("WRONG".into(), "not-the-secret".into())]));
    let console = TestConsole::start(raw, vars, Arc::new(SystemClock)).await;

    for environment in ["post", "basic"] {
        let request = ExecuteRequest {
            environment: environment.into(),
            method: "GET".into(),
            path: "/wallets".into(),
            ..ExecuteRequest::default()
        };
        // Twice: the second call is served from the cache.
        for _ in 0..2 {
            let response = console.execute(&request).await;
            assert_eq!(response.status, 200, "{environment}: {}", response.body);
            assert_eq!(serde_json::from_str::<Value>(&response.body).unwrap()["client_id"], "console-client");
        }
        let details = console.details(environment).await;
        assert_eq!(details.header.as_ref().unwrap()["alg"], "RS256");
        assert_eq!(details.token.claims.as_ref().unwrap()["scope"], "a55/api");
        assert_eq!(details.token.lifetime_secs, Some(3600));
    }
    let wrong = ExecuteRequest {
        environment: "wrong".into(),
        method: "GET".into(),
        path: "/wallets".into(),
        ..ExecuteRequest::default()
    };
    let (status, error, text) = console.execute_error(&wrong).await;
    assert_eq!(status, 502);
    assert_eq!(error.to_string(), "credentials rejected by the token endpoint for wrong (invalid_client)");
    assert!(!text.contains("not-the-secret"));

    let stats: Value = reqwest::get(&mock.stats_url).await.unwrap().json().await.unwrap();
    assert_eq!(stats["post"], 1, "{stats}");
    assert_eq!(stats["basic"], 1, "{stats}");
    assert_eq!(stats["rejected"], 1, "{stats}");
    assert_eq!(stats["api_verified"], 4, "{stats}");
    console.console.shutdown().await;
}

/// Every token event is in the audit trail once, including a background refresh that no request
/// ever used: with its environment, reason and fingerprint, never the token.
#[tokio::test]
async fn a_background_refresh_that_no_request_used_is_audited_once_with_its_reason_and_fingerprint() {
    let clock = console_server::clock::ManualClock::new();
    let mut raw = RawConfig::default();
    raw.simulator.token_lifetime_secs = 600;
    let console = TestConsole::start(raw, Vars::default(), clock.clone()).await;
    console.execute(&list_charges("simulator", 1)).await;
    // Into the refresh window (the 300 s skew, clamped to half the lifetime): the next request is
    // served with the cached token and starts one refresh in the background.
    clock.advance(Duration::from_secs(320));
    let stale = console.execute(&list_charges("simulator", 1)).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while console.builtin().simulator().token_requests() < 2 {
        assert!(tokio::time::Instant::now() < deadline, "the background refresh never happened");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Nothing else is sent: the refreshed token is used by no request.
    tokio::time::sleep(Duration::from_millis(200)).await;
    console.console.audit.flush().await;
    type Row = (String, String, Option<String>, String, Option<String>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT actor, event, environment, outcome, detail FROM audit_log WHERE event LIKE 'token_%' ORDER BY id",
    )
    .fetch_all(console.console.db.sqlite().unwrap())
    .await
    .unwrap();
    assert_eq!(rows.len(), 2, "one row per token event: {rows:?}");
    let issued = console.builtin().simulator().token_requests();
    assert_eq!(issued, 2);
    let [first, refresh] = [&rows[0], &rows[1]];
    assert_eq!((first.0.as_str(), first.1.as_str(), first.3.as_str()), ("console", "token_obtained", "ok"));
    assert_eq!(first.2.as_deref(), Some("simulator"));
    let first_detail = first.4.as_deref().unwrap();
    assert!(first_detail.contains("first use"), "{first_detail}");
    assert!(first_detail.contains(stale.token_fingerprint.as_deref().unwrap()), "{first_detail}");
    let refresh_detail = refresh.4.as_deref().unwrap();
    assert_eq!(refresh.1, "token_obtained");
    assert!(refresh_detail.contains("refresh before expiry"), "{refresh_detail}");
    let fingerprint = refresh_detail.split_whitespace().nth(1).unwrap();
    assert_eq!(fingerprint.len(), 8, "{refresh_detail}");
    assert_ne!(Some(fingerprint), stale.token_fingerprint.as_deref(), "the new token's fingerprint");
    for row in &rows {
        assert!(!format!("{row:?}").contains("eyJ"), "no token in the audit trail: {row:?}");
    }
    console.console.shutdown().await;
}

#[tokio::test]
async fn refresh_and_forget_on_the_token_page_are_audited_as_the_staff_member_who_asked() {
    let console = TestConsole::simulator_only().await;
    assert_eq!(console.token_action("refresh", "simulator").await.0, 200);
    assert_eq!(console.token_action("forget", "simulator").await.0, 200);
    console.console.audit.flush().await;
    let rows: Vec<(String, String, Option<String>)> =
        sqlx::query_as("SELECT actor, event, detail FROM audit_log WHERE event LIKE 'token_%' ORDER BY id")
            .fetch_all(console.console.db.sqlite().unwrap())
            .await
            .unwrap();
    let events: Vec<(&str, &str)> = rows.iter().map(|r| (r.0.as_str(), r.1.as_str())).collect();
    assert_eq!(events, [("local", "token_obtained"), ("local", "token_forgotten")], "{rows:?}");
    assert!(rows[0].2.as_deref().unwrap().contains("requested on the token page"), "{rows:?}");
    console.console.shutdown().await;
}
