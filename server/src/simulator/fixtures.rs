//! Simulator aids for the response inspector's tests: fixed bodies the real API never sends (HTML with
//! a script, invalid JSON, binary, 10,000 levels of nesting, huge values, gzip, an echoed token).
//!
//! Served at `/api/v1/sim/content/{name}`, under the same bearer check as every simulated route.

use std::io::Write as _;

use axum::body::Bytes;
use axum::http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The names `content` answers to, for the 404 message.
pub(crate) const NAMES: &str =
    "html, xml, text, invalid-json, truncated-json, binary, deep, huge-values, empty, gzip, echo-token, keys";

/// Depth of the `deep` fixture.
pub(crate) const DEEP_LEVELS: usize = 10_000;

/// An HTML page whose scripts would set `window.__a55_pwned` if the console ever rendered it.
pub(crate) const HTML: &str = "<!doctype html><html><body><h1>Upstream page</h1>\
<script>window.__a55_pwned = 'script';</script>\
<img src=\"x\" onerror=\"window.__a55_pwned = 'onerror'\">\
<p>a &amp; b</p></body></html>\n";

/// Builds the fixture `name`, or `None` when there is no such fixture. `headers` are the request's.
pub(crate) fn content(name: &str, headers: &HeaderMap) -> Option<Response> {
    let typed = |content_type: &'static str, body: Vec<u8>| {
        (StatusCode::OK, [(CONTENT_TYPE, HeaderValue::from_static(content_type))], Bytes::from(body)).into_response()
    };
    Some(match name {
        "html" => typed("text/html; charset=utf-8", HTML.as_bytes().to_vec()),
        "xml" => typed(
            "application/xml",
            b"<?xml version=\"1.0\"?>\n<charge id=\"1\"><status>paid</status><note>&lt;b&gt;</note></charge>\n"
                .to_vec(),
        ),
        "text" => typed("text/plain; charset=utf-8", "line one\nline two: ação ✓\n".as_bytes().to_vec()),
        // A stray comma on line 3: the inspector must point at line 3, column 18.
        "invalid-json" => typed("application/json", b"{\n  \"ok\": true,\n  \"items\": [1, 2,, 3]\n}\n".to_vec()),
        "truncated-json" => typed("application/json", b"{\"data\": [{\"id\": 1}, {\"id\": 2".to_vec()),
        "binary" => typed("application/octet-stream", (0..=255u8).chain([0, 0, 0xff, b'A', b'B']).collect()),
        "deep" => {
            let mut body = String::with_capacity(DEEP_LEVELS * 8 + 16);
            for _ in 0..DEEP_LEVELS {
                body.push_str("{\"a\":");
            }
            body.push_str("\"bottom\"");
            for _ in 0..DEEP_LEVELS {
                body.push('}');
            }
            typed("application/json", body.into_bytes())
        }
        "huge-values" => {
            let long = "0123456789".repeat(200_000);
            let body = format!(
                "{{\"big_integer\": 123456789012345678901234567890123456789, \"tiny\": 1e-400, \
                 \"huge\": 1.5e+400, \"precise\": 0.1000000000000000055511151231257827, \"long\": \"{long}\"}}"
            );
            typed("application/json", body.into_bytes())
        }
        "empty" => StatusCode::NO_CONTENT.into_response(),
        "gzip" => {
            let plain = serde_json::json!({
                "data": (0..2_000).map(|i| serde_json::json!({"id": i, "status": "paid", "currency": "BRL"})).collect::<Vec<_>>()
            });
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(plain.to_string().as_bytes()).ok()?;
            let compressed = encoder.finish().ok()?;
            let mut response = typed("application/json", compressed);
            response.headers_mut().insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            response
        }
        "echo-token" => {
            let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
            let body = serde_json::json!({ "you_sent": auth });
            let mut response = typed("application/json", body.to_string().into_bytes());
            if let Ok(value) = HeaderValue::from_str(auth) {
                response.headers_mut().insert("x-echo-authorization", value);
            }
            response
        }
        // Keys JSON.parse would reorder, and a duplicate key: the tree must show them as sent.
        "keys" => typed("application/json", br#"{"b": 1, "10": 2, "a": 3, "2": 4, "a": 5}"#.to_vec()),
        _ => return None,
    })
}
