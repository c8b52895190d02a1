#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed step is a failed test")]
//! The console on a real PostgreSQL (started by the harness): every store's statements on the
//! second engine, the audit trail committed before the answer and append-only in the database,
//! sessions shared by two consoles, and migrations run once by consoles starting together.

use std::sync::Arc;

use app::wire::{CompareRequest, DiffOptions, ExecuteRequest, SavedRequest};
use console_server::clock::SystemClock;
use console_server::config::{PostgresStorage, RawConfig, Storage};
use console_server::db::Database;
use serde_json::json;

use crate::auth::user;
use crate::support::postgres::PostgresServer;
use crate::support::*;

const PASSWORD_VAR: &str = "A55_IT_DB_PASSWORD";

/// A console on `pg` (its own database), with `raw` as the rest of its configuration.
async fn console_on(pg: &PostgresServer, database: &str, mut raw: RawConfig) -> TestConsole {
    raw.storage.database_url = Some(pg.url_for(database));
    raw.storage.database_password_env = Some(PASSWORD_VAR.into());
    let mut vars = Vars::default();
    vars.0.insert(PASSWORD_VAR.into(), pg.password().to_owned());
    TestConsole::start(raw, vars, Arc::new(SystemClock)).await
}

async fn count(pool: &sqlx::PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

fn wallets(environment: &str) -> ExecuteRequest {
    list_charges(environment, 3)
}

#[tokio::test]
async fn a_console_on_postgresql_keeps_history_preferences_saved_requests_and_compares_there() {
    let pg = PostgresServer::start().await;
    let database = pg.create_database().await;
    let console = console_on(&pg, &database, RawConfig::default()).await;
    let rows = pg.pool(&database).await;

    for _ in 0..3 {
        console.execute(&wallets("simulator")).await;
        // Committed before the answer: no flush, no wait, the row is already there.
    }
    assert_eq!(count(&rows, "SELECT COUNT(*) FROM audit_log WHERE event = 'request'").await, 3);

    let history = console.builder_history().await;
    assert_eq!(history.len(), 3, "{history:?}");
    assert!(history.windows(2).all(|w| w[0].id > w[1].id), "newest first: {history:?}");
    assert_eq!(history[0].status, Some(200));
    let detail: serde_json::Value = console
        .http
        .post(format!("{}/api/history/entry", console.base))
        .form(&[("id", history[0].id.to_string())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(detail["request"]["path"], wallets("simulator").path.as_str(), "{detail}");
    assert!(detail["response"]["body"].as_str().is_some_and(|b| b.contains("charge")), "{detail}");
    let deleted = console
        .http
        .post(format!("{}/api/history/delete", console.base))
        .form(&[("id", history[2].id.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    assert_eq!(count(&rows, "SELECT COUNT(*) FROM history").await, 2);

    let prefs: serde_json::Value =
        console.http.post(format!("{}/api/preferences", console.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(prefs["last_environment"], "simulator", "the remembered choice is written with the runs");
    let themed =
        console.http.post(format!("{}/api/preferences/theme", console.base)).form(&[("theme", "dark")]).send().await;
    assert_eq!(themed.unwrap().status(), 200);
    let prefs: serde_json::Value =
        console.http.post(format!("{}/api/preferences", console.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(prefs["theme"], "dark");

    let save = |name: &str, id: Option<i64>| {
        let body = json!({ "request": { "id": id, "name": name, "collection": "", "request": wallets("simulator") } });
        console.http.post(format!("{}/api/saved/save", console.base)).json(&body).send()
    };
    let first: SavedRequest = save("wallets", None).await.unwrap().json().await.unwrap();
    let _: SavedRequest = save("Alpha", None).await.unwrap().json().await.unwrap();
    let taken = save("wallets", None).await.unwrap();
    assert_eq!(taken.status(), 400);
    assert!(taken.text().await.unwrap().contains("already has a request named \\\"wallets\\\""));
    let renamed: SavedRequest = save("Beta", Some(first.id)).await.unwrap().json().await.unwrap();
    assert_eq!((renamed.id, renamed.name.as_str()), (first.id, "Beta"));
    let listed: Vec<SavedRequest> =
        console.http.post(format!("{}/api/saved", console.base)).send().await.unwrap().json().await.unwrap();
    let names: Vec<&str> = listed.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Alpha", "Beta"], "ordered by name whatever the case");

    let compare = CompareRequest {
        left: wallets("simulator"),
        right: wallets("simulator-production"),
        options: DiffOptions::defaults(),
    };
    console.compare(&compare).await;
    let history = console.builder_history().await;
    let mark = history[0].compare.as_ref().expect("the compare is the newest entry");
    assert_eq!(mark.right_environment, "simulator-production");
    assert!(mark.counts.total() > 0, "the twin differs: {:?}", mark.counts);
    console.console.shutdown().await;
}

#[tokio::test]
async fn the_audit_trail_on_postgresql_refuses_update_delete_and_truncate_whoever_connects() {
    let pg = PostgresServer::start().await;
    let database = pg.create_database().await;
    let console = console_on(&pg, &database, RawConfig::default()).await;
    console.execute(&wallets("simulator")).await;
    console.console.shutdown().await;
    let superuser = pg.superuser_pool(&database).await;
    for statement in ["UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log", "TRUNCATE audit_log"] {
        let error = sqlx::query(statement).execute(&superuser).await.expect_err(statement).to_string();
        assert!(error.contains("the audit log is append-only"), "{statement}: {error}");
    }
    assert_eq!(count(&superuser, "SELECT COUNT(*) FROM audit_log WHERE event = 'request'").await, 1);
}

#[tokio::test]
async fn without_redis_sessions_live_in_postgresql_so_a_logout_on_one_console_is_refused_on_the_other_at_once() {
    let pg = PostgresServer::start().await;
    let database = pg.create_database().await;
    let staffed = || {
        let mut raw = RawConfig::default();
        raw.auth.users = vec![user("alice", "admin", &[])];
        raw
    };
    let a = console_on(&pg, &database, staffed()).await;
    let b = console_on(&pg, &database, staffed()).await;
    let cookie = a.login("alice").await;
    assert_eq!(b.whoami(&cookie).await.status(), 200, "a session made on A works on B");
    let (status, _) = b.run_as(&cookie, &wallets("simulator")).await;
    assert_eq!(status, 200);
    assert_eq!(a.whoami(&cookie).await.status(), 200);
    assert_eq!(b.call("/api/logout", &cookie, json!({})).await.status(), 200);
    assert_eq!(a.whoami(&cookie).await.status(), 401, "the logout on B is seen on A at once");
    let rows = pg.pool(&database).await;
    assert_eq!(count(&rows, "SELECT COUNT(*) FROM tower_sessions").await, 0);
    assert_eq!(count(&rows, "SELECT COUNT(*) FROM staff_logins WHERE end_reason = 'logout'").await, 1);
    a.console.shutdown().await;
    b.console.shutdown().await;
}

#[tokio::test]
async fn consoles_starting_together_on_an_empty_database_migrate_it_exactly_once() {
    let pg = PostgresServer::start().await;
    let database = pg.create_database().await;
    let storage = Storage::Postgres(PostgresStorage {
        url: pg.url_for(&database).parse().unwrap(),
        password: Some(pg.password().to_owned().into()),
        max_connections: 2,
        connect_timeout: std::time::Duration::from_secs(10),
    });
    let opened = futures::future::join_all((0..6).map(|_| Database::open(&storage))).await;
    for result in &opened {
        assert!(result.is_ok(), "{result:?}");
    }
    let rows = pg.pool(&database).await;
    let applied: Vec<(i64, i64)> =
        sqlx::query_as("SELECT version, COUNT(*) FROM _sqlx_migrations GROUP BY version ORDER BY version")
            .fetch_all(&rows)
            .await
            .unwrap();
    let scripts = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations-postgres")).unwrap().count();
    assert_eq!(applied.len(), scripts, "every script ran: {applied:?}");
    assert!(applied.iter().all(|(_, times)| *times == 1), "each once: {applied:?}");
    assert_eq!(count(&rows, "SELECT COUNT(*) FROM console_meta WHERE key = 'created_at'").await, 1);
}

#[tokio::test]
async fn while_postgresql_is_down_staff_requests_answer_503_and_readiness_fails_then_both_recover() {
    let mut pg = PostgresServer::start().await;
    let database = pg.create_database().await;
    let mut raw = RawConfig::default();
    raw.auth.users = vec![user("alice", "admin", &[])];
    // A request gives up on the database after this long (each one below waits for it).
    raw.storage.connect_timeout_ms = 700;
    let console = console_on(&pg, &database, raw).await;
    let cookie = console.login("alice").await;
    let ready = || async {
        let response = console.http.get(format!("{}/readyz", console.base)).send().await.unwrap();
        (response.status().as_u16(), response.json::<serde_json::Value>().await.unwrap())
    };
    assert_eq!(ready().await.0, 200);

    pg.stop();
    let (status, body) = ready().await;
    assert_eq!((status, body["database"].as_str()), (503, Some("unreachable")), "{body}");
    let whoami = console.whoami(&cookie).await;
    assert_eq!(whoami.status(), 503, "nobody is let in without their session being read");
    let (status, text) = console.run_as(&cookie, &wallets("simulator")).await;
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("unavailable"), "{text}");
    assert!(!text.contains(pg.password()), "the error never carries the password");

    pg.restart().await;
    let mut back = false;
    for _ in 0..100 {
        if console.whoami(&cookie).await.status() == 200 {
            back = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(back, "the session works again once PostgreSQL answers");
    assert_eq!(ready().await.0, 200);
    let (status, text) = console.run_as(&cookie, &wallets("simulator")).await;
    assert_eq!(status, 200, "{text}");
    console.console.shutdown().await;
}
