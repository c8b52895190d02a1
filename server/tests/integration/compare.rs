#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "a failed set-up step is a failed test")]
//! Compare through the real HTTP surface: the embedded simulator against its production twin,
//! per-side overrides, re-diffs, remembered options, history, exports and the guard rails.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use app::wire::{
    ChangeKind, CompareRequest, CompareResult, CompareSettings, DiffOptions, ExecuteRequest, HistoryDetail,
    HistoryEntry, RediffRequest,
};
use console_server::clock::SystemClock;
use console_server::config::RawConfig;
use serde_json::json;

use crate::support::{list_charges, remote_env, standalone, TestConsole, Vars};

const PRODUCTION: &str = "simulator-production";

impl TestConsole {
    async fn compare_raw(&self, request: &CompareRequest) -> (u16, String) {
        let response = self
            .http
            .post(format!("{}/api/compare", self.base))
            .json(&json!({ "request": request }))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    pub(crate) async fn compare(&self, request: &CompareRequest) -> CompareResult {
        let (status, text) = self.compare_raw(request).await;
        assert_eq!(status, 200, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    async fn rediff(&self, request: &RediffRequest) -> CompareResult {
        let response = self
            .http
            .post(format!("{}/api/compare/diff", self.base))
            .json(&json!({ "request": request }))
            .send()
            .await
            .unwrap();
        let (status, text) = (response.status(), response.text().await.unwrap());
        assert!(status.is_success(), "{status}: {text}");
        serde_json::from_str(&text).unwrap()
    }

    async fn form<T: serde::de::DeserializeOwned>(&self, endpoint: &str, form: &[(&str, &str)]) -> T {
        let response = self.http.post(format!("{}/api/{endpoint}", self.base)).form(form).send().await.unwrap();
        let (status, text) = (response.status(), response.text().await.unwrap());
        assert!(status.is_success(), "{endpoint}: {status}: {text}");
        serde_json::from_str(&text).unwrap()
    }
}

fn pair(left: ExecuteRequest, right_env: &str, options: DiffOptions) -> CompareRequest {
    let right = ExecuteRequest { environment: right_env.into(), ..left.clone() };
    CompareRequest { left, right, options }
}

fn paths(result: &CompareResult, kind: ChangeKind) -> Vec<String> {
    result.body.changes.iter().filter(|c| c.kind == kind).map(|c| c.path.clone()).collect()
}

#[tokio::test]
async fn the_embedded_simulator_and_its_production_twin_differ_in_types_fields_values_and_a_header() {
    let console = TestConsole::simulator_only().await;
    let result = console.compare(&pair(list_charges("simulator", 5), PRODUCTION, DiffOptions::defaults())).await;
    let (left, right) = (result.left.response.as_ref().unwrap(), result.right.response.as_ref().unwrap());
    assert_eq!((left.status, right.status), (200, 200));
    assert!(right.url.contains("/production/api/v1/bank/wallet/charges/"), "{}", right.url);
    assert_ne!(left.token_fingerprint, right.token_fingerprint, "each environment has its own token");
    let counts = result.body.counts;
    assert_eq!((counts.type_changed, counts.removed, counts.added), (5, 5, 5), "{counts:?}");
    assert_eq!(paths(&result, ChangeKind::TypeChanged)[0], "$['data'][0]['installment_count']");
    let first = &result.body.changes[0];
    assert_eq!((first.left_type.as_deref(), first.right_type.as_deref()), (Some("number"), Some("string")));
    assert!(paths(&result, ChangeKind::Removed).contains(&"$['data'][0]['description']".to_owned()));
    assert!(paths(&result, ChangeKind::Added).contains(&"$['data'][0]['acquirer_reference']".to_owned()));
    // Every change is marked in the side-by-side view.
    let marked = result.body.rows.iter().filter(|r| r.kind == app::wire::RowKind::TypeChanged).count();
    assert_eq!(marked, 5);
    let deployment = result.headers.iter().find(|h| h.name == "x-a55-deployment").unwrap();
    assert_eq!((deployment.kind, deployment.expected), (ChangeKind::Added, false));
    assert!(result.headers.iter().any(|h| h.name == "x-request-id" && h.expected));
    console.console.shutdown().await;
}

#[tokio::test]
async fn per_side_overrides_send_each_environment_its_own_ids() {
    let console = TestConsole::simulator_only().await;
    let charges = console.compare(&pair(list_charges("simulator", 2), PRODUCTION, DiffOptions::defaults())).await;
    let body: serde_json::Value = serde_json::from_str(&charges.left.response.unwrap().body).unwrap();
    let (a, b) = (body["data"][0]["charge_uuid"].as_str().unwrap(), body["data"][1]["charge_uuid"].as_str().unwrap());
    let get = |environment: &str, id: &str| ExecuteRequest {
        environment: environment.into(),
        method: "GET".into(),
        path: "/bank/wallet/charge/{charge_uuid}/".into(),
        path_params: vec![("charge_uuid".into(), id.into())],
        ..ExecuteRequest::default()
    };
    let request =
        CompareRequest { left: get("simulator", a), right: get(PRODUCTION, b), options: DiffOptions::default() };
    let result = console.compare(&request).await;
    assert!(result.left.response.as_ref().unwrap().url.ends_with(&format!("/charge/{a}/")));
    assert!(result.right.response.as_ref().unwrap().url.ends_with(&format!("/charge/{b}/")));
    assert!(paths(&result, ChangeKind::Changed).contains(&"$['charge_uuid']".to_owned()));
    console.console.shutdown().await;
}

#[tokio::test]
async fn options_re_diff_without_sending_and_are_remembered_per_endpoint() {
    let console = TestConsole::simulator_only().await;
    let settings: CompareSettings = console.form("compare/settings", &[("endpoint", "listCharges")]).await;
    assert!(!settings.remembered);
    assert_eq!(settings.options, DiffOptions::defaults());
    let first = console.compare(&pair(list_charges("simulator", 5), PRODUCTION, DiffOptions::defaults())).await;
    let tokens_before = console.builtin().simulator().token_requests();
    let shape = DiffOptions { shape_only: true, ..DiffOptions::defaults() };
    let request = RediffRequest {
        left: first.left.clone(),
        right: first.right.clone(),
        options: shape.clone(),
        endpoint: "listCharges".into(),
        method: "GET".into(),
        path: "/bank/wallet/charges/".into(),
    };
    let shaped = console.rediff(&request).await;
    assert_eq!(
        (
            shaped.body.counts.type_changed,
            shaped.body.counts.removed,
            shaped.body.counts.added,
            shaped.body.counts.changed
        ),
        (1, 1, 1, 0)
    );
    assert_eq!(paths(&shaped, ChangeKind::TypeChanged), ["$['data'][*]['installment_count']"]);
    let keyed = DiffOptions { array_key: Some("charge_uuid".into()), ignore: Vec::new(), shape_only: false };
    let by_key = console.rediff(&RediffRequest { options: keyed.clone(), ..request.clone() }).await;
    assert!(
        by_key.body.changes.iter().any(|c| c.path.starts_with("$['data'][?@['charge_uuid']=='")),
        "{:?}",
        by_key.body.changes.first()
    );
    assert_eq!(console.builtin().simulator().token_requests(), tokens_before, "a re-diff sends nothing");
    let remembered: CompareSettings = console.form("compare/settings", &[("endpoint", "listCharges")]).await;
    assert!(remembered.remembered);
    assert_eq!(remembered.options, keyed);
    let broken = RediffRequest { options: DiffOptions { ignore: vec!["$..[".into()], ..keyed }, ..request };
    let response = console
        .http
        .post(format!("{}/api/compare/diff", console.base))
        .json(&json!({ "request": broken }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("ignore rule 1"), "the error names the rule");
    console.console.shutdown().await;
}

#[tokio::test]
async fn compares_are_recorded_in_history_marked_and_exports_download_with_names() {
    let console = TestConsole::simulator_only().await;
    let result = console.compare(&pair(list_charges("simulator", 3), PRODUCTION, DiffOptions::defaults())).await;
    let id = result.history_id.expect("recorded in history");
    let entries: Vec<HistoryEntry> = console.form("history", &[("limit", "10")]).await;
    assert_eq!(entries.len(), 1, "one entry per compare, not one per side");
    let mark = entries[0].compare.as_ref().expect("marked as a compare");
    assert_eq!((entries[0].environment.as_str(), mark.right_environment.as_str()), ("simulator", PRODUCTION));
    assert_eq!(mark.counts, result.body.counts);
    let detail: HistoryDetail = console.form("history/entry", &[("id", &id.to_string())]).await;
    let stored = detail.compare.expect("the compare is kept");
    assert_eq!(stored.body.counts, result.body.counts);
    assert!(stored.left.response.as_ref().unwrap().token.is_none(), "no token metadata is kept");
    let exports = result.exports.unwrap();
    let download = |id: String, name: &'static str| {
        let http = console.http.clone();
        let url = format!("{}/api/bodies/{id}?name={name}", console.base);
        async move {
            let response = http.get(url).send().await.unwrap();
            assert_eq!(response.status(), 200);
            let disposition = response.headers()["content-disposition"].to_str().unwrap().to_owned();
            (disposition, response.text().await.unwrap())
        }
    };
    let (disposition, json_text) = download(exports.json_id, "compare.json").await;
    assert_eq!(disposition, "attachment; filename=\"compare.json\"");
    let exported: serde_json::Value = serde_json::from_str(&json_text).unwrap();
    assert_eq!(exported["counts"]["type_changed"], 3);
    assert_eq!(exported["left"]["environment"], "simulator");
    assert_eq!(exported["changes"].as_array().unwrap().len(), result.body.counts.total());
    let (_, markdown) = download(exports.markdown_id.clone(), "compare.md").await;
    assert!(
        markdown.starts_with("## Compare `GET /bank/wallet/charges/`: simulator vs simulator-production"),
        "{markdown}"
    );
    let row =
        markdown.lines().find(|l| l.starts_with("| type changed | `$['data'][0]['installment_count']` |")).unwrap();
    assert!(row.contains("(number) | `\"") && row.ends_with("\"` (string) |"), "{row}");
    // A name that could escape the header is not used.
    let (disposition, _) = download(exports.markdown_id, "..%2F..%2Fevil\".md").await;
    assert!(disposition.starts_with("attachment; filename=\"response-"), "{disposition}");
    console.console.shutdown().await;
}

#[tokio::test]
async fn a_compare_never_sends_a_write_to_a_protected_environment_without_its_confirmation() {
    let console = TestConsole::simulator_only().await;
    let write = ExecuteRequest {
        environment: "simulator".into(),
        method: "POST".into(),
        path: "/bank/wallet/charge/".into(),
        body: Some("{}".into()),
        ..ExecuteRequest::default()
    };
    let request = pair(write.clone(), PRODUCTION, DiffOptions::default());
    let (status, text) = console.compare_raw(&request).await;
    assert_eq!(status, 428, "{text}");
    assert!(text.contains("simulator-production"), "{text}");
    assert_eq!(
        console.builtin().simulator().token_requests(),
        0,
        "neither side was sent, not even the unprotected one"
    );
    let mut wrong = request.clone();
    wrong.right.confirm = Some("simulator".into());
    assert_eq!(console.compare_raw(&wrong).await.0, 428);
    let mut confirmed = request;
    confirmed.right.confirm = Some(PRODUCTION.into());
    let result = console.compare(&confirmed).await;
    assert!(result.left.response.is_some() && result.right.response.is_some(), "both sides were sent");
    assert!((400..500).contains(&result.right.response.unwrap().status), "the simulator validated the (empty) charge");
    console.console.audit.flush().await;
    let refusals: Vec<(Option<String>, Option<String>)> =
        sqlx::query_as("SELECT environment, detail FROM audit_log WHERE event = 'refused' ORDER BY id")
            .fetch_all(console.console.db.sqlite().unwrap())
            .await
            .unwrap();
    assert_eq!(refusals.len(), 2, "both refused compares are audited: {refusals:?}");
    assert_eq!(refusals[0].0.as_deref(), Some(PRODUCTION));
    assert!(refusals[0].1.as_deref().unwrap_or_default().starts_with("compare: "), "{refusals:?}");
    console.console.shutdown().await;
}

#[tokio::test]
async fn a_side_that_fails_is_reported_with_its_error_and_the_other_side_still_answers() {
    let sandbox = standalone("right-secret", Duration::from_secs(3600)).await;
    let mut raw = RawConfig::default();
    raw.environments.insert(
        "simulator".into(),
        console_server::config::RawEnvironment { kind: Some("simulator".into()), ..Default::default() },
    );
    raw.environments.insert("sandbox".into(), remote_env(&sandbox, "sandbox", "SB"));
    let vars = Vars(HashMap::from([("SB".into(), "a-wrong-secret".into())]));
    let console = TestConsole::start(raw, vars, Arc::new(SystemClock)).await;
    let result = console.compare(&pair(list_charges("simulator", 1), "sandbox", DiffOptions::defaults())).await;
    assert_eq!(result.left.response.as_ref().unwrap().status, 200);
    let error = result.right.error.as_ref().expect("the sandbox side failed");
    assert!(error.to_string().contains("credentials rejected"), "{error}");
    assert_eq!(result.body.mode, app::wire::BodyDiffMode::None);
    assert!(result.body.notices[0].contains("one side has no response"));
    console.console.shutdown().await;
}

#[tokio::test]
async fn a_compare_of_two_different_operations_or_with_a_broken_rule_is_refused_with_what_to_fix() {
    let console = TestConsole::simulator_only().await;
    let mut request = pair(list_charges("simulator", 1), PRODUCTION, DiffOptions::defaults());
    request.right.path = "/wallets".into();
    let (status, text) = console.compare_raw(&request).await;
    assert_eq!(status, 400);
    assert!(text.contains("one request to two environments"), "{text}");
    let broken = pair(
        list_charges("simulator", 1),
        PRODUCTION,
        DiffOptions { ignore: vec!["$.ok".into(), "data".into()], ..DiffOptions::default() },
    );
    let (status, text) = console.compare_raw(&broken).await;
    assert_eq!(status, 400);
    assert!(text.contains("ignore rule 2"), "{text}");
    let unknown = pair(list_charges("simulator", 1), "nowhere", DiffOptions::default());
    assert_eq!(console.compare_raw(&unknown).await.0, 404);
    assert_eq!(console.builtin().simulator().token_requests(), 0, "refused compares send nothing");
    console.console.shutdown().await;
}
