//! Broker tests against a scripted token endpoint on a loopback port, with the manual clock.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

use app::wire::{TokenEventOutcome, TokenEventReason, TokenState};
use axum::extract::State;
use axum::response::IntoResponse;
use base64::Engine as _;

use super::*;
use crate::clock::{Clock, ManualClock};

/// What the scripted endpoint answers.
#[derive(Clone, Debug)]
enum Reply {
    /// A JWT-shaped token (unique per request) with this `expires_in`.
    Token(u64),
    Status(u16, &'static str),
    /// 429 with `Retry-After`.
    Throttled(u64),
    /// 200 with this body.
    Body(&'static str),
    /// Never answers.
    Hang,
}

#[derive(Default)]
struct Script {
    queue: Mutex<VecDeque<Reply>>,
    fallback: Mutex<Option<Reply>>,
    requests: AtomicU64,
    /// (Authorization header, form body) of every request.
    seen: Mutex<Vec<(Option<String>, String)>>,
}

struct Endpoint {
    script: Arc<Script>,
    url: Url,
}

impl Endpoint {
    async fn start() -> Self {
        let script = Arc::new(Script::default());
        let app = axum::Router::new().route("/oauth2/token", axum::routing::post(answer)).with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!("http://{}/oauth2/token", listener.local_addr().unwrap())).unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { script, url }
    }

    fn then(&self, reply: Reply) -> &Self {
        self.script.queue.lock().unwrap().push_back(reply);
        self
    }

    /// The answer once the queue is empty.
    fn always(&self, reply: Reply) {
        *self.script.fallback.lock().unwrap() = Some(reply);
    }

    fn requests(&self) -> u64 {
        self.script.requests.load(Ordering::SeqCst)
    }

    fn source(&self, skew: u64) -> TokenSource {
        TokenSource {
            environment: "sandbox".into(),
            token_url: self.url.clone(),
            client_id: "client".into(),
            secret: Arc::new(SecretProvider::fixed(SecretString::from("secret".to_owned()))),
            scope: None,
            auth: ClientAuth::SecretPost,
            timeout: Duration::from_secs(5),
            refresh_skew: Duration::from_secs(skew),
        }
    }
}

async fn answer(State(script): State<Arc<Script>>, headers: http::HeaderMap, body: String) -> axum::response::Response {
    let n = script.requests.fetch_add(1, Ordering::SeqCst) + 1;
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
    script.seen.lock().unwrap().push((auth, body));
    let reply = script.queue.lock().unwrap().pop_front().or_else(|| script.fallback.lock().unwrap().clone());
    match reply.unwrap_or(Reply::Token(3600)) {
        Reply::Token(expires_in) => {
            let b64 = |v: serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
            let token = format!(
                "{}.{}.c2lnbmF0dXJl",
                b64(serde_json::json!({"alg": "HS256", "typ": "JWT"})),
                b64(serde_json::json!({"sub": "client", "n": n}))
            );
            axum::Json(serde_json::json!({"access_token": token, "token_type": "Bearer", "expires_in": expires_in}))
                .into_response()
        }
        Reply::Status(status, body) => {
            (http::StatusCode::from_u16(status).unwrap(), [("content-type", "application/json")], body).into_response()
        }
        Reply::Throttled(secs) => {
            (http::StatusCode::TOO_MANY_REQUESTS, [("retry-after", secs.to_string())], "slow down").into_response()
        }
        Reply::Body(body) => (http::StatusCode::OK, [("content-type", "application/json")], body).into_response(),
        Reply::Hang => std::future::pending().await,
    }
}

fn broker(clock: &Arc<ManualClock>) -> TokenBroker {
    TokenBroker::new(reqwest::Client::new(), clock.clone()).with_jitter(Arc::new(FixedJitter(0.0)))
}

/// Lets spawned background refreshes finish (real loopback I/O, no sleeping on the clock).
async fn settle(broker: &TokenBroker, source: &TokenSource) {
    for _ in 0..500 {
        if !broker.details(source).refreshing {
            return;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("a background refresh did not finish");
}

/// Waits (on real I/O, never on the injected clock) until a spawned request has reached the endpoint.
async fn until(condition: impl Fn() -> bool) {
    for _ in 0..500 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("the condition never became true");
}

#[tokio::test]
async fn a_token_goes_from_empty_to_fresh_to_stale_to_expired_with_the_clock() {
    let endpoint = Endpoint::start().await;
    endpoint.always(Reply::Token(600));
    let clock = ManualClock::new();
    let broker = broker(&clock);
    let source = endpoint.source(300);
    assert_eq!(broker.view(&source).state, TokenState::Empty);
    let first = broker.token(&source).await.unwrap();
    assert_eq!(broker.view(&source).state, TokenState::Fresh);
    // The 300 s skew of a 600 s token is clamped to half the lifetime (300 s): stale after 300 s.
    clock.advance(Duration::from_secs(301));
    assert_eq!(broker.view(&source).state, TokenState::Stale);
    clock.advance(Duration::from_secs(300));
    assert_eq!(broker.view(&source).state, TokenState::Expired);
    let second = broker.token(&source).await.unwrap();
    assert_ne!(first.fingerprint, second.fingerprint, "an expired token is never handed out");
    assert_eq!(endpoint.requests(), 2);
    let reasons: Vec<_> = broker.details(&source).events.iter().map(|e| e.reason).collect();
    assert_eq!(reasons, [TokenEventReason::Expired, TokenEventReason::Cold]);
}

#[tokio::test]
async fn a_stale_token_is_served_at_once_while_exactly_one_background_refresh_runs() {
    let endpoint = Endpoint::start().await;
    let clock = ManualClock::new();
    let broker = Arc::new(broker(&clock));
    let source = endpoint.source(300);
    let first = broker.token(&source).await.unwrap();
    // The refresh hangs so every caller below arrives while it is in flight.
    endpoint.then(Reply::Hang);
    clock.advance(Duration::from_secs(3_400));
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let (broker, source) = (broker.clone(), source.clone());
        tasks.push(tokio::spawn(async move { broker.token(&source).await.unwrap().fingerprint.clone() }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), first.fingerprint);
    }
    assert!(broker.details(&source).refreshing);
    until(|| endpoint.requests() >= 2).await;
    assert_eq!(endpoint.requests(), 2, "one cold request, one background refresh");
}

#[tokio::test]
async fn twenty_waiters_share_one_failed_request_and_the_same_error() {
    let endpoint = Endpoint::start().await;
    endpoint.always(Reply::Status(503, "{}"));
    let clock = ManualClock::new();
    let broker = Arc::new(broker(&clock));
    let source = endpoint.source(300);
    let barrier = Arc::new(tokio::sync::Barrier::new(20));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (broker, source, barrier) = (broker.clone(), source.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            broker.token(&source).await.unwrap_err()
        }));
    }
    let mut errors = Vec::new();
    for task in tasks {
        errors.push(task.await.unwrap());
    }
    assert_eq!(endpoint.requests(), 1);
    let expected = TokenError::Endpoint { environment: "sandbox".into(), status: 503, retry_after_secs: None };
    // Callers that arrive after the failure get the backoff error, which names the same cause.
    for error in &errors {
        match error {
            TokenError::CoolingDown { cause, .. } => assert_eq!(cause, &expected.to_string()),
            other => assert_eq!(other, &expected),
        }
    }
    assert!(errors.iter().filter(|e| **e == expected).count() >= 1);
}

#[tokio::test]
async fn a_still_valid_token_keeps_being_served_while_the_endpoint_is_down() {
    let endpoint = Endpoint::start().await;
    let clock = ManualClock::new();
    let broker = broker(&clock);
    let source = endpoint.source(300);
    let first = broker.token(&source).await.unwrap();
    endpoint.always(Reply::Status(500, "{}"));
    // Through the whole stale window: every call succeeds with the cached token.
    clock.advance(Duration::from_secs(3_300));
    for _ in 0..290 {
        assert_eq!(broker.token(&source).await.unwrap().fingerprint, first.fingerprint);
        settle(&broker, &source).await;
        clock.advance(Duration::from_secs(1));
    }
    let details = broker.details(&source);
    assert_eq!(details.token.state, TokenState::Stale);
    assert!(details.token.last_error.as_deref().unwrap().contains("HTTP 500"));
    // Backoff 1, 2, 4, … 256 s from the first stale call: 9 attempts in 290 s, not 290.
    assert_eq!(endpoint.requests(), 1 + 9);
}

#[tokio::test]
async fn once_expired_callers_fail_fast_with_a_specific_error_and_the_first_success_recovers() {
    let endpoint = Endpoint::start().await;
    let clock = ManualClock::new();
    let broker = broker(&clock);
    let source = endpoint.source(300);
    broker.token(&source).await.unwrap();
    endpoint.always(Reply::Status(503, "{}"));
    clock.advance(Duration::from_secs(3_601));
    let error = broker.token(&source).await.unwrap_err();
    assert_eq!(error.to_string(), "the token endpoint for sandbox answered HTTP 503");
    let requests = endpoint.requests();
    // Inside the backoff: an answer at once, without touching the endpoint, saying when it retries.
    let fast = broker.token(&source).await.unwrap_err();
    assert_eq!(
        fast.to_string(),
        "no valid token for sandbox: the token endpoint for sandbox answered HTTP 503; the console tries again in 1 s \
         (or use Refresh now on the token page)"
    );
    assert_eq!(endpoint.requests(), requests);
    assert_eq!(broker.metrics().value("a55_console_token_fast_failures_total", &[("environment", "sandbox")]), 1);
    endpoint.always(Reply::Token(3600));
    clock.advance(Duration::from_secs(1));
    let recovered = broker.token(&source).await.unwrap();
    assert_eq!(recovered.state_at(clock.now()), TokenState::Fresh);
    assert!(broker.view(&source).last_error.is_none());
}

#[tokio::test]
async fn token_requests_stay_within_the_backoff_bound_under_a_sustained_outage() {
    let endpoint = Endpoint::start().await;
    endpoint.always(Reply::Status(502, "{}"));
    let clock = ManualClock::new();
    // Worst-case jitter: every delay as short as the policy allows.
    let broker = TokenBroker::new(reqwest::Client::new(), clock.clone()).with_jitter(Arc::new(FixedJitter(0.999)));
    let source = endpoint.source(300);
    let outage = Duration::from_secs(600);
    let step = Duration::from_millis(100);
    let mut elapsed = Duration::ZERO;
    while elapsed < outage {
        assert!(broker.token(&source).await.is_err());
        clock.advance(step);
        elapsed += step;
    }
    let bound = outage.as_secs_f64() / broker.settings().backoff.shortest().as_secs_f64() + 1.0;
    let requests = endpoint.requests();
    assert!((requests as f64) <= bound, "{requests} token requests in a {outage:?} outage (bound {bound})");
    // Exponential, not merely bounded: attempts at 0, 0.8, 2.4, 5.6, 12, 24.8, 50.4, 101.6, 204 and 408.8 s.
    assert_eq!(requests, 10);
    assert_eq!(
        broker
            .metrics()
            .value("a55_console_token_requests_total", &[("environment", "sandbox"), ("outcome", "endpoint_error")]),
        10
    );
}

#[tokio::test]
async fn rejected_credentials_are_not_retried_in_a_loop() {
    for (status, body, code) in [
        (400, r#"{"error":"invalid_client"}"#, "invalid_client"),
        (400, r#"{"error":"unauthorized_client"}"#, "unauthorized_client"),
        (400, r#"{"error":"invalid_grant"}"#, "invalid_grant"),
        (400, r#"{"error":"invalid_scope"}"#, "invalid_scope"),
        (401, "", "HTTP 401"),
    ] {
        let endpoint = Endpoint::start().await;
        endpoint.always(Reply::Status(status, body));
        let clock = ManualClock::new();
        let broker = broker(&clock);
        let source = endpoint.source(300);
        for _ in 0..200 {
            let error = broker.token(&source).await.unwrap_err();
            assert_eq!(error.to_string(), format!("credentials rejected by the token endpoint for sandbox ({code})"));
            clock.advance(Duration::from_secs(1));
        }
        assert_eq!(endpoint.requests(), 1, "{code}: one request in 200 s of calls");
        // After the longest backoff one more try, so a fix on the endpoint's side is picked up.
        clock.advance(Duration::from_secs(100));
        endpoint.always(Reply::Token(3600));
        broker.token(&source).await.unwrap();
        assert_eq!(endpoint.requests(), 2, "{code}");
    }
}

#[tokio::test]
async fn a_throttled_endpoint_is_left_alone_for_its_retry_after() {
    let endpoint = Endpoint::start().await;
    endpoint.then(Reply::Throttled(20));
    let clock = ManualClock::new();
    let broker = broker(&clock);
    let source = endpoint.source(300);
    assert!(broker.token(&source).await.is_err());
    clock.advance(Duration::from_secs(19));
    let error = broker.token(&source).await.unwrap_err();
    assert!(error.to_string().contains("HTTP 429; the console tries again in 1 s"), "{error}");
    clock.advance(Duration::from_secs(1));
    broker.token(&source).await.unwrap();
    assert_eq!(endpoint.requests(), 2);
}

#[tokio::test]
async fn a_hanging_endpoint_times_out_for_every_waiter_and_the_next_attempt_succeeds() {
    let endpoint = Endpoint::start().await;
    endpoint.then(Reply::Hang);
    let clock = ManualClock::new();
    let broker = Arc::new(broker(&clock));
    let mut source = endpoint.source(300);
    // Short so the test stays quick; what matters is that the fetch ends on its own.
    source.timeout = Duration::from_millis(150);
    let mut tasks = Vec::new();
    for _ in 0..5 {
        let (broker, source) = (broker.clone(), source.clone());
        tasks.push(tokio::spawn(async move { broker.token(&source).await.unwrap_err() }));
    }
    for task in tasks {
        assert!(matches!(task.await.unwrap(), TokenError::Timeout { .. } | TokenError::CoolingDown { .. }));
    }
    assert_eq!(endpoint.requests(), 1);
    clock.advance(Duration::from_secs(1));
    broker.token(&source).await.unwrap();
}

#[tokio::test]
async fn every_bad_token_answer_is_a_clear_error_and_never_a_token() {
    let cases = [
        (r#"{"token_type":"Bearer","expires_in":3600}"#, "access_token is missing"),
        (r#"{"access_token":"t","token_type":"mac","expires_in":3600}"#, "token_type is not Bearer"),
        (r#"{"access_token":"t","token_type":"Bearer"}"#, "expires_in is missing"),
        (r#"{"access_token":"t","token_type":"Bearer","expires_in":0}"#, "outside"),
        (r#"{"access_token":"t","token_type":"Bearer","expires_in":-1}"#, "not a positive whole number"),
        (r#"{"access_token":"t","token_type":"Bearer","expires_in":"3600"}"#, "not a number"),
        ("{not json", "not a JSON object"),
    ];
    for (body, expected) in cases {
        let endpoint = Endpoint::start().await;
        endpoint.always(Reply::Body(body));
        let clock = ManualClock::new();
        let broker = broker(&clock);
        let source = endpoint.source(300);
        let error = broker.token(&source).await.unwrap_err();
        assert!(error.to_string().contains(expected), "{body}: {error}");
        assert!(error.is_permanent());
        assert_eq!(broker.view(&source).state, TokenState::Empty, "{body}");
    }
}

#[tokio::test]
async fn a_401_storm_causes_one_forced_refresh_and_no_more_within_the_interval() {
    let endpoint = Endpoint::start().await;
    let clock = ManualClock::new();
    let broker = Arc::new(broker(&clock));
    let source = endpoint.source(300);
    let rejected = broker.token(&source).await.unwrap().fingerprint.clone();
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let (broker, source, rejected) = (broker.clone(), source.clone(), rejected.clone());
        tasks.push(tokio::spawn(async move { broker.renew_after_unauthorized(&source, &rejected).await.unwrap() }));
    }
    let mut renewed = std::collections::HashSet::new();
    for task in tasks {
        match task.await.unwrap() {
            Renewal::Renewed(token) => renewed.insert(token.fingerprint.clone()),
            Renewal::Limited { .. } => panic!("the first forced refresh is never limited"),
        };
    }
    assert_eq!(renewed.len(), 1);
    assert!(!renewed.contains(&rejected));
    assert_eq!(endpoint.requests(), 2, "one cold request and one forced refresh for 100 401s");
    // The new token is rejected too: no second forced refresh inside the interval.
    let second = renewed.into_iter().next().unwrap();
    clock.advance(Duration::from_secs(10));
    match broker.renew_after_unauthorized(&source, &second).await.unwrap() {
        Renewal::Limited { retry_in } => assert_eq!(retry_in, Duration::from_secs(20)),
        Renewal::Renewed(_) => panic!("a forced refresh 10 s after the last one must be limited"),
    }
    assert_eq!(broker.token(&source).await.unwrap().fingerprint, second, "the token is kept while limited");
    clock.advance(Duration::from_secs(20));
    assert!(matches!(broker.renew_after_unauthorized(&source, &second).await.unwrap(), Renewal::Renewed(_)));
    assert_eq!(endpoint.requests(), 3);
    let last = &broker.details(&source).events[0];
    assert_eq!(last.reason, TokenEventReason::Unauthorized);
}

#[tokio::test]
async fn a_changed_secret_file_drops_the_cached_token_and_the_next_request_uses_the_new_secret() {
    let endpoint = Endpoint::start().await;
    let path = std::env::temp_dir().join(format!("a55-rotation-{}", uuid::Uuid::new_v4()));
    std::fs::write(&path, "old-secret").unwrap();
    let clock = ManualClock::new();
    let broker = broker(&clock);
    let mut source = endpoint.source(300);
    source.secret = Arc::new(SecretProvider::file(path.clone(), SecretString::from("old-secret".to_owned())));
    let first = broker.token(&source).await.unwrap();
    assert_eq!(broker.token(&source).await.unwrap().fingerprint, first.fingerprint);
    std::fs::write(&path, "the-new-secret").unwrap();
    let second = broker.token(&source).await.unwrap();
    assert_ne!(second.fingerprint, first.fingerprint);
    assert_eq!(endpoint.requests(), 2);
    let seen = endpoint.script.seen.lock().unwrap().clone();
    assert!(seen[0].1.contains("client_secret=old-secret"), "{:?}", seen[0]);
    assert!(seen[1].1.contains("client_secret=the-new-secret"), "{:?}", seen[1]);
    let events = broker.details(&source).events;
    assert_eq!(events[0].reason, TokenEventReason::Rotation);
    assert!(matches!(events[0].outcome, TokenEventOutcome::Obtained { .. }));
    assert_eq!(events[1].outcome, TokenEventOutcome::Dropped);
    std::fs::remove_file(&path).unwrap();
}

#[tokio::test]
async fn a_new_secret_ends_the_backoff_of_rejected_credentials_at_once() {
    let endpoint = Endpoint::start().await;
    endpoint.then(Reply::Status(400, r#"{"error":"invalid_client"}"#));
    let path = std::env::temp_dir().join(format!("a55-rotation-{}", uuid::Uuid::new_v4()));
    std::fs::write(&path, "wrong").unwrap();
    let clock = ManualClock::new();
    let broker = broker(&clock);
    let mut source = endpoint.source(300);
    source.secret = Arc::new(SecretProvider::file(path.clone(), SecretString::from("wrong".to_owned())));
    assert!(matches!(broker.token(&source).await.unwrap_err(), TokenError::Rejected { .. }));
    assert!(matches!(broker.token(&source).await.unwrap_err(), TokenError::Rejected { .. }));
    assert_eq!(endpoint.requests(), 1);
    std::fs::write(&path, "right-secret").unwrap();
    broker.token(&source).await.unwrap();
    assert_eq!(endpoint.requests(), 2);
    std::fs::remove_file(&path).unwrap();
}

#[tokio::test]
async fn no_token_is_requested_while_nobody_needs_one() {
    let endpoint = Endpoint::start().await;
    let clock = ManualClock::new();
    let broker = broker(&clock);
    let used = endpoint.source(300);
    let mut idle = endpoint.source(300);
    idle.environment = "production".into();
    broker.token(&used).await.unwrap();
    // Days pass with views but no requests: stale, expired, long expired.
    for _ in 0..48 {
        clock.advance(Duration::from_secs(3_600));
        broker.view(&used);
        broker.details(&idle);
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(endpoint.requests(), 1);
    assert_eq!(broker.view(&used).state, TokenState::Expired);
    assert_eq!(broker.view(&idle).state, TokenState::Empty);
}

#[tokio::test]
async fn refresh_now_ignores_the_backoff_and_forget_drops_the_token() {
    let endpoint = Endpoint::start().await;
    endpoint.then(Reply::Status(500, "{}"));
    let clock = ManualClock::new();
    let broker = broker(&clock);
    let source = endpoint.source(300);
    assert!(broker.token(&source).await.is_err());
    assert!(matches!(broker.token(&source).await.unwrap_err(), TokenError::CoolingDown { .. }));
    let token = broker.refresh_now(&source, None).await.unwrap();
    assert_eq!(broker.view(&source).fingerprint.as_deref(), Some(token.fingerprint.as_str()));
    broker.forget(&source, None);
    assert_eq!(broker.view(&source).state, TokenState::Empty);
    broker.token(&source).await.unwrap();
    assert_eq!(endpoint.requests(), 3);
    let reasons: Vec<_> = broker.details(&source).events.iter().map(|e| (e.reason, e.outcome.clone())).collect();
    assert_eq!(reasons[0].0, TokenEventReason::Cold);
    assert_eq!(reasons[1], (TokenEventReason::Manual, TokenEventOutcome::Forgotten));
    assert_eq!(reasons[2].0, TokenEventReason::Manual);
    assert!(matches!(reasons[3], (TokenEventReason::Cold, TokenEventOutcome::Failed { .. })));
    let details = broker.details(&source);
    assert_eq!(details.header.unwrap()["alg"], "HS256");
    assert!(details.events.iter().all(|e| e.latency_ms.is_some() || e.outcome == TokenEventOutcome::Forgotten));
}

#[tokio::test]
async fn both_client_authentication_methods_send_what_rfc_6749_says() {
    let endpoint = Endpoint::start().await;
    let clock = ManualClock::new();
    let broker = broker(&clock);
    let mut post = endpoint.source(300);
    post.secret = Arc::new(SecretProvider::fixed(SecretString::from("a+b%c:d/e=f".to_owned())));
    post.scope = Some("a55/api other".into());
    broker.token(&post).await.unwrap();
    let mut basic = post.clone();
    basic.environment = "production".into();
    basic.client_id = "id:1".into();
    basic.auth = ClientAuth::SecretBasic;
    broker.token(&basic).await.unwrap();
    let seen = endpoint.script.seen.lock().unwrap().clone();
    let form = |body: &str| url::form_urlencoded::parse(body.as_bytes()).into_owned().collect::<Vec<_>>();
    assert_eq!(seen[0].0, None);
    assert_eq!(
        form(&seen[0].1),
        [
            ("grant_type".to_owned(), "client_credentials".to_owned()),
            ("scope".to_owned(), "a55/api other".to_owned()),
            ("client_id".to_owned(), "client".to_owned()),
            ("client_secret".to_owned(), "a+b%c:d/e=f".to_owned()),
        ]
    );
    let header = seen[1].0.clone().unwrap();
    let decoded = base64::engine::general_purpose::STANDARD.decode(header.trim_start_matches("Basic ")).unwrap();
    assert_eq!(String::from_utf8(decoded).unwrap(), "id%3A1:a%2Bb%25c%3Ad%2Fe%3Df");
    assert!(!seen[1].1.contains("client_secret"), "Basic sends no secret in the body: {}", seen[1].1);
}

// Validation of single answers, without a server.

fn plain_source(skew: u64) -> TokenSource {
    TokenSource {
        environment: "sandbox".into(),
        token_url: Url::parse("http://127.0.0.1:9/oauth2/token").unwrap(),
        client_id: "client".into(),
        secret: Arc::new(SecretProvider::fixed(SecretString::from("secret".to_owned()))),
        scope: None,
        auth: ClientAuth::SecretPost,
        timeout: Duration::from_secs(5),
        refresh_skew: Duration::from_secs(skew),
    }
}

fn response(status: u16, body: &str) -> TokenResponse {
    TokenResponse { status, retry_after: None, body: body.to_owned().into() }
}

fn ok_body(expires_in: &str) -> TokenResponse {
    response(
        200,
        &format!(r#"{{"access_token":"e30.eyJzdWIiOiJ4In0.c2ln","token_type":"Bearer","expires_in":{expires_in}}}"#),
    )
}

#[test]
fn a_good_answer_becomes_a_token_with_clamped_skew() {
    let clock = ManualClock::new();
    let token = accept(ok_body("3600"), &plain_source(300), 7, clock.now(), clock.wall_ms()).unwrap();
    assert_eq!(token.lifetime, Duration::from_secs(3600));
    assert_eq!(token.refresh_at - token.obtained_at, Duration::from_secs(3300));
    assert_eq!(token.claims, Some(serde_json::json!({"sub": "x"})));
    assert_eq!(token.header, Some(serde_json::json!({})));
    assert_eq!(token.secret_version, 7);
    // A 60 s token with a 300 s skew refreshes at half-life, not immediately.
    let short = accept(ok_body("60"), &plain_source(300), 7, clock.now(), clock.wall_ms()).unwrap();
    assert_eq!(short.refresh_at - short.obtained_at, Duration::from_secs(30));
}

#[test]
fn odd_answers_are_errors_and_never_tokens_that_last_forever() {
    let clock = ManualClock::new();
    let cases = [
        (r#"{"token_type":"Bearer","expires_in":3600}"#, "access_token is missing"),
        (r#"{"access_token":"","token_type":"Bearer","expires_in":3600}"#, "access_token is missing"),
        (r#"{"access_token":"t","token_type":"mac","expires_in":3600}"#, "token_type is not Bearer"),
        (r#"{"access_token":"t","expires_in":3600}"#, "token_type is missing"),
        (r#"{"access_token":"t","token_type":"Bearer"}"#, "expires_in is missing"),
        (r#"{"access_token":"t","token_type":"Bearer","expires_in":null}"#, "expires_in is missing"),
        (r#"{"access_token":"t","token_type":"Bearer","expires_in":0}"#, "outside"),
        (r#"{"access_token":"t","token_type":"Bearer","expires_in":-1}"#, "not a positive whole number"),
        (r#"{"access_token":"t","token_type":"Bearer","expires_in":1.5}"#, "not a positive whole number"),
        (r#"{"access_token":"t","token_type":"Bearer","expires_in":1e12}"#, "not a positive whole number"),
        (r#"{"access_token":"t","token_type":"Bearer","expires_in":999999999}"#, "outside"),
        (r#"{"access_token":"t","token_type":"Bearer","expires_in":"3600"}"#, "not a number"),
        ("not json", "not a JSON object"),
        ("[]", "not a JSON object"),
        ("", "not a JSON object"),
    ];
    for (body, expected) in cases {
        let error = accept(response(200, body), &plain_source(300), 0, clock.now(), 0).unwrap_err();
        assert!(error.to_string().contains(expected), "{body}: {error}");
    }
}

#[test]
fn rejected_credentials_say_so_without_the_secret_or_the_endpoints_words() {
    let clock = ManualClock::new();
    for (status, body) in [
        (400, r#"{"error":"invalid_client"}"#),
        (401, r#"{"error":"x","client_secret":"secret"}"#),
        (401, r#"{"error":"Secret is <b>secret</b>"}"#),
    ] {
        let error = accept(response(status, body), &plain_source(300), 0, clock.now(), 0).unwrap_err();
        let text = error.to_string();
        assert!(text.starts_with("credentials rejected by the token endpoint for sandbox"), "{text}");
        assert!(!text.contains("ecret"), "{text}");
    }
    let error = accept(response(503, "busy"), &plain_source(300), 0, clock.now(), 0).unwrap_err();
    assert_eq!(error, TokenError::Endpoint { environment: "sandbox".into(), status: 503, retry_after_secs: None });
    assert!(!error.is_permanent());
}

#[test]
fn basic_authorization_form_encodes_id_and_secret_before_base64() {
    let header = basic_authorization("id:1", &SecretString::from("a+b%c:d/e=f".to_owned()));
    let decoded = base64::engine::general_purpose::STANDARD.decode(header.trim_start_matches("Basic ")).unwrap();
    assert_eq!(String::from_utf8(decoded).unwrap(), "id%3A1:a%2Bb%25c%3Ad%2Fe%3Df");
}

#[test]
fn only_the_header_and_claims_of_a_jwt_are_decoded_never_the_signature() {
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let token = format!("{}.{}.{}", b64(r#"{"alg":"RS256"}"#), b64(r#"{"sub":"x"}"#), b64(r#"{"sig":1}"#));
    assert_eq!(decode_part(&token, 0), Some(serde_json::json!({"alg": "RS256"})));
    assert_eq!(decode_part(&token, 1), Some(serde_json::json!({"sub": "x"})));
    assert_eq!(decode_part(&token, 2), Some(serde_json::json!({"sub": "x"})), "index 2 is clamped to the claims");
    assert_eq!(decode_part("opaque-token", 0), None);
}

#[test]
fn debug_never_prints_the_token_or_secret() {
    let clock = ManualClock::new();
    let token = accept(ok_body("600"), &plain_source(300), 0, clock.now(), 0).unwrap();
    assert!(!format!("{token:?}").contains("eyJ"));
    assert!(!format!("{:?}", plain_source(1)).contains("secret\""));
    assert!(format!("{:?}", plain_source(1)).contains("[redacted]"));
}

#[test]
fn fingerprints_are_short_and_stable() {
    assert_eq!(fingerprint("abc"), "ba7816bf");
    assert_eq!(fingerprint("abc").len(), 8);
}

mod shared;
