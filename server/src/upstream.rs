//! Upstream client: sends one request to an environment's API with the server-held Bearer token.
//!
//! The destination is always the environment's configured base (see `path`); redirects are never
//! followed; browser headers pass an allowlist; connect and total timeouts and a response size cap
//! bound every request; response headers that could affect the console's own origin are dropped.

pub mod path;

use std::time::Duration;

use std::io::Write as _;

use futures::StreamExt as _;
use http::header::{ACCEPT, ACCEPT_ENCODING, CONTENT_LENGTH, HOST, USER_AGENT};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use secrecy::{ExposeSecret as _, SecretString};
use url::Url;

use crate::clock::Stopwatch;

/// Request headers staff may set. Everything else (Authorization, Cookie, Host, forwarding and
/// hop-by-hop headers) is refused: the console decides those.
const ALLOWED_HEADERS: [&str; 5] = ["accept", "accept-language", "content-type", "idempotency-key", "user-agent"];

/// `x-` headers that are not allowed even though other `x-` headers are: they claim a client address,
/// host, URL or method that proxies and frameworks may believe. Compared after `_` → `-`, because
/// some servers (CGI, WSGI, nginx with `underscores_in_headers`) treat the two alike.
const FORBIDDEN_X_HEADERS: [&str; 11] = [
    "x-real-ip",
    "x-client-ip",
    "x-cluster-client-ip",
    "x-host",
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
    "x-original-url",
    "x-original-host",
    "x-rewrite-url",
    "x-original-forwarded-for",
];

/// Response headers never passed to the browser: they would act on the console's origin.
const DROPPED_RESPONSE_HEADERS: [&str; 14] = [
    "set-cookie",
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
    "trailer",
    "te",
    "content-security-policy",
    "content-security-policy-report-only",
    "strict-transport-security",
    "alt-svc",
    "clear-site-data",
    "refresh",
];

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    #[error("header {0:?} is set by the console and cannot be sent from the browser")]
    ForbiddenHeader(String),
    #[error("header {0:?} has an invalid name or value (control characters are not allowed)")]
    InvalidHeader(String),
    #[error("method {0:?} is not supported; use GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS")]
    Method(String),
    #[error("{environment} did not answer within {seconds} s")]
    Timeout { environment: String, seconds: u64 },
    #[error("{environment} could not be reached: {reason}")]
    Unreachable { environment: String, reason: String },
}

/// Parses the method staff chose. TRACE and CONNECT are never sent.
pub fn parse_method(method: &str) -> Result<Method, UpstreamError> {
    match method.trim().to_ascii_uppercase().as_str() {
        "GET" => Ok(Method::GET),
        "POST" => Ok(Method::POST),
        "PUT" => Ok(Method::PUT),
        "PATCH" => Ok(Method::PATCH),
        "DELETE" => Ok(Method::DELETE),
        "HEAD" => Ok(Method::HEAD),
        "OPTIONS" => Ok(Method::OPTIONS),
        _ => Err(UpstreamError::Method(method.to_owned())),
    }
}

/// Turns browser-supplied headers into a vetted map, refusing what the console must control.
pub fn request_headers(pairs: &[(String, String)]) -> Result<HeaderMap, UpstreamError> {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        // Control characters first: "set by the console" would be the wrong thing to tell someone
        // whose header name merely has a stray CR/LF in it.
        if name.chars().any(char::is_control) {
            return Err(UpstreamError::InvalidHeader(name.clone()));
        }
        let lower = name.trim().to_ascii_lowercase();
        if !browser_may_send(&lower) {
            return Err(UpstreamError::ForbiddenHeader(name.clone()));
        }
        let header_name =
            HeaderName::from_bytes(lower.as_bytes()).map_err(|_| UpstreamError::InvalidHeader(name.clone()))?;
        if value.chars().any(|c| c.is_control() && c != '\t') {
            return Err(UpstreamError::InvalidHeader(name.clone()));
        }
        let header_value =
            HeaderValue::from_str(value.trim()).map_err(|_| UpstreamError::InvalidHeader(name.clone()))?;
        headers.append(header_name, header_value);
    }
    Ok(headers)
}

/// The allowlist: a few standard headers, and `x-` headers that claim nothing about the client,
/// host or method (forwarding headers in any spelling, `x-forwarded-*` as a whole, are refused).
fn browser_may_send(lower: &str) -> bool {
    let normalised = lower.replace('_', "-");
    if ALLOWED_HEADERS.contains(&lower) {
        return true;
    }
    normalised.starts_with("x-")
        && !normalised.starts_with("x-forwarded")
        && !FORBIDDEN_X_HEADERS.contains(&normalised.as_str())
}

/// What to send. `Clone` so a request can be re-sent once after a 401 (see `service`).
#[derive(Clone)]
pub struct Outbound {
    pub environment: String,
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<bytes::Bytes>,
    /// The Bearer token: exposed only on the line that sets the Authorization header.
    pub bearer: Option<SecretString>,
    /// What the request record shows instead of the token: `Bearer <fingerprint>…`.
    pub bearer_fingerprint: Option<String>,
    pub timeout: Duration,
    pub max_response_bytes: usize,
}

/// What came back, with timing and the body (possibly cut at the cap).
#[derive(Debug)]
pub struct Inbound {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The decoded body, at most `max_response_bytes`.
    pub body: Vec<u8>,
    /// Decoded bytes seen before reading stopped (equals `body.len()` unless truncated).
    pub received_bytes: u64,
    /// Bytes read off the connection (compressed, when the upstream compressed).
    pub wire_bytes: u64,
    /// The `Content-Encoding` that was decoded, if any.
    pub decoded_from: Option<String>,
    pub truncated: bool,
    /// Every header that went upstream, in order, with Authorization as `Bearer <fingerprint>…`.
    pub sent_headers: Vec<(String, String)>,
    pub ttfb: Duration,
    pub total: Duration,
}

const USER_AGENT_VALUE: &str = concat!("a55-console/", env!("CARGO_PKG_VERSION"));

/// Builds the shared HTTP client: no redirects, no proxies from the environment, connect timeout.
pub fn http_client(connect_timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(connect_timeout)
        .user_agent(USER_AGENT_VALUE)
        .build()
}

/// The client for API calls. Unlike `http_client` it does not decompress by itself: `send` asks for
/// gzip and decodes it, so it can count the bytes on the wire and stop a gzip bomb at the cap.
pub fn api_client(connect_timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .no_gzip()
        .connect_timeout(connect_timeout)
        .build()
}

/// Collects the decoded body: keeps at most `cap` bytes, counts everything it is offered.
struct CappedSink {
    kept: Vec<u8>,
    cap: usize,
    seen: u64,
}

impl std::io::Write for CappedSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.seen += buf.len() as u64;
        let room = self.cap.saturating_sub(self.kept.len()).min(buf.len());
        self.kept.extend_from_slice(&buf[..room]);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CappedSink {
    fn take(&mut self) -> Self {
        Self { kept: std::mem::take(&mut self.kept), cap: self.cap, seen: self.seen }
    }
}

/// Plain or gzip-decoding body reader.
enum Decoder {
    Plain(CappedSink),
    Gzip(Box<flate2::write::GzDecoder<CappedSink>>),
}

impl Decoder {
    fn new(content_encoding: Option<&str>, cap: usize) -> Self {
        let sink = CappedSink { kept: Vec::new(), cap, seen: 0 };
        match content_encoding {
            Some("gzip" | "x-gzip") => Self::Gzip(Box::new(flate2::write::GzDecoder::new(sink))),
            _ => Self::Plain(sink),
        }
    }
    fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        match self {
            Self::Plain(sink) => sink.write_all(chunk),
            Self::Gzip(decoder) => decoder.write_all(chunk),
        }
    }
    fn sink(&self) -> &CappedSink {
        match self {
            Self::Plain(sink) => sink,
            Self::Gzip(decoder) => decoder.get_ref(),
        }
    }
    fn finish(self) -> std::io::Result<CappedSink> {
        match self {
            Self::Plain(sink) => Ok(sink),
            Self::Gzip(decoder) => decoder.finish(),
        }
    }
}

/// The headers actually sent, in the order the request record shows them.
fn sent_headers(outbound: &Outbound, headers: &HeaderMap) -> Vec<(String, String)> {
    let mut sent = Vec::new();
    if let Some(host) = outbound.url.host_str() {
        let host = match outbound.url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        sent.push((HOST.as_str().to_owned(), host));
    }
    for (name, value) in headers {
        sent.push((name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned()));
    }
    if outbound.bearer.is_some() {
        let shown = format!("Bearer {}…", outbound.bearer_fingerprint.as_deref().unwrap_or("token"));
        sent.push(("authorization".to_owned(), shown));
    }
    if let Some(body) = &outbound.body {
        sent.push((CONTENT_LENGTH.as_str().to_owned(), body.len().to_string()));
    }
    sent
}

/// Sends `outbound` and reads the answer within the total timeout.
pub async fn send(http: &reqwest::Client, outbound: Outbound) -> Result<Inbound, UpstreamError> {
    let started = Stopwatch::start();
    let environment = outbound.environment.clone();
    let timeout = outbound.timeout;
    let mut headers = outbound.headers.clone();
    // Set explicitly (not left to the client's defaults) so the request record is exact.
    if !headers.contains_key(ACCEPT) {
        headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
    }
    if !headers.contains_key(USER_AGENT) {
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
    }
    headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
    let sent = sent_headers(&outbound, &headers);
    let work = async {
        let mut request = http.request(outbound.method, outbound.url).headers(headers);
        if let Some(token) = &outbound.bearer {
            let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret())).map_err(|_| {
                UpstreamError::Unreachable {
                    environment: environment.clone(),
                    reason: "the access token is not a valid header value".into(),
                }
            })?;
            value.set_sensitive(true);
            request = request.header(http::header::AUTHORIZATION, value);
        }
        if let Some(body) = outbound.body {
            request = request.body(body);
        }
        let response = request.send().await.map_err(|error| transport_error(&environment, &error))?;
        let ttfb = started.elapsed();
        let status = response.status().as_u16();
        let headers = response_headers(response.headers());
        let encoding = response
            .headers()
            .get(http::header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_ascii_lowercase());
        let mut decoder = Decoder::new(encoding.as_deref(), outbound.max_response_bytes);
        let decoded_from = matches!(decoder, Decoder::Gzip(_)).then(|| encoding.clone().unwrap_or_default());
        let malformed = || UpstreamError::Unreachable {
            environment: environment.clone(),
            reason: "the response was cut off or malformed".into(),
        };
        let mut wire: u64 = 0;
        let mut truncated = false;
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|error| transport_error(&environment, &error))?;
            wire += chunk.len() as u64;
            decoder.write(&chunk).map_err(|_| malformed())?;
            if decoder.sink().seen > outbound.max_response_bytes as u64 {
                truncated = true;
                // Stop reading: an endless, enormous or highly compressed body must not hold memory or time.
                break;
            }
        }
        let sink = if truncated {
            match decoder {
                Decoder::Plain(sink) => sink,
                Decoder::Gzip(mut decoder) => decoder.get_mut().take(),
            }
        } else {
            decoder.finish().map_err(|_| malformed())?
        };
        Ok(Inbound {
            status,
            headers,
            received_bytes: sink.seen,
            body: sink.kept,
            wire_bytes: wire,
            decoded_from,
            truncated,
            sent_headers: sent.clone(),
            ttfb,
            total: started.elapsed(),
        })
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(result) => result,
        Err(_) => Err(UpstreamError::Timeout { environment: outbound.environment, seconds: timeout.as_secs() }),
    }
}

fn transport_error(environment: &str, error: &reqwest::Error) -> UpstreamError {
    let reason = if error.is_connect() {
        "connection refused or failed"
    } else if error.is_body() || error.is_decode() {
        "the response was cut off or malformed"
    } else if error.is_timeout() {
        "timed out"
    } else {
        "the response was not valid HTTP"
    };
    UpstreamError::Unreachable { environment: environment.to_owned(), reason: reason.to_owned() }
}

/// Keeps headers staff need to see, drops the ones that would act on the console's origin, and
/// hop-by-hop headers: the fixed ones, `proxy-*`, and any header the `Connection` header names.
pub fn response_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    let named_by_connection: Vec<String> = headers
        .get_all(http::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .collect();
    headers
        .iter()
        .filter(|(name, _)| {
            let name = name.as_str();
            !DROPPED_RESPONSE_HEADERS.contains(&name)
                && !name.starts_with("access-control-")
                && !name.starts_with("proxy-")
                && !named_by_connection.iter().any(|n| n == name)
        })
        .map(|(name, value)| (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(n: &str, v: &str) -> (String, String) {
        (n.to_owned(), v.to_owned())
    }

    #[test]
    fn headers_the_console_controls_are_refused() {
        for name in [
            "Authorization",
            "aUtHoRiZaTiOn",
            "Cookie",
            "Host",
            "Connection",
            "Transfer-Encoding",
            "TE",
            "Upgrade",
            "Proxy-Authorization",
            "X-Forwarded-For",
            "X-Real-IP",
            "Forwarded",
            "Keep-Alive",
            "X-Forwarded_For",
            "x_real_ip",
            "X-Forwarded-Port",
            "X-Forwarded-Prefix",
            "X-Client-IP",
            "X-HTTP-Method",
        ] {
            assert_eq!(
                request_headers(&[pair(name, "x")]),
                Err(UpstreamError::ForbiddenHeader(name.to_owned())),
                "{name}"
            );
        }
    }

    #[test]
    fn crlf_and_nul_in_values_are_refused() {
        for value in ["a\r\nAuthorization: x", "a\0b", "a\nb"] {
            assert!(matches!(request_headers(&[pair("X-Foo", value)]), Err(UpstreamError::InvalidHeader(_))));
        }
        assert!(matches!(
            request_headers(&[pair("X Foo", "a")]),
            Err(UpstreamError::ForbiddenHeader(_) | UpstreamError::InvalidHeader(_))
        ));
    }

    #[test]
    fn a_control_character_in_a_name_is_reported_as_such_whatever_the_name() {
        for name in ["Accept\r\nX-Injected", "Authorization\n", "X-F\0oo"] {
            assert_eq!(
                request_headers(&[pair(name, "x")]),
                Err(UpstreamError::InvalidHeader(name.to_owned())),
                "{name:?}"
            );
        }
    }

    #[test]
    fn ordinary_headers_pass() {
        let headers = request_headers(&[
            pair("Idempotency-Key", "k-1"),
            pair("X-Correlation-Id", "abc"),
            pair("Accept", "application/json"),
        ])
        .unwrap();
        assert_eq!(headers.len(), 3);
        assert_eq!(headers["idempotency-key"], "k-1");
    }

    #[test]
    fn response_headers_that_act_on_our_origin_are_dropped() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("set-cookie", "__Host-sid=evil"),
            ("access-control-allow-origin", "*"),
            ("content-security-policy", "default-src *"),
            ("connection", "close, x-hop"),
            ("x-hop", "named by Connection"),
            ("proxy-authenticate", "Basic realm=x"),
            ("x-request-id", "req_1"),
            ("content-type", "application/json"),
        ] {
            headers.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
        }
        let kept: Vec<_> = response_headers(&headers).into_iter().map(|(n, _)| n).collect();
        assert_eq!(kept, ["x-request-id", "content-type"]);
    }

    #[test]
    fn trace_and_connect_are_never_sent() {
        assert!(parse_method("TRACE").is_err());
        assert!(parse_method("CONNECT").is_err());
        assert_eq!(parse_method("get").unwrap(), Method::GET);
    }
}
