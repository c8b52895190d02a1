//! Integration tests of the console as a whole: pages, server functions, tokens and the proxy.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use app::wire::{ConsoleError, ExecuteRequest, ExecuteResponse, TokenState};
use console_server::clock::{ManualClock, SystemClock};
use console_server::config::{RawConfig, RawEnvironment};
use serde_json::Value;

use crate::support::*;

#[tokio::test]
async fn the_home_page_renders_environments_and_catalog_with_no_configuration() {
    let console = TestConsole::simulator_only().await;
    let response = console.http.get(&console.base).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(response.headers()["x-frame-options"], "DENY");
    let html = response.text().await.unwrap();
    assert!(html.contains("a55 console"));
    assert!(html.contains(r#"data-testid="endpoint-listCharges""#));
    assert!(html.contains(r#"data-testid="endpoint-listWallets""#));
    assert!(html.contains("/pkg/a55-console.js"));
    assert!(!html.contains("eyJ"), "no token-shaped text in the page");
    console.console.shutdown().await;
}

#[tokio::test]
async fn every_page_is_sent_to_its_end_while_other_consoles_start_in_the_same_process() {
    // Another thread keeps starting consoles (each builds its router), as tests side by side do.
    let stop = Arc::new(AtomicBool::new(false));
    let started = Arc::new(AtomicUsize::new(0));
    let starter = {
        let (stop, started) = (stop.clone(), started.clone());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            while !stop.load(Ordering::Relaxed) {
                runtime.block_on(async { TestConsole::simulator_only().await.console.shutdown().await });
                started.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let console = TestConsole::simulator_only().await;
    let mut loads = 0;
    // Eight pages at a time, until at least 30 consoles started meanwhile.
    while started.load(Ordering::Relaxed) < 30 {
        let pages = (0..8).map(|_| async {
            let load = async { console.http.get(&console.base).send().await.unwrap().text().await.unwrap() };
            tokio::time::timeout(Duration::from_secs(10), load).await
        });
        for page in futures::future::join_all(pages).await {
            let page = page.unwrap_or_else(|_| panic!("a load of / never ended ({loads} ended before)"));
            assert!(page.ends_with("__INCOMPLETE_CHUNKS=[];</script>"), "{}", &page[page.len() - 300..]);
            loads += 1;
        }
    }
    stop.store(true, Ordering::Relaxed);
    starter.join().unwrap();
    console.console.shutdown().await;
}

#[tokio::test]
async fn running_list_charges_returns_the_simulator_json_and_token_metadata_only() {
    let console = TestConsole::simulator_only().await;
    let raw = console.execute_raw(&list_charges("simulator", 3)).await;
    assert_eq!(raw.headers()["cache-control"], "no-store");
    let text = raw.text().await.unwrap();
    assert!(!text.contains("eyJ"), "the response must not carry a JWT: {text:.200}");
    let response: ExecuteResponse = serde_json::from_str(&text).unwrap();
    assert_eq!(response.status, 200);
    assert!(response.url.ends_with(&format!("/api/v1/bank/wallet/charges/?wallet_uuid={WALLET}&limit=3")));
    let body: Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(body["data"].as_array().unwrap().len(), 3);
    assert!(response.size_bytes > 0 && response.duration_ms > 0.0 && response.ttfb_ms <= response.duration_ms);
    assert!(response.upstream_request_id.as_deref().is_some_and(|id| id.starts_with("req_")));
    let token = response.token.unwrap();
    assert_eq!(token.state, TokenState::Fresh);
    assert_eq!(token.lifetime_secs, Some(3600));
    assert_eq!(Some(token.fingerprint.clone().unwrap()), response.token_fingerprint);
    assert_eq!(token.claims.unwrap()["token_use"], "access");
    let left = token.seconds_left.unwrap();
    assert!((3590.0..=3600.0).contains(&left), "{left}");
    console.console.shutdown().await;
}

#[tokio::test]
async fn asking_for_token_state_never_requests_a_token() {
    let console = TestConsole::simulator_only().await;
    let view = console.token("simulator").await;
    assert_eq!(view.state, TokenState::Empty);
    assert_eq!(console.builtin().simulator().token_requests(), 0);
    console.execute(&list_charges("simulator", 1)).await;
    let view = console.token("simulator").await;
    assert_eq!(view.state, TokenState::Fresh);
    assert_eq!(console.builtin().simulator().token_requests(), 1);
    console.console.shutdown().await;
}

#[tokio::test]
async fn fifty_concurrent_first_requests_cause_exactly_one_token_request() {
    let console = Arc::new(TestConsole::simulator_only().await);
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let console = console.clone();
        tasks.push(tokio::spawn(async move { console.execute(&list_charges("simulator", 1)).await }));
    }
    let mut fingerprints = std::collections::HashSet::new();
    for task in tasks {
        let response = task.await.unwrap();
        assert_eq!(response.status, 200);
        fingerprints.insert(response.token_fingerprint.unwrap());
    }
    assert_eq!(fingerprints.len(), 1);
    assert_eq!(console.builtin().simulator().token_requests(), 1);
}

#[tokio::test]
async fn paths_that_leave_the_api_base_are_refused_before_anything_is_sent() {
    let console = TestConsole::simulator_only().await;
    for path in ["//evil.example/x", "../admin", "/bank/%2e%2e/admin", "https://evil.example/", "/a\r\nb"] {
        let request = ExecuteRequest {
            environment: "simulator".into(),
            method: "GET".into(),
            path: path.into(),
            ..ExecuteRequest::default()
        };
        let (status, error, _) = console.execute_error(&request).await;
        assert_eq!(status, 400, "{path:?}");
        assert!(matches!(error, ConsoleError::InvalidRequest(_)), "{path:?}: {error:?}");
    }
    assert_eq!(console.builtin().simulator().token_requests(), 0, "not even a token was requested");
    console.console.shutdown().await;
}

#[tokio::test]
async fn headers_the_console_controls_cannot_come_from_the_browser() {
    let console = TestConsole::simulator_only().await;
    for (name, value) in [
        ("Authorization", "Bearer attacker"),
        ("Cookie", "a=b"),
        ("Host", "evil.example"),
        ("X-Forwarded-Host", "evil"),
    ] {
        let mut request = list_charges("simulator", 1);
        request.headers.push((name.into(), value.into()));
        let (status, error, _) = console.execute_error(&request).await;
        assert_eq!(status, 400);
        assert!(error.to_string().contains(name), "{error}");
    }
    console.console.shutdown().await;
}

#[tokio::test]
async fn an_unknown_environment_is_not_found_and_tracing_methods_are_refused() {
    let console = TestConsole::simulator_only().await;
    let (status, error, _) = console.execute_error(&list_charges("production", 1)).await;
    assert_eq!(status, 404);
    assert_eq!(error, ConsoleError::UnknownEnvironment("production".into()));
    let mut trace = list_charges("simulator", 1);
    trace.method = "TRACE".into();
    assert_eq!(console.execute_error(&trace).await.0, 400);
    console.console.shutdown().await;
}

#[tokio::test]
async fn the_apis_validation_errors_come_back_as_data() {
    let console = TestConsole::simulator_only().await;
    let request = ExecuteRequest {
        environment: "simulator".into(),
        method: "POST".into(),
        path: "/bank/wallet/charge/".into(),
        body: Some("{}".into()),
        endpoint_id: Some("createCharge".into()),
        ..ExecuteRequest::default()
    };
    let response = console.execute(&request).await;
    assert_eq!(response.status, 400);
    assert!(response.body.contains("VALIDATION_ERROR") && response.body.contains("payer_name"), "{}", response.body);
    console.console.shutdown().await;
}

#[tokio::test]
async fn public_endpoints_are_called_without_a_token() {
    let console = TestConsole::simulator_only().await;
    let request = ExecuteRequest {
        environment: "simulator".into(),
        method: "GET".into(),
        path: "/bank/public/charge".into(),
        query: vec![("charge_uuid".into(), "000000ec-5e4f-4a3b-8c2d-0000000000ec".into())],
        endpoint_id: Some("getPublicCharge".into()),
        ..ExecuteRequest::default()
    };
    let response = console.execute(&request).await;
    assert!(response.token_fingerprint.is_none());
    assert_eq!(console.builtin().simulator().token_requests(), 0);
    assert_ne!(response.status, 401, "{}", response.body);
    console.console.shutdown().await;
}

#[tokio::test]
async fn rejected_credentials_are_named_for_the_environment_and_never_echo_the_secret() {
    let sandbox = standalone("the-right-secret", Duration::from_secs(3600)).await;
    let mut raw = RawConfig::default();
    raw.environments.insert("sandbox".into(), remote_env(&sandbox, "sandbox", "SANDBOX_SECRET"));
    let vars = Vars(HashMap::from([("SANDBOX_SECRET".into(), "a-wrong-secret-value".into())]));
    let console = TestConsole::start(raw, vars, Arc::new(SystemClock)).await;
    let (status, error, text) = console.execute_error(&list_charges("sandbox", 1)).await;
    assert_eq!(status, 502);
    assert_eq!(error.to_string(), "credentials rejected by the token endpoint for sandbox (invalid_client)");
    assert!(!text.contains("a-wrong-secret-value"));
    assert_eq!(console.token("sandbox").await.last_error.as_deref(), Some(error.to_string().as_str()));
    console.console.shutdown().await;
    sandbox.shutdown().await;
}

#[tokio::test]
async fn sandbox_and_production_never_share_a_token_under_concurrency() {
    let sandbox = standalone("sandbox-secret", Duration::from_secs(3600)).await;
    let production = standalone("production-secret", Duration::from_secs(3600)).await;
    let mut raw = RawConfig::default();
    raw.environments.insert("sandbox".into(), remote_env(&sandbox, "sandbox", "SB"));
    raw.environments.insert("production".into(), remote_env(&production, "production", "PR"));
    let vars = Vars(HashMap::from([("SB".into(), "sandbox-secret".into()), ("PR".into(), "production-secret".into())]));
    let console = Arc::new(TestConsole::start(raw, vars, Arc::new(SystemClock)).await);
    let mut tasks = Vec::new();
    for i in 0..40 {
        let console = console.clone();
        let env = if i % 2 == 0 { "sandbox" } else { "production" };
        tasks.push(tokio::spawn(async move { (env, console.execute(&list_charges(env, 1)).await) }));
    }
    let mut seen: HashMap<&str, std::collections::HashSet<String>> = HashMap::new();
    for task in tasks {
        let (env, response) = task.await.unwrap();
        // Each simulator only accepts tokens it signed itself: a 200 proves the right token was sent.
        assert_eq!(response.status, 200, "{env}: {}", response.body);
        seen.entry(env).or_default().insert(response.token_fingerprint.unwrap());
    }
    assert_eq!(seen["sandbox"].len(), 1);
    assert_eq!(seen["production"].len(), 1);
    assert!(seen["sandbox"].is_disjoint(&seen["production"]));
    assert_eq!(sandbox.simulator().token_requests(), 1);
    assert_eq!(production.simulator().token_requests(), 1);
}

#[tokio::test]
async fn a_stale_token_is_served_at_once_while_one_background_refresh_replaces_it() {
    let clock = ManualClock::new();
    let console = TestConsole::start(RawConfig::default(), Vars::default(), clock.clone()).await;
    let first = console.execute(&list_charges("simulator", 1)).await.token_fingerprint.unwrap();
    // Inside the 300 s skew of a 3600 s token.
    clock.advance(Duration::from_secs(3_400));
    assert_eq!(console.token("simulator").await.state, TokenState::Stale);
    let during = console.execute(&list_charges("simulator", 1)).await;
    assert_eq!(during.token_fingerprint.as_deref(), Some(first.as_str()), "the cached token is served at once");
    let mut refreshed = None;
    for _ in 0..100 {
        let view = console.token("simulator").await;
        if view.fingerprint.as_deref() != Some(first.as_str()) {
            refreshed = Some(view);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let refreshed = refreshed.expect("the background refresh finished");
    assert_eq!(refreshed.state, TokenState::Fresh);
    assert_eq!(console.builtin().simulator().token_requests(), 2);
    let after = console.execute(&list_charges("simulator", 1)).await;
    assert_eq!(after.token_fingerprint, refreshed.fingerprint);
    console.console.shutdown().await;
}

#[tokio::test]
async fn an_expired_token_is_never_sent_and_callers_wait_for_a_new_one() {
    let clock = ManualClock::new();
    let console = TestConsole::start(RawConfig::default(), Vars::default(), clock.clone()).await;
    let first = console.execute(&list_charges("simulator", 1)).await.token_fingerprint.unwrap();
    clock.advance(Duration::from_secs(3_601));
    assert_eq!(console.token("simulator").await.state, TokenState::Expired);
    let response = console.execute(&list_charges("simulator", 1)).await;
    assert_eq!(response.status, 200);
    assert_ne!(response.token_fingerprint.unwrap(), first);
    assert_eq!(console.builtin().simulator().token_requests(), 2);
    console.console.shutdown().await;
}

#[tokio::test]
async fn responses_over_the_cap_are_truncated_with_a_notice() {
    let mut raw = RawConfig::default();
    raw.environments.insert(
        "simulator".into(),
        RawEnvironment { kind: Some("simulator".into()), max_response_bytes: Some(4_096), ..RawEnvironment::default() },
    );
    let console = TestConsole::start(raw, Vars::default(), Arc::new(SystemClock)).await;
    let request = ExecuteRequest {
        environment: "simulator".into(),
        method: "GET".into(),
        path: "/sim/large".into(),
        query: vec![("mb".into(), "0.1".into())],
        ..ExecuteRequest::default()
    };
    let response = console.execute(&request).await;
    assert_eq!(response.status, 200);
    assert!(response.truncated);
    assert_eq!(response.body.len(), 4_096);
    console.console.shutdown().await;
}

#[tokio::test]
async fn client_secret_basic_works_end_to_end_with_a_secret_full_of_reserved_characters() {
    let secret = "s+e%c:r/e=t";
    let sandbox = standalone(secret, Duration::from_secs(600)).await;
    let mut raw = RawConfig::default();
    let mut env = remote_env(&sandbox, "sandbox", "SB");
    env.client_auth = Some("client_secret_basic".into());
    raw.environments.insert("sandbox".into(), env);
    let console =
        TestConsole::start(raw, Vars(HashMap::from([("SB".into(), secret.into())])), Arc::new(SystemClock)).await;
    let response = console.execute(&list_charges("sandbox", 1)).await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.token.unwrap().lifetime_secs, Some(600));
    assert_eq!(sandbox.simulator().tokens_issued(), 1);
    console.console.shutdown().await;
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_catalog_id_that_does_not_match_the_path_cannot_skip_the_token() {
    let console = TestConsole::simulator_only().await;
    // A public operation's id paired with an authenticated path: the path decides, so a token is sent.
    let request = ExecuteRequest {
        environment: "simulator".into(),
        method: "GET".into(),
        path: "/wallets".into(),
        endpoint_id: Some("getPublicCharge".into()),
        ..ExecuteRequest::default()
    };
    let response = console.execute(&request).await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert!(response.token_fingerprint.is_some());
    console.console.shutdown().await;
}

#[tokio::test]
async fn a_401_from_the_api_replaces_the_cached_token_so_the_next_request_uses_a_new_one() {
    let console = TestConsole::simulator_only().await;
    let first = console.execute(&list_charges("simulator", 1)).await.token_fingerprint.unwrap();
    let revoked = ExecuteRequest {
        environment: "simulator".into(),
        method: "GET".into(),
        path: "/sim/revoked".into(),
        ..ExecuteRequest::default()
    };
    let response = console.execute(&revoked).await;
    // The 401 forced one refresh and one retry (a GET may be re-sent); /sim/revoked refuses that too.
    assert_eq!(response.status, 401);
    assert!(response.retried);
    let renewed = console.token("simulator").await;
    assert_eq!(renewed.state, TokenState::Fresh);
    assert_ne!(renewed.fingerprint.as_deref(), Some(first.as_str()));
    let next = console.execute(&list_charges("simulator", 1)).await;
    assert_eq!(next.token_fingerprint, renewed.fingerprint);
    assert_eq!(console.builtin().simulator().token_requests(), 2);
    console.console.shutdown().await;
}

#[tokio::test]
async fn pages_and_large_answers_are_compressed_when_the_client_asks_and_small_ones_are_not() {
    let console = TestConsole::simulator_only().await;
    // A client that keeps the encoding as sent (no automatic decoding).
    let raw = reqwest::Client::builder().no_gzip().no_brotli().timeout(Duration::from_secs(60)).build().unwrap();
    let page = raw.get(format!("{}/", console.base)).header("accept-encoding", "br, gzip").send().await.unwrap();
    assert_eq!(page.headers()["content-encoding"], "br");
    assert_eq!(page.headers()["cache-control"], "no-store");
    let page_br = page.bytes().await.unwrap();
    let plain = raw.get(format!("{}/", console.base)).send().await.unwrap();
    assert!(!plain.headers().contains_key("content-encoding"), "no Accept-Encoding, no compression");
    let plain = plain.bytes().await.unwrap();
    assert!(page_br.len() * 3 < plain.len(), "{} B compressed of {} B", page_br.len(), plain.len());

    let answer = |accept: &'static str| {
        let request = list_charges("simulator", 50);
        raw.post(format!("{}/api/execute", console.base))
            .header(app::csrf::CSRF_HEADER, app::csrf::CSRF_VALUE)
            .header("accept-encoding", accept)
            .json(&serde_json::json!({ "request": request }))
            .send()
    };
    let gzipped = answer("gzip").await.unwrap();
    assert_eq!(gzipped.status(), 200);
    assert_eq!(gzipped.headers()["content-encoding"], "gzip");
    let bytes = gzipped.bytes().await.unwrap();
    let mut decoded = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut decoded).unwrap();
    let response: app::wire::ExecuteResponse = serde_json::from_str(&decoded).unwrap();
    assert_eq!(response.status, 200);
    // A whole answer is gzipped in one call even when brotli is offered too (as browsers do).
    let browser = answer("gzip, deflate, br, zstd").await.unwrap();
    assert_eq!(browser.headers()["content-encoding"], "gzip");
    assert!(browser.headers()["vary"].to_str().unwrap().contains("accept-encoding"));
    let length: usize = browser.headers()["content-length"].to_str().unwrap().parse().unwrap();
    assert_eq!(browser.bytes().await.unwrap().len(), length, "the length sent is the compressed one");
    let refused = answer("br;q=1, gzip;q=0").await.unwrap();
    assert_eq!(
        refused.headers()["content-encoding"],
        "br",
        "a client that refuses gzip gets the streaming layer's brotli"
    );
    // Under a kilobyte stays as it is: compressing it costs more than it saves.
    let small = raw.get(format!("{}/healthz", console.base)).header("accept-encoding", "gzip").send().await.unwrap();
    assert!(!small.headers().contains_key("content-encoding"));
    console.console.shutdown().await;
}

#[tokio::test]
async fn metrics_report_what_the_body_store_holds_against_its_bound() {
    let console = TestConsole::simulator_only().await;
    let scrape =
        || async { console.http.get(format!("{}/metrics", console.base)).send().await.unwrap().text().await.unwrap() };
    let gauge = |text: &str, name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name} in {text}"))
            .parse()
            .unwrap()
    };
    let before = scrape().await;
    assert_eq!(gauge(&before, "a55_console_body_store_entries"), 0);
    assert_eq!(gauge(&before, "a55_console_body_store_limit_bytes"), 256 * 1024 * 1024);
    let response = console.execute(&list_charges("simulator", 50)).await;
    assert_eq!(response.status, 200);
    let after = scrape().await;
    assert_eq!(gauge(&after, "a55_console_body_store_entries"), 1);
    assert_eq!(gauge(&after, "a55_console_body_store_bytes"), response.kept_bytes);
    assert_eq!(gauge(&after, "a55_console_runs_in_flight"), 0);
    assert!(after.contains("# TYPE a55_console_reveal_vault_bytes gauge"));
    console.console.shutdown().await;
}
