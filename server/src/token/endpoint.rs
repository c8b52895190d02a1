//! Talking to a token endpoint: the client-credentials request (both client authentication methods)
//! and the strict validation of its answer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::{fingerprint, AccessToken, TokenError, TokenSource};
use crate::config::ClientAuth;

/// Longest `expires_in` accepted: Cognito allows at most one day; anything beyond is a broken answer.
pub const MAX_LIFETIME_SECS: u64 = 2 * 86_400;

/// Error codes (RFC 6749 §5.2) that no retry can fix: the credentials or the request are wrong.
const PERMANENT_CODES: [&str; 4] = ["invalid_client", "unauthorized_client", "invalid_grant", "invalid_scope"];

/// The raw answer of a token endpoint: status, `Retry-After` and body, before validation.
pub struct TokenResponse {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub body: bytes::Bytes,
}

/// POSTs the client-credentials grant. The secret goes only into this request.
pub async fn request_token(
    http: &reqwest::Client,
    source: &TokenSource,
    secret: &SecretString,
) -> Result<TokenResponse, TokenError> {
    let mut form: Vec<(&str, &str)> = vec![("grant_type", "client_credentials")];
    if let Some(scope) = &source.scope {
        form.push(("scope", scope));
    }
    let mut request = http.post(source.token_url.clone()).timeout(source.timeout);
    match source.auth {
        ClientAuth::SecretPost => {
            form.push(("client_id", &source.client_id));
            form.push(("client_secret", secret.expose_secret()));
        }
        ClientAuth::SecretBasic => {
            let mut value =
                http::HeaderValue::from_str(&basic_authorization(&source.client_id, secret)).map_err(|_| {
                    TokenError::BadResponse {
                        environment: source.environment.clone(),
                        reason: "the client id or secret cannot be sent in a header".into(),
                    }
                })?;
            value.set_sensitive(true);
            request = request.header(http::header::AUTHORIZATION, value);
        }
    }
    let response = request.form(&form).send().await.map_err(|error| transport_error(source, &error))?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = response.bytes().await.map_err(|error| transport_error(source, &error))?;
    Ok(TokenResponse { status, retry_after, body })
}

fn transport_error(source: &TokenSource, error: &reqwest::Error) -> TokenError {
    if error.is_timeout() {
        TokenError::Timeout { environment: source.environment.clone(), seconds: source.timeout.as_secs() }
    } else {
        // reqwest's Display can include the URL but never the form body or headers; still, say less.
        let reason = if error.is_connect() { "connection failed".to_owned() } else { "transport error".to_owned() };
        TokenError::Unreachable { environment: source.environment.clone(), reason }
    }
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))`, as RFC 6749 §2.3.1 requires.
pub fn basic_authorization(client_id: &str, secret: &SecretString) -> String {
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let pair = format!("{}:{}", encode(client_id), encode(secret.expose_secret()));
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
}

#[derive(Deserialize)]
struct SuccessBody {
    access_token: Option<String>,
    token_type: Option<String>,
    expires_in: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: Option<String>,
}

/// Validates a token endpoint answer. Anything odd is an error, never a token that lasts forever.
pub fn accept(
    response: TokenResponse,
    source: &TokenSource,
    secret_version: u64,
    now: Instant,
    now_wall_ms: i64,
) -> Result<Arc<AccessToken>, TokenError> {
    let environment = || source.environment.clone();
    let bad = |reason: &str| TokenError::BadResponse { environment: environment(), reason: reason.to_owned() };
    if response.status != 200 {
        let code = serde_json::from_slice::<ErrorBody>(&response.body).ok().and_then(|b| b.error);
        return Err(match (response.status, code.as_deref()) {
            (_, Some(code)) if PERMANENT_CODES.contains(&code) => {
                TokenError::Rejected { environment: environment(), code: code.to_owned() }
            }
            (401, code) => TokenError::Rejected {
                environment: environment(),
                // Only RFC 6749 codes are echoed: anything else could be arbitrary text from the endpoint.
                code: code
                    .filter(|c| c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
                    .unwrap_or("HTTP 401")
                    .to_owned(),
            },
            (status, _) => TokenError::Endpoint {
                environment: environment(),
                status,
                retry_after_secs: response.retry_after.map(|d| d.as_secs()),
            },
        });
    }
    let body: SuccessBody = serde_json::from_slice(&response.body).map_err(|_| bad("the body is not a JSON object"))?;
    let token = body.access_token.filter(|t| !t.is_empty()).ok_or_else(|| bad("access_token is missing"))?;
    match body.token_type.as_deref() {
        Some(kind) if kind.eq_ignore_ascii_case("bearer") => {}
        Some(_) => return Err(bad("token_type is not Bearer")),
        None => return Err(bad("token_type is missing")),
    }
    let lifetime_secs = match body.expires_in {
        Some(serde_json::Value::Number(n)) => {
            n.as_u64().ok_or_else(|| bad("expires_in is not a positive whole number"))?
        }
        Some(_) => return Err(bad("expires_in is not a number")),
        None => return Err(bad("expires_in is missing")),
    };
    if lifetime_secs == 0 || lifetime_secs > MAX_LIFETIME_SECS {
        return Err(bad(&format!("expires_in = {lifetime_secs} is outside 1..={MAX_LIFETIME_SECS} seconds")));
    }
    let lifetime = Duration::from_secs(lifetime_secs);
    let skew = source.refresh_skew.min(lifetime / 2);
    Ok(Arc::new(AccessToken {
        fingerprint: fingerprint(&token),
        header: decode_part(&token, 0),
        claims: decode_part(&token, 1),
        secret: SecretString::from(token),
        secret_version,
        obtained_at: now,
        obtained_at_wall_ms: now_wall_ms,
        lifetime,
        refresh_at: now + (lifetime - skew),
        expires_at: now + lifetime,
    }))
}

/// One JSON part of a JWT (0 = header, 1 = claims), decoded for display only: the console does not
/// verify or trust it, and the signature (part 2) is never decoded or shown.
pub fn decode_part(token: &str, index: usize) -> Option<serde_json::Value> {
    let mut parts = token.split('.');
    if parts.clone().count() != 3 {
        return None;
    }
    let part = parts.nth(index.min(1))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok().filter(serde_json::Value::is_object)
}
