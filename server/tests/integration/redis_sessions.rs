#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "a failed step is a failed test")]
//! Sessions in Redis, against a real `redis-server`: the store's commands and their guarantees,
//! `/readyz`, a console that loses Redis, and two real console processes sharing one Redis and one
//! SQLite file (a session made on one replica works on the other; a logout on either ends it on both).

use std::sync::Arc;
use std::time::Duration;

use ::redis::AsyncCommands as _;
use app::wire::StaffView;
use console_server::auth::password;
use console_server::auth::redis_store::RedisSessionStore;
use console_server::clock::SystemClock;
use console_server::config::{RawConfig, RawSessions, RawUser, RedisSessions};
use console_server::metrics::Metrics;
use secrecy::SecretString;
use serde_json::json;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::SessionStore as _;

use crate::support::redis::tls_file;
use crate::support::redis::RedisServer;
use crate::support::replica::{config_for, shared_config, Replica};
use crate::support::*;

const PASSWORD: &str = "correct horse battery staple";
pub(crate) const COOKIE: &str = "__Host-a55-session";

fn settings(redis: &RedisServer, prefix: &str) -> RedisSessions {
    RedisSessions {
        url: url::Url::parse(&redis.url()).unwrap(),
        password: Some(SecretString::from(redis.password.clone())),
        vault_key: None,
        key_prefix: prefix.to_owned(),
        connect_timeout: Duration::from_millis(500),
        command_timeout: Duration::from_millis(500),
    }
}

async fn store(redis: &RedisServer) -> (RedisSessionStore, Arc<Metrics>) {
    let metrics = Arc::new(Metrics::default());
    (RedisSessionStore::connect(&settings(redis, "it:"), metrics.clone()).await.unwrap(), metrics)
}

fn record(lifetime: time::Duration) -> Record {
    let mut data = std::collections::HashMap::new();
    data.insert("login".to_owned(), json!("login-id-of-a-test"));
    Record { id: Id::default(), data, expiry_date: OffsetDateTime::now_utc() + lifetime }
}

#[tokio::test]
async fn the_redis_store_creates_loads_saves_and_deletes_a_session_whose_key_expires_with_it() {
    let redis = RedisServer::start().await;
    let (store, metrics) = store(&redis).await;
    let mut record = record(time::Duration::hours(12));
    store.create(&mut record).await.unwrap();

    let loaded = store.load(&record.id).await.unwrap().expect("the session is there");
    assert_eq!(loaded.data, record.data);
    assert_eq!(loaded.expiry_date.unix_timestamp(), record.expiry_date.unix_timestamp());
    let ttl = store.ttl_ms(&record.id).await.unwrap();
    assert!((12 * 3_600_000 - 10_000..=12 * 3_600_000).contains(&ttl), "the key expires with the record: {ttl} ms");
    let mut client = redis.client().await;
    let keys: Vec<String> = client.keys("it:session:*").await.unwrap();
    assert_eq!(keys, vec![format!("it:session:{}", record.id)]);

    let mut changed = loaded.clone();
    changed.data.insert("theme".into(), json!("dark"));
    store.save(&changed).await.unwrap();
    assert_eq!(store.load(&record.id).await.unwrap().unwrap().data["theme"], json!("dark"));

    store.delete(&record.id).await.unwrap();
    assert!(store.load(&record.id).await.unwrap().is_none());
    assert_eq!(
        metrics.value("a55_console_session_store_operations_total", &[("store", "redis"), ("operation", "create")]),
        1
    );
    assert_eq!(metrics.value("a55_console_redis_errors_total", &[("operation", "load")]), 0);
}

#[tokio::test]
async fn a_save_after_the_session_was_deleted_elsewhere_does_not_bring_it_back() {
    let redis = RedisServer::start().await;
    let (replica_a, _) = store(&redis).await;
    let (replica_b, _) = store(&redis).await;
    let mut record = record(time::Duration::hours(1));
    replica_a.create(&mut record).await.unwrap();
    // A request on A loaded the record; B logs out; A's request ends and saves what it loaded.
    let in_flight = replica_a.load(&record.id).await.unwrap().unwrap();
    replica_b.delete(&record.id).await.unwrap();
    replica_a.save(&in_flight).await.unwrap();
    assert!(replica_a.load(&record.id).await.unwrap().is_none(), "the logout stands");
    assert!(replica_b.load(&record.id).await.unwrap().is_none());
    assert_eq!(store(&redis).await.0.ttl_ms(&record.id).await.unwrap(), -2, "no key at all");
}

#[tokio::test]
async fn saves_racing_a_delete_on_another_connection_never_leave_the_session_behind() {
    let redis = RedisServer::start().await;
    let (replica_a, _) = store(&redis).await;
    let (replica_b, _) = store(&redis).await;
    for round in 0..50 {
        let mut record = record(time::Duration::hours(1));
        replica_a.create(&mut record).await.unwrap();
        let loaded = replica_a.load(&record.id).await.unwrap().unwrap();
        let saves = (0..8).map(|_| replica_a.save(&loaded));
        let (deleted, saved) = tokio::join!(replica_b.delete(&record.id), futures::future::join_all(saves));
        deleted.unwrap();
        assert!(saved.iter().all(Result::is_ok), "round {round}");
        assert!(replica_a.load(&record.id).await.unwrap().is_none(), "round {round}: the session came back");
    }
}

#[tokio::test]
async fn creating_a_session_never_overwrites_another_and_takes_a_new_id_instead() {
    let redis = RedisServer::start().await;
    let (store, _) = store(&redis).await;
    let mut first = record(time::Duration::hours(1));
    store.create(&mut first).await.unwrap();
    let mut second = record(time::Duration::hours(1));
    second.id = first.id;
    second.data.insert("login".into(), json!("someone-else"));
    store.create(&mut second).await.unwrap();
    assert_ne!(second.id, first.id, "a collision gets a fresh id");
    assert_eq!(store.load(&first.id).await.unwrap().unwrap().data["login"], json!("login-id-of-a-test"));
    assert_eq!(store.load(&second.id).await.unwrap().unwrap().data["login"], json!("someone-else"));
}

#[tokio::test]
async fn an_expired_session_is_gone_from_redis_without_any_purge() {
    let redis = RedisServer::start().await;
    let (store, _) = store(&redis).await;
    let mut record = record(time::Duration::milliseconds(1_200));
    store.create(&mut record).await.unwrap();
    assert!(store.load(&record.id).await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(store.load(&record.id).await.unwrap().is_none());
    assert_eq!(store.ttl_ms(&record.id).await.unwrap(), -2);
}

#[tokio::test]
async fn a_redis_that_refuses_the_password_or_does_not_listen_is_a_start_error_naming_the_host_only() {
    let redis = RedisServer::start().await;
    let mut wrong = settings(&redis, "it:");
    wrong.password = Some(SecretString::from("CANARY-WRONG-redis-password-0123456789".to_owned()));
    let error = RedisSessionStore::connect(&wrong, Arc::new(Metrics::default())).await.unwrap_err().to_string();
    assert!(error.contains(&format!("Redis at 127.0.0.1:{}", redis.port)), "{error}");
    assert!(!error.contains("CANARY-WRONG") && !error.contains(&redis.password), "{error}");

    let raw = RawConfig {
        sessions: RawSessions {
            redis_url: Some(format!("redis://127.0.0.1:{}/0", crate::support::redis::free_port())),
            connect_timeout_ms: 200,
            ..RawSessions::default()
        },
        ..RawConfig::default()
    };
    let config = console_server::config::validate(raw, &Vars::default()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let started = console_server::startup::start(config, listener, Arc::new(SystemClock)).await;
    let error = started.err().expect("no console without its session store").to_string();
    assert!(error.contains("could not connect to Redis at 127.0.0.1:"), "{error}");
}

fn alice() -> RawUser {
    RawUser {
        name: "alice".into(),
        password_hash: password::hash(PASSWORD).unwrap(),
        role: "admin".into(),
        ..RawUser::default()
    }
}

/// Logs in at `base` and returns the session cookie's value.
pub(crate) async fn login(http: &reqwest::Client, base: &str) -> String {
    let response =
        http.post(format!("{base}/api/login")).form(&[("name", "alice"), ("password", PASSWORD)]).send().await.unwrap();
    assert_eq!(response.status(), 200, "login at {base}");
    let cookie = set_cookie_named(&response, COOKIE).expect("login sets the session cookie");
    cookie.split(';').next().unwrap().trim_start_matches(&format!("{COOKIE}=")).to_owned()
}

pub(crate) async fn whoami(http: &reqwest::Client, base: &str, cookie: &str) -> reqwest::Response {
    http.post(format!("{base}/api/whoami")).header("cookie", format!("{COOKIE}={cookie}")).send().await.unwrap()
}

pub(crate) async fn logout(http: &reqwest::Client, base: &str, cookie: &str) -> u16 {
    let response = http
        .post(format!("{base}/api/logout"))
        .header("cookie", format!("{COOKIE}={cookie}"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    response.status().as_u16()
}

async fn readyz(http: &reqwest::Client, base: &str) -> (u16, serde_json::Value) {
    let response = http.get(format!("{base}/readyz")).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// A console in this process with sessions in `redis` and one staff account.
async fn console_on(redis: &RedisServer) -> TestConsole {
    let mut raw = RawConfig::default();
    raw.auth.users = vec![alice()];
    raw.sessions = RawSessions {
        redis_url: Some(redis.url()),
        redis_password_env: Some("IT_REDIS_PASSWORD".into()),
        command_timeout_ms: 300,
        connect_timeout_ms: 300,
        ..RawSessions::default()
    };
    let mut vars = Vars::default();
    vars.0.insert("IT_REDIS_PASSWORD".into(), redis.password.clone());
    TestConsole::start(raw, vars, Arc::new(SystemClock)).await
}

#[tokio::test]
async fn readyz_answers_200_while_the_database_and_redis_answer_and_503_naming_redis_when_it_is_gone() {
    let mut redis = RedisServer::start().await;
    let console = console_on(&redis).await;
    let cookie = login(&console.http, &console.base).await;
    let (status, body) = readyz(&console.http, &console.base).await;
    assert_eq!((status, &body), (200, &json!({ "status": "ready", "database": "ok", "redis": "ok" })));
    assert_eq!(console.http.get(format!("{}/healthz", console.base)).send().await.unwrap().status(), 200);

    redis.kill();
    let (status, body) = readyz(&console.http, &console.base).await;
    assert_eq!((status, &body), (503, &json!({ "status": "unavailable", "database": "ok", "redis": "unreachable" })));
    assert!(!body.to_string().contains(&redis.password));
    assert_eq!(
        console.http.get(format!("{}/healthz", console.base)).send().await.unwrap().status(),
        200,
        "the process is up"
    );
    // A request that needs its session is refused clearly, never let in and never a crash.
    let response = whoami(&console.http, &console.base, &cookie).await;
    assert_eq!(response.status(), 503);
    let error: app::wire::ConsoleError = response.json().await.unwrap();
    assert!(error.to_string().contains("session store is unavailable"), "{error}");
    let page = console
        .http
        .get(format!("{}/", console.base))
        .header("cookie", format!("{COOKIE}={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 503);

    // Redis comes back empty (nothing persisted): ready again, and the old session is gone.
    redis.restart().await;
    let mut ready = (0, json!(null));
    for _ in 0..50 {
        ready = readyz(&console.http, &console.base).await;
        if ready.0 == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(ready, (200, json!({ "status": "ready", "database": "ok", "redis": "ok" })));
    assert_eq!(whoami(&console.http, &console.base, &cookie).await.status(), 401);
    let fresh = login(&console.http, &console.base).await;
    assert_eq!(whoami(&console.http, &console.base, &fresh).await.status(), 200);
    console.console.shutdown().await;
}

#[tokio::test]
async fn readyz_without_redis_checks_the_database_only_and_names_it_when_it_fails() {
    let console = TestConsole::simulator_only().await;
    let (status, body) = readyz(&console.http, &console.base).await;
    assert_eq!((status, body), (200, json!({ "status": "ready", "database": "ok", "redis": "not configured" })));
    console.console.db.close().await;
    let (status, body) = readyz(&console.http, &console.base).await;
    assert_eq!(
        (status, body),
        (503, json!({ "status": "unavailable", "database": "unreachable", "redis": "not configured" }))
    );
    assert_eq!(console.http.get(format!("{}/healthz", console.base)).send().await.unwrap().status(), 200);
}

pub(crate) fn alice_toml() -> String {
    format!(
        "[[auth.users]]\nname = \"alice\"\npassword_hash = {:?}\nrole = \"admin\"\n",
        password::hash(PASSWORD).unwrap()
    )
}

/// Two console processes sharing one Redis and one SQLite file, as two replicas behind a balancer.
async fn two_replicas(redis: &RedisServer) -> (Replica, Replica, std::path::PathBuf) {
    let database = canary::database_path();
    let config = shared_config(redis, &database, &alice_toml());
    // One after the other: the first creates and migrates the database file.
    let a = Replica::start("a", &config, redis).await;
    let b = Replica::start("b", &config, redis).await;
    (a, b, database)
}

#[tokio::test]
async fn a_session_made_on_one_replica_works_on_the_other_and_a_logout_there_is_refused_here_at_once() {
    let redis = RedisServer::start().await;
    let (a, b, _) = two_replicas(&redis).await;
    let http = csrf_client();
    let cookie = login(&http, &a.base).await;
    let on_b = whoami(&http, &b.base, &cookie).await;
    assert_eq!(on_b.status(), 200, "the session made on A works on B");
    assert_eq!(on_b.json::<StaffView>().await.unwrap().name, "alice");

    assert_eq!(logout(&http, &b.base, &cookie).await, 200);
    assert_eq!(whoami(&http, &a.base, &cookie).await.status(), 401, "A refuses the cookie at once");
    assert_eq!(whoami(&http, &b.base, &cookie).await.status(), 401);
    let keys: Vec<String> = redis.client().await.keys("*session:*").await.unwrap();
    assert!(keys.is_empty(), "the logout deleted the key: {keys:?}");
    for (name, log) in [("A", a.log_text()), ("B", b.log_text())] {
        assert!(log.contains("sessions are in Redis"), "replica {name}:\n{log}");
        assert!(!log.contains(&redis.password), "replica {name} logged the Redis password");
        assert!(!log.contains(&cookie), "replica {name} logged a session id");
    }
}

#[tokio::test]
async fn a_logout_racing_requests_on_the_other_replica_never_brings_the_session_back() {
    let redis = RedisServer::start().await;
    let (a, b, _) = two_replicas(&redis).await;
    let http = csrf_client();
    let mut client = redis.client().await;
    for round in 0..15 {
        let cookie = login(&http, &a.base).await;
        let requests = (0..6).map(|_| whoami(&http, &a.base, &cookie));
        let (_, answers) = tokio::join!(logout(&http, &b.base, &cookie), futures::future::join_all(requests));
        for answer in answers {
            assert!(matches!(answer.status().as_u16(), 200 | 401), "round {round}: {}", answer.status());
        }
        let keys: Vec<String> = client.keys("*session:*").await.unwrap();
        assert!(keys.is_empty(), "round {round}: the session came back: {keys:?}");
        assert_eq!(whoami(&http, &a.base, &cookie).await.status(), 401, "round {round}");
        assert_eq!(whoami(&http, &b.base, &cookie).await.status(), 401, "round {round}");
    }
}

#[tokio::test]
async fn a_replica_keeps_running_and_refuses_sessions_clearly_while_redis_is_down() {
    let mut redis = RedisServer::start().await;
    let (mut a, _b, _) = two_replicas(&redis).await;
    let http = csrf_client();
    let cookie = login(&http, &a.base).await;
    redis.kill();
    assert_eq!(whoami(&http, &a.base, &cookie).await.status(), 503);
    let (status, body) = readyz(&http, &a.base).await;
    assert_eq!((status, body["redis"].as_str()), (503, Some("unreachable")));
    let login = http
        .post(format!("{}/api/login", a.base))
        .form(&[("name", "alice"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 503, "no session can be made");
    assert!(set_cookie_named(&login, COOKIE).is_none(), "and no cookie is handed out");
    let error: app::wire::ConsoleError = login.json().await.unwrap();
    assert!(error.to_string().contains("the session store is unavailable"), "{error}");
    assert!(a.is_running(), "the replica did not crash:\n{}", a.log_text());
    assert!(!a.log_text().contains("panicked"), "{}", a.log_text());
}

/// The value of one series in a `/metrics` text, 0 when absent.
fn series(text: &str, line_start: &str) -> u64 {
    text.lines().find_map(|l| l.strip_prefix(line_start)).map_or(0, |v| v.trim().parse().unwrap())
}

#[tokio::test]
async fn a_signed_in_request_costs_one_session_read_and_one_demo_mode_read_and_metrics_count_the_commands_and_errors() {
    let mut redis = RedisServer::start().await;
    let console = console_on(&redis).await;
    let cookie = login(&console.http, &console.base).await;
    let scrape = || async {
        let response = console
            .http
            .get(format!("{}/metrics", console.base))
            .header("cookie", format!("{COOKIE}={cookie}"))
            .send()
            .await
            .unwrap();
        response.text().await.unwrap()
    };
    let ops = |operation: &str| {
        format!("a55_console_session_store_operations_total{{store=\"redis\",operation=\"{operation}\"}} ")
    };
    let before = scrape().await;
    for _ in 0..3 {
        assert_eq!(whoami(&console.http, &console.base, &cookie).await.status(), 200);
    }
    let after = scrape().await;
    // Each request reads its session once (the scrape itself included) and writes nothing.
    assert_eq!(series(&after, &ops("load")) - series(&before, &ops("load")), 4, "{after}");
    // And its demo mode once (a GET of its own key), whatever the masking path checks.
    let demo = "a55_console_shared_store_operations_total{store=\"demo\",operation=\"get\"} ";
    assert_eq!(series(&after, demo) - series(&before, demo), 4, "{after}");
    assert_eq!(series(&after, &ops("create")), 1, "one create, at login");
    assert_eq!(series(&after, &ops("save")), 0);
    assert!(after.contains("# TYPE a55_console_redis_errors_total counter"));

    redis.kill();
    assert_eq!(whoami(&console.http, &console.base, &cookie).await.status(), 503);
    redis.restart().await;
    // The session died with the unpersisted Redis: sign in again to read the counter.
    let mut cookie_again = None;
    for _ in 0..50 {
        let response = console
            .http
            .post(format!("{}/api/login", console.base))
            .form(&[("name", "alice"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        if let Some(set) = set_cookie_named(&response, COOKIE) {
            cookie_again = Some(set.split(';').next().unwrap().trim_start_matches(&format!("{COOKIE}=")).to_owned());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let cookie_again = cookie_again.expect("sign-in works again once Redis is back");
    let text = console
        .http
        .get(format!("{}/metrics", console.base))
        .header("cookie", format!("{COOKIE}={cookie_again}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(series(&text, "a55_console_redis_errors_total{operation=\"load\"} ") >= 1, "{text}");
    console.console.shutdown().await;
}

#[tokio::test]
async fn sessions_over_tls_work_with_a_trusted_certificate_and_an_untrusted_one_stops_start_up() {
    let redis = RedisServer::start_tls().await;
    let database = canary::database_path();
    let config = config_for(&redis.tls_url(), &database, &alice_toml());
    // The system's trust store, plus the test authority through the variable rustls reads.
    let replica = Replica::start_with_env("tls", &config, &redis, &[("SSL_CERT_FILE", &tls_file("ca.pem"))]).await;
    let http = csrf_client();
    let cookie = login(&http, &replica.base).await;
    assert_eq!(whoami(&http, &replica.base, &cookie).await.status(), 200);
    let keys: Vec<String> = redis.client().await.keys("*session:*").await.unwrap();
    assert_eq!(keys.len(), 1, "the session went to Redis over TLS");
    assert_eq!(readyz(&http, &replica.base).await.0, 200);

    // This process trusts only the system's authorities, which never signed the test certificate.
    let untrusted = RedisSessions { url: url::Url::parse(&redis.tls_url()).unwrap(), ..settings(&redis, "it:") };
    let error = RedisSessionStore::connect(&untrusted, Arc::new(Metrics::default())).await.unwrap_err().to_string();
    assert!(error.contains(&format!("Redis at 127.0.0.1:{}", redis.tls_port.unwrap())), "{error}");
    assert!(error.contains("UnknownIssuer"), "refused for its certificate: {error}");
    assert!(!error.contains(&redis.password), "{error}");
}
