//! Token broker: one cached client-credentials access token per (environment, token URL, client, scope).
//!
//! States: empty → fresh → stale (inside the refresh skew: the cached token is served while one
//! background refresh runs) → expired (callers wait on one refresh). Exactly one token request is in
//! flight per key; every waiter shares its outcome. Nothing refreshes on a timer: a token is only
//! requested because someone needs it (Cognito bills every request).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::wire::{TokenState, TokenView};
use base64::Engine as _;
use futures::future::{BoxFuture, FutureExt, Shared};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use url::Url;

use crate::clock::SharedClock;
use crate::config::ClientAuth;

/// Longest `expires_in` accepted: Cognito allows at most one day; anything beyond is a broken answer.
const MAX_LIFETIME_SECS: u64 = 2 * 86_400;

/// Everything that changes which token you get. Two requests share a token only if all of it matches.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TokenKey {
    pub environment: String,
    pub token_url: String,
    pub client_id: String,
    pub scope: Option<String>,
}

/// How to obtain a token for one environment.
#[derive(Clone)]
pub struct TokenSource {
    pub environment: String,
    pub token_url: Url,
    pub client_id: String,
    pub client_secret: SecretString,
    pub scope: Option<String>,
    pub auth: ClientAuth,
    pub timeout: Duration,
    pub refresh_skew: Duration,
}

impl TokenSource {
    pub fn key(&self) -> TokenKey {
        TokenKey {
            environment: self.environment.clone(),
            token_url: self.token_url.to_string(),
            client_id: self.client_id.clone(),
            scope: self.scope.clone(),
        }
    }
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSource")
            .field("environment", &self.environment)
            .field("token_url", &self.token_url.as_str())
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("scope", &self.scope)
            .field("auth", &self.auth)
            .finish()
    }
}

/// A cached access token. `Debug` never prints the token.
pub struct AccessToken {
    secret: SecretString,
    pub obtained_at: Instant,
    pub obtained_at_wall_ms: i64,
    pub lifetime: Duration,
    /// Start of the stale window: skew clamped to at most half the lifetime.
    pub refresh_at: Instant,
    pub expires_at: Instant,
    pub fingerprint: String,
    pub claims: Option<serde_json::Value>,
}

impl AccessToken {
    /// The only way to read the token: used where the `Authorization` header is set, and for redaction.
    pub fn expose(&self) -> &str {
        self.secret.expose_secret()
    }

    pub fn state_at(&self, now: Instant) -> TokenState {
        if now >= self.expires_at {
            TokenState::Expired
        } else if now >= self.refresh_at {
            TokenState::Stale
        } else {
            TokenState::Fresh
        }
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("fingerprint", &self.fingerprint)
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

/// A short, stable, non-reversible label for a token: the first 8 hex characters of its SHA-256.
pub fn fingerprint(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    hex::encode(&digest[..4])
}

/// Why no token could be had. Messages name the environment, never a secret or a response body.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("credentials rejected by the token endpoint for {environment} ({code})")]
    Rejected { environment: String, code: String },
    #[error("the token endpoint for {environment} answered HTTP {status}")]
    Endpoint { environment: String, status: u16 },
    #[error("the token endpoint for {environment} did not answer within {seconds} s")]
    Timeout { environment: String, seconds: u64 },
    #[error("the token endpoint for {environment} could not be reached ({reason})")]
    Unreachable { environment: String, reason: String },
    #[error("the token endpoint for {environment} sent an unusable answer: {reason}")]
    BadResponse { environment: String, reason: String },
}

type Fetch = Shared<BoxFuture<'static, Result<Arc<AccessToken>, TokenError>>>;

#[derive(Default)]
struct Slot {
    token: Option<Arc<AccessToken>>,
    inflight: Option<Fetch>,
    last_error: Option<TokenError>,
}

/// The broker. Cheap to share behind an `Arc`.
pub struct TokenBroker {
    http: reqwest::Client,
    clock: SharedClock,
    slots: Mutex<HashMap<TokenKey, Arc<Mutex<Slot>>>>,
}

impl TokenBroker {
    pub fn new(http: reqwest::Client, clock: SharedClock) -> Self {
        Self { http, clock, slots: Mutex::new(HashMap::new()) }
    }

    fn slot(&self, key: TokenKey) -> Arc<Mutex<Slot>> {
        let mut slots = self.slots.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        slots.entry(key).or_default().clone()
    }

    /// A valid token for `source`: cached when fresh, cached plus a background refresh when stale,
    /// otherwise the outcome of the one in-flight request.
    pub async fn token(&self, source: &TokenSource) -> Result<Arc<AccessToken>, TokenError> {
        let slot = self.slot(source.key());
        let fetch = {
            let mut guard = slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let now = self.clock.now();
            match guard.token.as_ref().map(|t| (t.state_at(now), t.clone())) {
                Some((TokenState::Fresh, token)) => return Ok(token),
                Some((TokenState::Stale, token)) => {
                    if guard.inflight.is_none() {
                        let fetch = self.start_fetch(source, &slot);
                        guard.inflight = Some(fetch.clone());
                        // Drive the refresh even though nobody awaits it.
                        tokio::spawn(fetch);
                    }
                    return Ok(token);
                }
                _ => match &guard.inflight {
                    Some(fetch) => fetch.clone(),
                    None => {
                        let fetch = self.start_fetch(source, &slot);
                        guard.inflight = Some(fetch.clone());
                        fetch
                    }
                },
            }
        };
        fetch.await
    }

    /// Drops the cached token for `source` (after an upstream 401, or on secret rotation).
    pub fn invalidate(&self, source: &TokenSource) {
        let slot = self.slot(source.key());
        let mut guard = slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        guard.token = None;
    }

    /// Metadata for the UI. Never requests a token.
    pub fn view(&self, source: &TokenSource) -> TokenView {
        let slot = self.slot(source.key());
        let guard = slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = self.clock.now();
        let now_wall = self.clock.wall_ms();
        let last_error = guard.last_error.as_ref().map(ToString::to_string);
        match &guard.token {
            None => TokenView {
                environment: source.environment.clone(),
                state: TokenState::Empty,
                obtained_at_ms: None,
                expires_at_ms: None,
                seconds_left: None,
                lifetime_secs: None,
                refresh_in_secs: None,
                fingerprint: None,
                claims: None,
                last_error,
            },
            Some(token) => {
                let left = token.expires_at.saturating_duration_since(now);
                TokenView {
                    environment: source.environment.clone(),
                    state: token.state_at(now),
                    obtained_at_ms: Some(token.obtained_at_wall_ms),
                    expires_at_ms: Some(now_wall + i64::try_from(left.as_millis()).unwrap_or(i64::MAX)),
                    seconds_left: Some(left.as_secs_f64()),
                    lifetime_secs: Some(token.lifetime.as_secs()),
                    refresh_in_secs: Some(token.refresh_at.saturating_duration_since(now).as_secs_f64()),
                    fingerprint: Some(token.fingerprint.clone()),
                    claims: token.claims.clone(),
                    last_error,
                }
            }
        }
    }

    fn start_fetch(&self, source: &TokenSource, slot: &Arc<Mutex<Slot>>) -> Fetch {
        let http = self.http.clone();
        let clock = self.clock.clone();
        let source = source.clone();
        let environment = source.environment.clone();
        let slot = slot.clone();
        // Spawned so the request completes and is cached even if every caller goes away.
        let task = tokio::spawn(async move {
            let started = clock.now();
            let result = request_token(&http, &source)
                .await
                .and_then(|response| accept(response, &source, clock.now(), clock.wall_ms()));
            let elapsed = clock.now().saturating_duration_since(started);
            let mut guard = slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            guard.inflight = None;
            match &result {
                Ok(token) => {
                    tracing::info!(
                        environment = %source.environment,
                        fingerprint = %token.fingerprint,
                        lifetime_secs = token.lifetime.as_secs(),
                        latency_ms = elapsed.as_millis() as u64,
                        "access token obtained"
                    );
                    guard.token = Some(token.clone());
                    guard.last_error = None;
                }
                Err(error) => {
                    tracing::warn!(environment = %source.environment, error = %error, "token request failed");
                    guard.last_error = Some(error.clone());
                }
            }
            result
        });
        async move {
            task.await.unwrap_or_else(|join_error| {
                Err(TokenError::Unreachable { environment, reason: format!("token task failed: {join_error}") })
            })
        }
        .boxed()
        .shared()
    }
}

/// The raw answer of a token endpoint: status and body, before validation.
pub struct TokenResponse {
    pub status: u16,
    pub body: bytes::Bytes,
}

/// POSTs the client-credentials grant. The secret goes only into this request.
async fn request_token(http: &reqwest::Client, source: &TokenSource) -> Result<TokenResponse, TokenError> {
    let mut form: Vec<(&str, &str)> = vec![("grant_type", "client_credentials")];
    if let Some(scope) = &source.scope {
        form.push(("scope", scope));
    }
    let mut request = http.post(source.token_url.clone()).timeout(source.timeout);
    match source.auth {
        ClientAuth::SecretPost => {
            form.push(("client_id", &source.client_id));
            form.push(("client_secret", source.client_secret.expose_secret()));
        }
        ClientAuth::SecretBasic => {
            let mut value = http::HeaderValue::from_str(&basic_authorization(&source.client_id, &source.client_secret))
                .map_err(|_| TokenError::BadResponse {
                    environment: source.environment.clone(),
                    reason: "the client id or secret cannot be sent in a header".into(),
                })?;
            value.set_sensitive(true);
            request = request.header(http::header::AUTHORIZATION, value);
        }
    }
    let response = request.form(&form).send().await.map_err(|error| transport_error(source, &error))?;
    let status = response.status().as_u16();
    let body = response.bytes().await.map_err(|error| transport_error(source, &error))?;
    Ok(TokenResponse { status, body })
}

fn transport_error(source: &TokenSource, error: &reqwest::Error) -> TokenError {
    if error.is_timeout() {
        TokenError::Timeout { environment: source.environment.clone(), seconds: source.timeout.as_secs() }
    } else {
        // reqwest's Display can include the URL but never the form body or headers.
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
    now: Instant,
    now_wall_ms: i64,
) -> Result<Arc<AccessToken>, TokenError> {
    let environment = || source.environment.clone();
    let bad = |reason: &str| TokenError::BadResponse { environment: environment(), reason: reason.to_owned() };
    if response.status != 200 {
        let code = serde_json::from_slice::<ErrorBody>(&response.body).ok().and_then(|b| b.error);
        return Err(match (response.status, code.as_deref()) {
            (_, Some(code @ ("invalid_client" | "unauthorized_client" | "invalid_grant" | "invalid_scope"))) => {
                TokenError::Rejected { environment: environment(), code: code.to_owned() }
            }
            (401, code) => {
                TokenError::Rejected { environment: environment(), code: code.unwrap_or("HTTP 401").to_owned() }
            }
            (status, _) => TokenError::Endpoint { environment: environment(), status },
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
        claims: decode_claims(&token),
        secret: SecretString::from(token),
        obtained_at: now,
        obtained_at_wall_ms: now_wall_ms,
        lifetime,
        refresh_at: now + (lifetime - skew),
        expires_at: now + lifetime,
    }))
}

/// The JWT payload, decoded for display only (not verified: the console does not trust it for anything).
pub fn decode_claims(token: &str) -> Option<serde_json::Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok().filter(serde_json::Value::is_object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};

    fn source(skew: u64) -> TokenSource {
        TokenSource {
            environment: "sandbox".into(),
            token_url: Url::parse("http://127.0.0.1:9/oauth2/token").unwrap(),
            client_id: "client".into(),
            client_secret: SecretString::from("secret".to_owned()),
            scope: None,
            auth: ClientAuth::SecretPost,
            timeout: Duration::from_secs(5),
            refresh_skew: Duration::from_secs(skew),
        }
    }

    fn ok_body(expires_in: &str) -> TokenResponse {
        TokenResponse {
            status: 200,
            body: format!(
                r#"{{"access_token":"a.eyJzdWIiOiJ4In0.c","token_type":"Bearer","expires_in":{expires_in}}}"#
            )
            .into(),
        }
    }

    #[test]
    fn a_good_answer_becomes_a_token_with_clamped_skew() {
        let clock = ManualClock::new();
        let token = accept(ok_body("3600"), &source(300), clock.now(), clock.wall_ms()).unwrap();
        assert_eq!(token.lifetime, Duration::from_secs(3600));
        assert_eq!(token.refresh_at - token.obtained_at, Duration::from_secs(3300));
        assert_eq!(token.claims, Some(serde_json::json!({"sub": "x"})));
        // A 60 s token with a 300 s skew refreshes at half-life, not immediately.
        let short = accept(ok_body("60"), &source(300), clock.now(), clock.wall_ms()).unwrap();
        assert_eq!(short.refresh_at - short.obtained_at, Duration::from_secs(30));
    }

    #[test]
    fn odd_answers_are_errors_and_never_tokens_that_last_forever() {
        let clock = ManualClock::new();
        let cases = [
            (r#"{"token_type":"Bearer","expires_in":3600}"#, "access_token is missing"),
            (r#"{"access_token":"t","token_type":"mac","expires_in":3600}"#, "token_type is not Bearer"),
            (r#"{"access_token":"t","expires_in":3600}"#, "token_type is missing"),
            (r#"{"access_token":"t","token_type":"Bearer"}"#, "expires_in is missing"),
            (r#"{"access_token":"t","token_type":"Bearer","expires_in":0}"#, "outside"),
            (r#"{"access_token":"t","token_type":"Bearer","expires_in":-1}"#, "not a positive whole number"),
            (r#"{"access_token":"t","token_type":"Bearer","expires_in":1e12}"#, "not a positive whole number"),
            (r#"{"access_token":"t","token_type":"Bearer","expires_in":999999999}"#, "outside"),
            (r#"{"access_token":"t","token_type":"Bearer","expires_in":"3600"}"#, "not a number"),
            ("not json", "not a JSON object"),
        ];
        for (body, expected) in cases {
            let error =
                accept(TokenResponse { status: 200, body: body.to_owned().into() }, &source(300), clock.now(), 0)
                    .unwrap_err();
            assert!(error.to_string().contains(expected), "{body}: {error}");
        }
    }

    #[test]
    fn rejected_credentials_say_so_without_the_secret() {
        let clock = ManualClock::new();
        for (status, body) in
            [(400, r#"{"error":"invalid_client"}"#), (401, r#"{"error":"x","client_secret":"secret"}"#)]
        {
            let error = accept(TokenResponse { status, body: body.to_owned().into() }, &source(300), clock.now(), 0)
                .unwrap_err();
            let text = error.to_string();
            assert!(text.starts_with("credentials rejected by the token endpoint for sandbox"), "{text}");
            assert!(!text.contains("secret"), "{text}");
        }
        let error =
            accept(TokenResponse { status: 503, body: "busy".into() }, &source(300), clock.now(), 0).unwrap_err();
        assert_eq!(error, TokenError::Endpoint { environment: "sandbox".into(), status: 503 });
    }

    #[test]
    fn basic_authorization_form_encodes_id_and_secret_before_base64() {
        let header = basic_authorization("id:1", &SecretString::from("a+b%c:d/e=f".to_owned()));
        let decoded = base64::engine::general_purpose::STANDARD.decode(header.trim_start_matches("Basic ")).unwrap();
        assert_eq!(String::from_utf8(decoded).unwrap(), "id%3A1:a%2Bb%25c%3Ad%2Fe%3Df");
    }

    #[test]
    fn states_follow_the_clock() {
        let clock = ManualClock::new();
        let token = accept(ok_body("600"), &source(300), clock.now(), 0).unwrap();
        assert_eq!(token.state_at(clock.now()), TokenState::Fresh);
        clock.advance(Duration::from_secs(301));
        assert_eq!(token.state_at(clock.now()), TokenState::Stale);
        clock.advance(Duration::from_secs(300));
        assert_eq!(token.state_at(clock.now()), TokenState::Expired);
    }

    #[test]
    fn debug_never_prints_the_token_or_secret() {
        let clock = ManualClock::new();
        let token = accept(ok_body("600"), &source(300), clock.now(), 0).unwrap();
        assert!(!format!("{token:?}").contains("eyJ"));
        assert!(!format!("{:?}", source(1)).contains("secret\""));
        assert!(format!("{:?}", source(1)).contains("[redacted]"));
    }

    #[test]
    fn fingerprints_are_short_and_stable() {
        assert_eq!(fingerprint("abc"), "ba7816bf");
        assert_eq!(fingerprint("abc").len(), 8);
    }
}
