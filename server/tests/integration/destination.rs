#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "a failed set-up step is a failed test")]
//! Destination control (security cases T-P01…T-P20) through the console's real HTTP surface: no
//! input may steer a request to another host or out of the environment's API base. A tripwire on
//! another loopback address stands where an attacker would point, and must see no connection at all.

use std::time::Duration;

use app::wire::{ConsoleError, ExecuteRequest, ExecuteResponse};

use crate::support::fault::{response, token_response, Fault, FaultServer, Tripwire};
use crate::support::*;

/// What a case must lead to.
enum Expect {
    /// Refused by the console with this status, the message containing this text; nothing sent.
    Refused(u16, &'static str),
    /// Sent to the environment, arriving with exactly this request target.
    Sent(String),
    /// Sent; the upstream's answer (a redirect) comes back as data with this status, not followed.
    NotFollowed(u16),
}

struct Case {
    id: &'static str,
    request: ExecuteRequest,
    expect: Expect,
}

fn path(id: &'static str, path: &str, expect: Expect) -> Case {
    Case { id, request: get(path), expect }
}

fn cases(trip: &str) -> Vec<Case> {
    use Expect::*;
    const NOT_A_PATH: &str = "give a path, not a URL";
    const DOT: &str = "dot segment";
    const ENCODED: &str = "encoded '/' or '\\'";
    const CONTROL: &str = "may not contain control characters";
    let mut cases = vec![
        path("T-P01", &format!("//{trip}/x"), Refused(400, NOT_A_PATH)),
        path("T-P01", &format!("///{trip}/x"), Refused(400, NOT_A_PATH)),
        path("T-P01", "//evil.example/x", Refused(400, NOT_A_PATH)),
        path("T-P02", &format!("\\\\{trip}/x"), Refused(400, "may not contain a backslash")),
        path("T-P02", &format!("/\\{trip}/x"), Refused(400, "may not contain a backslash")),
        path("T-P03", &format!("/\t/{trip}/x"), Refused(400, CONTROL)),
        path("T-P03", &format!("/\n/{trip}"), Refused(400, CONTROL)),
        path("T-P03", "/\r/x", Refused(400, CONTROL)),
        path("T-P03", &format!("/\u{b}/{trip}/x"), Refused(400, CONTROL)),
        // A space is an ordinary character: the segment is sent encoded, on the configured host.
        path("T-P03", &format!("/ /{trip}/x"), Sent(format!("/api/v1/%20/{trip}/x"))),
        path("T-P04", &format!("http://{trip}/x"), Refused(400, NOT_A_PATH)),
        path("T-P04", "https://evil.example/x", Refused(400, NOT_A_PATH)),
        path("T-P04", "HTTPS://evil.example", Refused(400, NOT_A_PATH)),
        path("T-P04", &format!("http:{trip}"), Refused(400, NOT_A_PATH)),
        path("T-P04", "javascript:alert(1)", Refused(400, NOT_A_PATH)),
        path("T-P04", "file:///etc/passwd", Refused(400, NOT_A_PATH)),
        path("T-P05", "../admin", Refused(400, DOT)),
        path("T-P05", "%2e%2e/admin", Refused(400, DOT)),
        path("T-P05", ".%2e/admin", Refused(400, DOT)),
        path("T-P05", "%2E%2E/", Refused(400, DOT)),
        path("T-P05", "a/%2e%2e/%2e%2e/admin", Refused(400, DOT)),
        path("T-P05", "/v1/../../admin", Refused(400, DOT)),
        // T-P20: a dot segment with `;` matrix parameters, which servlet containers read as the dot
        // segment itself, in every spelling of the dots and the semicolon.
        path("T-P20", "a/..;/admin", Refused(400, DOT)),
        path("T-P20", "a/.;/admin", Refused(400, DOT)),
        path("T-P20", "..;jsessionid=x/admin", Refused(400, DOT)),
        path("T-P20", "a/%2e%2e;/admin", Refused(400, DOT)),
        path("T-P20", "a/%2E.;x/admin", Refused(400, DOT)),
        path("T-P20", "a/..%3b/admin", Refused(400, DOT)),
        path("T-P20", "a/%2e%2e%3B/admin", Refused(400, DOT)),
        path("T-P06", "..%2fadmin", Refused(400, ENCODED)),
        path("T-P06", "a%2fb", Refused(400, ENCODED)),
        path("T-P06", "a%5cb", Refused(400, ENCODED)),
        path("T-P06", "%2F%2Fevil.example", Refused(400, ENCODED)),
        // Decoded exactly once: the upstream sees the literal escape, never "..".
        path("T-P07", "%252e%252e/admin", Sent("/api/v1/%252e%252e/admin".into())),
        path("T-P08", "/bank/..%2f..%2fadmin", Refused(400, ENCODED)),
        // Userinfo-shaped input names no host here: a leading "@host:port" reads as a scheme and is refused.
        path("T-P09", &format!("@{trip}/x"), Refused(400, NOT_A_PATH)),
        path("T-P09", &format!("x/@{trip}/x"), Sent(format!("/api/v1/x/@{trip}/x"))),
        path("T-P09", "user@evil.example", Sent("/api/v1/user@evil.example".into())),
        path("T-P09", ":443@evil.example", Sent("/api/v1/:443@evil.example".into())),
        path("T-P10", "payments?x=1#frag", Refused(400, "may not contain '#'")),
        path("T-P10", "payments?x=1", Refused(400, "may not contain '?'")),
        path("T-P10", "pay#ments", Refused(400, "may not contain '#'")),
        Case {
            id: "T-P10",
            request: ExecuteRequest {
                query: vec![("x".into(), "1#frag".into()), ("y".into(), format!("//{trip}"))],
                ..get("payments")
            },
            expect: Sent(format!("/api/v1/payments?x=1%23frag&y=%2F%2F{}", trip.replace(':', "%3A"))),
        },
        path("T-P14", "a\u{ff0f}b", Sent("/api/v1/a%EF%BC%8Fb".into())),
        path("T-P14", "a\u{2215}b", Sent("/api/v1/a%E2%88%95b".into())),
        path("T-P14", "a%E2%88%95b", Sent("/api/v1/a%E2%88%95b".into())),
        path("T-P14", "a%C0%AFb", Refused(400, "malformed percent-escape")),
        path("T-P15", &"a".repeat(100_000), Refused(400, "longer than 2048 characters")),
        path("T-P15", &"a/".repeat(10_000), Refused(400, "longer than 2048 characters")),
        path("T-P15", &"a/".repeat(1_000), Refused(400, "more than 64 segments")),
        path("T-P15", &"a/".repeat(65), Refused(400, "more than 64 segments")),
        path("T-P16", "redirect/301", NotFollowed(301)),
        path("T-P16", "redirect/302", NotFollowed(302)),
        path("T-P16", "redirect/303", NotFollowed(303)),
        path("T-P16", "redirect/307", NotFollowed(307)),
        path("T-P16", "redirect/308", NotFollowed(308)),
        path("T-P16", "same-host-redirect", NotFollowed(302)),
    ];
    let trip_url = format!("http://{trip}");
    for environment in ["prod ", "PRODUCTION", "../faulty", "", trip_url.as_str(), "faulty/../x"] {
        cases.push(Case {
            id: "T-P13",
            request: ExecuteRequest { environment: environment.into(), ..get("wallets") },
            expect: Refused(404, "unknown environment"),
        });
    }
    for (name, value) in [
        ("Host", trip.to_owned()),
        ("X-Forwarded-Host", trip.to_owned()),
        ("Forwarded", format!("host={trip};proto=http")),
    ] {
        cases.push(Case {
            id: "T-P12",
            request: ExecuteRequest { headers: vec![(name.into(), value)], ..get("wallets") },
            expect: Refused(400, "is set by the console and cannot be sent from the browser"),
        });
    }
    for method in ["TRACE", "CONNECT", "PROPFIND", "GET /x", ""] {
        cases.push(Case {
            id: "T-P17",
            request: ExecuteRequest { method: method.into(), ..get("wallets") },
            expect: Refused(400, "is not supported; use GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS"),
        });
    }
    cases
}

#[tokio::test]
async fn no_path_environment_or_header_steers_a_request_off_the_configured_base() {
    let trip = Tripwire::start().await;
    let location = format!("http://{}/steal", trip.host());
    let redirect = |code: &str| Fault::Raw(response(code, &[("location", location.as_str())], b"moved"));
    let upstream = FaultServer::start(vec![
        ("/oauth2/token", Fault::Raw(token_response(&fault_token()))),
        ("/api/v1/redirect/301", redirect("301 Moved Permanently")),
        ("/api/v1/redirect/302", redirect("302 Found")),
        ("/api/v1/redirect/303", redirect("303 See Other")),
        ("/api/v1/redirect/307", redirect("307 Temporary Redirect")),
        ("/api/v1/redirect/308", redirect("308 Permanent Redirect")),
        ("/api/v1/same-host-redirect", Fault::Raw(response("302 Found", &[("location", "/api/v1/elsewhere")], b""))),
        ("/api/v1/", Fault::Raw(response("200 OK", &[("content-type", "application/json")], b"{\"ok\":true}"))),
    ])
    .await;
    // The token endpoint answers each connection once; give it a fresh token whenever asked.
    let console = fault_console(&upstream).await;
    let mut failures = Vec::new();
    let cases = cases(&trip.host());
    for case in &cases {
        let before = upstream.seen("/api/").len();
        let response = console.execute_raw(&case.request).await;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let arrived: Vec<String> = upstream.seen("/api/").into_iter().skip(before).map(|s| s.target).collect();
        // Compare with the message as staff read it, not its JSON encoding.
        let message_of =
            |text: &str| serde_json::from_str::<ConsoleError>(text).map(|e| e.to_string()).unwrap_or_default();
        let shown = format!("{} {:?} {:?}", case.id, case.request.environment, case.request.path.get(..60));
        match &case.expect {
            Expect::Refused(code, message) => {
                if status != *code || !message_of(&text).contains(message) {
                    failures.push(format!("{shown}: expected {code} saying {message:?}, got {status}: {text:.300}"));
                }
                if !arrived.is_empty() {
                    failures.push(format!("{shown}: refused, yet the upstream received {arrived:?}"));
                }
            }
            Expect::Sent(target) => {
                if status != 200 || arrived != [target.clone()] {
                    failures.push(format!(
                        "{shown}: expected one request to {target}, got {status} and {arrived:?}: {text:.300}"
                    ));
                }
            }
            Expect::NotFollowed(code) => {
                let answer: Option<ExecuteResponse> = serde_json::from_str(&text).ok();
                let location = answer.as_ref().and_then(|a| a.headers.iter().find(|(n, _)| n == "location"));
                if status != 200 || answer.as_ref().map(|a| a.status) != Some(*code) || location.is_none() {
                    failures.push(format!(
                        "{shown}: expected the {code} and its location as data, got {status}: {text:.300}"
                    ));
                }
                if arrived.len() != 1 {
                    failures.push(format!("{shown}: the redirect was followed: {arrived:?}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
    assert!(upstream.seen("/api/v1/elsewhere").is_empty(), "a same-host redirect was followed");
    // Every request that did go out carried the configured host.
    for seen in upstream.seen("/") {
        assert_eq!(seen.all("host"), [upstream.addr.to_string()], "{}", seen.target);
    }
    assert_eq!(trip.connections(), 0, "the tripwire was contacted");
    console.console.shutdown().await;
}

/// T-P08, T-P11, T-P15 at the HTTP layer: requests to the console itself that name another host,
/// use other request-target forms, or try to climb out of the static files.
#[tokio::test]
async fn requests_to_the_console_that_name_another_host_or_climb_out_of_its_files_are_refused() {
    let trip = Tripwire::start().await;
    let console = TestConsole::simulator_only().await;
    let addr = console.front;
    let host = addr.to_string();
    let raw = |head: String| format!("{head}\r\nConnection: close\r\n\r\n").into_bytes();
    let cases: Vec<(&str, Vec<u8>, Vec<u16>)> = vec![
        // An absolute-form target is authoritative over Host (RFC 9112 §3.2.2): a foreign authority
        // must be refused even when the Host header names the console.
        ("T-P11", raw(format!("GET http://{}/p HTTP/1.1\r\nHost: {host}", "evil.example")), vec![421]),
        ("T-P11", raw(format!("GET http://evil.example/ HTTP/1.1\r\nHost: {host}")), vec![421]),
        // T-P18: another loopback address names another server even in local mode, where every
        // loopback Host is accepted: an absolute-form target must name the listening address.
        ("T-P18", raw(format!("GET http://{}/ HTTP/1.1\r\nHost: {}", trip.host(), trip.host())), vec![421]),
        ("T-P18", raw(format!("GET http://{}/ HTTP/1.1\r\nHost: {host}", trip.host())), vec![421]),
        // T-P19: TRACE and CONNECT are never served: 405 with Allow, whatever the target.
        ("T-P19", raw(format!("CONNECT {} HTTP/1.1\r\nHost: {}", trip.host(), trip.host())), vec![405]),
        ("T-P19", raw(format!("TRACE / HTTP/1.1\r\nHost: {host}")), vec![405]),
        ("T-P19", raw(format!("TRACE /api/execute HTTP/1.1\r\nHost: {host}")), vec![405]),
        ("T-P11", raw(format!("OPTIONS * HTTP/1.1\r\nHost: {host}")), vec![400, 404, 405]),
        ("T-P12", raw("GET / HTTP/1.1\r\nHost: evil.example".to_owned()), vec![421]),
        ("T-P08", raw(format!("GET /pkg/..%2f..%2fCargo.toml HTTP/1.1\r\nHost: {host}")), vec![400, 404]),
        ("T-P08", raw(format!("GET /pkg/%2e%2e/%2e%2e/Cargo.toml HTTP/1.1\r\nHost: {host}")), vec![400, 404]),
        ("T-P08", raw(format!("GET /pkg/../../Cargo.toml HTTP/1.1\r\nHost: {host}")), vec![400, 404]),
        ("T-P08", raw(format!("GET /api/bodies/..%2f..%2fCargo.toml HTTP/1.1\r\nHost: {host}")), vec![404]),
        ("T-P15", raw(format!("GET /{} HTTP/1.1\r\nHost: {host}", "a".repeat(100_000))), vec![400, 404, 414, 431]),
    ];
    let mut failures = Vec::new();
    for (id, request, allowed) in &cases {
        let (status, text) = raw_http(addr, request).await;
        let line = String::from_utf8_lossy(&request[..request.len().min(80)]).into_owned();
        if !allowed.contains(&status) {
            failures.push(format!("{id} {line:?}: expected one of {allowed:?}, got {status}: {text:.300}"));
        }
        if text.contains("[workspace]") || text.contains("resolver = ") {
            failures.push(format!("{id} {line:?}: served a file from outside the site"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // A target naming the listening address itself is served (asked directly: under the leak canary
    // the test talks to a recording front whose address is not the console's).
    let own = console.console.addr;
    let (status, text) = raw_http(own, &raw(format!("GET http://{own}/ HTTP/1.1\r\nHost: {own}"))).await;
    assert_eq!(status, 200, "T-P18: the console's own address: {text:.300}");
    let (status, text) = raw_http(addr, &raw(format!("TRACE / HTTP/1.1\r\nHost: {host}"))).await;
    assert_eq!(status, 405);
    assert!(text.to_ascii_lowercase().contains("allow: get, head, post"), "405 without Allow: {text:.400}");
    // Still healthy, and nothing went to the tripwire.
    console.execute(&list_charges("simulator", 1)).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(trip.connections(), 0, "the tripwire was contacted");
    console.console.shutdown().await;
}
