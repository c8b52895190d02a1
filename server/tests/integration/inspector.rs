#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests")]
//! The response inspector's server side: raw bodies by id, sizes on the wire, the request record,
//! token redaction on every path a body takes, JSONPath on stored bodies, and awkward content.

use std::sync::Arc;

use app::wire::{ConsoleError, ExecuteRequest, ExecuteResponse, JsonPathAnswer, PathStep, INLINE_BODY_LIMIT};
use console_server::clock::SystemClock;
use console_server::config::{RawConfig, RawEnvironment};
use serde_json::Value;

use crate::support::{TestConsole, Vars};

fn sim_get(path: &str, query: &[(&str, &str)]) -> ExecuteRequest {
    ExecuteRequest {
        environment: "simulator".into(),
        method: "GET".into(),
        path: path.into(),
        query: query.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        ..ExecuteRequest::default()
    }
}

async fn stored_body(console: &TestConsole, response: &ExecuteResponse) -> (reqwest::header::HeaderMap, Vec<u8>) {
    let id = response.body_id.as_deref().expect("a non-empty body is stored");
    let answer = console.http.get(format!("{}/api/bodies/{id}", console.base)).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    let headers = answer.headers().clone();
    (headers, answer.bytes().await.unwrap().to_vec())
}

async fn run_jsonpath(console: &TestConsole, body_id: &str, expression: &str) -> (u16, String) {
    let answer = console
        .http
        .post(format!("{}/api/jsonpath", console.base))
        .form(&[("body_id", body_id), ("expression", expression)])
        .send()
        .await
        .unwrap();
    (answer.status().as_u16(), answer.text().await.unwrap())
}

#[tokio::test]
async fn a_large_body_travels_raw_by_id_as_an_opaque_uncached_download() {
    let console = TestConsole::simulator_only().await;
    let response = console.execute(&sim_get("/sim/large", &[("mb", "1"), ("batch", "500")])).await;
    assert_eq!(response.status, 200);
    assert!(!response.body_inline, "a 1 MB body is not re-encoded inside the execute answer");
    assert!(response.body.is_empty());
    assert!(response.kept_bytes as usize > INLINE_BODY_LIMIT);
    assert_eq!(response.kept_bytes, response.size_bytes);
    let id = response.body_id.clone().unwrap();
    assert!(id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit()), "128 random bits in hex: {id}");

    let (headers, bytes) = stored_body(&console, &response).await;
    assert_eq!(headers["content-type"], "application/octet-stream");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert_eq!(bytes.len() as u64, response.kept_bytes);
    let parsed: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(parsed["data"].as_array().unwrap().len() as u64, parsed["total"].as_u64().unwrap());
    console.console.shutdown().await;
}

#[tokio::test]
async fn unknown_and_malformed_body_ids_get_a_404_that_says_to_run_again() {
    let console = TestConsole::simulator_only().await;
    for id in ["0123456789abcdef0123456789abcdef", "nope", "..%2F..%2Fetc%2Fpasswd"] {
        let answer = console.http.get(format!("{}/api/bodies/{id}", console.base)).send().await.unwrap();
        assert_eq!(answer.status(), 404, "{id}");
        assert!(answer.text().await.unwrap().contains("run the request again"));
    }
    console.console.shutdown().await;
}

#[tokio::test]
async fn small_bodies_travel_inline_and_are_also_kept_for_download() {
    let console = TestConsole::simulator_only().await;
    let response = console.execute(&sim_get("/wallets", &[])).await;
    assert!(response.body_inline);
    let (_, bytes) = stored_body(&console, &response).await;
    assert_eq!(bytes, response.body.as_bytes());
    console.console.shutdown().await;
}

#[tokio::test]
async fn gzip_bodies_report_the_size_on_the_wire_and_decoded() {
    let console = TestConsole::simulator_only().await;
    let response = console.execute(&sim_get("/sim/content/gzip", &[])).await;
    assert_eq!(response.content_encoding.as_deref(), Some("gzip"));
    assert!(
        response.wire_bytes * 5 < response.size_bytes,
        "{} on the wire, {} decoded",
        response.wire_bytes,
        response.size_bytes
    );
    assert!(response.headers.iter().any(|(n, v)| n == "content-encoding" && v == "gzip"));
    let (_, bytes) = stored_body(&console, &response).await;
    let parsed: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(parsed["data"].as_array().unwrap().len(), 2_000);
    console.console.shutdown().await;
}

#[tokio::test]
async fn the_request_record_lists_every_header_sent_with_the_token_shown_as_its_fingerprint() {
    let console = TestConsole::simulator_only().await;
    let mut request = sim_get("/sim/content/echo-token", &[]);
    request.headers = vec![("X-Correlation-Id".into(), "abc-1".into())];
    let response = console.execute(&request).await;
    let fingerprint = response.token_fingerprint.clone().unwrap();
    let sent: Vec<(&str, &str)> = response.sent_headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    assert!(sent.contains(&("authorization", &format!("Bearer {fingerprint}…"))), "{sent:?}");
    assert!(sent.contains(&("x-correlation-id", "abc-1")), "{sent:?}");
    assert!(sent.contains(&("accept-encoding", "gzip")), "{sent:?}");
    assert!(sent.iter().any(|(n, v)| *n == "user-agent" && v.starts_with("a55-console/")), "{sent:?}");
    assert!(sent.iter().any(|(n, _)| *n == "host"), "{sent:?}");
    assert_eq!(response.sent_body, None);

    // The upstream echoed the bearer token in its body and a header: both reach the browser redacted,
    // inline and from the body store alike.
    assert_eq!(response.body, r#"{"you_sent":"Bearer [access token removed by the console]"}"#);
    let (_, stored) = stored_body(&console, &response).await;
    assert_eq!(stored, response.body.as_bytes());
    let echoed = response.headers.iter().find(|(n, _)| n == "x-echo-authorization").unwrap();
    assert_eq!(echoed.1, "Bearer [access token removed by the console]");
    console.console.shutdown().await;
}

#[tokio::test]
async fn jsonpath_filters_a_stored_body_and_names_the_column_of_a_syntax_error() {
    let console = TestConsole::simulator_only().await;
    let response = console.execute(&sim_get("/sim/large", &[("mb", "1"), ("batch", "500")])).await;
    let id = response.body_id.clone().unwrap();

    let (status, text) =
        run_jsonpath(&console, &id, "$.data[?@.status == 'refunded' && @.type_charge == 'pix'].value").await;
    assert_eq!(status, 200, "{text}");
    let answer: JsonPathAnswer = serde_json::from_str(&text).unwrap();
    assert!(answer.total > 10, "{}", answer.total);
    let first = &answer.matches[0];
    assert_eq!(first.steps[0], PathStep::Name("data".into()));
    assert!(first.path.starts_with("$['data']["), "{}", first.path);

    let (status, text) = run_jsonpath(&console, &id, "$.data[?@.status == ]").await;
    assert_eq!(status, 400);
    let ConsoleError::InvalidRequest(message) = serde_json::from_str(&text).unwrap() else { panic!("{text}") };
    assert!(message.starts_with("invalid JSONPath at column "), "{message}");

    let (status, text) = run_jsonpath(&console, "0123456789abcdef0123456789abcdef", "$").await;
    assert_eq!(status, 404, "{text}");
    console.console.shutdown().await;
}

#[tokio::test]
async fn ten_thousand_levels_of_nesting_and_huge_values_pass_through_without_harm() {
    let console = TestConsole::simulator_only().await;
    let deep = console.execute(&sim_get("/sim/content/deep", &[])).await;
    assert_eq!(deep.status, 200);
    let (_, bytes) = stored_body(&console, &deep).await;
    assert_eq!(bytes.iter().filter(|&&b| b == b'{').count(), 10_000);
    let (status, text) = run_jsonpath(&console, deep.body_id.as_deref().unwrap(), "$..a").await;
    assert_eq!(status, 400);
    assert!(text.contains("deeper than 128 levels"), "{text}");

    let huge = console.execute(&sim_get("/sim/content/huge-values", &[])).await;
    let (_, bytes) = stored_body(&console, &huge).await;
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.contains("123456789012345678901234567890123456789"), "digits are kept as sent");
    // 1.5e+400 does not fit an f64: JSONPath (serde_json) refuses the body with a clear 400, no crash.
    let (status, text) = run_jsonpath(&console, huge.body_id.as_deref().unwrap(), "$.big_integer").await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("number out of range"), "{text}");
    console.console.shutdown().await;
}

#[tokio::test]
async fn empty_and_binary_bodies_are_reported_as_such() {
    let console = TestConsole::simulator_only().await;
    let empty = console.execute(&sim_get("/sim/content/empty", &[])).await;
    assert_eq!(empty.status, 204);
    assert_eq!((empty.body_id.clone(), empty.kept_bytes), (None, 0));

    let binary = console.execute(&sim_get("/sim/content/binary", &[])).await;
    assert!(!binary.body_inline, "binary is not text, so it never travels inside JSON");
    let (_, bytes) = stored_body(&console, &binary).await;
    assert_eq!(bytes.len(), 261);
    assert_eq!(&bytes[..4], &[0, 1, 2, 3]);
    console.console.shutdown().await;
}

#[tokio::test]
async fn a_body_over_the_cap_keeps_exactly_the_cap_and_says_how_much_was_seen() {
    let mut raw = RawConfig::default();
    raw.environments.insert(
        "simulator".into(),
        RawEnvironment {
            kind: Some("simulator".into()),
            max_response_bytes: Some(100_000),
            ..RawEnvironment::default()
        },
    );
    let console = TestConsole::start(raw, Vars::default(), Arc::new(SystemClock)).await;
    let response = console.execute(&sim_get("/sim/large", &[("mb", "1")])).await;
    assert!(response.truncated);
    assert_eq!(response.kept_bytes, 100_000);
    assert_eq!(response.max_response_bytes, 100_000);
    assert!(response.size_bytes >= 100_000);
    let (_, bytes) = stored_body(&console, &response).await;
    assert_eq!(bytes.len(), 100_000);
    console.console.shutdown().await;
}
