#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "a failed step is a failed test")]
//! The token cache shared by replicas, against a real `redis-server`: what is stored (encrypted,
//! bound to its key, named by a hash), the lease, and two real console processes sharing one Redis
//! and one token endpoint (1,000 cold callers make one token request; a holder killed mid-request
//! is taken over after its lease; with Redis stopped each replica requests once and says so).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ::redis::AsyncCommands as _;
use base64::Engine as _;
use console_server::config::{RedisSessions, StateKey};
use console_server::simulator::{Simulator, SimulatorSettings};
use console_server::token::redis::RedisTokens;
use console_server::token::shared::{SharedToken, SharedTokens as _};
use secrecy::SecretString;

use crate::support::postgres::PostgresServer;
use crate::support::redis::RedisServer;
use crate::support::replica::{postgres_config, Replica};
use crate::support::*;

const KEY_VAR: &str = "A55_IT_STATE_KEY";
const PARTNER_VAR: &str = "A55_IT_PARTNER_SECRET";

fn settings(redis: &RedisServer) -> RedisSessions {
    RedisSessions {
        url: url::Url::parse(&redis.url()).unwrap(),
        password: Some(SecretString::from(redis.password.clone())),
        vault_key: None,
        key_prefix: "it:".into(),
        connect_timeout: Duration::from_millis(500),
        command_timeout: Duration::from_millis(500),
    }
}

/// A random state key, recorded as a canary: the leak scan looks for it everywhere.
fn state_key() -> (StateKey, String) {
    let bytes: [u8; 32] = rand::random();
    let text = base64::engine::general_purpose::STANDARD.encode(bytes);
    canary::init();
    canary::record_secret("token-state-key", &text);
    (StateKey::from_bytes(bytes), text)
}

/// Every key and raw value in Redis, as text.
async fn dump(redis: &RedisServer) -> Vec<(String, String)> {
    let mut client = redis.client().await;
    let keys: Vec<String> = client.keys("*").await.unwrap();
    let mut out = Vec::new();
    for key in keys {
        let kind: String = ::redis::cmd("TYPE").arg(&key).query_async(&mut client).await.unwrap();
        let value = if kind == "string" {
            let raw: Vec<u8> = client.get(&key).await.unwrap();
            String::from_utf8_lossy(&raw).into_owned()
        } else {
            String::new()
        };
        out.push((key, value));
    }
    out
}

#[tokio::test]
async fn a_stored_token_is_encrypted_bound_to_its_key_and_named_by_a_hash_and_the_lease_is_compare_and_delete() {
    let redis = RedisServer::start().await;
    let (key, key_text) = state_key();
    let tokens = RedisTokens::connect(&settings(&redis), &key).await.unwrap();
    let other = RedisTokens::connect(&settings(&redis), &key).await.unwrap();
    let text = format!("CANARY-TOKEN-{}", uuid::Uuid::new_v4().simple());
    let token = SharedToken {
        token: SecretString::from(text.clone()),
        secret_version: 7,
        obtained_at_wall_ms: 1_000,
        lifetime_secs: 3_600,
    };
    let hash = "a".repeat(64);
    // A waiter on another connection wakes when the token is stored, well before its timeout.
    let waiting = {
        let other = other.clone();
        let hash = hash.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            (other.wait(&hash, Duration::from_secs(5)).await.unwrap(), started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    tokens.store(&hash, &token, Duration::from_secs(60)).await.unwrap();
    let (woken, after) = waiting.await.unwrap();
    assert_eq!(woken.expect("the waiter read the token").secret_version, 7);
    assert!(after < Duration::from_secs(2), "woken by the signal, not the timeout: {after:?}");

    let loaded = tokens.load(&hash).await.unwrap().unwrap();
    assert_eq!((loaded.obtained_at_wall_ms, loaded.lifetime_secs), (1_000, 3_600));
    for (name, value) in dump(&redis).await {
        assert!(!value.contains(&text) && !value.contains("CANARY-TOKEN"), "{name} holds the token in plaintext");
        assert!(!value.contains(&key_text) && !name.contains(&key_text));
    }
    let mut client = redis.client().await;
    let ttl: i64 = client.pttl(format!("it:token:{hash}")).await.unwrap();
    assert!((1..=60_000).contains(&ttl), "{ttl}");
    // The same bytes under another key do not decrypt: a value cannot be moved.
    let raw: Vec<u8> = client.get(format!("it:token:{hash}")).await.unwrap();
    let moved = "b".repeat(64);
    let _: () = client.set(format!("it:token:{moved}"), raw).await.unwrap();
    let error = tokens.load(&moved).await.unwrap_err();
    assert_eq!(error.operation, "token_load");
    // Another key decrypts nothing either.
    let (wrong, _) = state_key();
    let stranger = RedisTokens::connect(&settings(&redis), &wrong).await.unwrap();
    assert!(stranger.load(&hash).await.is_err());

    let lease = tokens.lock(&hash, Duration::from_secs(10)).await.unwrap().expect("the lease is free");
    assert!(other.lock(&hash, Duration::from_secs(10)).await.unwrap().is_none(), "one holder at a time");
    let mut stolen = lease.clone();
    stolen.owner = "someone-else".into();
    other.unlock(&stolen).await.unwrap();
    assert!(other.lock(&hash, Duration::from_secs(10)).await.unwrap().is_none(), "only the owner releases");
    tokens.unlock(&lease).await.unwrap();
    assert!(other.lock(&hash, Duration::from_secs(10)).await.unwrap().is_some(), "released");

    tokens.invalidate(&hash).await.unwrap();
    assert!(tokens.load(&hash).await.unwrap().is_none());
}

/// A token endpoint (the simulator's) that answers after `delay` milliseconds, or HTTP 500 while
/// `failing` is set; `arrived` counts token requests as they arrive (the simulator counts them once
/// the delay is over, and never sees the failed ones).
async fn slow_simulator(
    secret: &str,
    delay: Arc<AtomicU64>,
    failing: Arc<AtomicBool>,
) -> (Simulator, String, Arc<AtomicU64>) {
    let settings = SimulatorSettings {
        client_id: "partner-client".into(),
        client_secret: SecretString::from(secret.to_owned()),
        token_lifetime: Duration::from_secs(3_600),
        allowed_scopes: vec![console_server::simulator::DEFAULT_SCOPE.into()],
        issued_tokens_file: canary::tokens_file(),
    };
    canary::init();
    canary::record_secret("partner-client", secret);
    let simulator = Simulator::new(settings);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let base = format!("http://{addr}/");
    simulator.set_issuer(&url::Url::parse(&base).unwrap());
    let arrived = Arc::new(AtomicU64::new(0));
    let counter = arrived.clone();
    let router = simulator.router().layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let (delay, counter, failing) = (delay.clone(), counter.clone(), failing.clone());
            async move {
                if request.uri().path() == "/oauth2/token" {
                    counter.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(delay.load(Ordering::SeqCst))).await;
                    if failing.load(Ordering::SeqCst) {
                        return axum::response::IntoResponse::into_response((
                            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                            "{}",
                        ));
                    }
                }
                next.run(request).await
            }
        },
    ));
    tokio::spawn(async move { axum::serve(listener, router).await });
    (simulator, base, arrived)
}

/// Two local-mode replicas (no staff accounts, so nothing needs a session while Redis is gone)
/// sharing one Redis, one PostgreSQL database, one state key and one `partner` environment, started
/// together on the empty database. The PostgreSQL server lives as long as the returned handle.
async fn two_replicas(redis: &RedisServer, base: &str, secret: &str, key: &str) -> (Replica, Replica, PostgresServer) {
    let pg = PostgresServer::start().await;
    let database = pg.create_database().await;
    let config = postgres_config(redis, &pg, &database, "")
        .replace("command_timeout_ms = 500\n", &format!("command_timeout_ms = 500\nstate_key_env = \"{KEY_VAR}\"\n"))
        + &format!(
            "\n[environments.partner]\nkind = \"sandbox\"\napi_base = \"{base}api/v1/\"\ntoken_url = \
         \"{base}oauth2/token\"\nclient_id = \"partner-client\"\nclient_secret_env = \"{PARTNER_VAR}\"\n\
         token_timeout_secs = 2\n"
        );
    let env = [(KEY_VAR, Path::new(key)), (PARTNER_VAR, Path::new(secret))];
    let (a, b) = tokio::join!(
        Replica::start_with_env("token-a", &config, redis, &env),
        Replica::start_with_env("token-b", &config, redis, &env),
    );
    (a, b, pg)
}

async fn run(http: &reqwest::Client, base: &str) -> Result<String, String> {
    let response = http
        .post(format!("{base}/api/execute"))
        .json(&serde_json::json!({ "request": list_charges("partner", 1) }))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let text = response.text().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("{status}: {text}"));
    }
    let answer: app::wire::ExecuteResponse = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    answer.token_fingerprint.ok_or_else(|| "no token fingerprint".into())
}

async fn metric(http: &reqwest::Client, base: &str, line_start: &str) -> u64 {
    let text = http.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    text.lines().filter_map(|l| l.strip_prefix(line_start)).map(|v| v.trim().parse::<u64>().unwrap()).sum()
}

fn logs_are_clean(replicas: &[&Replica], secret: &str, key: &str) {
    for replica in replicas {
        let log = replica.log_text();
        assert!(!log.contains(secret) && !log.contains(key), "a replica logged a secret");
        assert!(!log.contains("panicked"), "{log}");
    }
}

#[tokio::test]
async fn a_thousand_cold_callers_on_two_replicas_make_one_token_request_and_every_replica_serves_its_token() {
    let redis = RedisServer::start().await;
    let secret = canary_secret();
    let (simulator, base, _) = slow_simulator(&secret, Arc::new(AtomicU64::new(200)), Arc::default()).await;
    let (_, key) = state_key();
    let (a, b, _pg) = two_replicas(&redis, &base, &secret, &key).await;
    let http = csrf_client();
    let calls = (0..1_000).map(|i| run(&http, if i % 2 == 0 { &a.base } else { &b.base }));
    let answers = futures::future::join_all(calls).await;
    let fingerprints: std::collections::BTreeSet<String> = answers.into_iter().map(Result::unwrap).collect();
    assert_eq!(simulator.token_requests(), 1, "one token request for both replicas");
    assert_eq!(fingerprints.len(), 1, "{fingerprints:?}");
    let won = "a55_console_token_shared_locks_total{environment=\"partner\",outcome=\"won\"} ";
    assert_eq!(metric(&http, &a.base, won).await + metric(&http, &b.base, won).await, 1);
    // The token is nowhere in Redis in plaintext, and no key names the client.
    for (name, value) in dump(&redis).await {
        assert!(!name.contains("partner-client") && !value.contains("partner-client"), "{name}");
        assert!(!value.contains("eyJ"), "{name} holds a JWT in plaintext");
    }
    // A refresh on A makes B use the new token.
    let refreshed =
        http.post(format!("{}/api/token/refresh", a.base)).form(&[("environment", "partner")]).send().await.unwrap();
    assert!(refreshed.status().is_success(), "{}", refreshed.text().await.unwrap());
    let on_a = run(&http, &a.base).await.unwrap();
    assert_ne!(Some(&on_a), fingerprints.iter().next());
    let mut on_b = String::new();
    for _ in 0..100 {
        on_b = run(&http, &b.base).await.unwrap();
        if on_b == on_a {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(on_b, on_a, "B dropped its copy and took A's new token");
    assert_eq!(simulator.token_requests(), 2);
    logs_are_clean(&[&a, &b], &secret, &key);
}

#[tokio::test]
async fn when_the_lease_holder_is_killed_mid_request_the_other_replica_takes_over_after_the_lease() {
    let redis = RedisServer::start().await;
    let secret = canary_secret();
    let delay = Arc::new(AtomicU64::new(1_500));
    let (_simulator, base, arrived) = slow_simulator(&secret, delay.clone(), Arc::default()).await;
    let (_, key) = state_key();
    let (a, b, _pg) = two_replicas(&redis, &base, &secret, &key).await;
    let http = csrf_client();
    let holder = tokio::spawn({
        let (http, base) = (http.clone(), a.base.clone());
        async move { run(&http, &base).await }
    });
    for _ in 0..200 {
        if arrived.load(Ordering::SeqCst) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(arrived.load(Ordering::SeqCst), 1, "A is asking");
    let started = Instant::now();
    let waiters: Vec<_> = (0..50)
        .map(|_| {
            let (http, base) = (http.clone(), b.base.clone());
            tokio::spawn(async move { run(&http, &base).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(a); // SIGKILL, mid-request
    assert!(holder.await.unwrap().is_err(), "A's caller lost its replica");
    delay.store(100, Ordering::SeqCst);
    for waiter in waiters {
        waiter.await.unwrap().expect("every caller on B is served");
    }
    let takeover = started.elapsed();
    println!("takeover after SIGKILL: {} ms", takeover.as_millis());
    // The lease is 1.5 x 2 s + 0.5 s: B waits it out, then asks once.
    assert!(takeover >= Duration::from_millis(2_500), "{takeover:?}");
    assert!(takeover < Duration::from_secs(10), "{takeover:?}");
    assert_eq!(arrived.load(Ordering::SeqCst), 2, "A's request, then B's, once");
    logs_are_clean(&[&b], &secret, &key);
}

#[tokio::test]
async fn with_redis_stopped_each_replica_requests_once_and_counts_the_fallback() {
    let mut redis = RedisServer::start().await;
    let secret = canary_secret();
    let (simulator, base, _) = slow_simulator(&secret, Arc::new(AtomicU64::new(100)), Arc::default()).await;
    let (_, key) = state_key();
    let (mut a, mut b, _pg) = two_replicas(&redis, &base, &secret, &key).await;
    redis.kill();
    let http = csrf_client();
    let calls = (0..200).map(|i| run(&http, if i % 2 == 0 { &a.base } else { &b.base }));
    for answer in futures::future::join_all(calls).await {
        answer.unwrap();
    }
    assert_eq!(simulator.token_requests(), 2, "one request per replica");
    let fallback = "a55_console_token_shared_fallback_total{environment=\"partner\"} ";
    assert_eq!(metric(&http, &a.base, fallback).await, 1);
    assert_eq!(metric(&http, &b.base, fallback).await, 1);
    assert!(a.is_running() && b.is_running());
    let details: app::wire::TokenDetails = http
        .post(format!("{}/api/token/details", a.base))
        .form(&[("environment", "partner")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(details.cache, app::wire::TokenCache::FallingBack, "the token page says the cache is per replica now");
    logs_are_clean(&[&a, &b], &secret, &key);
}

async fn details(http: &reqwest::Client, base: &str) -> app::wire::TokenDetails {
    let response =
        http.post(format!("{base}/api/token/details")).form(&[("environment", "partner")]).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn failures_in_a_row_on_two_replicas_grow_one_backoff_that_both_keep_to() {
    let redis = RedisServer::start().await;
    let secret = canary_secret();
    let failing = Arc::new(AtomicBool::new(true));
    let (_simulator, base, arrived) = slow_simulator(&secret, Arc::default(), failing.clone()).await;
    let (_, key) = state_key();
    let (a, b, _pg) = two_replicas(&redis, &base, &secret, &key).await;
    let http = csrf_client();
    let failed = |answer: Result<String, String>| {
        let error = answer.unwrap_err();
        assert!(error.contains("answered HTTP 500"), "{error}");
    };
    let cooling = |answer: Result<String, String>, secs: u64| {
        let error = answer.unwrap_err();
        assert!(error.contains(&format!("tries again in {secs} s")), "expected a {secs} s backoff: {error}");
    };
    // Real jitter takes up to 20 % off each step (1 s, 2 s, 4 s): a step is over after its length.
    failed(run(&http, &a.base).await);
    cooling(run(&http, &b.base).await, 1);
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    failed(run(&http, &b.base).await);
    cooling(run(&http, &a.base).await, 2);
    cooling(run(&http, &b.base).await, 2);
    for base in [&a.base, &b.base] {
        let retry_in = details(&http, base).await.retry_in_secs.expect("backing off");
        assert!(retry_in > 1.0 && retry_in <= 2.0, "both replicas wait the second step: {retry_in}");
    }
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    failed(run(&http, &a.base).await);
    cooling(run(&http, &b.base).await, 4);
    assert_eq!(arrived.load(Ordering::SeqCst), 3, "one request per step, whichever replica sent it");

    let mut client = redis.client().await;
    let keys: Vec<String> = client.keys("it-*token-failures:*").await.unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");
    let count: u32 = client.get(&keys[0]).await.unwrap();
    assert_eq!(count, 3);
    let ttl: i64 = client.pttl(&keys[0]).await.unwrap();
    assert!((1..=600_000).contains(&ttl), "the count is forgotten 10 minutes after the last failure: {ttl}");
    logs_are_clean(&[&a, &b], &secret, &key);
}

/// A replica's token history as (replica, reason, outcome kind), once it holds `count` events.
async fn history(http: &reqwest::Client, base: &str, count: usize) -> Vec<(String, String, String)> {
    let mut seen = Vec::new();
    for _ in 0..100 {
        seen = details(http, base)
            .await
            .events
            .into_iter()
            .map(|e| {
                let outcome = serde_json::to_value(&e.outcome).unwrap()["kind"].as_str().unwrap().to_owned();
                let reason = serde_json::to_value(e.reason).unwrap().as_str().unwrap().to_owned();
                (e.replica.unwrap_or_default(), reason, outcome)
            })
            .collect();
        if seen.len() >= count {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{base} never showed {count} token events: {seen:?}");
}

#[tokio::test]
async fn token_events_of_both_replicas_appear_on_both_and_a_token_taken_from_redis_is_one_of_them() {
    let redis = RedisServer::start().await;
    let secret = canary_secret();
    let (simulator, base, _) = slow_simulator(&secret, Arc::default(), Arc::default()).await;
    let (_, key) = state_key();
    let (a, b, _pg) = two_replicas(&redis, &base, &secret, &key).await;
    let http = csrf_client();
    let first = run(&http, &a.base).await.unwrap();
    assert_eq!(run(&http, &b.base).await.unwrap(), first, "B took A's token from Redis");
    let refreshed =
        http.post(format!("{}/api/token/refresh", b.base)).form(&[("environment", "partner")]).send().await.unwrap();
    assert!(refreshed.status().is_success());
    assert_eq!(simulator.token_requests(), 2);

    let on_a = history(&http, &a.base, 3).await;
    let on_b = history(&http, &b.base, 3).await;
    assert_eq!(on_a, on_b, "both replicas show the same history");
    let (id_a, id_b) = (on_a[2].0.clone(), on_a[0].0.clone());
    assert_ne!(id_a, id_b);
    let expected = vec![
        (id_b.clone(), "manual".to_owned(), "obtained".to_owned()),
        (id_b.clone(), "cold".to_owned(), "adopted".to_owned()),
        (id_a.clone(), "cold".to_owned(), "obtained".to_owned()),
    ];
    assert_eq!(on_a, expected);
    for (replica, id) in [(&a, &id_a), (&b, &id_b)] {
        assert_eq!(id.len(), 6, "a short id: {id}");
        assert!(replica.log_text().contains(&format!("this one is {id}")), "each replica logs its id");
    }

    let mut client = redis.client().await;
    let keys: Vec<String> = client.keys("it-*token-events:*").await.unwrap();
    assert_eq!(keys.len(), 1, "one list per token key: {keys:?}");
    let values: Vec<String> = client.lrange(&keys[0], 0, -1).await.unwrap();
    assert_eq!(values.len(), 3);
    for value in &values {
        assert!(!value.contains("partner-client") && !value.contains(&secret) && !value.contains("eyJ"), "{value}");
    }
    let ttl: i64 = client.pttl(&keys[0]).await.unwrap();
    assert!((1..=86_400_000).contains(&ttl), "the history expires a day after its last event: {ttl}");
    logs_are_clean(&[&a, &b], &secret, &key);
}
