#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests")]
//! Masking over real HTTP: secrets masked for everyone on every path a body takes, reveals for admins
//! only (audited), demo mode per session (personal data masked, production hidden), forced demo mode.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use app::wire::{
    ConsoleError, DemoView, EnvironmentView, ExecuteRequest, ExecuteResponse, HistoryDetail, HistoryEntry,
    RevealedSecret, Snippet,
};
use console_server::auth::password;
use console_server::clock::SystemClock;
use console_server::config::{RawConfig, RawEnvironment, RawUser};
use serde_json::{json, Value};

use crate::support::*;

pub(crate) const PASSWORD: &str = "correct horse battery staple";
const COOKIE: &str = "__Host-a55-session";
const MARK: &str = "[secret masked by the console]";

pub(crate) fn staff(name: &str, role: &str) -> RawUser {
    RawUser {
        name: name.into(),
        password_hash: password::hash(PASSWORD).unwrap(),
        role: role.into(),
        environments: BTreeMap::new(),
    }
}

/// A console with accounts: the built-in simulator plus a "production" on a standalone simulator.
async fn staffed(force_demo: bool) -> (TestConsole, console_server::simulator::RunningSimulator) {
    let production = standalone("prod-secret", Duration::from_secs(3600)).await;
    let mut raw = RawConfig::default();
    raw.environments.insert(
        "simulator".into(),
        RawEnvironment { kind: Some("simulator".into()), label: Some("Simulator".into()), ..RawEnvironment::default() },
    );
    raw.environments.insert("production".into(), remote_env(&production, "production", "PROD_SECRET"));
    raw.auth.users = vec![staff("alice", "admin"), staff("olga", "operator"), staff("victor", "viewer")];
    raw.masking.force_demo = force_demo;
    let mut vars = Vars::default();
    vars.0.insert("PROD_SECRET".into(), "prod-secret".into());
    (TestConsole::start(raw, vars, Arc::new(SystemClock)).await, production)
}

pub(crate) async fn login(console: &TestConsole, name: &str) -> String {
    let response = console
        .http
        .post(format!("{}/api/login", console.base))
        .form(&[("name", name), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "login as {name}");
    let header = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(COOKIE))
        .unwrap()
        .to_owned();
    header.split(';').next().unwrap().trim_start_matches(&format!("{COOKIE}=")).to_owned()
}

/// One server-function call; `cookie` is `None` in local mode.
pub(crate) async fn call(
    console: &TestConsole,
    cookie: Option<&str>,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    let mut request = console.http.post(format!("{}{path}", console.base)).form(form);
    if let Some(cookie) = cookie {
        request = request.header("cookie", format!("{COOKIE}={cookie}"));
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

pub(crate) async fn call_json(console: &TestConsole, cookie: Option<&str>, path: &str, body: Value) -> (u16, String) {
    let mut request = console.http.post(format!("{}{path}", console.base)).json(&body);
    if let Some(cookie) = cookie {
        request = request.header("cookie", format!("{COOKIE}={cookie}"));
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn run(console: &TestConsole, cookie: Option<&str>, request: &ExecuteRequest) -> ExecuteResponse {
    let (status, text) = call_json(console, cookie, "/api/execute", json!({ "request": request })).await;
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

async fn body_of(console: &TestConsole, cookie: Option<&str>, response: &ExecuteResponse) -> String {
    let id = response.body_id.as_deref().unwrap();
    let mut request = console.http.get(format!("{}/api/bodies/{id}", console.base));
    if let Some(cookie) = cookie {
        request = request.header("cookie", format!("{COOKIE}={cookie}"));
    }
    let answer = request.send().await.unwrap();
    assert_eq!(answer.status(), 200);
    answer.text().await.unwrap()
}

async fn set_demo(console: &TestConsole, cookie: Option<&str>, enabled: bool) -> (u16, String) {
    call(console, cookie, "/api/demo/set", &[("enabled", if enabled { "true" } else { "false" })]).await
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

async fn audit(console: &TestConsole, event: &str) -> Vec<(String, String, String)> {
    console.console.audit.flush().await;
    sqlx::query_as("SELECT actor, outcome, coalesce(detail, '') FROM audit_log WHERE event = ? ORDER BY id")
        .bind(event)
        .fetch_all(console.console.db.sqlite().unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn wallet_credentials_are_masked_on_every_path_the_body_takes_and_an_admin_reveal_is_audited() {
    let console = TestConsole::simulator_only().await;
    let response = run(&console, None, &create_wallet()).await;
    assert_eq!(response.status, 201);
    let body: Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(body["credentials"]["client_secret"], MARK);
    assert_eq!(body["credentials"]["client_id"], MARK);
    assert_eq!(body["name"], "Ana Lima", "personal data is only masked in demo mode");
    let locations: Vec<_> = response.masking.secrets.iter().map(|s| s.location.as_str()).collect();
    assert_eq!(locations, ["$.credentials.client_id", "$.credentials.client_secret"]);
    assert_eq!(response.masking.secret_count, 2);
    assert!(!body_of(&console, None, &response).await.contains("FAKE-simulator-secret"), "the stored body is masked");
    let (_, jsonpath) = call(
        &console,
        None,
        "/api/jsonpath",
        &[("body_id", response.body_id.as_deref().unwrap()), ("expression", "$.credentials")],
    )
    .await;
    assert!(jsonpath.contains("secret masked") && !jsonpath.contains("FAKE-"), "{jsonpath}");
    let (_, history) = call(&console, None, "/api/history", &[("limit", "5")]).await;
    let entries: Vec<HistoryEntry> = serde_json::from_str(&history).unwrap();
    let (_, detail) = call(&console, None, "/api/history/entry", &[("id", &entries[0].id.to_string())]).await;
    assert!(detail.contains("secret masked") && !detail.contains("FAKE-"), "history keeps the masked body");
    let stored: String = sqlx::query_scalar("SELECT group_concat(response_json, '') FROM history")
        .fetch_one(console.console.db.sqlite().unwrap())
        .await
        .unwrap();
    assert!(!stored.contains("FAKE-simulator-secret"), "the database never holds the secret");

    // The local admin may reveal one value; the audit says where, never what.
    let secret = &response.masking.secrets[1];
    let (status, text) =
        call(&console, None, "/api/reveal", &[("reveal_id", secret.reveal_id.as_deref().unwrap())]).await;
    assert_eq!(status, 200, "{text}");
    let revealed: RevealedSecret = serde_json::from_str(&text).unwrap();
    assert!(revealed.value.starts_with("FAKE-simulator-secret-"), "{}", revealed.value);
    assert_eq!(revealed.location, "$.credentials.client_secret");
    let rows = audit(&console, "reveal").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!((rows[0].0.as_str(), rows[0].1.as_str()), ("local", "ok"));
    assert!(rows[0].2.contains("$.credentials.client_secret") && !rows[0].2.contains("FAKE-"), "{rows:?}");
    let (status, _) = call(&console, None, "/api/reveal", &[("reveal_id", "0123456789abcdef0123456789abcdef")]).await;
    assert_eq!(status, 404, "an unknown or expired id");
    console.console.shutdown().await;
}

#[tokio::test]
async fn an_echoed_access_token_and_secret_headers_never_reach_the_browser() {
    let console = TestConsole::simulator_only().await;
    let echo = ExecuteRequest {
        environment: "simulator".into(),
        method: "GET".into(),
        path: "/sim/content/echo-token".into(),
        ..ExecuteRequest::default()
    };
    let response = run(&console, None, &echo).await;
    assert!(!response.body.contains("eyJ"), "{}", response.body);
    assert!(response.headers.iter().all(|(_, v)| !v.contains("eyJ")), "{:?}", response.headers);
    console.console.shutdown().await;
}

#[tokio::test]
async fn only_admins_may_reveal_and_a_refused_reveal_is_audited() {
    let (console, _production) = staffed(false).await;
    let olga = login(&console, "olga").await;
    let alice = login(&console, "alice").await;
    let by_olga = run(&console, Some(&olga), &create_wallet()).await;
    assert_eq!(by_olga.masking.secret_count, 2);
    assert!(by_olga.masking.secrets.iter().all(|s| s.reveal_id.is_none()), "no original is kept for an operator");
    let by_alice = run(&console, Some(&alice), &create_wallet()).await;
    let id = by_alice.masking.secrets[1].reveal_id.clone().expect("kept for an admin");

    let (status, text) = call(&console, Some(&olga), "/api/reveal", &[("reveal_id", &id)]).await;
    assert_eq!(status, 403, "{text}");
    let error: ConsoleError = serde_json::from_str(&text).unwrap();
    assert_eq!(error.to_string(), "only admins may reveal masked secrets; your role is operator");
    let victor = login(&console, "victor").await;
    assert_eq!(call(&console, Some(&victor), "/api/reveal", &[("reveal_id", &id)]).await.0, 403);
    let (status, text) = call(&console, Some(&alice), "/api/reveal", &[("reveal_id", &id)]).await;
    assert_eq!(status, 200, "{text}");
    let rows = audit(&console, "reveal").await;
    let summary: Vec<_> = rows.iter().map(|(actor, outcome, _)| (actor.as_str(), outcome.as_str())).collect();
    assert_eq!(summary, [("olga", "refused"), ("victor", "refused"), ("alice", "ok")]);
    console.console.shutdown().await;
}

/// Every string value at the personal-data fields of a charge list.
fn personal_values(body: &Value) -> Vec<String> {
    let mut values = Vec::new();
    for charge in body["data"].as_array().unwrap() {
        for pointer in [
            "/payer/name",
            "/payer/email",
            "/payer/tax_id",
            "/payer/cell_phone",
            "/payer_address/street",
            "/payer_address/postal_code",
            "/card/number",
            "/card/holder_name",
        ] {
            if let Some(text) = charge.pointer(pointer).and_then(Value::as_str) {
                values.push(text.to_owned());
            }
        }
    }
    values
}

#[tokio::test]
async fn demo_mode_is_per_session_masks_personal_data_everywhere_and_hides_production() {
    let (console, _production) = staffed(false).await;
    let presenter = login(&console, "alice").await;
    let other = login(&console, "alice").await;
    let before = run(&console, Some(&presenter), &list_charges("simulator", 30)).await;
    let plain: Value = serde_json::from_str(&before.body).unwrap();
    let fixtures = personal_values(&plain);
    assert!(fixtures.len() > 100, "the simulator has personal data of every kind: {}", fixtures.len());
    assert!(fixtures.iter().any(|v| v.contains("1111")), "card numbers among them");

    let (status, text) = set_demo(&console, Some(&presenter), true).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(serde_json::from_str::<DemoView>(&text).unwrap(), DemoView { enabled: true, forced: false });

    // Production disappears from the picker and is refused by id.
    let (_, environments) = call(&console, Some(&presenter), "/api/environments", &[]).await;
    let environments: Vec<EnvironmentView> = serde_json::from_str(&environments).unwrap();
    assert_eq!(environments.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["simulator"]);
    let (status, text) =
        call_json(&console, Some(&presenter), "/api/execute", json!({ "request": list_charges("production", 1) }))
            .await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("hidden in demo mode"), "{text}");
    assert_eq!(call(&console, Some(&presenter), "/api/token", &[("environment", "production")]).await.0, 403);

    // The same request now comes back masked on every path, with the shape intact.
    let after = run(&console, Some(&presenter), &list_charges("simulator", 30)).await;
    assert!(after.masking.demo);
    let masked: Value = serde_json::from_str(&after.body).unwrap();
    assert_eq!(masked["data"].as_array().unwrap().len(), plain["data"].as_array().unwrap().len());
    assert_eq!(masked["data"][0]["charge_uuid"], plain["data"][0]["charge_uuid"], "ids stay");
    assert_eq!(masked["data"][0]["payer_address"]["city"], plain["data"][0]["payer_address"]["city"]);
    let tax_id = masked["data"][0]["payer"]["tax_id"].as_str().unwrap();
    assert!(tax_id.starts_with("*********") && tax_id.len() == 11, "{tax_id}");
    let stored = body_of(&console, Some(&presenter), &after).await;
    let (_, history) = call(&console, Some(&presenter), "/api/history", &[("limit", "10")]).await;
    let entries: Vec<HistoryEntry> = serde_json::from_str(&history).unwrap();
    // The run recorded before demo mode was switched on is masked when opened now.
    let first_run = entries.iter().map(|e| e.id).min().unwrap();
    let (_, old_detail) =
        call(&console, Some(&presenter), "/api/history/entry", &[("id", &first_run.to_string())]).await;
    let old: HistoryDetail = serde_json::from_str(&old_detail).unwrap();
    assert!(old.response.unwrap().masking.demo);
    // A body stored before demo mode was switched on is masked when fetched now.
    let old_stored = body_of(&console, Some(&presenter), &before).await;
    for value in &fixtures {
        for (what, text) in [
            ("inline body", &after.body),
            ("stored body", &stored),
            ("history", &old_detail),
            ("old body", &old_stored),
        ] {
            assert!(!text.contains(value.as_str()), "{what} leaks {value:?}");
        }
    }
    let counts: BTreeMap<_, _> = after.masking.personal.iter().cloned().collect();
    for kind in ["email", "name", "address", "card", "phone"] {
        assert!(counts.get(kind).is_some_and(|n| *n > 0), "{kind} counted: {counts:?}");
    }
    assert!(counts.get("cpf").is_some_and(|n| *n > 0), "tax ids with valid check digits count as CPF: {counts:?}");

    // Snippets carry masked values; reveals are refused on a shared screen.
    let query_by_email = ExecuteRequest {
        environment: "simulator".into(),
        method: "GET".into(),
        path: "/bank/wallet/".into(),
        query: vec![("email".into(), "ana.lima@example.com.br".into())],
        ..ExecuteRequest::default()
    };
    let (_, snippets) =
        call_json(&console, Some(&presenter), "/api/snippets", json!({ "request": query_by_email })).await;
    let snippets: Vec<Snippet> = serde_json::from_str(&snippets).unwrap();
    assert!(!snippets.is_empty());
    assert!(snippets.iter().all(|s| !s.code.contains("ana.lima")), "{snippets:?}");
    let wallet = run(&console, Some(&presenter), &create_wallet()).await;
    assert!(wallet.masking.secrets.iter().all(|s| s.reveal_id.is_none()), "no reveal in demo mode");

    // Another session of the same person is not in demo mode.
    let (_, view) = call(&console, Some(&other), "/api/demo", &[]).await;
    assert_eq!(serde_json::from_str::<DemoView>(&view).unwrap(), DemoView { enabled: false, forced: false });
    let unmasked = run(&console, Some(&other), &list_charges("simulator", 30)).await;
    assert!(unmasked.body.contains(fixtures[0].as_str()));
    assert_eq!(call(&console, Some(&other), "/api/environments", &[]).await.1.matches("\"id\"").count(), 2);

    let (status, _) = set_demo(&console, Some(&presenter), false).await;
    assert_eq!(status, 200);
    let back = run(&console, Some(&presenter), &list_charges("simulator", 30)).await;
    assert!(!back.masking.demo && back.body.contains(fixtures[0].as_str()));
    let rows = audit(&console, "demo_mode").await;
    let details: Vec<_> = rows.iter().map(|(_, _, d)| d.as_str()).collect();
    assert_eq!(details, ["demo mode switched on", "demo mode switched off"]);
    console.console.shutdown().await;
}

#[tokio::test]
async fn a_forced_demo_instance_masks_for_everyone_and_cannot_be_switched_off() {
    let (console, _production) = staffed(true).await;
    let olga = login(&console, "olga").await;
    let (_, view) = call(&console, Some(&olga), "/api/demo", &[]).await;
    assert_eq!(serde_json::from_str::<DemoView>(&view).unwrap(), DemoView { enabled: true, forced: true });
    let (status, text) = set_demo(&console, Some(&olga), false).await;
    assert_eq!(status, 403);
    assert!(text.contains("masking.force_demo"), "{text}");
    let response = run(&console, Some(&olga), &list_charges("simulator", 5)).await;
    assert!(response.masking.demo);
    assert!(!response.body.contains("@example.com.br\""), "{}", &response.body[..400.min(response.body.len())]);
    console.console.shutdown().await;
}
