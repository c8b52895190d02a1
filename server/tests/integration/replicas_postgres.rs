#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed step is a failed test")]
//! Two real console processes sharing one Redis and one PostgreSQL, with no balancer (the test
//! alternates between them): a session follows the staff member, a replica killed under mutating
//! load loses no audit row of an answer it gave, and SIGTERM drains a replica without losing a run.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use serde_json::json;

use crate::redis_sessions::{alice_toml, login, logout, whoami, COOKIE};
use crate::support::fault::{response, token_response, Fault, FaultServer};
use crate::support::postgres::PostgresServer;
use crate::support::redis::RedisServer;
use crate::support::replica::{postgres_config, Replica};
use crate::support::*;

const FAULT_SECRET_VAR: &str = "A55_IT_FAULT_SECRET";

/// An upstream that answers every write: `POST /api/v1/things/<id>` gets 201 after `delay`.
async fn upstream(delay: Duration) -> FaultServer {
    let created = response("201 Created", &[("content-type", "application/json")], b"{\"created\":true}");
    FaultServer::start(vec![
        ("/oauth2/token", Fault::Raw(token_response(&fault_token()))),
        ("/api/v1/things/", Fault::Slow(delay, created)),
    ])
    .await
}

/// Alice, and `upstream` as the environment `partner` (a sandbox: writes need no typed confirmation).
fn accounts_and_partner(upstream: &FaultServer) -> String {
    format!(
        "{}\n[environments.partner]\nkind = \"sandbox\"\napi_base = {:?}\ntoken_url = {:?}\nclient_id = \
         \"fault-client\"\nclient_secret_env = \"{FAULT_SECRET_VAR}\"\nrequest_timeout_secs = 15\n",
        alice_toml(),
        upstream.api_base(),
        upstream.token_url(),
    )
}

async fn replicas(name: &str, config: &str, redis: &RedisServer) -> (Replica, Replica) {
    let env = [(FAULT_SECRET_VAR, Path::new(FAULT_SECRET))];
    // Together: the first to reach the empty database migrates it, the other waits for the lock.
    let (name_a, name_b) = (format!("{name}-a"), format!("{name}-b"));
    let (a, b) = tokio::join!(
        Replica::start_with_env(&name_a, config, redis, &env),
        Replica::start_with_env(&name_b, config, redis, &env),
    );
    (a, b)
}

/// One write of thing `id` through `base`: the HTTP status (0 when the replica did not answer).
async fn write(http: &reqwest::Client, base: &str, cookie: &str, id: &str) -> u16 {
    let request = json!({ "request": {
        "environment": "partner", "method": "POST", "path": format!("/things/{id}"),
        "path_params": [], "query": [], "headers": [["content-type", "application/json"]], "body": "{}",
    }});
    let sent = http
        .post(format!("{base}/api/execute"))
        .header("cookie", format!("{COOKIE}={cookie}"))
        .json(&request)
        .timeout(Duration::from_secs(20))
        .send()
        .await;
    match sent {
        Ok(response) => response.status().as_u16(),
        Err(_) => 0,
    }
}

/// `path -> rows` of the `request` audit rows for things.
async fn audit_rows(pg: &PostgresServer, database: &str) -> HashMap<String, i64> {
    let pool = pg.superuser_pool(database).await;
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT path, COUNT(*) FROM audit_log WHERE event = 'request' AND path LIKE '/api/v1/things/%' GROUP BY path",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    rows.into_iter().collect()
}

#[tokio::test]
async fn a_session_made_on_one_replica_works_on_the_other_and_a_logout_there_is_refused_here_at_once() {
    let (redis, pg) = (RedisServer::start().await, PostgresServer::start().await);
    let database = pg.create_database().await;
    let upstream = upstream(Duration::ZERO).await;
    let config = postgres_config(&redis, &pg, &database, &accounts_and_partner(&upstream));
    let (a, b) = replicas("session", &config, &redis).await;
    let http = csrf_client();
    let cookie = login(&http, &a.base).await;
    assert_eq!(whoami(&http, &b.base, &cookie).await.status(), 200, "made on A, works on B");
    assert_eq!(write(&http, &b.base, &cookie, "session-check").await, 200);
    // A logout on B racing requests on A: none of them may bring the session back.
    let racing = (0..20).map(|_| whoami(&http, &a.base, &cookie));
    let (out, _) = tokio::join!(logout(&http, &b.base, &cookie), futures::future::join_all(racing));
    assert_eq!(out, 200);
    assert_eq!(whoami(&http, &a.base, &cookie).await.status(), 401, "the logout on B is refused on A at once");
    assert_eq!(whoami(&http, &b.base, &cookie).await.status(), 401);
    let logins = pg.superuser_pool(&database).await;
    let ended: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM staff_logins WHERE end_reason = 'logout'")
        .fetch_one(&logins)
        .await
        .unwrap();
    assert_eq!(ended, 1, "the login row in PostgreSQL is ended once");
}

#[tokio::test]
async fn writes_across_two_replicas_with_one_killed_part_way_leave_exactly_one_audit_row_per_answer() {
    let (redis, pg) = (RedisServer::start().await, PostgresServer::start().await);
    let database = pg.create_database().await;
    // Slow enough that A is killed with writes in flight.
    let upstream = upstream(Duration::from_millis(30)).await;
    let config = postgres_config(&redis, &pg, &database, &accounts_and_partner(&upstream));
    let (mut a, b) = replicas("kill", &config, &redis).await;
    let http = csrf_client();
    let cookie = login(&http, &a.base).await;

    const WRITES: usize = 400;
    const KILL_AFTER: usize = 120;
    let (base_a, base_b) = (a.base.clone(), b.base.clone());
    let answered = Arc::new(AtomicUsize::new(0));
    let (kill_tx, kill_rx) = tokio::sync::oneshot::channel::<()>();
    let kill_tx = std::sync::Mutex::new(Some(kill_tx));
    let results = futures::stream::iter(0..WRITES)
        .map(|n| {
            let (http, cookie, answered) = (http.clone(), cookie.clone(), answered.clone());
            let (on_a, base) = if n % 2 == 0 { (true, base_a.clone()) } else { (false, base_b.clone()) };
            let kill_tx = &kill_tx;
            async move {
                let id = format!("{n:04}-{}", uuid::Uuid::new_v4().simple());
                let status = write(&http, &base, &cookie, &id).await;
                if answered.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER {
                    if let Some(tx) = kill_tx.lock().unwrap().take() {
                        let _ = tx.send(());
                    }
                }
                (on_a, format!("/api/v1/things/{id}"), status)
            }
        })
        .buffer_unordered(24)
        .collect::<Vec<_>>();
    let superuser = pg.superuser_pool(&database).await;
    let killer = async {
        let _ = kill_rx.await;
        // The audit table held for a moment, as a busy or failing-over database would: a replica
        // that answered before its rows were committed would now answer with rows only in memory.
        let mut held = superuser.begin().await.unwrap();
        sqlx::query("LOCK TABLE audit_log IN EXCLUSIVE MODE").execute(&mut *held).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        a.kill();
        held.rollback().await.unwrap();
    };
    let (results, ()) = tokio::join!(results, killer);

    let rows = audit_rows(&pg, &database).await;
    let ok: Vec<&(bool, String, u16)> = results.iter().filter(|(_, _, status)| *status == 200).collect();
    let lost_on_a = results.iter().filter(|(on_a, _, status)| *on_a && *status != 200).count();
    assert!(lost_on_a > 0, "A was killed with writes still to answer");
    assert!(ok.iter().filter(|(on_a, _, _)| *on_a).count() >= 30, "A answered writes before it died");
    assert_eq!(
        results.iter().filter(|(on_a, _, status)| !*on_a && *status == 200).count(),
        WRITES / 2,
        "B answered every write sent to it"
    );
    for (_, path, _) in &ok {
        assert_eq!(rows.get(path), Some(&1), "an answered write has exactly one audit row: {path}");
    }
    assert!(rows.values().all(|n| *n == 1), "no write was audited twice");
    let seen: std::collections::HashSet<String> =
        upstream.seen("/api/v1/things/").into_iter().map(|s| s.target).collect();
    assert!(rows.keys().all(|path| seen.contains(path)), "every audited write reached the API");
    println!(
        "{} writes: {} answered 2xx ({} by A before SIGKILL), {} lost with A, {} audit rows",
        WRITES,
        ok.len(),
        ok.iter().filter(|(on_a, _, _)| *on_a).count(),
        lost_on_a,
        rows.len()
    );
    drop(b);
}

#[tokio::test]
async fn sigterm_drains_a_replica_and_every_run_it_answered_keeps_its_audit_and_history_rows() {
    let (redis, pg) = (RedisServer::start().await, PostgresServer::start().await);
    let database = pg.create_database().await;
    let upstream = upstream(Duration::from_millis(400)).await;
    let config = postgres_config(&redis, &pg, &database, &accounts_and_partner(&upstream));
    let env = [(FAULT_SECRET_VAR, Path::new(FAULT_SECRET))];
    let mut a = Replica::start_with_env("term", &config, &redis, &env).await;
    let http = csrf_client();
    let cookie = login(&http, &a.base).await;

    // Forty writes in flight, each waiting 400 ms on the API, when SIGTERM arrives.
    let writes = futures::future::join_all((0..40).map(|n| {
        let (http, cookie, base) = (http.clone(), cookie.clone(), a.base.clone());
        async move {
            let id = format!("term-{n:02}-{}", uuid::Uuid::new_v4().simple());
            (format!("/things/{id}"), write(&http, &base, &cookie, &id).await)
        }
    }));
    let terminate = async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        a.terminate(Duration::from_secs(20)).await
    };
    let (results, exit) = tokio::join!(writes, terminate);
    assert!(exit.success(), "a replica stopped by SIGTERM exits cleanly: {exit}");
    let answered: Vec<&String> = results.iter().filter(|(_, status)| *status == 200).map(|(path, _)| path).collect();
    assert_eq!(answered.len(), results.len(), "requests in flight at SIGTERM are answered: {results:?}");

    let pool = pg.superuser_pool(&database).await;
    let history: Vec<(String,)> =
        sqlx::query_as("SELECT path FROM history WHERE path LIKE '/things/%'").fetch_all(&pool).await.unwrap();
    let history: std::collections::HashSet<String> = history.into_iter().map(|(p,)| p).collect();
    let audit = audit_rows(&pg, &database).await;
    for path in answered {
        assert!(history.contains(path), "history kept {path} (queued runs are written before the exit)");
        assert_eq!(audit.get(&format!("/api/v1{path}")), Some(&1), "one audit row for {path}");
    }
}
