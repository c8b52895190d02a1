#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "a failed set-up step is a failed test")]
//! Integration tests of the request builder: catalog sources and live specs, curl import, snippets,
//! history, saved requests and remembered choices, through the real server functions over HTTP.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use app::wire::{Catalog, CurlImport, HistoryDetail, HistoryEntry, Preferences, SavedRequest, Snippet};
use console_server::clock::SystemClock;
use console_server::config::{RawConfig, RawEnvironment, RawLiveSpec};
use serde_json::{json, Value};

use crate::support::*;

const SECRET: &str = "BUILDER-CANARY-SECRET-9f8e7d";

impl TestConsole {
    async fn builder_call(&self, endpoint: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http.post(format!("{}/api/{endpoint}", self.base)).form(form).send().await.unwrap()
    }

    async fn builder_json(&self, endpoint: &str, body: Value) -> reqwest::Response {
        self.http.post(format!("{}/api/{endpoint}", self.base)).json(&body).send().await.unwrap()
    }

    async fn builder_ok<T: serde::de::DeserializeOwned>(response: reqwest::Response) -> T {
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{status}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }

    async fn builder_catalog(&self) -> Catalog {
        Self::builder_ok(self.builder_call("catalog", &[]).await).await
    }

    pub(crate) async fn builder_history(&self) -> Vec<HistoryEntry> {
        Self::builder_ok(self.builder_call("history", &[("limit", "50")]).await).await
    }
}

/// Waits until the live spec of `environment` has been fetched (it loads in the background).
async fn live_source(console: &TestConsole, environment: &str) -> app::wire::CatalogSource {
    for _ in 0..100 {
        let catalog = console.builder_catalog().await;
        if let Some(source) = catalog.sources.iter().find(|s| s.environment.as_deref() == Some(environment)) {
            if source.detail != "not fetched yet" {
                return source.clone();
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the live spec of {environment} was never fetched");
}

async fn with_live_simulator() -> TestConsole {
    let mut raw = RawConfig::default();
    raw.environments.insert(
        "simulator".into(),
        RawEnvironment {
            kind: Some("simulator".into()),
            live_spec: Some(RawLiveSpec::Enabled(true)),
            ..RawEnvironment::default()
        },
    );
    TestConsole::start(raw, Vars::default(), Arc::new(SystemClock)).await
}

#[tokio::test]
async fn the_simulator_live_spec_is_fetched_merged_with_the_bundled_catalog_and_refreshable() {
    let console = with_live_simulator().await;
    let source = live_source(&console, "simulator").await;
    assert!(source.loaded, "{source:?}");
    assert!(source.detail.starts_with("3 operations from http://127.0.0.1:"), "{}", source.detail);
    assert!(source.detail.ends_with("/api/v1/swagger.json"), "{}", source.detail);

    let catalog = console.builder_catalog().await;
    let live_only =
        catalog.endpoints.iter().find(|e| e.id == "simLargeChargeList").expect("the simulator-only operation");
    assert_eq!(live_only.origin, "simulator (live spec)");
    assert_eq!(live_only.confidence, "live");
    assert!(live_only.needs_token);
    let charges = catalog.endpoints.iter().find(|e| e.id == "listCharges").unwrap();
    assert_eq!(charges.origin, "a55 (bundled)", "the bundled description wins");
    assert_eq!(charges.also_in, vec!["simulator (live spec)".to_owned()]);
    assert_eq!(catalog.endpoints.iter().filter(|e| e.path == "/bank/wallet/charges/" && e.method == "GET").count(), 1);

    // The operation only the live spec knows can be run.
    let mut large = list_charges("simulator", 1);
    large.path = "/sim/large".into();
    large.query = vec![("mb".into(), "0.1".into())];
    large.endpoint_id = Some("simLargeChargeList".into());
    assert_eq!(console.execute(&large).await.status, 200);

    let refreshed: Catalog =
        TestConsole::builder_ok(console.builder_call("catalog/refresh", &[("environment", "simulator")]).await).await;
    assert!(refreshed.sources.iter().any(|s| s.environment.as_deref() == Some("simulator") && s.loaded));
    let response = console.builder_call("catalog/refresh", &[("environment", "nowhere")]).await;
    assert_eq!(response.status(), 404);
    console.console.shutdown().await;
}

/// A server that answers every request with `status` and `body`.
async fn fixed_server(status: u16, body: &'static str) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app =
        axum::Router::new().fallback(move || async move { (axum::http::StatusCode::from_u16(status).unwrap(), body) });
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

fn remote(addr: SocketAddr, live_spec: RawLiveSpec) -> RawEnvironment {
    RawEnvironment {
        kind: Some("sandbox".into()),
        api_base: Some(format!("http://{addr}/api/v1")),
        token_url: Some(format!("http://{addr}/oauth2/token")),
        client_id: Some("partner-client".into()),
        client_secret_env: Some("BUILDER_SECRET".into()),
        live_spec: Some(live_spec),
        ..RawEnvironment::default()
    }
}

#[tokio::test]
async fn broken_specs_and_documents_are_reported_by_name_and_place_and_never_stop_the_console() {
    let malformed = fixed_server(200, "openapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths: [\n").await;
    let missing = fixed_server(404, "not here").await;
    let dir = std::env::temp_dir().join(format!("a55-builder-docs-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let broken_file = dir.join("partner.yaml");
    std::fs::write(&broken_file, "openapi: 3.1.0\npaths:\n  /x:\n    get: [oops\n").unwrap();
    let good_file = dir.join("extra.json");
    std::fs::write(
        &good_file,
        json!({
            "openapi": "3.1.0",
            "info": {"title": "extra", "version": "1"},
            "paths": {"/partner/echo": {"post": {
                "operationId": "partnerEcho",
                "requestBody": {"content": {"application/json": {"schema": {
                    "type": "object", "required": ["id"],
                    "properties": {"id": {"type": ["string", "null"]}, "n": {"type": "integer", "exclusiveMinimum": 0}}
                }}}}
            }}}
        })
        .to_string(),
    )
    .unwrap();

    let mut raw = RawConfig::default();
    raw.catalog.extra_documents = vec![broken_file.clone(), dir.join("absent.yaml"), good_file.clone()];
    raw.environments
        .insert("simulator".into(), RawEnvironment { kind: Some("simulator".into()), ..RawEnvironment::default() });
    raw.environments.insert("sandbox".into(), remote(malformed, RawLiveSpec::Enabled(true)));
    raw.environments.insert("partner".into(), remote(missing, RawLiveSpec::Path("docs/openapi.json".into())));
    let vars = Vars([("BUILDER_SECRET".to_owned(), SECRET.to_owned())].into_iter().collect());
    let console = TestConsole::start(raw, vars, Arc::new(SystemClock)).await;

    let sandbox = live_source(&console, "sandbox").await;
    assert!(!sandbox.loaded);
    assert!(
        sandbox.detail.starts_with("unavailable: sandbox (live spec): not a valid OpenAPI 3 document"),
        "{}",
        sandbox.detail
    );
    assert!(sandbox.detail.contains("line"), "the place of the error: {}", sandbox.detail);
    assert!(
        sandbox.detail.contains(&format!("fetched from http://{malformed}/api/v1/swagger.json")),
        "{}",
        sandbox.detail
    );
    let partner = live_source(&console, "partner").await;
    assert_eq!(partner.detail, format!("unavailable: http://{missing}/api/v1/docs/openapi.json answered HTTP 404"));

    let catalog = console.builder_catalog().await;
    let file =
        |path: &std::path::Path| catalog.sources.iter().find(|s| s.name == path.display().to_string()).unwrap().clone();
    let broken = file(&broken_file);
    assert!(
        !broken.loaded && broken.detail.contains("partner.yaml") && broken.detail.contains("line"),
        "{}",
        broken.detail
    );
    let absent = file(&dir.join("absent.yaml"));
    assert!(absent.detail.contains("cannot be read"), "{}", absent.detail);
    let good = file(&good_file);
    assert!(good.loaded, "an OpenAPI 3.1 document loads: {}", good.detail);
    let echo = catalog.endpoints.iter().find(|e| e.id == "partnerEcho").unwrap();
    assert_eq!(echo.body_schema.as_ref().unwrap()["properties"]["id"]["type"], json!(["string", "null"]));
    assert!(catalog.endpoints.iter().any(|e| e.id == "listCharges"), "the bundled catalog is still there");

    // The console serves pages and runs requests regardless.
    assert_eq!(console.execute(&list_charges("simulator", 1)).await.status, 200);
    console.console.shutdown().await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_pasted_curl_command_fills_a_request_for_the_matching_environment_that_then_runs() {
    let console = TestConsole::simulator_only().await;
    let base = console.builtin().api_base();
    let command = format!(
        "curl -sS '{base}bank/wallet/charges/?wallet_uuid={WALLET}&limit=2' \\\n  -H 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.partner.sig' \\\n  -H 'Accept: application/json'"
    );
    let import: CurlImport =
        TestConsole::builder_ok(console.builder_json("curl", json!({ "command": command })).await).await;
    assert_eq!(import.request.environment, "simulator");
    assert_eq!(import.request.endpoint_id.as_deref(), Some("listCharges"));
    assert_eq!(import.request.query, vec![("wallet_uuid".into(), WALLET.into()), ("limit".into(), "2".into())]);
    assert_eq!(import.request.headers, vec![("Accept".into(), "application/json".into())]);
    assert!(import.notices.iter().any(|n| n.contains("Authorization")), "{:?}", import.notices);
    let response = console.execute(&import.request).await;
    assert_eq!(response.status, 200);
    let body: Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(body["data"].as_array().unwrap().len(), 2);

    let refused =
        console.builder_json("curl", json!({ "command": "curl https://evil.example.com/api/v1/wallets" })).await;
    assert_eq!(refused.status(), 400);
    let text = refused.text().await.unwrap();
    assert!(text.contains("evil.example.com is not the host of a configured environment"), "{text}");
    console.console.shutdown().await;
}

#[tokio::test]
async fn snippets_read_credentials_from_env_vars_and_never_contain_the_token_or_the_secret() {
    let sandbox = standalone(SECRET, Duration::from_secs(3600)).await;
    let mut raw = RawConfig::default();
    raw.environments.insert("sandbox".into(), remote_env(&sandbox, "sandbox", "BUILDER_SECRET"));
    let vars = Vars([("BUILDER_SECRET".to_owned(), SECRET.to_owned())].into_iter().collect());
    let console = TestConsole::start(raw, vars, Arc::new(SystemClock)).await;
    // A token is cached now: the snippets must still not carry it.
    let run = console.execute(&list_charges("sandbox", 1)).await;
    assert_eq!(run.status, 200);
    let response = console.builder_json("snippets", json!({ "request": list_charges("sandbox", 1) })).await;
    let text = response.text().await.unwrap();
    let snippets: Vec<Snippet> = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(snippets.len(), 4);
    assert!(!text.contains(SECRET), "the secret leaked into a snippet");
    assert!(!text.contains("eyJ"), "a token leaked into a snippet");
    for snippet in &snippets {
        assert!(snippet.code.contains("A55_CLIENT_SECRET"), "{}", snippet.code);
        assert!(snippet.code.contains(&sandbox.token_url().to_string()), "{}", snippet.code);
        assert!(
            snippet.code.contains(&format!("bank/wallet/charges/?wallet_uuid={WALLET}&limit=1")),
            "{}",
            snippet.code
        );
    }
    let bad = console
        .builder_json(
            "snippets",
            json!({ "request": { "environment": "sandbox", "method": "GET", "path": "/../x",
        "path_params": [], "query": [], "headers": [], "body": null, "endpoint_id": null } }),
        )
        .await;
    assert_eq!(bad.status(), 400);
    console.console.shutdown().await;
    sandbox.shutdown().await;
}

#[tokio::test]
async fn runs_are_kept_in_history_without_credentials_and_can_be_opened_and_remembered() {
    let console = TestConsole::simulator_only().await;
    let mut first = list_charges("simulator", 2);
    first.headers.push(("X-Partner-Trace".into(), "t-1".into()));
    console.execute(&first).await;
    let mut broken = list_charges("simulator", 1);
    broken.path = "/../admin".into();
    broken.endpoint_id = None;
    let (status, _, _) = console.execute_error(&broken).await;
    assert_eq!(status, 400);
    // Authorization from the browser is refused, and the refusal is recorded without the value.
    let mut sneaky = list_charges("simulator", 1);
    sneaky.headers.push(("Authorization".into(), "Bearer eyJsneaky".into()));
    let (status, _, _) = console.execute_error(&sneaky).await;
    assert_eq!(status, 400);

    let entries = console.builder_history().await;
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[2].path, "/bank/wallet/charges/");
    assert_eq!(entries[2].status, Some(200));
    assert_eq!(entries[1].status, None);
    assert!(entries[1].error.as_deref().is_some_and(|e| e.contains("dot segment")), "{:?}", entries[1].error);

    let id = entries[2].id.to_string();
    let detail: HistoryDetail =
        TestConsole::builder_ok(console.builder_call("history/entry", &[("id", &id)]).await).await;
    assert_eq!(detail.request.query, first.query);
    assert_eq!(detail.request.headers, vec![("X-Partner-Trace".to_owned(), "t-1".to_owned())]);
    let response = detail.response.unwrap();
    assert_eq!(serde_json::from_str::<Value>(&response.body).unwrap()["data"].as_array().unwrap().len(), 2);
    // Run again: the stored request is sent as it was.
    assert_eq!(console.execute(&detail.request).await.status, 200);

    // Runs are written in the background; reading the list waits for those queued before it.
    assert_eq!(console.builder_history().await.len(), 4);
    let rows: Vec<(String, Option<String>)> = sqlx::query_as("SELECT request_json, response_json FROM history")
        .fetch_all(console.console.db.sqlite().unwrap())
        .await
        .unwrap();
    assert_eq!(rows.len(), 4);
    for (request, response) in rows {
        let text = format!("{request} {}", response.unwrap_or_default());
        assert!(!text.to_lowercase().contains("authorization"), "{text}");
        assert!(!text.contains("eyJ"), "{text}");
    }

    let prefs: Preferences = TestConsole::builder_ok(console.builder_call("preferences", &[]).await).await;
    assert_eq!(prefs.last_environment.as_deref(), Some("simulator"));
    assert_eq!(prefs.last_endpoint.as_deref(), Some("listCharges"));
    let missing = console.builder_call("history/entry", &[("id", "999999")]).await;
    assert_eq!(missing.status(), 400);
    console.console.shutdown().await;
}

#[tokio::test]
async fn saved_requests_are_stored_listed_edited_and_deleted_for_all_staff() {
    let console = TestConsole::simulator_only().await;
    let save = |id: Option<i64>, name: &str, collection: &str| json!({ "request": { "id": id, "name": name, "collection": collection, "request": list_charges("simulator", 3) } });
    let created: SavedRequest =
        TestConsole::builder_ok(console.builder_json("saved/save", save(None, "Three charges", "Partner X")).await)
            .await;
    assert_eq!(created.created_by, "local");
    let duplicate = console.builder_json("saved/save", save(None, "Three charges", "Partner X")).await;
    assert_eq!(duplicate.status(), 400);
    let edited: SavedRequest = TestConsole::builder_ok(
        console.builder_json("saved/save", save(Some(created.id), "Three charges v2", "Partner X")).await,
    )
    .await;
    assert_eq!(edited.id, created.id);
    let all: Vec<SavedRequest> = TestConsole::builder_ok(console.builder_call("saved", &[]).await).await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].name, "Three charges v2");
    assert_eq!(all[0].request, list_charges("simulator", 3));
    let unknown_env =
        json!({ "request": { "id": null, "name": "x", "collection": "", "request": list_charges("nowhere", 1) } });
    assert_eq!(console.builder_json("saved/save", unknown_env).await.status(), 404);
    let id = created.id.to_string();
    assert!(console.builder_call("saved/delete", &[("id", &id)]).await.status().is_success());
    let all: Vec<SavedRequest> = TestConsole::builder_ok(console.builder_call("saved", &[]).await).await;
    assert!(all.is_empty());
    console.console.shutdown().await;
}
