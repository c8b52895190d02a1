//! Upstream client: sends one request to an environment's API with the server-held Bearer token.
//!
//! The destination is always the environment's configured base (see `path`); redirects are never
//! followed; browser headers pass an allowlist; connect and total timeouts and a response size cap
//! bound every request; response headers that could affect the console's own origin are dropped.

pub mod path;

use std::time::{Duration, Instant};

use futures::StreamExt as _;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use url::Url;

/// Request headers staff may set. Everything else (Authorization, Cookie, Host, forwarding and
/// hop-by-hop headers) is refused: the console decides those.
const ALLOWED_HEADERS: [&str; 5] = ["accept", "accept-language", "content-type", "idempotency-key", "user-agent"];

/// `x-` headers that are not allowed even though other `x-` headers are.
const FORBIDDEN_X_HEADERS: [&str; 6] = [
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
    "x-http-method-override",
    "x-original-url",
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
        let lower = name.trim().to_ascii_lowercase();
        let allowed = ALLOWED_HEADERS.contains(&lower.as_str())
            || (lower.starts_with("x-") && !FORBIDDEN_X_HEADERS.contains(&lower.as_str()));
        if !allowed {
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

/// What to send. `Clone` so a request can be re-sent once after a 401 (see `service`).
#[derive(Clone)]
pub struct Outbound {
    pub environment: String,
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<bytes::Bytes>,
    /// The Bearer token, attached here and nowhere else.
    pub bearer: Option<String>,
    pub timeout: Duration,
    pub max_response_bytes: usize,
}

/// What came back, with timing and the body (possibly cut at the cap).
#[derive(Debug)]
pub struct Inbound {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub received_bytes: u64,
    pub truncated: bool,
    pub ttfb: Duration,
    pub total: Duration,
}

/// Builds the shared HTTP client: no redirects, no proxies from the environment, connect timeout.
pub fn http_client(connect_timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(connect_timeout)
        .user_agent(concat!("a55-console/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Sends `outbound` and reads the answer within the total timeout.
pub async fn send(http: &reqwest::Client, outbound: Outbound) -> Result<Inbound, UpstreamError> {
    let started = Instant::now();
    let environment = outbound.environment.clone();
    let timeout = outbound.timeout;
    let work = async {
        let mut request = http.request(outbound.method, outbound.url).headers(outbound.headers);
        if let Some(token) = &outbound.bearer {
            let mut value =
                HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| UpstreamError::Unreachable {
                    environment: environment.clone(),
                    reason: "the access token is not a valid header value".into(),
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
        let mut body = Vec::new();
        let mut received: u64 = 0;
        let mut truncated = false;
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|error| transport_error(&environment, &error))?;
            received += chunk.len() as u64;
            let room = outbound.max_response_bytes.saturating_sub(body.len());
            if chunk.len() > room {
                body.extend_from_slice(&chunk[..room]);
                truncated = true;
                // Stop reading: an endless or enormous body must not hold memory or time.
                break;
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Inbound { status, headers, body, received_bytes: received, truncated, ttfb, total: started.elapsed() })
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

/// Keeps headers staff need to see, drops the ones that would act on the console's origin.
pub fn response_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(name, _)| {
            let name = name.as_str();
            !DROPPED_RESPONSE_HEADERS.contains(&name) && !name.starts_with("access-control-")
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
            ("connection", "close"),
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
