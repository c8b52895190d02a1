#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "a failed set-up step is a failed test")]
//! Fault injection (security cases T-S01…T-S08, T-B04…T-B06, T-T10/T-T11): a token endpoint and an
//! API that refuse, hang, stall, drip, reset, speak garbage, redirect, throttle, or answer with huge,
//! endless, compressed or deeply nested bodies. Each fault must end in the documented status with a
//! message that says what happened, within the configured timeouts, without holding the body in
//! memory, without re-sending a write, and with the console still serving afterwards.

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::wire::{ConsoleError, ExecuteRequest, ExecuteResponse};
use console_server::clock::SystemClock;
use console_server::config::{RawConfig, RawEnvironment};

use crate::support::fault::{response, token_response, Fault, FaultServer, Tripwire};
use crate::support::*;

/// The fault console's timeouts (see `fault_env`) and the slack allowed on a loaded 2-core machine.
const TOKEN_TIMEOUT: Duration = Duration::from_secs(1);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
const MARGIN: Duration = Duration::from_millis(1_500);
const CAP: u64 = 1 << 20;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

fn post(path: &str) -> ExecuteRequest {
    ExecuteRequest { method: "POST".into(), body: Some("{\"value\": 1}".into()), ..get(path) }
}

/// How a fault must end.
enum Outcome {
    /// The console answers with this status and a message containing this text.
    Error(u16, &'static str),
    /// The upstream's answer comes back as data with this status.
    Data(u16),
}

struct ApiCase {
    what: &'static str,
    request: ExecuteRequest,
    outcome: Outcome,
    /// Lower and upper bound of the time to the answer.
    within: (Duration, Duration),
}

fn api_cases() -> Vec<ApiCase> {
    use Outcome::*;
    let quick = (Duration::ZERO, MARGIN);
    let at_timeout = (REQUEST_TIMEOUT - Duration::from_millis(100), REQUEST_TIMEOUT + MARGIN);
    let timed_out = "did not answer within 2 s";
    let cut = "could not be reached: the response was cut off or malformed";
    vec![
        ApiCase {
            what: "connection refused",
            request: ExecuteRequest { environment: "closed".into(), ..get("wallets") },
            outcome: Error(502, "closed could not be reached: connection refused or failed"),
            within: quick,
        },
        ApiCase {
            what: "hangs before headers",
            request: get("hang"),
            outcome: Error(504, timed_out),
            within: at_timeout,
        },
        ApiCase {
            what: "hangs before headers (POST)",
            request: post("hang-post"),
            outcome: Error(504, timed_out),
            within: at_timeout,
        },
        ApiCase { what: "stalls mid-body", request: get("stall"), outcome: Error(504, timed_out), within: at_timeout },
        ApiCase {
            what: "drips a byte every 100 ms",
            request: get("drip"),
            outcome: Error(504, timed_out),
            within: at_timeout,
        },
        ApiCase { what: "resets mid-response", request: get("reset"), outcome: Error(502, cut), within: quick },
        ApiCase {
            what: "resets mid-response (POST)",
            request: post("reset-post"),
            outcome: Error(502, cut),
            within: quick,
        },
        ApiCase {
            what: "is not HTTP",
            request: get("garbage"),
            outcome: Error(502, "could not be reached: the response was not valid HTTP"),
            within: quick,
        },
        ApiCase { what: "redirects to another host", request: post("moved"), outcome: Data(302), within: quick },
        ApiCase { what: "429 with Retry-After", request: post("throttled"), outcome: Data(429), within: quick },
        ApiCase { what: "503 with Retry-After", request: get("unavailable"), outcome: Data(503), within: quick },
    ]
}

async fn api_fault_console(upstream: &FaultServer) -> TestConsole {
    let mut raw = RawConfig::default();
    raw.environments.insert("faulty".into(), fault_env(upstream));
    let mut closed = fault_env(upstream);
    closed.api_base = Some(format!("http://{}/api/v1/", closed_port()));
    raw.environments.insert("closed".into(), closed);
    let vars = Vars(HashMap::from([("FAULT_SECRET".to_owned(), FAULT_SECRET.to_owned())]));
    TestConsole::start(raw, vars, Arc::new(SystemClock)).await
}

fn ok_json() -> Fault {
    Fault::Raw(response("200 OK", &[("content-type", "application/json")], b"{\"ok\":true}"))
}

#[tokio::test]
async fn api_faults_end_in_the_documented_status_within_the_timeout_without_resending_writes() {
    let trip = Tripwire::start().await;
    let throttled = |status: &str| {
        Fault::Raw(response(
            status,
            &[("retry-after", "7"), ("content-type", "application/json")],
            b"{\"error\":\"slow down\"}",
        ))
    };
    let location = format!("http://{}/x", trip.host());
    let upstream = FaultServer::start(vec![
        ("/oauth2/token", Fault::Raw(token_response(&fault_token()))),
        ("/api/v1/hang", Fault::Hang),
        ("/api/v1/stall", Fault::StallBody),
        ("/api/v1/drip", Fault::Drip(Duration::from_millis(100))),
        ("/api/v1/reset", Fault::ResetMidBody),
        ("/api/v1/garbage", Fault::NotHttp),
        ("/api/v1/moved", Fault::Raw(response("302 Found", &[("location", location.as_str())], b""))),
        ("/api/v1/throttled", throttled("429 Too Many Requests")),
        ("/api/v1/unavailable", throttled("503 Service Unavailable")),
        ("/api/v1/ok", ok_json()),
    ])
    .await;
    let console = Arc::new(api_fault_console(&upstream).await);
    // The token first, so that every case measures the API call alone.
    assert_eq!(console.execute(&get("ok")).await.status, 200);

    // The cases run at the same time: each is bounded by its own timeout, not by the others.
    let runs = api_cases().into_iter().map(|case| {
        let console = console.clone();
        async move {
            let started = Instant::now();
            let response = console.execute_raw(&case.request).await;
            let elapsed = started.elapsed();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            (case, status, text, elapsed)
        }
    });
    let mut failures = Vec::new();
    for (case, status, text, elapsed) in futures::future::join_all(runs).await {
        let what = case.what;
        match case.outcome {
            Outcome::Error(code, message) => {
                if status != code || !text.contains(message) {
                    failures.push(format!("{what}: expected {code} saying {message:?}, got {status}: {text:.300}"));
                }
            }
            Outcome::Data(code) => {
                let answer: Option<ExecuteResponse> = serde_json::from_str(&text).ok();
                if status != 200 || answer.as_ref().map(|a| a.status) != Some(code) {
                    failures.push(format!("{what}: expected the upstream's {code} as data, got {status}: {text:.300}"));
                } else if code != 302 && !answer.unwrap().headers.iter().any(|(n, v)| n == "retry-after" && v == "7") {
                    failures.push(format!("{what}: Retry-After is not shown to staff"));
                }
            }
        }
        if elapsed < case.within.0 || elapsed > case.within.1 {
            failures.push(format!(
                "{what}: took {elapsed:?}, expected between {:?} and {:?}",
                case.within.0, case.within.1
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Exactly one attempt each: no write (and, by default, no read either) is ever re-sent.
    for path in
        ["hang", "hang-post", "stall", "drip", "reset", "reset-post", "garbage", "moved", "throttled", "unavailable"]
    {
        let sent =
            upstream.seen(&format!("/api/v1/{path}")).iter().filter(|s| s.target == format!("/api/v1/{path}")).count();
        assert_eq!(sent, 1, "{path} was sent {sent} times");
    }
    assert_eq!(trip.connections(), 0, "the redirect was followed");
    assert_eq!(console.execute(&get("ok")).await.status, 200, "the console still works");
    // One token per environment ("faulty" and "closed"): faults of the API never cost another.
    assert_eq!(upstream.seen("/oauth2/token").len(), 2, "token requests");
}

#[tokio::test]
async fn huge_endless_and_compressed_bodies_stop_at_the_cap_without_growing_memory() {
    // 64 MiB of zeros, gzip-compressed to well under 1 MiB: the decoded size is what must be capped.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        encoder.write_all(&zeros).unwrap();
    }
    let bomb = encoder.finish().unwrap();
    assert!(bomb.len() < (1 << 20), "the bomb is {} bytes", bomb.len());
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let upstream = FaultServer::start(vec![
        ("/oauth2/token", Fault::Raw(token_response(&fault_token()))),
        ("/api/v1/huge", Fault::Huge(1 << 30)),
        ("/api/v1/endless", Fault::Endless),
        (
            "/api/v1/bomb",
            Fault::Raw(response(
                "200 OK",
                &[("content-type", "application/json"), ("content-encoding", "gzip")],
                &bomb,
            )),
        ),
        ("/api/v1/deep", Fault::Raw(response("200 OK", &[("content-type", "application/json")], deep.as_bytes()))),
        ("/api/v1/ok", ok_json()),
    ])
    .await;
    let console = fault_console(&upstream).await;
    assert_eq!(console.execute(&get("ok")).await.status, 200);

    let before = rss_kib();
    for (path, wire_at_most) in [("huge", 1u64 << 30), ("endless", u64::MAX), ("bomb", bomb.len() as u64)] {
        let started = Instant::now();
        let answer = console.execute(&get(path)).await;
        let elapsed = started.elapsed();
        assert_eq!(answer.status, 200, "{path}");
        assert!(answer.truncated, "{path}: the cap was not applied");
        assert_eq!(answer.kept_bytes, CAP, "{path}: kept {} bytes", answer.kept_bytes);
        assert_eq!(answer.max_response_bytes, CAP);
        assert!(answer.size_bytes > CAP && answer.wire_bytes <= wire_at_most, "{path}: {answer:?}");
        assert!(elapsed < REQUEST_TIMEOUT, "{path}: reading stopped only after {elapsed:?}");
        if path == "bomb" {
            assert_eq!(answer.content_encoding.as_deref(), Some("gzip"));
            assert!(answer.wire_bytes < CAP, "the cap counts decoded bytes: {} on the wire", answer.wire_bytes);
        }
    }
    // A gigabyte, an endless stream and 64 MiB decoded went by; the console kept a few MiB of each.
    let grown_mib = rss_kib().saturating_sub(before) / 1024;
    assert!(grown_mib < 128, "resident memory grew by {grown_mib} MiB");

    // 10,000 levels of nesting: carried as bytes, never parsed recursively on the server.
    let answer = console.execute(&get("deep")).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.size_bytes, 20_000);
    let jsonpath = console
        .http
        .post(format!("{}/api/jsonpath", console.base))
        .form(&[("body_id", answer.body_id.clone().unwrap()), ("expression", "$[0]".to_owned())])
        .send()
        .await
        .unwrap();
    assert_eq!(jsonpath.status(), 400);
    assert!(jsonpath.text().await.unwrap().contains("nests deeper than 128 levels"));
    assert_eq!(console.execute(&get("ok")).await.status, 200, "the console still works");
    console.console.shutdown().await;
}

/// One token-endpoint fault: its route, the status and message a request then gets, and the time it may take.
struct TokenCase {
    what: &'static str,
    fault: Fault,
    status: u16,
    message: &'static str,
    within: (Duration, Duration),
}

#[tokio::test]
async fn token_endpoint_faults_fail_fast_with_a_clear_message_and_recover_on_refresh() {
    let quick = (Duration::ZERO, MARGIN);
    let malformed = response("200 OK", &[("content-type", "application/json")], b"{\"access_token\": \"abc\", ");
    let cases = vec![
        TokenCase {
            what: "hangs",
            fault: Fault::Hang,
            status: 502,
            message: "the token endpoint for faulty did not answer within 1 s",
            within: (TOKEN_TIMEOUT - Duration::from_millis(100), TOKEN_TIMEOUT + MARGIN),
        },
        TokenCase {
            what: "answers 500",
            fault: Fault::Raw(response("500 Internal Server Error", &[], b"oops")),
            status: 502,
            message: "the token endpoint for faulty answered HTTP 500",
            within: quick,
        },
        TokenCase {
            what: "answers 429",
            fault: Fault::Raw(response("429 Too Many Requests", &[("retry-after", "30")], b"")),
            status: 502,
            message: "the token endpoint for faulty answered HTTP 429",
            within: quick,
        },
        TokenCase {
            what: "answers malformed JSON",
            fault: Fault::Raw(malformed),
            status: 502,
            message: "the token endpoint for faulty sent an unusable answer",
            within: quick,
        },
        TokenCase {
            what: "is not HTTP",
            fault: Fault::NotHttp,
            status: 502,
            message: "the token endpoint for faulty could not be reached",
            within: quick,
        },
    ];
    let runs = cases.into_iter().map(|case| async move {
        let upstream = FaultServer::start(vec![("/oauth2/token", case.fault.clone()), ("/api/v1/ok", ok_json())]).await;
        let console = fault_console(&upstream).await;
        let started = Instant::now();
        let (status, _, text) = console.execute_error(&get("ok")).await;
        let elapsed = started.elapsed();
        let mut failures = Vec::new();
        let what = case.what;
        if status != case.status || !text.contains(case.message) {
            failures.push(format!("{what}: expected {} saying {:?}, got {status}: {text}", case.status, case.message));
        }
        if elapsed < case.within.0 || elapsed > case.within.1 {
            failures.push(format!(
                "{what}: took {elapsed:?}, expected between {:?} and {:?}",
                case.within.0, case.within.1
            ));
        }
        // A second request during the backoff fails at once, without another token request.
        let started = Instant::now();
        let (status, _, text) = console.execute_error(&get("ok")).await;
        // Transient failures say when the console tries again; permanent ones (an unusable answer)
        // repeat their cause. Either way at once, and without another token request.
        let cooling = text.contains("no valid token for faulty") || text.contains(case.message);
        if status != 502 || !cooling || started.elapsed() > MARGIN {
            failures.push(format!(
                "{what}: the retry was not a fast failure: {status} after {:?}: {text}",
                started.elapsed()
            ));
        }
        if upstream.seen("/oauth2/token").len() != 1 {
            failures.push(format!("{what}: {} token requests", upstream.seen("/oauth2/token").len()));
        }
        if !upstream.seen("/api/").is_empty() {
            failures.push(format!("{what}: the API was called without a token"));
        }
        // Once the endpoint behaves, "refresh now" (which ignores the backoff) brings it back.
        upstream.route("/oauth2/token", Fault::Raw(token_response(&fault_token())));
        let refresh = console
            .http
            .post(format!("{}/api/token/refresh", console.base))
            .form(&[("environment", "faulty")])
            .send()
            .await
            .unwrap();
        if refresh.status() != 200 {
            failures.push(format!("{what}: refresh failed with {}", refresh.status()));
        }
        let healthy = console.execute_raw(&get("ok")).await.status();
        if healthy != 200 {
            failures.push(format!("{what}: after recovery a request got {healthy}"));
        }
        console.console.shutdown().await;
        failures
    });
    let failures: Vec<String> = futures::future::join_all(runs).await.into_iter().flatten().collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn a_refused_or_slow_token_endpoint_is_reported_or_waited_for_within_the_token_timeout() {
    // Refused: nothing listens at the token URL.
    let upstream = FaultServer::start(vec![("/api/v1/ok", ok_json())]).await;
    let mut raw = RawConfig::default();
    let mut env = fault_env(&upstream);
    env.token_url = Some(format!("http://{}/oauth2/token", closed_port()));
    raw.environments.insert("faulty".into(), env);
    let vars = Vars(HashMap::from([("FAULT_SECRET".to_owned(), FAULT_SECRET.to_owned())]));
    let console = TestConsole::start(raw, vars, Arc::new(SystemClock)).await;
    let started = Instant::now();
    let (status, _, text) = console.execute_error(&get("ok")).await;
    assert_eq!(status, 502, "{text}");
    assert!(text.contains("the token endpoint for faulty could not be reached"), "{text}");
    assert!(started.elapsed() < MARGIN, "{:?}", started.elapsed());
    assert!(upstream.seen("/api/").is_empty());
    console.console.shutdown().await;

    // Slow but inside the token timeout: the request waits and succeeds.
    let slow = FaultServer::start(vec![
        ("/oauth2/token", Fault::Slow(Duration::from_millis(600), token_response(&fault_token()))),
        ("/api/v1/ok", ok_json()),
    ])
    .await;
    let console = fault_console(&slow).await;
    let started = Instant::now();
    let answer = console.execute(&get("ok")).await;
    assert_eq!(answer.status, 200);
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(600) && elapsed < TOKEN_TIMEOUT + MARGIN, "{elapsed:?}");
    console.console.shutdown().await;
}

#[tokio::test]
async fn a_cancelled_run_drops_its_upstream_request_answers_499_and_is_audited_not_kept_in_history() {
    let server = FaultServer::start(vec![
        ("/oauth2/token", Fault::Raw(token_response(&fault_token()))),
        ("/api/v1/slow", Fault::Hang),
    ])
    .await;
    let mut raw = RawConfig::default();
    // A long timeout: only the cancel may end this run.
    raw.environments.insert("faulty".into(), RawEnvironment { request_timeout_secs: Some(30), ..fault_env(&server) });
    let vars = Vars(HashMap::from([("FAULT_SECRET".to_owned(), FAULT_SECRET.to_owned())]));
    let console = TestConsole::start(raw, vars, Arc::new(SystemClock)).await;
    let request = ExecuteRequest {
        environment: "faulty".into(),
        method: "GET".into(),
        path: "/slow".into(),
        ..ExecuteRequest::default()
    };
    let run_id = "run-cancel-test-0001";
    let call = console
        .http
        .post(format!("{}/api/execute", console.base))
        .json(&serde_json::json!({ "request": request, "run_id": run_id }))
        .send();
    let running = tokio::spawn(call);
    // Wait until the request is at the upstream, then cancel it.
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.seen("/api/v1/slow").is_empty() {
        assert!(Instant::now() < deadline, "the request never reached the upstream");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cancel =
        |id: &str| console.http.post(format!("{}/api/execute/cancel", console.base)).form(&[("run_id", id)]).send();
    assert_eq!(cancel("someone-elses-run").await.unwrap().text().await.unwrap(), "false");
    let cancelled_at = Instant::now();
    assert_eq!(cancel(run_id).await.unwrap().text().await.unwrap(), "true");
    let answer = running.await.unwrap().unwrap();
    assert_eq!(answer.status(), 499);
    let error: ConsoleError = serde_json::from_str(&answer.text().await.unwrap()).unwrap();
    assert!(matches!(&error, ConsoleError::Cancelled(m) if m.starts_with("cancelled after")), "{error:?}");
    // The upstream saw its connection closed at once, not at the 30 s timeout.
    while server.released() == 0 {
        assert!(cancelled_at.elapsed() < Duration::from_secs(5), "the upstream request was not dropped");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(cancel(run_id).await.unwrap().text().await.unwrap(), "false", "a finished run cannot be cancelled");

    console.console.audit.flush().await;
    let rows: Vec<(String, Option<String>, Option<i64>)> =
        sqlx::query_as("SELECT outcome, path, duration_ms FROM audit_log WHERE event = 'request'")
            .fetch_all(console.console.db.sqlite().unwrap())
            .await
            .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!((rows[0].0.as_str(), rows[0].1.as_deref()), ("cancelled", Some("/slow")));
    let history: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM history")
        .fetch_one(console.console.db.sqlite().unwrap())
        .await
        .unwrap();
    assert_eq!(history, 0, "a run that never answered is not kept as if it had");
    console.console.shutdown().await;
}
