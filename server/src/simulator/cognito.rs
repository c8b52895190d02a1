//! `POST /oauth2/token`: Cognito's client-credentials token endpoint, with its error behaviour.

use std::io::Write as _;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{ALLOW, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, HOST, PRAGMA};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine as _;
use serde::Serialize;

use super::{jwt, lock, now_secs, Simulator};

/// Cognito's exact error media type, which some clients match literally.
const ERROR_CONTENT_TYPE: &str = "application/json;charset=UTF-8";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OAuthError {
    InvalidRequest,
    InvalidClient,
    UnsupportedGrantType,
    InvalidScope,
}

impl OAuthError {
    fn code(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = format!("{{\"error\":\"{}\"}}", self.code());
        (StatusCode::BAD_REQUEST, [(CONTENT_TYPE, ERROR_CONTENT_TYPE)], body).into_response()
    }
}

#[derive(Serialize)]
struct TokenResponse<'a> {
    access_token: &'a str,
    expires_in: u64,
    token_type: &'static str,
}

pub(super) async fn token(State(sim): State<Simulator>, method: Method, headers: HeaderMap, body: Bytes) -> Response {
    sim.inner.token_requests.fetch_add(1, Ordering::SeqCst);
    if method != Method::POST {
        return (StatusCode::METHOD_NOT_ALLOWED, [(ALLOW, "POST")]).into_response();
    }
    match issue(&sim, &headers, &body) {
        Ok(response) => response,
        Err(error) => {
            tracing::debug!(error = error.code(), "simulated token request refused");
            error.into_response()
        }
    }
}

fn issue(sim: &Simulator, headers: &HeaderMap, body: &[u8]) -> Result<Response, OAuthError> {
    if !is_form_content_type(headers) {
        return Err(OAuthError::InvalidRequest);
    }
    let form = Form::parse(body)?;
    match form.get("grant_type") {
        None => return Err(OAuthError::InvalidRequest),
        Some("client_credentials") => {}
        Some(_) => return Err(OAuthError::UnsupportedGrantType),
    }
    let client_id = authenticate(sim, headers, &form)?;
    let scope = granted_scope(&sim.settings().allowed_scopes, form.get("scope"))?;

    let settings = sim.settings();
    let issuer = sim.issuer().unwrap_or_else(|| issuer_from_host(headers));
    let lifetime = settings.token_lifetime.as_secs();
    let claims = jwt::Claims::new(&client_id, scope, issuer, now_secs(), lifetime);
    let token = jwt::sign(&sim.inner.mac, &claims);
    record_issued_token(sim, &token);
    sim.inner.tokens_issued.fetch_add(1, Ordering::SeqCst);
    tracing::debug!(client_id = %client_id, jti = %claims.jti, "simulated token issued");

    let body = TokenResponse { access_token: &token, expires_in: lifetime, token_type: "Bearer" };
    Ok(([(CACHE_CONTROL, "no-store"), (PRAGMA, "no-cache")], axum::Json(body)).into_response())
}

fn is_form_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
}

/// The decoded form body; RFC 6749 §3.2 forbids repeating a parameter, so duplicates are refused.
struct Form(Vec<(String, String)>);

impl Form {
    fn parse(body: &[u8]) -> Result<Self, OAuthError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (key, value) in url::form_urlencoded::parse(body) {
            if pairs.iter().any(|(k, _)| *k == key) {
                return Err(OAuthError::InvalidRequest);
            }
            pairs.push((key.into_owned(), value.into_owned()));
        }
        Ok(Self(pairs))
    }

    /// Empty values count as absent, as they do for Cognito.
    fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, v)| k == key && !v.is_empty()).map(|(_, v)| v.as_str())
    }
}

/// Returns the authenticated client_id.
fn authenticate(sim: &Simulator, headers: &HeaderMap, form: &Form) -> Result<String, OAuthError> {
    let (client_id, secret) = match (headers.get(AUTHORIZATION), form.get("client_secret")) {
        (Some(_), Some(_)) => return Err(OAuthError::InvalidRequest),
        (Some(header), None) => {
            let (id, secret) = basic_credentials(header.to_str().ok())?;
            // A body client_id next to Basic is allowed by RFC 6749 only if it names the same client.
            if form.get("client_id").is_some_and(|body_id| body_id != id) {
                return Err(OAuthError::InvalidRequest);
            }
            (id, secret)
        }
        (None, Some(secret)) => {
            let id = form.get("client_id").ok_or(OAuthError::InvalidClient)?;
            (id.to_owned(), secret.to_owned())
        }
        (None, None) => return Err(OAuthError::InvalidClient),
    };
    // Check the secret even for an unknown client so both failures take the same time.
    let secret_ok = sim.secret_matches(&secret);
    if client_id == sim.settings().client_id && secret_ok {
        Ok(client_id)
    } else {
        Err(OAuthError::InvalidClient)
    }
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))`, decoded per RFC 6749 §2.3.1.
fn basic_credentials(header: Option<&str>) -> Result<(String, String), OAuthError> {
    let header = header.ok_or(OAuthError::InvalidClient)?;
    let (scheme, encoded) = header.trim().split_once(' ').ok_or(OAuthError::InvalidClient)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(OAuthError::InvalidClient);
    }
    let encoded = encoded.trim();
    let decoded =
        STANDARD.decode(encoded).or_else(|_| STANDARD_NO_PAD.decode(encoded)).map_err(|_| OAuthError::InvalidClient)?;
    let decoded = String::from_utf8(decoded).map_err(|_| OAuthError::InvalidClient)?;
    let (id, secret) = decoded.split_once(':').ok_or(OAuthError::InvalidClient)?;
    let id = form_decode(id).ok_or(OAuthError::InvalidClient)?;
    let secret = form_decode(secret).ok_or(OAuthError::InvalidClient)?;
    Ok((id, secret))
}

/// application/x-www-form-urlencoded decoding of one component: `+` is a space, then percent-decoding.
fn form_decode(text: &str) -> Option<String> {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced).decode_utf8().ok().map(|s| s.into_owned())
}

/// No scope means every allowed scope; an unknown one fails the whole request (the stricter Cognito reading).
fn granted_scope(allowed: &[String], requested: Option<&str>) -> Result<String, OAuthError> {
    let Some(requested) = requested else {
        return Ok(allowed.join(" "));
    };
    let mut granted: Vec<&str> = Vec::new();
    for scope in requested.split(' ').filter(|s| !s.is_empty()) {
        if !allowed.iter().any(|a| a == scope) {
            return Err(OAuthError::InvalidScope);
        }
        if !granted.contains(&scope) {
            granted.push(scope);
        }
    }
    if granted.is_empty() {
        return Ok(allowed.join(" "));
    }
    Ok(granted.join(" "))
}

fn issuer_from_host(headers: &HeaderMap) -> String {
    let host = headers.get(HOST).and_then(|v| v.to_str().ok()).filter(|h| !h.is_empty()).unwrap_or("localhost");
    format!("http://{host}/simulator-pool")
}

/// Failures are logged, not returned: the file is a test aid and must not change what clients see.
fn record_issued_token(sim: &Simulator, token: &str) {
    let Some(path) = &sim.settings().issued_tokens_file else {
        return;
    };
    let _serialized = lock(&sim.inner.tokens_file_lock);
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut file| file.write_all(format!("{token}\n").as_bytes()));
    if let Err(error) = written {
        tracing::warn!(path = %path.display(), %error, "could not record issued token");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::testkit::{form_body, Kit};
    use super::*;
    use reqwest::header::HeaderValue;
    use serde_json::Value;
    use std::time::Duration;

    fn basic(id: &str, secret: &str) -> String {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        format!("Basic {}", STANDARD.encode(format!("{}:{}", enc(id), enc(secret))))
    }

    async fn post_form(kit: &Kit, auth: Option<&str>, pairs: &[(&str, &str)]) -> reqwest::Response {
        let mut req = kit
            .client
            .post(kit.running.token_url())
            .header(CONTENT_TYPE.as_str(), "application/x-www-form-urlencoded")
            .body(form_body(pairs));
        if let Some(auth) = auth {
            req = req.header(AUTHORIZATION.as_str(), auth);
        }
        req.send().await.unwrap()
    }

    async fn expect_error(response: reqwest::Response, code: &str) {
        assert_eq!(response.status(), 400);
        assert_eq!(response.headers().get("content-type").unwrap(), HeaderValue::from_static(ERROR_CONTENT_TYPE));
        let body: Value = response.json().await.unwrap();
        assert_eq!(body, serde_json::json!({ "error": code }));
    }

    #[tokio::test]
    async fn client_secret_post_issues_a_bearer_token() {
        let kit = Kit::start().await;
        let response = post_form(
            &kit,
            None,
            &[("grant_type", "client_credentials"), ("client_id", &kit.client_id), ("client_secret", &kit.secret)],
        )
        .await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 3600);
        assert_eq!(body.as_object().unwrap().len(), 3);
        assert!(body["access_token"].as_str().unwrap().starts_with("eyJ"));
    }

    #[tokio::test]
    async fn client_secret_basic_issues_a_token() {
        let kit = Kit::start().await;
        let auth = basic(&kit.client_id, &kit.secret);
        let response = post_form(&kit, Some(&auth), &[("grant_type", "client_credentials")]).await;
        assert_eq!(response.status(), 200);
    }

    #[tokio::test]
    async fn basic_credentials_are_form_url_decoded_so_special_characters_work() {
        let secret = "p+a%s:s/w=rd &x";
        let kit = Kit::start_with(|s| {
            s.client_id = "client:id+1".to_owned();
            s.client_secret = secret.to_owned().into();
        })
        .await;
        let auth = basic("client:id+1", secret);
        let response = post_form(&kit, Some(&auth), &[("grant_type", "client_credentials")]).await;
        assert_eq!(response.status(), 200);
        let token: Value = response.json().await.unwrap();
        let (_, claims) = jwt::decode_unverified(token["access_token"].as_str().unwrap()).unwrap();
        assert_eq!(claims["client_id"], "client:id+1");

        // Without the url-encoding step `+` decodes to a space, so the secret no longer matches.
        let raw = format!("Basic {}", STANDARD.encode(format!("client%3Aid%2B1:{secret}")));
        expect_error(post_form(&kit, Some(&raw), &[("grant_type", "client_credentials")]).await, "invalid_client")
            .await;
    }

    #[tokio::test]
    async fn a_wrong_secret_is_rejected_with_invalid_client() {
        let kit = Kit::start().await;
        for (id, secret) in [(kit.client_id.as_str(), "wrong"), ("someone-else", kit.secret.as_str())] {
            let response = post_form(
                &kit,
                None,
                &[("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret)],
            )
            .await;
            expect_error(response, "invalid_client").await;
            let auth = basic(id, secret);
            let response = post_form(&kit, Some(&auth), &[("grant_type", "client_credentials")]).await;
            expect_error(response, "invalid_client").await;
        }
        assert_eq!(kit.sim().tokens_issued(), 0);
    }

    #[tokio::test]
    async fn grant_types_other_than_client_credentials_are_unsupported_and_a_missing_one_is_invalid() {
        let kit = Kit::start().await;
        let auth = basic(&kit.client_id, &kit.secret);
        let response = post_form(&kit, Some(&auth), &[("grant_type", "password")]).await;
        expect_error(response, "unsupported_grant_type").await;
        let response = post_form(&kit, Some(&auth), &[("scope", "x")]).await;
        expect_error(response, "invalid_request").await;
    }

    #[tokio::test]
    async fn a_non_form_content_type_is_an_invalid_request_but_a_charset_is_allowed() {
        let kit = Kit::start().await;
        let auth = basic(&kit.client_id, &kit.secret);
        let body = form_body(&[("grant_type", "client_credentials")]);
        let send = |content_type: Option<&'static str>| {
            let mut req =
                kit.client.post(kit.running.token_url()).header("authorization", auth.as_str()).body(body.clone());
            if let Some(ct) = content_type {
                req = req.header("content-type", ct);
            }
            req.send()
        };
        expect_error(send(Some("application/json")).await.unwrap(), "invalid_request").await;
        expect_error(send(None).await.unwrap(), "invalid_request").await;
        let ok = send(Some("Application/X-WWW-Form-Urlencoded; charset=UTF-8")).await.unwrap();
        assert_eq!(ok.status(), 200);
    }

    #[tokio::test]
    async fn both_or_neither_client_authentication_method_is_refused() {
        let kit = Kit::start().await;
        let auth = basic(&kit.client_id, &kit.secret);
        let both =
            post_form(&kit, Some(&auth), &[("grant_type", "client_credentials"), ("client_secret", &kit.secret)]).await;
        expect_error(both, "invalid_request").await;
        let neither = post_form(&kit, None, &[("grant_type", "client_credentials")]).await;
        expect_error(neither, "invalid_client").await;
        let id_only =
            post_form(&kit, None, &[("grant_type", "client_credentials"), ("client_id", &kit.client_id)]).await;
        expect_error(id_only, "invalid_client").await;
    }

    #[tokio::test]
    async fn scopes_default_to_all_allowed_and_unknown_scopes_are_invalid() {
        let kit = Kit::start_with(|s| {
            s.allowed_scopes = vec!["api/read".to_owned(), "api/readwrite".to_owned()];
        })
        .await;
        let auth = basic(&kit.client_id, &kit.secret);
        let scope_of = |response: Value| {
            let (_, claims) = jwt::decode_unverified(response["access_token"].as_str().unwrap()).unwrap();
            claims["scope"].as_str().unwrap().to_owned()
        };
        let all = post_form(&kit, Some(&auth), &[("grant_type", "client_credentials")]).await;
        assert_eq!(scope_of(all.json().await.unwrap()), "api/read api/readwrite");
        let one =
            post_form(&kit, Some(&auth), &[("grant_type", "client_credentials"), ("scope", "api/readwrite")]).await;
        assert_eq!(scope_of(one.json().await.unwrap()), "api/readwrite");
        let bad =
            post_form(&kit, Some(&auth), &[("grant_type", "client_credentials"), ("scope", "api/read api/admin")])
                .await;
        expect_error(bad, "invalid_scope").await;
    }

    #[tokio::test]
    async fn the_jwt_carries_cognito_like_claims_and_lives_exactly_the_configured_lifetime() {
        let kit = Kit::start_with(|s| {
            s.token_lifetime = Duration::from_secs(900);
            s.allowed_scopes = vec!["api/readwrite".to_owned()];
        })
        .await;
        let before = now_secs();
        let token = kit.token().await;
        let (header, claims) = jwt::decode_unverified(&token).unwrap();
        assert_eq!(header, serde_json::json!({"kid": "simulator-1", "alg": "HS256", "typ": "JWT"}));
        assert_eq!(claims["sub"], kit.client_id.as_str());
        assert_eq!(claims["client_id"], kit.client_id.as_str());
        assert_eq!(claims["token_use"], "access");
        assert_eq!(claims["scope"], "api/readwrite");
        assert_eq!(claims["version"], 2);
        assert_eq!(claims["iss"], format!("http://{}/simulator-pool", kit.running.addr).as_str());
        let iat = claims["iat"].as_u64().unwrap();
        assert!(iat >= before && iat <= now_secs());
        assert_eq!(claims["auth_time"].as_u64(), Some(iat));
        assert_eq!(claims["exp"].as_u64().unwrap() - iat, 900);
        let jti = uuid::Uuid::parse_str(claims["jti"].as_str().unwrap()).unwrap();
        assert_eq!(jti.get_version_num(), 4);
        assert!(claims.get("aud").is_none() && claims.get("username").is_none());
    }

    #[test]
    fn the_issuer_follows_the_host_header_when_not_set() {
        let sim = Simulator::new(super::super::SimulatorSettings::with_random_secret("c", Duration::from_secs(60)));
        let mut headers = HeaderMap::new();
        headers.insert(HOST, "sim.example:8080".parse().unwrap());
        assert_eq!(issuer_from_host(&headers), "http://sim.example:8080/simulator-pool");
        assert!(sim.issuer().is_none());
    }

    #[tokio::test]
    async fn the_counters_count_successes_and_every_request() {
        let kit = Kit::start().await;
        kit.token().await;
        kit.token().await;
        post_form(&kit, None, &[("grant_type", "client_credentials")]).await;
        let get = kit.client.get(kit.running.token_url()).send().await.unwrap();
        assert_eq!(get.status(), 405);
        assert_eq!(get.headers().get("allow").unwrap(), "POST");
        assert_eq!(kit.sim().tokens_issued(), 2);
        assert_eq!(kit.sim().token_requests(), 4);
    }

    #[tokio::test]
    async fn the_issued_tokens_file_gets_one_line_per_token() {
        let path = std::env::temp_dir().join(format!("sim-tokens-{}.txt", uuid::Uuid::new_v4()));
        let file = path.clone();
        let kit = Kit::start_with(move |s| s.issued_tokens_file = Some(file)).await;
        let tokens = [kit.token().await, kit.token().await, kit.token().await];
        post_form(&kit, None, &[("grant_type", "client_credentials")]).await;
        let written = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(written.lines().collect::<Vec<_>>(), tokens.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(written.ends_with('\n'));
    }

    #[tokio::test]
    async fn no_response_ever_contains_the_secret() {
        let kit = Kit::start().await;
        let cases: Vec<Vec<(&str, &str)>> = vec![
            vec![("grant_type", "client_credentials"), ("client_id", "other"), ("client_secret", &kit.secret)],
            vec![("grant_type", "nope"), ("client_id", &kit.client_id), ("client_secret", &kit.secret)],
            vec![("grant_type", "client_credentials"), ("client_id", &kit.client_id), ("client_secret", &kit.secret)],
        ];
        for pairs in cases {
            let text = post_form(&kit, None, &pairs).await.text().await.unwrap();
            assert!(!text.contains(&kit.secret));
        }
    }

    #[tokio::test]
    async fn a_repeated_form_parameter_is_an_invalid_request() {
        let kit = Kit::start().await;
        let response = post_form(
            &kit,
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &kit.client_id),
                ("client_secret", &kit.secret),
                ("client_secret", "second"),
            ],
        )
        .await;
        expect_error(response, "invalid_request").await;
    }
}
