#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "a failed set-up step is a failed test")]
//! Header hygiene (security cases T-H01…T-H11): what the browser sends never decides credentials,
//! host, forwarding or connection handling upstream, and what the upstream answers never acts on
//! the console's own origin. A fault server records every request head exactly as it arrived.

use app::wire::{ExecuteRequest, ExecuteResponse};

use crate::support::fault::{token_response, Fault, FaultServer};
use crate::support::*;

const CONTROLLED: &str = "is set by the console and cannot be sent from the browser";
const CONTROL_CHARS: &str = "has an invalid name or value (control characters are not allowed)";

async fn recording_upstream(token: &str) -> FaultServer {
    FaultServer::start(vec![
        ("/oauth2/token", Fault::Raw(token_response(token))),
        ("/api/v1/echo", Fault::Echo),
        ("/api/v1/", Fault::Echo),
    ])
    .await
}

fn with_headers(headers: &[(&str, &str)]) -> ExecuteRequest {
    ExecuteRequest {
        headers: headers.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect(),
        ..get("wallets")
    }
}

/// (case, headers, the header the message must name, what the message must say)
type HeaderCase = (&'static str, &'static [(&'static str, &'static str)], &'static str, &'static str);

#[tokio::test]
async fn headers_the_console_controls_or_that_smuggle_are_refused_with_a_message_naming_them() {
    let upstream = recording_upstream(&fault_token()).await;
    let console = fault_console(&upstream).await;
    let cases: &[HeaderCase] = &[
        ("T-H01", &[("Authorization", "Bearer attacker")], "Authorization", CONTROLLED),
        ("T-H01", &[("X-Id", "1"), ("aUtHoRiZaTiOn", "Bearer attacker")], "aUtHoRiZaTiOn", CONTROLLED),
        ("T-H01", &[("Authorization ", "Bearer attacker")], "Authorization ", CONTROLLED),
        ("T-H02", &[("Cookie", "__Host-a55-session=abc; other=1")], "Cookie", CONTROLLED),
        ("T-H03", &[("X-Foo", "a\r\nAuthorization: x")], "X-Foo", CONTROL_CHARS),
        ("T-H03", &[("X-Foo", "a\0b")], "X-Foo", CONTROL_CHARS),
        ("T-H03", &[("X-Foo", "a\nb")], "X-Foo", CONTROL_CHARS),
        ("T-H03", &[("X-Foo", "obs\r\n fold")], "X-Foo", CONTROL_CHARS),
        ("T-H03", &[("X-Foo\r\nAuthorization", "x")], "X-Foo", CONTROL_CHARS),
        ("T-H03", &[("Accept\r\nX-Injected", "x")], "Accept", CONTROL_CHARS),
        ("T-H03", &[("X-F\0oo", "x")], "X-F", CONTROL_CHARS),
        ("T-H04", &[("X_Forwarded_For", "10.0.0.1")], "X_Forwarded_For", CONTROLLED),
        ("T-H04", &[("X-Forwarded_For", "10.0.0.1")], "X-Forwarded_For", CONTROLLED),
        ("T-H04", &[("X-Real_IP", "10.0.0.1")], "X-Real_IP", CONTROLLED),
        ("T-H04", &[("X-Forwarded-For ", "10.0.0.1")], "X-Forwarded-For ", CONTROLLED),
        ("T-H05", &[("Connection", "close, X-Secret-Thing"), ("X-Secret-Thing", "1")], "Connection", CONTROLLED),
        ("T-H05", &[("Connection", "Authorization")], "Connection", CONTROLLED),
        ("T-H06", &[("TE", "trailers")], "TE", CONTROLLED),
        ("T-H06", &[("Trailer", "X-Foo")], "Trailer", CONTROLLED),
        ("T-H06", &[("Upgrade", "websocket")], "Upgrade", CONTROLLED),
        ("T-H06", &[("Proxy-Connection", "keep-alive")], "Proxy-Connection", CONTROLLED),
        ("T-H06", &[("Keep-Alive", "timeout=5")], "Keep-Alive", CONTROLLED),
        ("T-H06", &[("Proxy-Authorization", "Basic eDp5")], "Proxy-Authorization", CONTROLLED),
        ("T-H06", &[("Transfer-Encoding", "chunked")], "Transfer-Encoding", CONTROLLED),
        ("T-H06", &[("Content-Length", "0")], "Content-Length", CONTROLLED),
        ("T-H06", &[("Host", "evil.example")], "Host", CONTROLLED),
        ("T-H08", &[("X-Forwarded-For", "10.0.0.1")], "X-Forwarded-For", CONTROLLED),
        ("T-H08", &[("X-Forwarded-Port", "443")], "X-Forwarded-Port", CONTROLLED),
        ("T-H08", &[("X-Forwarded-Prefix", "/admin")], "X-Forwarded-Prefix", CONTROLLED),
        ("T-H08", &[("X-Forwarded-Server", "evil.example")], "X-Forwarded-Server", CONTROLLED),
        ("T-H08", &[("X-Real-IP", "10.0.0.1")], "X-Real-IP", CONTROLLED),
        ("T-H08", &[("X-Client-IP", "10.0.0.1")], "X-Client-IP", CONTROLLED),
        ("T-H08", &[("X-Original-URL", "/admin")], "X-Original-URL", CONTROLLED),
        ("T-H08", &[("X-HTTP-Method-Override", "DELETE")], "X-HTTP-Method-Override", CONTROLLED),
        ("T-H08", &[("Forwarded", "for=10.0.0.1")], "Forwarded", CONTROLLED),
        ("T-H08", &[("Via", "1.1 evil")], "Via", CONTROLLED),
    ];
    let mut failures = Vec::new();
    for (id, headers, names, says) in cases {
        let (status, _, text) = console.execute_error(&with_headers(headers)).await;
        if status != 400 || !text.contains(says) || !text.contains(&names.escape_debug().to_string()) {
            failures.push(format!(
                "{id} {headers:?}: expected 400 naming {names:?} and saying {says:?}, got {status}: {text}"
            ));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
    assert!(upstream.seen("/api/").is_empty(), "a refused request reached the upstream");
    assert!(upstream.seen("/oauth2/").is_empty(), "a refused request fetched a token");
    console.console.shutdown().await;
}

#[tokio::test]
async fn the_upstream_sees_exactly_the_console_token_and_host_and_no_browser_credentials_or_forwarding() {
    let token = fault_token();
    let upstream = recording_upstream(&token).await;
    let console = fault_console(&upstream).await;
    // What a browser (or a script in the console's origin) puts on its own request to the console.
    let sent = console
        .http
        .post(format!("{}/api/execute", console.base))
        .header("cookie", "__Host-a55-session=abcdef; other=1")
        .header("authorization", "Bearer attacker")
        .header("proxy-authorization", "Basic eDp5")
        .header("x-forwarded-for", "10.0.0.1")
        .header("x-forwarded-host", "evil.example")
        .header("x-forwarded-proto", "http")
        .header("x-real-ip", "10.0.0.1")
        .header("forwarded", "for=10.0.0.1;host=evil.example")
        .header("via", "1.1 evil")
        .header("connection", "keep-alive, X-Secret-Thing")
        .header("x-secret-thing", "1")
        .json(&serde_json::json!({ "request": with_headers(&[
            ("X-Correlation-Id", "corr-1"),
            ("Idempotency-Key", "key-1"),
            ("Accept", "application/json"),
            ("X-Auth_Request_User", "looks-like-a-proxy-header"),
        ]) }))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 200);
    let answer: ExecuteResponse = sent.json().await.unwrap();
    let seen = upstream.seen("/api/v1/wallets");
    assert_eq!(seen.len(), 1);
    let seen = &seen[0];
    assert_eq!(seen.all("authorization"), [format!("Bearer {token}")], "T-H01: exactly the console's token");
    assert_eq!(seen.all("host"), [upstream.addr.to_string()], "T-P12: the configured host");
    assert_eq!(seen.all("x-correlation-id"), ["corr-1"]);
    assert_eq!(seen.all("idempotency-key"), ["key-1"]);
    assert_eq!(seen.all("accept"), ["application/json"]);
    for name in [
        "cookie",
        "proxy-authorization",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "x-real-ip",
        "forwarded",
        "via",
        "x-secret-thing",
        "te",
        "upgrade",
        "keep-alive",
        "trailer",
        "proxy-connection",
    ] {
        assert!(seen.all(name).is_empty(), "{name} reached the upstream: {:?}", seen.headers);
    }
    // The request record shows what was sent, with the token as its fingerprint only.
    let recorded: Vec<&str> = answer.sent_headers.iter().map(|(n, _)| n.as_str()).collect();
    for (name, _) in &seen.headers {
        assert!(
            recorded.contains(&name.to_ascii_lowercase().as_str()),
            "{name} sent but not in the record {recorded:?}"
        );
    }
    let authorization = answer.sent_headers.iter().find(|(n, _)| n == "authorization").unwrap();
    assert!(!authorization.1.contains(&token) && authorization.1.starts_with("Bearer "), "{authorization:?}");
    console.console.shutdown().await;
}

#[tokio::test]
async fn upstream_headers_that_would_act_on_the_console_reach_neither_its_response_nor_the_header_table() {
    let evil = "HTTP/1.1 200 OK\r\n\
        content-type: text/html\r\n\
        set-cookie: __Host-a55-session=evil; Path=/; Secure\r\n\
        set-cookie: other=1\r\n\
        access-control-allow-origin: *\r\n\
        access-control-allow-credentials: true\r\n\
        access-control-expose-headers: *\r\n\
        content-security-policy: default-src *\r\n\
        content-security-policy-report-only: default-src *\r\n\
        strict-transport-security: max-age=0\r\n\
        connection: keep-alive, x-hop-secret\r\n\
        x-hop-secret: named-by-connection\r\n\
        keep-alive: timeout=5\r\n\
        proxy-authenticate: Basic realm=x\r\n\
        proxy-connection: keep-alive\r\n\
        upgrade: h2c\r\n\
        trailer: x-checksum\r\n\
        clear-site-data: \"*\"\r\n\
        refresh: 0; url=http://evil.example/\r\n\
        alt-svc: h2=\":443\"\r\n\
        x-request-id: req_evil\r\n\
        transfer-encoding: chunked\r\n\r\n";
    let script = "<script>alert('xss')</script>";
    let evil = format!("{evil}{:x}\r\n{script}\r\n0\r\n\r\n", script.len());
    let upstream = FaultServer::start(vec![
        ("/oauth2/token", Fault::Raw(token_response(&fault_token()))),
        ("/api/v1/", Fault::Raw(evil.into_bytes())),
    ])
    .await;
    let console = fault_console(&upstream).await;
    let response = console.execute_raw(&get("evil")).await;
    assert_eq!(response.status(), 200);
    let console_headers = response.headers().clone();
    let answer: ExecuteResponse = response.json().await.unwrap();
    assert_eq!(answer.body, "<script>alert('xss')</script>", "the body is data, shown as received");
    let table: Vec<String> = answer.headers.iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
    for dropped in [
        "set-cookie",
        "access-control-allow-origin",
        "access-control-allow-credentials",
        "access-control-expose-headers",
        "content-security-policy",
        "content-security-policy-report-only",
        "strict-transport-security",
        "connection",
        "x-hop-secret",
        "keep-alive",
        "proxy-authenticate",
        "proxy-connection",
        "upgrade",
        "trailer",
        "transfer-encoding",
        "clear-site-data",
        "refresh",
        "alt-svc",
    ] {
        assert!(!table.contains(&dropped.to_owned()), "T-H10: {dropped} is in the header table {table:?}");
    }
    assert!(table.contains(&"x-request-id".to_owned()) && table.contains(&"content-type".to_owned()), "{table:?}");
    // The console's own answer: none of the upstream's headers, its own CSP and no-store.
    assert!(console_headers.get("set-cookie").is_none(), "{console_headers:?}");
    assert!(console_headers.keys().all(|n| !n.as_str().starts_with("access-control-")), "{console_headers:?}");
    assert!(console_headers.get("x-hop-secret").is_none() && console_headers.get("refresh").is_none());
    let csp = console_headers.get("content-security-policy").unwrap().to_str().unwrap();
    assert!(csp.contains("default-src 'none'") || csp.contains("default-src 'self'"), "{csp}");
    assert_eq!(console_headers["cache-control"], "no-store");
    console.console.shutdown().await;
}

#[tokio::test]
async fn an_upstream_that_echoes_the_request_never_hands_the_token_to_the_browser() {
    let token = fault_token();
    let upstream = recording_upstream(&token).await;
    let console = fault_console(&upstream).await;
    let response = console.execute_raw(&get("echo")).await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(!text.contains(&token), "T-H11: the echoed token reached the browser");
    let answer: ExecuteResponse = serde_json::from_str(&text).unwrap();
    assert!(answer.body.contains("[access token removed by the console]"), "{}", answer.body);
    let stored =
        console.http.get(format!("{}/api/bodies/{}", console.base, answer.body_id.unwrap())).send().await.unwrap();
    assert!(!stored.text().await.unwrap().contains(&token), "T-H11: the stored body kept the token");
    console.console.shutdown().await;
}

/// T-H07 and T-H09 at the console's own HTTP parser. With both Content-Length and
/// Transfer-Encoding, hyper frames the body by Transfer-Encoding alone and closes the connection
/// after answering (RFC 9112 §6.1), so bytes smuggled behind the body are never read as a second
/// request; conflicting Content-Lengths and more than 100 headers are refused; a 64 KB cookie is
/// within hyper's limits. Nothing crashes and the console keeps serving.
#[tokio::test]
async fn ambiguous_framing_and_oversized_request_heads_never_smuggle_a_request_or_crash_the_console() {
    let upstream = recording_upstream(&fault_token()).await;
    let console = fault_console(&upstream).await;
    let host = console.front.to_string();
    let csrf = "x-a55-csrf: 1\r\ncontent-type: application/json";
    let body = serde_json::json!({ "request": get("wallets") }).to_string();
    let smuggled_body = serde_json::json!({ "request": get("smuggled") }).to_string();
    let smuggled = format!(
        "POST /api/execute HTTP/1.1\r\nHost: {host}\r\n{csrf}\r\nContent-Length: {}\r\n\r\n{smuggled_body}",
        smuggled_body.len()
    );
    let many: String = (0..200).map(|i| format!("x-h{i}: {i}\r\n")).collect();
    let cases: Vec<(&str, String, Vec<u16>)> = vec![
        (
            "T-H07 Content-Length and Transfer-Encoding, a request smuggled behind the chunked body",
            format!(
                "POST /api/execute HTTP/1.1\r\nHost: {host}\r\n{csrf}\r\nContent-Length: {}\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n{smuggled}",
                body.len() + 10,
                body.len()
            ),
            vec![200, 400],
        ),
        (
            "T-H07 two different Content-Lengths",
            format!(
                "POST /api/execute HTTP/1.1\r\nHost: {host}\r\n{csrf}\r\nContent-Length: {}\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ),
            vec![400],
        ),
        (
            "T-H09 64 KB cookie",
            format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\nCookie: a={}\r\nConnection: close\r\n\r\n", "c".repeat(65_536)),
            vec![200, 400, 431],
        ),
        ("T-H09 200 headers", format!("GET / HTTP/1.1\r\nHost: {host}\r\n{many}Connection: close\r\n\r\n"), vec![400, 431]),
    ];
    let mut failures = Vec::new();
    for (what, request, allowed) in &cases {
        let (status, text) = raw_http(console.front, request.as_bytes()).await;
        if !allowed.contains(&status) {
            failures.push(format!("{what}: expected one of {allowed:?}, got {status}: {text:.200}"));
        }
        let answers = text.matches("HTTP/1.1 ").count();
        if answers != 1 {
            failures.push(format!("{what}: {answers} answers on one connection"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(upstream.seen("/api/v1/smuggled").is_empty(), "a smuggled request reached the upstream");
    let healthy = console.execute(&get("wallets")).await;
    assert_eq!(healthy.status, 200);
    console.console.shutdown().await;
}
