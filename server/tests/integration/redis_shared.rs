#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "a failed step is a failed test")]
//! Stored bodies and the reveal vault in Redis, against a real `redis-server`: owner isolation,
//! expiry, the shared bounds, sealed vault values, a Redis that is gone, and two real console
//! processes where a body stored or a secret masked on one is read or revealed on the other.

use std::sync::Arc;
use std::time::Duration;

use ::redis::AsyncCommands as _;
use app::wire::{ExecuteRequest, ExecuteResponse, RevealedSecret};
use bytes::Bytes;
use console_server::auth::redis_store::RedisSessionStore;
use console_server::bodies::{BodyStore, StoredBody};
use console_server::config::{RedisSessions, VaultKey};
use console_server::expiring::seal::Seal;
use console_server::expiring::Limits;
use console_server::masking::vault::RevealVault;
use console_server::metrics::Metrics;
use secrecy::SecretString;
use serde_json::json;

use crate::support::redis::RedisServer;
use crate::support::replica::{shared_config, Replica};
use crate::support::*;

const PASSWORD: &str = "correct horse battery staple";
const COOKIE: &str = "__Host-a55-session";

async fn connection(redis: &RedisServer, prefix: &str) -> ::redis::aio::ConnectionManager {
    let settings = RedisSessions {
        url: url::Url::parse(&redis.url()).unwrap(),
        password: Some(SecretString::from(redis.password.clone())),
        vault_key: None,
        key_prefix: prefix.to_owned(),
        connect_timeout: Duration::from_millis(500),
        command_timeout: Duration::from_millis(500),
    };
    RedisSessionStore::connect(&settings, Arc::new(Metrics::default())).await.unwrap().connection()
}

fn body(owner: &str, text: &str) -> StoredBody {
    StoredBody {
        bytes: Bytes::from(text.to_owned()),
        content_type: Some("application/json".into()),
        owner: owner.into(),
        demo_masked: false,
    }
}

fn limits(ttl_ms: u64, max_entries: usize, max_bytes: usize) -> Limits {
    Limits { ttl: Duration::from_millis(ttl_ms), max_entries, max_bytes }
}

/// Two replicas' body stores: each its own connection, one Redis, one prefix.
async fn two_body_stores(redis: &RedisServer, limits: Limits) -> (BodyStore, BodyStore, Arc<Metrics>) {
    let metrics = Arc::new(Metrics::default());
    let a = BodyStore::in_redis_with_limits(connection(redis, "it:").await, "it:", metrics.clone(), limits);
    let b = BodyStore::in_redis_with_limits(connection(redis, "it:").await, "it:", metrics.clone(), limits);
    (a, b, metrics)
}

#[tokio::test]
async fn a_body_kept_in_redis_is_read_on_another_replica_by_its_owner_only_until_its_ttl_ends() {
    let redis = RedisServer::start().await;
    let (a, b, metrics) = two_body_stores(&redis, limits(800, 10, 1_000)).await;
    let id = a.insert(body("ana", "{\"raw\":\"\\u0000 bytes\"}")).await.unwrap().unwrap();
    assert_eq!(id.len(), 32);
    let read = b.get(&id, "ana").await.unwrap().expect("another replica reads it");
    assert_eq!(read.bytes, "{\"raw\":\"\\u0000 bytes\"}");
    assert_eq!((read.content_type.as_deref(), read.owner.as_str()), (Some("application/json"), "ana"));
    assert!(b.get(&id, "bruno").await.unwrap().is_none(), "someone else holding the id gets nothing");
    assert!(b.get(&id[..31], "ana").await.unwrap().is_none());
    assert!(b.get("*", "ana").await.unwrap().is_none());

    let mut client = redis.client().await;
    let ttl: i64 = client.pttl(format!("it:body:{id}")).await.unwrap();
    assert!((1..=800).contains(&ttl), "the key expires with the body: {ttl} ms");
    assert_eq!(b.usage().await.unwrap(), (1, 22));
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert!(b.get(&id, "ana").await.unwrap().is_none());
    assert_eq!(a.usage().await.unwrap(), (0, 0), "expired bodies are not counted");
    // Ids that are not 32 hex digits never reach Redis.
    assert_eq!(
        metrics.value("a55_console_shared_store_operations_total", &[("store", "body"), ("operation", "get")]),
        3
    );
}

#[tokio::test]
async fn the_bounds_hold_across_replicas_and_the_oldest_bodies_go_first() {
    let redis = RedisServer::start().await;
    let (a, b, _) = two_body_stores(&redis, limits(60_000, 3, 10)).await;
    let first = a.insert(body("ana", "aaaa")).await.unwrap().unwrap();
    let second = b.insert(body("bruno", "bbbb")).await.unwrap().unwrap();
    let third = a.insert(body("ana", "cc")).await.unwrap().unwrap();
    assert_eq!(b.usage().await.unwrap(), (3, 10));
    // Count bound, counted across both replicas and both owners: a fourth evicts the first.
    let fourth = b.insert(body("ana", "d")).await.unwrap().unwrap();
    assert!(a.get(&first, "ana").await.unwrap().is_none());
    assert_eq!(a.usage().await.unwrap(), (3, 7));
    // Byte bound: 9 more bytes evict until they fit.
    let big = a.insert(body("ana", &"e".repeat(9))).await.unwrap().unwrap();
    assert!(b.get(&second, "bruno").await.unwrap().is_none());
    assert!(b.get(&third, "ana").await.unwrap().is_none());
    assert_eq!(b.get(&fourth, "ana").await.unwrap().unwrap().bytes, "d");
    assert!(b.get(&big, "ana").await.unwrap().is_some());
    assert_eq!(a.usage().await.unwrap(), (2, 10));
    // Larger than the whole store: not kept, nothing evicted.
    assert!(b.insert(body("ana", &"f".repeat(11))).await.unwrap().is_none());
    assert_eq!(a.usage().await.unwrap(), (2, 10));
    let mut client = redis.client().await;
    let keys: Vec<String> = client.keys("it:body:*").await.unwrap();
    assert_eq!(keys.len(), 2 + 3, "two bodies and the index, weights and bytes keys: {keys:?}");
}

#[tokio::test]
async fn a_vault_value_is_sealed_in_redis_and_opens_only_for_its_owner_under_the_same_key() {
    let redis = RedisServer::start().await;
    let secret = canary_secret();
    canary::record_secret("vault-value", &secret);
    let key = VaultKey::from_bytes(rand::random());
    let vault = |connection, key: &VaultKey| {
        RevealVault::in_redis(
            connection,
            "it:",
            Some(Seal::new(key)),
            Arc::new(Metrics::default()),
            RevealVault::limits(),
        )
    };
    let on_a = vault(connection(&redis, "it:").await, &key);
    let on_b = vault(connection(&redis, "it:").await, &key);
    let id = on_a.keep("ana", "$.credentials.client_secret", &secret).await.unwrap().unwrap();
    let kept = on_b.get(&id, "ana").await.unwrap().expect("revealed on another replica");
    assert_eq!((kept.location.as_str(), kept.value.as_str()), ("$.credentials.client_secret", secret.as_str()));
    assert!(on_b.get(&id, "bruno").await.unwrap().is_none());

    let mut client = redis.client().await;
    let raw: std::collections::HashMap<String, Vec<u8>> = client.hgetall(format!("it:vault:{id}")).await.unwrap();
    assert_eq!(raw["owner"], b"ana");
    let data = &raw["data"];
    assert!(!data.windows(secret.len()).any(|w| w == secret.as_bytes()), "the original is not in Redis");
    assert!(!data.windows(11).any(|w| w == b"credentials"), "nor is where it was");
    let other_key = vault(connection(&redis, "it:").await, &VaultKey::from_bytes(rand::random()));
    assert!(other_key.get(&id, "ana").await.unwrap().is_none(), "another key opens nothing");
    // Moved under the owner another name could claim: the seal is bound to its owner.
    let _: () = client.hset(format!("it:vault:{id}"), "owner", "bruno").await.unwrap();
    assert!(on_b.get(&id, "bruno").await.unwrap().is_none());
}

#[tokio::test]
async fn without_a_vault_key_nothing_is_kept_for_reveals_in_redis() {
    let redis = RedisServer::start().await;
    let vault = RevealVault::in_redis(
        connection(&redis, "it:").await,
        "it:",
        None,
        Arc::new(Metrics::default()),
        RevealVault::limits(),
    );
    assert!(!vault.keeps());
    assert!(vault.keep("ana", "$", "value").await.unwrap().is_none());
    let keys: Vec<String> = redis.client().await.keys("*").await.unwrap();
    assert!(keys.is_empty(), "{keys:?}");
}

#[tokio::test]
async fn a_store_whose_redis_is_gone_answers_unavailable_and_counts_the_errors() {
    let mut redis = RedisServer::start().await;
    let (a, _, metrics) = two_body_stores(&redis, limits(60_000, 10, 1_000)).await;
    let id = a.insert(body("ana", "x")).await.unwrap().unwrap();
    redis.kill();
    let error = a.get(&id, "ana").await.unwrap_err();
    assert_eq!(error.to_string(), "the shared store is unavailable; try again in a moment");
    assert!(a.insert(body("ana", "y")).await.is_err());
    assert!(a.usage().await.is_err());
    for operation in ["shared_get", "shared_put", "shared_usage"] {
        assert!(metrics.value("a55_console_redis_errors_total", &[("operation", operation)]) >= 1, "{operation}");
    }
    redis.restart().await;
    let mut back = None;
    for _ in 0..50 {
        if let Ok(found) = a.get(&id, "ana").await {
            back = Some(found);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(back.expect("answers again once Redis is back").is_none(), "an unpersisted Redis lost the body");
}

fn alice_toml() -> String {
    format!(
        "[[auth.users]]\nname = \"alice\"\npassword_hash = {:?}\nrole = \"admin\"\n",
        console_server::auth::password::hash(PASSWORD).unwrap()
    )
}

async fn login(http: &reqwest::Client, base: &str) -> String {
    let response =
        http.post(format!("{base}/api/login")).form(&[("name", "alice"), ("password", PASSWORD)]).send().await.unwrap();
    assert_eq!(response.status(), 200, "login at {base}");
    let cookie = set_cookie_named(&response, COOKIE).expect("login sets the session cookie");
    cookie.split(';').next().unwrap().trim_start_matches(&format!("{COOKIE}=")).to_owned()
}

async fn run(http: &reqwest::Client, base: &str, cookie: &str, request: &ExecuteRequest) -> ExecuteResponse {
    let response = http
        .post(format!("{base}/api/execute"))
        .header("cookie", format!("{COOKIE}={cookie}"))
        .json(&json!({ "request": request }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn create_wallet() -> ExecuteRequest {
    ExecuteRequest {
        environment: "simulator".into(),
        method: "POST".into(),
        path: "/bank/wallet/".into(),
        body: Some(
            json!({
                "entity_uuid": "6a1d0c3e-0f2b-4c5d-8e7f-a0b1c2d3e4f5", "customer_id": "cust_7001", "currency": "BRL",
                "name": "Ana Lima", "email": "ana.lima@example.com.br", "create_credentials": true
            })
            .to_string(),
        ),
        ..ExecuteRequest::default()
    }
}

#[tokio::test]
async fn a_body_stored_by_a_run_on_one_replica_is_fetched_from_the_other_and_a_secret_masked_there_is_revealed_here() {
    let redis = RedisServer::start().await;
    let database = canary::database_path();
    let config = shared_config(&redis, &database, &alice_toml());
    let a = Replica::start("a", &config, &redis).await;
    let b = Replica::start("b", &config, &redis).await;
    let http = csrf_client();
    let cookie = login(&http, &a.base).await;

    let scrape = |base: String| {
        let (http, cookie) = (http.clone(), cookie.clone());
        async move {
            let response = http
                .get(format!("{base}/metrics"))
                .header("cookie", format!("{COOKIE}={cookie}"))
                .send()
                .await
                .unwrap();
            response.text().await.unwrap()
        }
    };
    let count = |text: &str, line: &str| {
        text.lines().find_map(|l| l.strip_prefix(line)).map_or(0, |v| v.trim().parse::<u64>().unwrap())
    };
    let put = "a55_console_shared_store_operations_total{store=\"body\",operation=\"put\"} ";
    let load = "a55_console_session_store_operations_total{store=\"redis\",operation=\"load\"} ";
    let before = scrape(a.base.clone()).await;
    let answer = run(&http, &a.base, &cookie, &list_charges("simulator", 20)).await;
    let after = scrape(a.base.clone()).await;
    let demo = "a55_console_shared_store_operations_total{store=\"demo\",operation=\"get\"} ";
    // A run costs its session read, its demo mode read and one script for the body (the scrape
    // reads its session and demo mode too).
    assert_eq!(count(&after, put) - count(&before, put), 1, "{after}");
    assert_eq!(count(&after, load) - count(&before, load), 2, "{after}");
    assert_eq!(count(&after, demo) - count(&before, demo), 2, "{after}");
    let id = answer.body_id.clone().expect("the body was kept");
    let fetched = http
        .get(format!("{}/api/bodies/{id}", b.base))
        .header("cookie", format!("{COOKIE}={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.status(), 200, "replica B serves the body replica A stored");
    let fetched = fetched.bytes().await.unwrap();
    assert_eq!(fetched.len() as u64, answer.size_bytes);
    assert!(answer.body.is_empty() || answer.body.as_bytes() == fetched.as_ref());

    let created = run(&http, &a.base, &cookie, &create_wallet()).await;
    let secret = created
        .masking
        .secrets
        .iter()
        .find(|s| s.location == "$.credentials.client_secret")
        .expect("the wallet's client secret was masked");
    let revealed = http
        .post(format!("{}/api/reveal", b.base))
        .header("cookie", format!("{COOKIE}={cookie}"))
        .form(&[("reveal_id", secret.reveal_id.as_deref().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(revealed.status(), 200, "replica B reveals what replica A masked");
    let revealed: RevealedSecret = revealed.json().await.unwrap();
    assert!(revealed.value.starts_with("FAKE-simulator-secret-"), "{}", revealed.value);
    assert_eq!(revealed.location, secret.location);

    let mut client = redis.client().await;
    let keys: Vec<String> = client.keys("*vault:*").await.unwrap();
    for key in keys.iter().filter(|k| !k.ends_with(":index") && !k.ends_with(":weights") && !k.ends_with(":bytes")) {
        let raw: std::collections::HashMap<String, Vec<u8>> = client.hgetall(key).await.unwrap();
        assert!(!raw["data"].windows(revealed.value.len()).any(|w| w == revealed.value.as_bytes()), "{key} is sealed");
    }
    for (name, log) in [("A", a.log_text()), ("B", b.log_text())] {
        assert!(log.contains("stored bodies and the reveal vault are in Redis"), "replica {name}:\n{log}");
        assert!(!log.contains(&redis.vault_key), "replica {name} logged the vault key");
        assert!(!log.contains(&revealed.value), "replica {name} logged a revealed value");
    }
}

#[tokio::test]
async fn failed_logins_on_one_replica_count_toward_the_lockout_on_the_other_under_hashed_keys() {
    let redis = RedisServer::start().await;
    let database = canary::database_path();
    let users = format!("[auth]\nmax_failed_logins = 3\nlockout_secs = 600\n\n{}", alice_toml());
    let config = shared_config(&redis, &database, &users);
    let a = Replica::start("a", &config, &redis).await;
    let b = Replica::start("b", &config, &redis).await;
    let http = csrf_client();
    let attempt = |base: String, password: &'static str| {
        let http = http.clone();
        async move {
            let response = http
                .post(format!("{base}/api/login"))
                .form(&[("name", "alice"), ("password", password)])
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    for _ in 0..2 {
        assert_eq!(attempt(a.base.clone(), "wrong").await.0, 401);
    }
    assert_eq!(attempt(b.base.clone(), "wrong").await.0, 401, "the third failure, on the other replica");
    let (status, text) = attempt(b.base.clone(), PASSWORD).await;
    assert_eq!(status, 429, "locked on B after failures on A and B: {text}");
    assert!(text.contains("too many failed logins"), "{text}");
    assert_eq!(attempt(a.base.clone(), PASSWORD).await.0, 429, "and on A");

    let mut client = redis.client().await;
    let keys: Vec<String> = client.keys("*throttle:*").await.unwrap();
    assert_eq!(keys.len(), 2, "one counter for the name, one for the address: {keys:?}");
    assert!(keys.iter().all(|k| !k.contains("alice") && !k.contains("127.0.0.1")), "{keys:?}");
    let ttl: i64 = client.pttl(&keys[0]).await.unwrap();
    assert!((1..=600_000).contains(&ttl), "the lockout expires: {ttl} ms");
}

async fn switch_demo(http: &reqwest::Client, base: &str, cookie: &str, enabled: bool) -> app::wire::DemoView {
    let response = http
        .post(format!("{base}/api/demo/set"))
        .header("cookie", format!("{COOKIE}={cookie}"))
        .form(&[("enabled", if enabled { "true" } else { "false" })])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "switching demo mode at {base}");
    response.json().await.unwrap()
}

/// Whether a run at `base` came back masked for a demo: the flag, and personal data counted.
async fn masked_for_demo(http: &reqwest::Client, base: &str, cookie: &str) -> bool {
    let answer = run(http, base, cookie, &list_charges("simulator", 20)).await;
    assert_eq!(answer.masking.demo, !answer.masking.personal.is_empty(), "{:?}", answer.masking);
    answer.masking.demo
}

#[tokio::test]
async fn demo_mode_switched_on_at_one_replica_masks_the_other_and_switched_off_there_unmasks_here() {
    let redis = RedisServer::start().await;
    let database = canary::database_path();
    let config = shared_config(&redis, &database, &alice_toml());
    let a = Replica::start("a", &config, &redis).await;
    let b = Replica::start("b", &config, &redis).await;
    let http = csrf_client();
    let cookie = login(&http, &a.base).await;
    assert!(!masked_for_demo(&http, &b.base, &cookie).await, "not in demo mode yet");

    assert!(switch_demo(&http, &a.base, &cookie, true).await.enabled);
    assert!(masked_for_demo(&http, &b.base, &cookie).await, "B masks at once what A switched on");
    let view: app::wire::DemoView = http
        .post(format!("{}/api/demo", b.base))
        .header("cookie", format!("{COOKIE}={cookie}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(view.enabled, "B's banner says demo mode");

    let mut client = redis.client().await;
    let keys: Vec<String> = client.keys("*demo:*").await.unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(!keys[0].contains(&cookie), "the key names a hash, never the session: {keys:?}");
    let ttl: i64 = client.pttl(&keys[0]).await.unwrap();
    assert!((1..=12 * 3_600_000).contains(&ttl), "it expires with the longest session: {ttl} ms");

    assert!(!switch_demo(&http, &b.base, &cookie, false).await.enabled);
    assert!(!masked_for_demo(&http, &a.base, &cookie).await, "A unmasks at once what B switched off");
    let keys: Vec<String> = client.keys("*demo:*").await.unwrap();
    assert!(keys.is_empty(), "{keys:?}");
}

#[tokio::test]
async fn a_forced_demo_instance_on_redis_stays_in_demo_mode_without_reading_or_writing_a_switch() {
    let redis = RedisServer::start().await;
    let mut raw = console_server::config::RawConfig {
        sessions: console_server::config::RawSessions {
            redis_url: Some(redis.url()),
            redis_password_env: Some("IT_REDIS_PASSWORD".into()),
            ..console_server::config::RawSessions::default()
        },
        ..console_server::config::RawConfig::default()
    };
    raw.masking.force_demo = true;
    let mut vars = Vars::default();
    vars.0.insert("IT_REDIS_PASSWORD".into(), redis.password.clone());
    let console = TestConsole::start(raw, vars, Arc::new(console_server::clock::SystemClock)).await;
    assert!(console.execute(&list_charges("simulator", 5)).await.masking.demo);
    let off =
        console.http.post(format!("{}/api/demo/set", console.base)).form(&[("enabled", "false")]).send().await.unwrap();
    assert_eq!(off.status(), 403, "a forced instance refuses switching off");
    let metrics = console.http.get(format!("{}/metrics", console.base)).send().await.unwrap().text().await.unwrap();
    assert!(!metrics.contains("store=\"demo\""), "nothing read or written: {metrics}");
    let keys: Vec<String> = redis.client().await.keys("*demo:*").await.unwrap();
    assert!(keys.is_empty(), "{keys:?}");
    console.console.shutdown().await;
}

#[tokio::test]
async fn while_redis_is_down_a_run_still_answers_and_a_stored_body_is_a_503_saying_the_shared_store_is_unavailable() {
    let mut redis = RedisServer::start().await;
    let raw = console_server::config::RawConfig {
        sessions: console_server::config::RawSessions {
            redis_url: Some(redis.url()),
            redis_password_env: Some("IT_REDIS_PASSWORD".into()),
            command_timeout_ms: 300,
            connect_timeout_ms: 300,
            ..console_server::config::RawSessions::default()
        },
        ..console_server::config::RawConfig::default()
    };
    let mut vars = Vars::default();
    vars.0.insert("IT_REDIS_PASSWORD".into(), redis.password.clone());
    // Local mode (no staff accounts): no session to read, so the body store is what answers.
    let console = TestConsole::start(raw, vars, Arc::new(console_server::clock::SystemClock)).await;
    let stored = console.execute(&list_charges("simulator", 5)).await;
    let id = stored.body_id.clone().expect("kept in Redis");
    assert_eq!(console.http.get(format!("{}/api/bodies/{id}", console.base)).send().await.unwrap().status(), 200);

    redis.kill();
    let fetched = console.http.get(format!("{}/api/bodies/{id}", console.base)).send().await.unwrap();
    assert_eq!(fetched.status(), 503);
    assert_eq!(fetched.text().await.unwrap(), "the shared store is unavailable; try again in a moment");
    let answered = console.execute(&list_charges("simulator", 5)).await;
    assert_eq!(answered.status, 200, "the API answered, and the answer is not lost");
    assert!(answered.body_id.is_none());
    assert!(!answered.body.is_empty(), "a small body still travels inline");
    assert!(answered.masking.demo, "demo mode that cannot be read reads as on: masked, never shown");
    let metrics = console.http.get(format!("{}/metrics", console.base)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("a55_console_redis_errors_total{operation=\"demo_get\"}"), "{metrics}");
    console.console.shutdown().await;
}
