//! The a55 REST API under `/api/v1`: bearer checks, rate limits and request ids around the resource handlers.

use std::time::{Duration, Instant};

use crate::clock::{Clock as _, SystemClock};

use axum::body::{Body, Bytes};
use axum::extract::{OriginalUri, Path, RawQuery, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::data::{self, Wallet};
use super::validate::{self, FieldError};
use super::{fixtures, jwt, large, lock, now_secs, Simulator};

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const X_RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
const X_RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
const X_RATELIMIT_RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");
const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

const RATE_WINDOW: Duration = Duration::from_secs(60);
/// a55 keeps idempotency keys for 24 h.
const IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// Rate-limit bucket for requests that carry no valid token.
const ANONYMOUS: &str = "anonymous";
const MAX_LIMIT: usize = 100;

/// The API; `production` serves production's OpenAPI document (see `production.rs`).
pub(super) fn router(sim: Simulator, production: bool) -> Router<Simulator> {
    let spec = if production { get(super::spec::production_swagger) } else { get(super::spec::swagger) };
    Router::new()
        .route("/wallets", get(list_wallets))
        .route("/bank/wallet/", get(get_wallet).post(create_wallet))
        .route("/bank/wallet/charges/", get(list_charges))
        .route("/bank/wallet/charge/", get(get_charge).post(create_charge))
        .route("/bank/wallet/charge/{charge_uuid}/", get(get_charge_by_path))
        .route("/bank/wallet/payout/", get(list_payouts))
        .route("/bank/wallet/payout/{payout_uuid}/{wallet_uuid}/", get(get_payout))
        .route("/bank/wallet/subscription/", get(get_subscription))
        .route("/bank/public/charge", get(public_charge))
        .route("/sim/large", get(large_charge_list))
        .route("/sim/revoked", get(revoked).post(revoked))
        .route("/sim/slow", get(slow))
        .route("/swagger.json", spec)
        .route("/sim/content/{name}", get(content_fixture))
        .route("/sim/bigjson/{mb}", get(bigjson_alias))
        .fallback(no_route)
        .layer(middleware::from_fn_with_state(sim, envelope))
}

/// Simulator aid: answers 401 even to a valid token, as an API does after revoking it, so the
/// console's 401 handling can be exercised end to end.
async fn revoked() -> Response {
    let mut response = ApiError::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "token revoked").into_response();
    response.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer error=\"invalid_token\""));
    response
}

/// Simulator aid: answers after `ms` milliseconds (default 10 s, at most a minute), so the
/// console's elapsed counter and Cancel can be exercised against a slow API.
async fn slow(RawQuery(query): RawQuery) -> Response {
    let ms = Params::parse(query).get("ms").and_then(|v| v.parse::<u64>().ok()).unwrap_or(10_000).min(60_000);
    tokio::time::sleep(Duration::from_millis(ms)).await;
    Json(serde_json::json!({ "waited_ms": ms })).into_response()
}

// ---------------------------------------------------------------- errors

#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: String,
    message: String,
    details: Vec<FieldError>,
}

impl ApiError {
    fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self { status, code: code.to_owned(), message: message.into(), details: Vec::new() }
    }

    fn validation(details: Vec<FieldError>) -> Self {
        let n = details.len();
        let plural = if n == 1 { "" } else { "s" };
        Self::validation_with_message(format!("request has {n} invalid field{plural}"), details)
    }

    fn validation_with_message(message: impl Into<String>, details: Vec<FieldError>) -> Self {
        Self { details, ..Self::new(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", message) }
    }

    fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", message)
    }
}

fn wallet_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "errors.wallet.not_found", "wallet not found")
}

fn charge_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "errors.charge.not_found", "charge not found")
}

/// Handlers do not know the request id, so the error travels in the response extensions and
/// `envelope` renders it; every error body then shares the id of the `X-Request-Id` header.
#[derive(Clone)]
struct PendingError(ApiError);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        response.extensions_mut().insert(PendingError(self));
        response
    }
}

#[derive(Serialize)]
struct ErrorEnvelope<'a> {
    error: ErrorBody<'a>,
    request_id: &'a str,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    details: &'a [FieldError],
}

fn render_error(response: &mut Response, error: &ApiError, request_id: &str) {
    let envelope = ErrorEnvelope {
        error: ErrorBody { code: &error.code, message: &error.message, details: &error.details },
        request_id,
    };
    // Strings and a slice of string pairs always serialize.
    let body = serde_json::to_vec(&envelope).unwrap_or_default();
    *response.body_mut() = Body::from(body);
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
}

// ---------------------------------------------------------------- envelope: auth, rate limit, ids

/// Client id of the verified bearer token, for per-client state such as idempotency keys.
#[derive(Debug, Clone)]
struct Caller(String);

pub(crate) struct RateWindow {
    started: Instant,
    count: u32,
}

struct Quota {
    limit: u32,
    remaining: u32,
    reset_at: u64,
    retry_after: Option<u64>,
}

/// Fixed one-minute windows per client; a55 documents a rolling window, which this approximates.
fn consume_quota(sim: &Simulator, key: &str) -> Quota {
    let limit = sim.inner.rate_limit.load(std::sync::atomic::Ordering::SeqCst);
    let now = SystemClock.now();
    let mut windows = lock(&sim.inner.windows);
    let window = windows.entry(key.to_owned()).or_insert(RateWindow { started: now, count: 0 });
    if now.duration_since(window.started) >= RATE_WINDOW {
        *window = RateWindow { started: now, count: 0 };
    }
    let reset_in = RATE_WINDOW.saturating_sub(now.duration_since(window.started));
    let reset_secs = reset_in.as_secs() + u64::from(reset_in.subsec_nanos() > 0);
    let reset_at = now_secs() + reset_secs;
    if window.count >= limit {
        return Quota { limit, remaining: 0, reset_at, retry_after: Some(reset_secs.max(1)) };
    }
    window.count += 1;
    Quota { limit, remaining: limit - window.count, reset_at, retry_after: None }
}

fn is_public(path: &str) -> bool {
    let path = path.strip_prefix(super::PRODUCTION_PREFIX).or_else(|| path.strip_prefix("/api/v1")).unwrap_or(path);
    // a55 publishes its OpenAPI document without authentication.
    path.starts_with("/bank/public/") || path == "/swagger.json"
}

fn authenticate(sim: &Simulator, headers: &HeaderMap) -> Result<jwt::Claims, &'static str> {
    const MISSING: &str = "missing bearer token";
    let value = headers.get(AUTHORIZATION).ok_or(MISSING)?;
    let value = value.to_str().map_err(|_| jwt::VerifyError::Malformed.reason())?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(MISSING)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(MISSING);
    }
    jwt::verify(&sim.inner.mac, token, now_secs()).map_err(jwt::VerifyError::reason)
}

async fn envelope(State(sim): State<Simulator>, mut request: Request, next: Next) -> Response {
    let request_id = format!("req_{:016x}", rand::random::<u64>());
    let method = request.method().clone();
    let path = request
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| request.uri().path(), |original| original.0.path())
        .to_owned();
    let auth = (!is_public(&path)).then(|| authenticate(&sim, request.headers()));
    let caller = match &auth {
        Some(Ok(claims)) => claims.client_id.clone(),
        _ => ANONYMOUS.to_owned(),
    };
    let quota = consume_quota(&sim, &caller);

    let mut response = if let Some(retry_after) = quota.retry_after {
        let error = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMIT_EXCEEDED",
            format!("rate limit of {} requests per minute exceeded", quota.limit),
        );
        let mut response = error.into_response();
        response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(retry_after));
        response
    } else if let Some(Err(reason)) = auth {
        tracing::debug!(%path, reason, "simulated API refused a request");
        let mut response = ApiError::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", reason).into_response();
        response.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        response
    } else {
        request.extensions_mut().insert(Caller(caller));
        next.run(request).await
    };

    if let Some(PendingError(error)) = response.extensions_mut().remove::<PendingError>() {
        render_error(&mut response, &error, &request_id);
    } else if response.status() == StatusCode::METHOD_NOT_ALLOWED {
        // axum's own 405 has no body; give it the API's error shape and keep its Allow header.
        let error = ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            format!("method {method} is not allowed for {path}"),
        );
        render_error(&mut response, &error, &request_id);
    }
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert(X_REQUEST_ID, value);
    }
    headers.insert(X_RATELIMIT_LIMIT, HeaderValue::from(quota.limit));
    headers.insert(X_RATELIMIT_REMAINING, HeaderValue::from(quota.remaining));
    headers.insert(X_RATELIMIT_RESET, HeaderValue::from(quota.reset_at));
    response
}

async fn no_route(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", format!("no route for {method} {}", uri.path()))
}

// ---------------------------------------------------------------- query parameters and lists

struct Params(Vec<(String, String)>);

impl Params {
    fn parse(raw: Option<String>) -> Self {
        let raw = raw.unwrap_or_default();
        Self(url::form_urlencoded::parse(raw.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
    }

    /// First non-empty value: `?wallet_uuid=` counts as missing.
    fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, v)| k == key && !v.trim().is_empty()).map(|(_, v)| v.trim())
    }

    fn required(&self, key: &str, errors: &mut Vec<FieldError>) -> Option<&str> {
        let value = self.get(key);
        if value.is_none() {
            errors.push(FieldError::new(key, "is required"));
        }
        value
    }
}

struct Paging {
    page: usize,
    limit: usize,
}

impl Paging {
    fn parse(params: &Params, default_limit: usize, errors: &mut Vec<FieldError>) -> Self {
        let mut number =
            |key: &str, default: usize, range: std::ops::RangeInclusive<usize>, reason: &str| match params.get(key) {
                None => default,
                Some(text) => match text.parse::<usize>() {
                    Ok(n) if range.contains(&n) => n,
                    _ => {
                        errors.push(FieldError::new(key, reason));
                        default
                    }
                },
            };
        let page = number("page", 1, 1..=usize::MAX, "must be an integer >= 1");
        let limit = number("limit", default_limit, 1..=MAX_LIMIT, "must be an integer between 1 and 100");
        Self { page, limit }
    }

    fn offset(&self) -> usize {
        (self.page - 1).saturating_mul(self.limit)
    }
}

#[derive(Serialize)]
struct PageBody<T> {
    page: usize,
    limit: usize,
    total: usize,
    pages: usize,
    data: Vec<T>,
}

struct ListFilter {
    status: Option<String>,
    ascending: bool,
    date_start: Option<String>,
    date_end: Option<String>,
}

impl ListFilter {
    fn parse(params: &Params, statuses: &[&str], errors: &mut Vec<FieldError>) -> Self {
        let status = params.get("filter").and_then(|text| {
            let mut parts = text.splitn(3, ':');
            let value = match (parts.next(), parts.next(), parts.next()) {
                (Some("status"), Some("eq"), Some(value)) | (Some("status"), Some(value), None) => value,
                _ => "",
            };
            if statuses.contains(&value) {
                Some(value.to_owned())
            } else {
                errors.push(FieldError::new(
                    "filter",
                    format!("must be status:<value> with a value among {}", statuses.join(", ")),
                ));
                None
            }
        });
        let ascending = match params.get("sort") {
            None | Some("created:desc") => false,
            Some("created:asc") => true,
            Some(_) => {
                errors.push(FieldError::new("sort", "must be created:asc or created:desc"));
                false
            }
        };
        let mut date = |key: &str| {
            let text = params.get(key)?;
            if data::parse_date(text).is_some() {
                Some(text.to_owned())
            } else {
                errors.push(FieldError::new(key, "must be a date in YYYY-MM-DD format"));
                None
            }
        };
        let date_start = date("date_start");
        let date_end = date("date_end");
        Self { status, ascending, date_start, date_end }
    }

    /// Item indices are in creation order, so sorting by `created` is keeping or reversing them.
    fn select(
        &self,
        count: usize,
        paging: &Paging,
        status_of: impl Fn(usize) -> &'static str,
        date_of: impl Fn(usize) -> String,
    ) -> (usize, Vec<usize>) {
        let mut matching: Vec<usize> = (0..count)
            .filter(|&i| self.status.as_deref().is_none_or(|s| s == status_of(i)))
            .filter(|&i| {
                let needs_date = self.date_start.is_some() || self.date_end.is_some();
                !needs_date || {
                    let date = date_of(i);
                    self.date_start.as_deref().is_none_or(|start| date.as_str() >= start)
                        && self.date_end.as_deref().is_none_or(|end| date.as_str() <= end)
                }
            })
            .collect();
        if !self.ascending {
            matching.reverse();
        }
        let total = matching.len();
        let page = matching.into_iter().skip(paging.offset()).take(paging.limit).collect();
        (total, page)
    }
}

fn page_body<T>(paging: &Paging, total: usize, data: Vec<T>) -> PageBody<T> {
    PageBody { page: paging.page, limit: paging.limit, total, pages: total.div_ceil(paging.limit), data }
}

// ---------------------------------------------------------------- lookups

enum WalletRef {
    Seeded(usize),
    Created,
}

fn all_wallets(sim: &Simulator) -> Vec<Wallet> {
    let mut wallets: Vec<Wallet> = (0..data::WALLET_COUNT).map(data::seeded_wallet).collect();
    wallets.extend(lock(&sim.inner.created_wallets).iter().cloned());
    wallets
}

fn find_wallet(sim: &Simulator, uuid: &str) -> Option<WalletRef> {
    if let Some(w) = data::seeded_wallet_index(uuid) {
        return Some(WalletRef::Seeded(w));
    }
    lock(&sim.inner.created_wallets)
        .iter()
        .any(|w| w.wallet_uuid.eq_ignore_ascii_case(uuid))
        .then_some(WalletRef::Created)
}

fn find_charge(sim: &Simulator, uuid: &str) -> Option<data::Charge> {
    if let Some((w, i)) = data::parse_charge_uuid(uuid) {
        return Some(data::seeded_charge(w, i));
    }
    lock(&sim.inner.created_charges).get(&uuid.to_ascii_lowercase()).cloned()
}

// ---------------------------------------------------------------- POST helpers

fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, "INVALID_JSON", format!("request body is not valid JSON: {e}"))
    })
}

/// Digest of a JSON value with object keys sorted, so key order and whitespace do not change it
/// (serde_json may or may not preserve key order depending on crate features elsewhere in the build).
fn digest_of(context: &str, value: &Value) -> [u8; 32] {
    fn feed(hasher: &mut Sha256, value: &Value) {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                hasher.update(b"{");
                for key in keys {
                    hasher.update(Value::String(key.clone()).to_string().as_bytes());
                    hasher.update(b":");
                    if let Some(v) = map.get(key) {
                        feed(hasher, v);
                    }
                    hasher.update(b",");
                }
                hasher.update(b"}");
            }
            Value::Array(items) => {
                hasher.update(b"[");
                for item in items {
                    feed(hasher, item);
                    hasher.update(b",");
                }
                hasher.update(b"]");
            }
            scalar => hasher.update(scalar.to_string().as_bytes()),
        }
    }
    let mut hasher = Sha256::new();
    hasher.update(context.as_bytes());
    hasher.update([0]);
    feed(&mut hasher, value);
    hasher.finalize().into()
}

fn json_bytes<T: Serialize>(value: &T) -> Result<Bytes, ApiError> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|e| ApiError::internal(format!("could not encode response: {e}")))
}

fn json_response(status: StatusCode, body: Bytes) -> Response {
    (status, [(CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
}

pub(crate) struct StoredResponse {
    fingerprint: [u8; 32],
    status: StatusCode,
    body: Bytes,
    stored_at: Instant,
}

/// Runs `run` once per (client, route, Idempotency-Key); replays its success for the same body
/// and answers 409 for a different one. Failures are not stored, so a corrected retry can succeed.
fn idempotent(
    sim: &Simulator,
    caller: &str,
    headers: &HeaderMap,
    route: &str,
    body: &Value,
    run: impl FnOnce() -> Result<(StatusCode, Bytes), ApiError>,
) -> Result<Response, ApiError> {
    let Some(raw_key) = headers.get(IDEMPOTENCY_KEY) else {
        let (status, bytes) = run()?;
        return Ok(json_response(status, bytes));
    };
    let key = raw_key.to_str().ok().filter(|k| (16..=128).contains(&k.len())).ok_or_else(|| {
        ApiError::validation(vec![FieldError::new("Idempotency-Key", "must be 16 to 128 visible ASCII characters")])
    })?;
    let fingerprint = digest_of(route, body);
    let slot = format!("{caller}\n{route}\n{key}");
    {
        let mut store = lock(&sim.inner.idempotency);
        let now = SystemClock.now();
        store.retain(|_, stored| now.duration_since(stored.stored_at) < IDEMPOTENCY_TTL);
        if let Some(stored) = store.get(&slot) {
            if stored.fingerprint != fingerprint {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "IDEMPOTENCY_CONFLICT",
                    "this Idempotency-Key was already used with a different request body",
                ));
            }
            let mut response = json_response(stored.status, stored.body.clone());
            response.headers_mut().insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
            return Ok(response);
        }
    }
    let (status, bytes) = run()?;
    if status.is_success() {
        lock(&sim.inner.idempotency).entry(slot).or_insert_with(|| StoredResponse {
            fingerprint,
            status,
            body: bytes.clone(),
            stored_at: SystemClock.now(),
        });
    }
    Ok(json_response(status, bytes))
}

fn caller_id(caller: Option<Extension<Caller>>) -> String {
    caller.map_or_else(|| ANONYMOUS.to_owned(), |Extension(Caller(id))| id)
}

// ---------------------------------------------------------------- wallets

#[derive(Serialize)]
struct WalletList {
    data: Vec<Wallet>,
    page: usize,
    limit: usize,
    total: usize,
}

async fn list_wallets(State(sim): State<Simulator>, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let params = Params::parse(query);
    let mut errors = Vec::new();
    let paging = Paging::parse(&params, 20, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let wallets = all_wallets(&sim);
    let total = wallets.len();
    let data = wallets.into_iter().skip(paging.offset()).take(paging.limit).collect();
    Ok(Json(WalletList { data, page: paging.page, limit: paging.limit, total }).into_response())
}

async fn get_wallet(State(sim): State<Simulator>, RawQuery(query): RawQuery) -> Result<Json<Wallet>, ApiError> {
    let params = Params::parse(query);
    let wallet_uuid = params.get("wallet_uuid");
    let email = params.get("email");
    let customer_id = params.get("customer_id");
    if wallet_uuid.is_none() && email.is_none() && customer_id.is_none() {
        const REASON: &str = "one of wallet_uuid, email or customer_id is required";
        return Err(ApiError::validation_with_message(REASON, vec![FieldError::new("wallet_uuid", REASON)]));
    }
    let currency = params.get("currency");
    let matches = |given: Option<&str>, actual: &str| given.is_none_or(|g| g.eq_ignore_ascii_case(actual));
    all_wallets(&sim)
        .into_iter()
        .find(|w| {
            matches(wallet_uuid, &w.wallet_uuid)
                && matches(email, &w.email)
                && matches(customer_id, &w.customer_id)
                && matches(currency, &w.currency)
        })
        .map(Json)
        .ok_or_else(wallet_not_found)
}

#[derive(Serialize)]
struct CreatedWallet {
    #[serde(flatten)]
    wallet: Wallet,
    #[serde(skip_serializing_if = "Option::is_none")]
    credentials: Option<data::Credentials>,
}

async fn create_wallet(
    State(sim): State<Simulator>,
    caller: Option<Extension<Caller>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let json = parse_json(&body)?;
    idempotent(&sim, &caller_id(caller), &headers, "POST /bank/wallet/", &json, || {
        let new = validate::wallet(&json).map_err(ApiError::validation)?;
        let digest = digest_of("wallet", &json);
        let wallet = Wallet {
            wallet_uuid: data::uuid_from_digest(&digest),
            entity_uuid: new.entity_uuid,
            merchant_uuid: new.merchant_uuid.unwrap_or_else(|| data::MERCHANT_UUID.to_owned()),
            customer_id: new.customer_id,
            name: new.name,
            email: new.email,
            balance: data::Balance { available: 0.0, pending: 0.0, currency: new.currency.clone() },
            currency: new.currency,
            status: "active".to_owned(),
            created: format!("2026-11-{:02}T10:00:00Z", 1 + digest[0] % 30),
        };
        let body = CreatedWallet {
            credentials: new.create_credentials.then(|| data::fake_credentials(&digest)),
            wallet: wallet.clone(),
        };
        let bytes = json_bytes(&body)?;
        let mut created = lock(&sim.inner.created_wallets);
        if !created.iter().any(|w| w.wallet_uuid == wallet.wallet_uuid) {
            created.push(wallet);
        }
        Ok((StatusCode::CREATED, bytes))
    })
}

// ---------------------------------------------------------------- charges

async fn list_charges(
    State(sim): State<Simulator>,
    RawQuery(query): RawQuery,
) -> Result<Json<PageBody<data::Charge>>, ApiError> {
    // Created wallets start without charges; created charges are reachable by uuid only, which
    // keeps every list response deterministic.
    list_seeded(&sim, query, &CHARGE_LIST)
}

/// How one seeded per-wallet list is paged, filtered and built.
struct SeededList<T> {
    default_limit: usize,
    statuses: &'static [&'static str],
    per_wallet: usize,
    status: fn(usize) -> &'static str,
    date: fn(usize, usize) -> String,
    item: fn(usize, usize) -> T,
}

const CHARGE_LIST: SeededList<data::Charge> = SeededList {
    default_limit: 20,
    statuses: &data::CHARGE_STATUSES,
    per_wallet: data::CHARGES_PER_WALLET,
    status: data::seeded_charge_status,
    date: data::seeded_charge_date,
    item: data::seeded_charge,
};

// a55 documents a default of 10 for payouts, unlike charges.
const PAYOUT_LIST: SeededList<data::Payout> = SeededList {
    default_limit: 10,
    statuses: &data::PAYOUT_STATUSES,
    per_wallet: data::PAYOUTS_PER_WALLET,
    status: data::seeded_payout_status,
    date: data::seeded_payout_date,
    item: data::seeded_payout,
};

/// `?wallet_uuid=…&page&limit&status&from&to`: one page of a wallet's seeded items, or the errors.
fn list_seeded<T>(sim: &Simulator, query: Option<String>, list: &SeededList<T>) -> Result<Json<PageBody<T>>, ApiError> {
    let params = Params::parse(query);
    let mut errors = Vec::new();
    let wallet_uuid = params.required("wallet_uuid", &mut errors);
    let paging = Paging::parse(&params, list.default_limit, &mut errors);
    let filter = ListFilter::parse(&params, list.statuses, &mut errors);
    let wallet_uuid = match wallet_uuid {
        Some(uuid) if errors.is_empty() => uuid,
        _ => return Err(ApiError::validation(errors)),
    };
    let w = match find_wallet(sim, wallet_uuid).ok_or_else(wallet_not_found)? {
        WalletRef::Seeded(w) => w,
        WalletRef::Created => return Ok(Json(page_body(&paging, 0, Vec::new()))),
    };
    let (total, indices) = filter.select(list.per_wallet, &paging, list.status, |i| (list.date)(w, i));
    let items = indices.into_iter().map(|i| (list.item)(w, i)).collect();
    Ok(Json(page_body(&paging, total, items)))
}

async fn get_charge(State(sim): State<Simulator>, RawQuery(query): RawQuery) -> Result<Json<data::Charge>, ApiError> {
    let params = Params::parse(query);
    let mut errors = Vec::new();
    let charge_uuid = params.required("charge_uuid", &mut errors);
    let wallet_uuid = params.required("wallet_uuid", &mut errors);
    let (Some(charge_uuid), Some(wallet_uuid)) = (charge_uuid, wallet_uuid) else {
        return Err(ApiError::validation(errors));
    };
    find_wallet(&sim, wallet_uuid).ok_or_else(wallet_not_found)?;
    find_charge(&sim, charge_uuid)
        .filter(|c| c.wallet_uuid.eq_ignore_ascii_case(wallet_uuid))
        .map(Json)
        .ok_or_else(charge_not_found)
}

async fn get_charge_by_path(
    State(sim): State<Simulator>,
    Path(charge_uuid): Path<String>,
) -> Result<Json<data::Charge>, ApiError> {
    find_charge(&sim, &charge_uuid).map(Json).ok_or_else(charge_not_found)
}

async fn create_charge(
    State(sim): State<Simulator>,
    caller: Option<Extension<Caller>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let json = parse_json(&body)?;
    idempotent(&sim, &caller_id(caller), &headers, "POST /bank/wallet/charge/", &json, || {
        let new = validate::charge(&json).map_err(ApiError::validation)?;
        find_wallet(&sim, &new.wallet_uuid).ok_or_else(wallet_not_found)?;
        let charge = data::created_charge(new, &digest_of("charge", &json));
        let bytes = json_bytes(&charge)?;
        lock(&sim.inner.created_charges).insert(charge.charge_uuid.clone(), charge);
        Ok((StatusCode::OK, bytes))
    })
}

async fn public_charge(
    State(sim): State<Simulator>,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<data::PublicChargeView>>, ApiError> {
    let params = Params::parse(query);
    let mut errors = Vec::new();
    let Some(charge_uuid) = params.required("charge_uuid", &mut errors) else {
        return Err(ApiError::validation(errors));
    };
    let charge = find_charge(&sim, charge_uuid).ok_or_else(charge_not_found)?;
    Ok(Json(vec![data::PublicChargeView::from(&charge)]))
}

// ---------------------------------------------------------------- payouts and subscriptions

async fn list_payouts(
    State(sim): State<Simulator>,
    RawQuery(query): RawQuery,
) -> Result<Json<PageBody<data::Payout>>, ApiError> {
    list_seeded(&sim, query, &PAYOUT_LIST)
}

async fn get_payout(
    State(sim): State<Simulator>,
    Path((payout_uuid, wallet_uuid)): Path<(String, String)>,
) -> Result<Json<data::Payout>, ApiError> {
    let wallet = find_wallet(&sim, &wallet_uuid).ok_or_else(wallet_not_found)?;
    match (wallet, data::parse_payout_uuid(&payout_uuid)) {
        (WalletRef::Seeded(w), Some((pw, i))) if w == pw => Ok(Json(data::seeded_payout(w, i))),
        _ => Err(ApiError::new(StatusCode::NOT_FOUND, "errors.wallet.payout_not_found", "payout not found")),
    }
}

async fn get_subscription(
    State(sim): State<Simulator>,
    RawQuery(query): RawQuery,
) -> Result<Json<data::Subscription>, ApiError> {
    let params = Params::parse(query);
    let mut errors = Vec::new();
    let wallet_uuid = params.required("wallet_uuid", &mut errors);
    let subscription_uuid = params.required("subscription_uuid", &mut errors);
    let (Some(wallet_uuid), Some(subscription_uuid)) = (wallet_uuid, subscription_uuid) else {
        return Err(ApiError::validation(errors));
    };
    let wallet = find_wallet(&sim, wallet_uuid).ok_or_else(wallet_not_found)?;
    match (wallet, data::parse_subscription_uuid(subscription_uuid)) {
        (WalletRef::Seeded(w), Some((sw, i))) if w == sw => Ok(Json(data::seeded_subscription(w, i))),
        _ => Err(ApiError::new(StatusCode::NOT_FOUND, "errors.subscription.not_found", "subscription not found")),
    }
}

// ---------------------------------------------------------------- benchmark payload

async fn large_charge_list(State(sim): State<Simulator>, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let params = Params::parse(query);
    let mut errors = Vec::new();
    let mb = match params.get("mb").map(str::parse::<f64>) {
        None => 1.0,
        Some(Ok(mb)) if (large::MIN_MB..=large::MAX_MB).contains(&mb) => mb,
        Some(_) => {
            errors.push(FieldError::new(
                "mb",
                format!("must be a number between {} and {}", large::MIN_MB, large::MAX_MB),
            ));
            1.0
        }
    };
    let batch = match params.get("batch").map(str::parse::<usize>) {
        None => 1,
        Some(Ok(batch)) if (1..=large::MAX_BATCH).contains(&batch) => batch,
        Some(_) => {
            errors.push(FieldError::new("batch", format!("must be an integer between 1 and {}", large::MAX_BATCH)));
            1
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let bytes = large::cached_page(&sim, (large::target_bytes(mb), batch)).await.map_err(ApiError::internal)?;
    Ok(json_response(StatusCode::OK, bytes))
}

/// Test aid: `/sim/large?mb={mb}&batch=500` (bigjson.py byte for byte) as a plain path, for clients
/// that can only send a path.
async fn bigjson_alias(state: State<Simulator>, Path(mb): Path<String>) -> Result<Response, ApiError> {
    let query = format!(
        "mb={}&batch={}",
        percent_encoding::utf8_percent_encode(&mb, percent_encoding::NON_ALPHANUMERIC),
        large::MAX_BATCH
    );
    large_charge_list(state, RawQuery(Some(query))).await
}

/// Test aid: fixed bodies of every kind the inspector must cope with (see `fixtures`).
async fn content_fixture(Path(name): Path<String>, headers: HeaderMap) -> Result<Response, ApiError> {
    fixtures::content(&name, &headers).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("no fixture {name:?}; try one of: {}", fixtures::NAMES),
        )
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::testkit::{valid_charge_body, Kit};
    use super::super::SimulatorSettings;
    use super::*;
    use crate::clock::SystemClock;
    use serde_json::json;

    const WALLET0: &str = "2f0c1b7e-3d4a-4e59-9c1a-1b2c3d4e5f60";

    async fn json_of(response: reqwest::Response) -> (u16, Value) {
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    fn fields(body: &Value) -> Vec<String> {
        body["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap().to_owned()).collect()
    }

    async fn expect_unauthorized(response: reqwest::Response, why: &str) {
        assert_eq!(response.status(), 401);
        assert_eq!(response.headers().get("www-authenticate").unwrap(), "Bearer");
        let request_id = response.headers().get("x-request-id").unwrap().to_str().unwrap().to_owned();
        let body: Value = response.json().await.unwrap();
        assert_eq!(body, json!({"error": {"code": "UNAUTHORIZED", "message": why}, "request_id": request_id}));
    }

    #[tokio::test]
    async fn a_request_without_a_token_is_unauthorized() {
        let kit = Kit::start().await;
        expect_unauthorized(kit.get("wallets", None).await, "missing bearer token").await;
        let basic = kit.client.get(kit.url("wallets")).header("authorization", "Basic YTpi").send().await.unwrap();
        expect_unauthorized(basic, "missing bearer token").await;
    }

    #[tokio::test]
    async fn a_malformed_token_is_unauthorized() {
        let kit = Kit::start().await;
        for bad in ["not-a-jwt", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30"] {
            expect_unauthorized(kit.get("wallets", Some(bad)).await, "malformed token").await;
        }
    }

    #[tokio::test]
    async fn a_token_from_another_simulator_instance_has_an_invalid_signature() {
        let kit = Kit::start().await;
        let other = Kit::start_with(|s| s.client_id = kit.client_id.clone()).await;
        let forged = other.token().await;
        expect_unauthorized(kit.get("wallets", Some(&forged)).await, "invalid signature").await;
    }

    #[tokio::test]
    async fn an_expired_token_is_unauthorized() {
        let kit = Kit::start().await;
        let an_hour_ago = SystemClock::system_time() - Duration::from_secs(3_600);
        let expired = kit.sim().mint_token(an_hour_ago, Duration::from_secs(60));
        expect_unauthorized(kit.get("wallets", Some(&expired)).await, "token expired").await;
        let fresh = kit.sim().mint_token(SystemClock::system_time(), Duration::from_secs(60));
        assert_eq!(kit.get("wallets", Some(&fresh)).await.status(), 200);
        assert_eq!(kit.sim().tokens_issued(), 0, "minted tokens are not counted");
    }

    #[tokio::test]
    async fn every_response_carries_a_request_id_and_rate_limit_headers() {
        let kit = Kit::start().await;
        let token = kit.token().await;
        for response in [
            kit.get("wallets", Some(&token)).await,
            kit.get("wallets", None).await,
            kit.get("nope", Some(&token)).await,
            kit.get("bank/public/charge?charge_uuid=x", None).await,
        ] {
            let headers = response.headers();
            let id = headers.get("x-request-id").unwrap().to_str().unwrap();
            assert!(id.starts_with("req_") && id.len() == 20, "{id}");
            assert!(id[4..].bytes().all(|b| b.is_ascii_hexdigit()));
            assert_eq!(headers.get("x-ratelimit-limit").unwrap(), "100000");
            assert!(headers.get("x-ratelimit-remaining").is_some());
            let reset: u64 = headers.get("x-ratelimit-reset").unwrap().to_str().unwrap().parse().unwrap();
            assert!(reset > now_secs() && reset <= now_secs() + 61);
        }
    }

    #[tokio::test]
    async fn the_rate_limit_counts_down_per_client_and_then_answers_429() {
        let kit = Kit::start().await;
        kit.sim().set_rate_limit(3);
        let token = kit.token().await;
        let mut remaining = Vec::new();
        for _ in 0..3 {
            let response = kit.get("wallets", Some(&token)).await;
            assert_eq!(response.status(), 200);
            remaining.push(response.headers()["x-ratelimit-remaining"].to_str().unwrap().to_owned());
        }
        assert_eq!(remaining, ["2", "1", "0"]);
        let limited = kit.get("wallets", Some(&token)).await;
        assert_eq!(limited.status(), 429);
        let retry: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry));
        let (_, body) = json_of(limited).await;
        assert_eq!(body["error"]["code"], "RATE_LIMIT_EXCEEDED");
        // Requests without a valid token are counted in a separate bucket.
        assert_eq!(kit.get("bank/public/charge", None).await.status(), 400);
    }

    #[tokio::test]
    async fn the_wallets_list_has_the_seed_guides_shape() {
        let kit = Kit::start().await;
        let token = kit.token().await;
        let (status, body) = json_of(kit.get("wallets", Some(&token)).await).await;
        assert_eq!(status, 200);
        assert_eq!(body["page"], 1);
        assert_eq!(body["limit"], 20);
        assert_eq!(body["total"], data::WALLET_COUNT);
        let first = &body["data"][0];
        assert_eq!(first["wallet_uuid"], WALLET0);
        for field in ["entity_uuid", "merchant_uuid", "customer_id", "name", "email", "currency", "status", "created"] {
            assert!(first[field].is_string(), "{field}");
        }
        assert!(first["balance"]["available"].is_number());
    }

    #[tokio::test]
    async fn a_wallet_is_found_by_uuid_email_or_customer_id_and_needs_one_of_them() {
        let kit = Kit::start().await;
        let token = kit.token().await;
        for query in [
            format!("wallet_uuid={WALLET0}"),
            "email=loja1@example.com.br".to_owned(),
            "customer_id=cust_0001".to_owned(),
        ] {
            let (status, body) = json_of(kit.get(&format!("bank/wallet/?{query}"), Some(&token)).await).await;
            assert_eq!(status, 200, "{query}");
            assert_eq!(body["wallet_uuid"], WALLET0);
        }
        let (status, body) = json_of(kit.get("bank/wallet/", Some(&token)).await).await;
        assert_eq!(status, 400);
        assert_eq!(body["error"]["code"], "VALIDATION_ERROR");
        assert_eq!(
            body["error"]["details"],
            json!([{"field": "wallet_uuid", "reason": "one of wallet_uuid, email or customer_id is required"}])
        );
        assert!(body["request_id"].as_str().unwrap().starts_with("req_"));
        let (status, body) = json_of(kit.get("bank/wallet/?email=nobody@example.com", Some(&token)).await).await;
        assert_eq!(status, 404);
        assert_eq!(body["error"]["code"], "errors.wallet.not_found");
    }

    #[tokio::test]
    async fn creating_a_wallet_validates_returns_201_with_fake_credentials_and_makes_it_findable() {
        let kit = Kit::start().await;
        let token = kit.token().await;
        let (status, body) = json_of(kit.post_json("bank/wallet/", &token, &json!({}), None).await).await;
        assert_eq!(status, 400);
        assert_eq!(fields(&body), ["entity_uuid", "customer_id", "currency", "name", "email"]);

        let request = json!({
            "entity_uuid": data::ENTITY_UUID, "customer_id": "cust_9000", "currency": "BRL",
            "name": "Cliente 9000", "email": "cliente9000@example.com.br", "create_credentials": true
        });
        let (status, created) = json_of(kit.post_json("bank/wallet/", &token, &request, None).await).await;
        assert_eq!(status, 201);
        let secret = created["credentials"]["client_secret"].as_str().unwrap();
        assert!(secret.starts_with("FAKE-"));
        assert!(created["credentials"]["client_id"].is_string());
        let uuid = created["wallet_uuid"].as_str().unwrap();
        let (status, found) = json_of(kit.get(&format!("bank/wallet/?wallet_uuid={uuid}"), Some(&token)).await).await;
        assert_eq!(status, 200);
        assert_eq!(found["customer_id"], "cust_9000");
        assert!(found.get("credentials").is_none());
        let (_, list) = json_of(kit.get("wallets", Some(&token)).await).await;
        assert_eq!(list["total"], data::WALLET_COUNT + 1);
        let (status, charges) =
            json_of(kit.get(&format!("bank/wallet/charges/?wallet_uuid={uuid}"), Some(&token)).await).await;
        assert_eq!((status, charges["total"].clone()), (200, json!(0)));
    }

    #[tokio::test]
    async fn the_charge_list_paginates_over_237_charges_per_wallet() {
        let kit = Kit::start().await;
        let token = kit.token().await;
        let page = |query: &str| {
            let path = format!("bank/wallet/charges/?wallet_uuid={WALLET0}{query}");
            let kit = &kit;
            let token = token.clone();
            async move { json_of(kit.get(&path, Some(&token)).await).await }
        };
        let (status, first) = page("").await;
        assert_eq!(status, 200);
        assert_eq!((first["page"].clone(), first["limit"].clone()), (json!(1), json!(20)));
        assert_eq!((first["total"].clone(), first["pages"].clone()), (json!(237), json!(12)));
        assert_eq!(first["data"].as_array().unwrap().len(), 20);
        // Newest first by default.
        assert_eq!(first["data"][0]["charge_uuid"], data::charge_uuid(0, 236));

        let (_, last) = page("&page=12").await;
        assert_eq!(last["data"].as_array().unwrap().len(), 17);
        let (_, past_end) = page("&page=13").await;
        assert_eq!(past_end["data"], json!([]));
        assert_eq!(past_end["total"], 237);
        let (_, big) = page("&limit=100&page=3").await;
        assert_eq!((big["pages"].clone(), big["data"].as_array().unwrap().len()), (json!(3), 37));
        let (_, one) = page("&limit=1&sort=created:asc").await;
        assert_eq!(one["data"][0]["charge_uuid"], data::charge_uuid(0, 0));
        assert_eq!(one["pages"], 237);
    }

    #[tokio::test]
    async fn invalid_pagination_sort_and_filter_are_all_reported() {
        let kit = Kit::start().await;
        let token = kit.token().await;
        for (query, expected) in [
            ("page=0", vec!["page"]),
            ("limit=0", vec!["limit"]),
            ("limit=101", vec!["limit"]),
            ("page=x&limit=-1", vec!["page", "limit"]),
            ("sort=amount:desc&filter=status:bogus", vec!["filter", "sort"]),
            ("date_start=2026-13-01", vec!["date_start"]),
        ] {
            let path = format!("bank/wallet/charges/?wallet_uuid={WALLET0}&{query}");
            let (status, body) = json_of(kit.get(&path, Some(&token)).await).await;
            assert_eq!(status, 400, "{query}");
            assert_eq!(fields(&body), expected, "{query}");
            assert_eq!(body["error"]["code"], "VALIDATION_ERROR");
        }
        let (status, body) = json_of(kit.get("bank/wallet/charges/?page=0", Some(&token)).await).await;
        assert_eq!(status, 400);
        assert_eq!(fields(&body), ["wallet_uuid", "page"]);
        let unknown = "bank/wallet/charges/?wallet_uuid=2f0c1b7e-3d4a-4e59-9c1a-000000000000";
        let (status, body) = json_of(kit.get(unknown, Some(&token)).await).await;
        assert_eq!((status, body["error"]["code"].clone()), (404, json!("errors.wallet.not_found")));
    }

    #[tokio::test]
    async fn the_status_filter_and_date_range_narrow_the_list() {
        let kit = Kit::start().await;
        let token = kit.token().await;
        let path = format!("bank/wallet/charges/?wallet_uuid={WALLET0}&filter=status:confirmed&limit=100");
        let (_, body) = json_of(kit.get(&path, Some(&token)).await).await;
        assert_eq!(body["total"], 34);
        assert!(body["data"].as_array().unwrap().iter().all(|c| c["status"] == "confirmed"));
        let path = format!("bank/wallet/charges/?wallet_uuid={WALLET0}&filter=status:eq:error&limit=100");
        let (_, body) = json_of(kit.get(&path, Some(&token)).await).await;
        assert!(body["data"].as_array().unwrap().iter().all(|c| c["message"][0]["code"] == "CARD_DECLINED"));
        let path =
            format!("bank/wallet/charges/?wallet_uuid={WALLET0}&date_start=2026-11-02&date_end=2026-11-02&limit=100");
        let (_, body) = json_of(kit.get(&path, Some(&token)).await).await;
        let data = body["data"].as_array().unwrap();
        assert!(!data.is_empty() && data.len() < 10);
        assert!(data.iter().all(|c| c["created"].as_str().unwrap().starts_with("2026-11-02")));
    }

    #[tokio::test]
    async fn a_charge_is_fetched_by_query_or_by_path() {
        let kit = Kit::start().await;
        let token = kit.token().await;
        let uuid = data::charge_uuid(0, 42);
        let (status, by_query) = json_of(
            kit.get(&format!("bank/wallet/charge/?charge_uuid={uuid}&wallet_uuid={WALLET0}"), Some(&token)).await,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(by_query["charge_uuid"], uuid.as_str());
        let (status, by_path) = json_of(kit.get(&format!("bank/wallet/charge/{uuid}/"), Some(&token)).await).await;
        assert_eq!(status, 200);
        assert_eq!(by_query, by_path);

        let (status, body) = json_of(kit.get("bank/wallet/charge/", Some(&token)).await).await;
        assert_eq!(status, 400);
        assert_eq!(fields(&body), ["charge_uuid", "wallet_uuid"]);
        let other_wallet = data::wallet_uuid(1);
        let (status, body) = json_of(
            kit.get(&format!("bank/wallet/charge/?charge_uuid={uuid}&wallet_uuid={other_wallet}"), Some(&token)).await,
        )
        .await;
        assert_eq!((status, body["error"]["code"].clone()), (404, json!("errors.charge.not_found")));
        let missing = kit.get("bank/wallet/charge/00000000-0000-4000-8000-000000000000/", Some(&token)).await;
        assert_eq!(missing.status(), 404);
    }

    #[tokio::test]
    async fn creating_a_charge_with_an_empty_body_lists_every_missing_field() {
        let kit = Kit::start().await;
        let token = kit.token().await;
        let (status, body) = json_of(kit.post_json("bank/wallet/charge/", &token, &json!({}), None).await).await;
        assert_eq!(status, 400);
        assert_eq!(body["error"]["code"], "VALIDATION_ERROR");
        assert_eq!(body["error"]["message"], "request has 19 invalid fields");
        let listed = fields(&body);
        assert_eq!(listed.len(), 19);
        for field in
            ["wallet_uuid", "payer_tax_id", "due_date", "type_charge", "payer_address.city", "payer_address.country"]
        {
            assert!(listed.iter().any(|f| f == field), "{field}");
        }
        assert!(body["error"]["details"].as_array().unwrap().iter().all(|d| d["reason"] == "is required"));
    }

    #[tokio::test]
    async fn a_non_json_charge_body_is_invalid_json() {
        let kit = Kit::start().await;
        let token = kit.token().await;
        let response = kit
            .client
            .post(kit.url("bank/wallet/charge/"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap();
        let (status, body) = json_of(response).await;
        assert_eq!((status, body["error"]["code"].clone()), (400, json!("INVALID_JSON")));
    }

    #[tokio::test]
    async fn created_charges_follow_the_sandbox_card_and_payment_method_rules() {
        let kit = Kit::start().await;
        let token = kit.token().await;
        let create = |changes: Value| {
            let mut body = valid_charge_body();
            for (k, v) in changes.as_object().unwrap() {
                body[k] = v.clone();
            }
            let kit = &kit;
            let token = token.clone();
            async move { json_of(kit.post_json("bank/wallet/charge/", &token, &body, None).await).await }
        };
        let (status, ok) = create(json!({"card_number": "4111 1111 1111 1111"})).await;
        assert_eq!(status, 200);
        assert_eq!(ok["status"], "confirmed");
        assert_eq!(ok["message"], Value::Null);
        assert_eq!(ok["value"], 201.0);
        assert_eq!(ok["installments"].as_array().unwrap().len(), 2);
        assert_eq!(ok["installments"][1]["due_date"], "2026-12-20");
        for key in ["local_currency", "usd_currency", "eur_currency"] {
            assert!(ok[key].is_number(), "{key}");
        }
        let (_, no_card) = create(json!({})).await;
        assert_eq!(no_card["status"], "confirmed");
        let (_, declined) = create(json!({"card_number": "4000000000000002"})).await;
        assert_eq!(declined["status"], "error");
        assert_eq!(declined["message"][0]["code"], "CARD_DECLINED");
        assert_eq!(declined["message"][0]["source"], "acquirer");
        assert!(declined["message"][0]["description"].is_string());
        let (_, pix) = create(json!({"type_charge": "pix", "installment_count": 1})).await;
        assert_eq!(pix["status"], "issued");
        assert!(pix["pix_payload"]["payload"].as_str().unwrap().starts_with("000201"));
        let (_, boleto) = create(json!({"type_charge": "boleto", "installment_count": 1})).await;
        assert!(boleto["boleto_url"].is_string() && boleto["barcode"].is_string());
        let (status, body) = create(json!({"wallet_uuid": "2f0c1b7e-3d4a-4e59-9c1a-000000000000"})).await;
        assert_eq!((status, body["error"]["code"].clone()), (404, json!("errors.wallet.not_found")));

        // The created charge is then readable, also through the public endpoint.
        let uuid = ok["charge_uuid"].as_str().unwrap();
        let (status, fetched) = json_of(
            kit.get(&format!("bank/wallet/charge/?charge_uuid={uuid}&wallet_uuid={WALLET0}"), Some(&token)).await,
        )
        .await;
        assert_eq!((status, &fetched), (200, &ok));
        let (_, public) = json_of(kit.get(&format!("bank/public/charge?charge_uuid={uuid}"), None).await).await;
        assert_eq!(public[0]["status"], "confirmed");
    }

    #[tokio::test]
    async fn the_same_charge_body_gets_the_same_uuid_whatever_its_key_order() {
        let kit = Kit::start().await;
        let token = kit.token().await;
        let body = valid_charge_body();
        let reordered: Value = {
            let text = serde_json::to_string(&body).unwrap();
            // Rebuilding from reversed pairs changes the wire order when serde_json preserves it.
            let map: serde_json::Map<String, Value> =
                serde_json::from_str::<serde_json::Map<String, Value>>(&text).unwrap().into_iter().rev().collect();
            Value::Object(map)
        };
        let (_, a) = json_of(kit.post_json("bank/wallet/charge/", &token, &body, None).await).await;
        let (_, b) = json_of(kit.post_json("bank/wallet/charge/", &token, &reordered, None).await).await;
        assert_eq!(a["charge_uuid"], b["charge_uuid"]);
        let mut other = body.clone();
        other["description"] = json!("Pedido 13");
        let (_, c) = json_of(kit.post_json("bank/wallet/charge/", &token, &other, None).await).await;
        assert_ne!(a["charge_uuid"], c["charge_uuid"]);
    }

    #[tokio::test]
    async fn an_idempotency_key_replays_the_same_body_and_conflicts_on_a_different_one() {
        let kit = Kit::start().await;
        let token = kit.token().await;
        let key = uuid::Uuid::new_v4().to_string();
        let body = valid_charge_body();
        let first = kit.post_json("bank/wallet/charge/", &token, &body, Some(&key)).await;
        assert_eq!(first.status(), 200);
        assert!(first.headers().get("idempotent-replayed").is_none());
        let first_bytes = first.bytes().await.unwrap();
        let replay = kit.post_json("bank/wallet/charge/", &token, &body, Some(&key)).await;
        assert_eq!(replay.status(), 200);
        assert_eq!(replay.headers()["idempotent-replayed"], "true");
        assert_eq!(replay.bytes().await.unwrap(), first_bytes);

        let mut changed = body.clone();
        changed["installment_value"] = json!(99.99);
        let (status, conflict) =
            json_of(kit.post_json("bank/wallet/charge/", &token, &changed, Some(&key)).await).await;
        assert_eq!(status, 409);
        assert_eq!(conflict["error"]["code"], "IDEMPOTENCY_CONFLICT");

        // A failed attempt does not burn the key.
        let key2 = uuid::Uuid::new_v4().to_string();
        let bad = kit.post_json("bank/wallet/charge/", &token, &json!({}), Some(&key2)).await;
        assert_eq!(bad.status(), 400);
        let good = kit.post_json("bank/wallet/charge/", &token, &body, Some(&key2)).await;
        assert_eq!(good.status(), 200);

        let (status, body) = json_of(kit.post_json("bank/wallet/charge/", &token, &body, Some("short")).await).await;
        assert_eq!((status, fields(&body)), (400, vec!["Idempotency-Key".to_owned()]));
    }

    #[tokio::test]
    async fn the_public_charge_endpoint_needs_no_token_and_returns_an_array() {
        let kit = Kit::start().await;
        let uuid = data::charge_uuid(2, 7);
        let (status, body) = json_of(kit.get(&format!("bank/public/charge?charge_uuid={uuid}"), None).await).await;
        assert_eq!(status, 200);
        let items = body.as_array().unwrap();
        assert_eq!(items.len(), 1);
        for field in [
            "charge_uuid",
            "status",
            "redirect_url",
            "message",
            "type_charge",
            "value",
            "currency",
            "installment_count",
            "customer",
            "threeds_auth",
            "threeds_metadata",
            "website",
            "recurrence",
        ] {
            assert!(items[0].get(field).is_some(), "{field}");
        }
        assert_eq!(items[0]["charge_uuid"], uuid.as_str());
        let missing = kit.get("bank/public/charge?charge_uuid=00000000-0000-4000-8000-000000000000", None).await;
        assert_eq!(missing.status(), 404);
    }

    #[tokio::test]
    async fn the_same_request_gives_identical_bytes_across_calls_and_instances() {
        let kit = Kit::start().await;
        let other = Kit::start().await;
        let path = format!("bank/wallet/charges/?wallet_uuid={WALLET0}&limit=100&page=2");
        let a = kit.get(&path, Some(&kit.token().await)).await.bytes().await.unwrap();
        let b = kit.get(&path, Some(&kit.token().await)).await.bytes().await.unwrap();
        let c = other.get(&path, Some(&other.token().await)).await.bytes().await.unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        let body = valid_charge_body();
        let token = kit.token().await;
        let x = kit.post_json("bank/wallet/charge/", &token, &body, None).await.bytes().await.unwrap();
        let y = kit.post_json("bank/wallet/charge/", &token, &body, None).await.bytes().await.unwrap();
        assert_eq!(x, y);
    }

    #[tokio::test]
    async fn payouts_are_listed_with_a_default_limit_of_10_and_fetched_by_path() {
        let kit = Kit::start().await;
        let token = kit.token().await;
        let (status, list) =
            json_of(kit.get(&format!("bank/wallet/payout/?wallet_uuid={WALLET0}"), Some(&token)).await).await;
        assert_eq!(status, 200);
        assert_eq!(
            (list["limit"].clone(), list["total"].clone(), list["pages"].clone()),
            (json!(10), json!(53), json!(6))
        );
        let uuid = list["data"][0]["payout_uuid"].as_str().unwrap().to_owned();
        let (status, payout) =
            json_of(kit.get(&format!("bank/wallet/payout/{uuid}/{WALLET0}/"), Some(&token)).await).await;
        assert_eq!(status, 200);
        assert_eq!(payout, list["data"][0]);
        let other = data::wallet_uuid(1);
        let (status, body) = json_of(kit.get(&format!("bank/wallet/payout/{uuid}/{other}/"), Some(&token)).await).await;
        assert_eq!((status, body["error"]["code"].clone()), (404, json!("errors.wallet.payout_not_found")));
        let (status, body) = json_of(
            kit.get(&format!("bank/wallet/payout/?wallet_uuid={WALLET0}&filter=status:eq:realized"), Some(&token))
                .await,
        )
        .await;
        assert_eq!(status, 200);
        assert!(body["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["status"] == "realized" && p["confirmed_date"].is_string()));
    }

    #[tokio::test]
    async fn a_subscription_is_fetched_with_both_uuids() {
        let kit = Kit::start().await;
        let token = kit.token().await;
        let uuid = data::subscription_uuid(0, 0);
        let (status, sub) = json_of(
            kit.get(&format!("bank/wallet/subscription/?wallet_uuid={WALLET0}&subscription_uuid={uuid}"), Some(&token))
                .await,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(sub["subscription_uuid"], uuid.as_str());
        assert_eq!(sub["charges"].as_array().unwrap().len(), 3);
        let (status, body) = json_of(kit.get("bank/wallet/subscription/", Some(&token)).await).await;
        assert_eq!((status, fields(&body)), (400, vec!["wallet_uuid".to_owned(), "subscription_uuid".to_owned()]));
    }

    #[tokio::test]
    async fn the_large_list_of_1_mb_is_within_10_percent_and_parses() {
        let kit = Kit::start().await;
        let token = kit.token().await;
        let response = kit.get("sim/large?mb=1", Some(&token)).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/json");
        let bytes = response.bytes().await.unwrap();
        assert!((900_000..=1_100_000).contains(&bytes.len()), "{}", bytes.len());
        let parsed: Value = serde_json::from_slice(&bytes).unwrap();
        let data = parsed["data"].as_array().unwrap();
        assert_eq!(parsed["total"], data.len());
        assert_eq!(data[1]["value"], 17.31);
        let again = kit.get("sim/large", Some(&token)).await.bytes().await.unwrap();
        assert_eq!(again, bytes, "mb defaults to 1 and the output is cached and stable");
        assert_eq!(kit.get("sim/large?mb=1", None).await.status(), 401);
        let (status, body) = json_of(kit.get("sim/large?mb=51&batch=0", Some(&token)).await).await;
        assert_eq!((status, fields(&body)), (400, vec!["mb".to_owned(), "batch".to_owned()]));
        let python_like = kit.get("sim/large?mb=0.1&batch=500", Some(&token)).await.bytes().await.unwrap();
        assert_eq!(python_like.len(), 222_375);
    }

    #[tokio::test]
    async fn unknown_routes_are_404_and_wrong_methods_are_405_in_the_api_error_shape() {
        let kit = Kit::start().await;
        let token = kit.token().await;
        let response = kit.get("no/such/thing?x=1", Some(&token)).await;
        let id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
        let (status, body) = json_of(response).await;
        assert_eq!(status, 404);
        assert_eq!(
            body,
            json!({"error": {"code": "NOT_FOUND", "message": "no route for GET /api/v1/no/such/thing"}, "request_id": id})
        );
        // Paths are exact: the documented trailing slash matters.
        assert_eq!(kit.get("bank/wallet/charges", Some(&token)).await.status(), 404);

        let response = kit.client.delete(kit.url("bank/wallet/charges/")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.status(), 405);
        assert!(response.headers().get("allow").is_some());
        let (_, body) = json_of(response).await;
        assert_eq!(body["error"]["code"], "METHOD_NOT_ALLOWED");
    }

    #[tokio::test]
    async fn the_router_works_without_spawn_and_takes_iss_from_the_host_header() {
        let settings = SimulatorSettings::with_random_secret("router-only", Duration::from_secs(60));
        let secret = secrecy::ExposeSecret::expose_secret(&settings.client_secret).to_owned();
        let sim = Simulator::new(settings);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = sim.router();
        let server = tokio::spawn(async move { axum::serve(listener, router).await });
        let response = reqwest::Client::new()
            .post(format!("http://{addr}/oauth2/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("grant_type=client_credentials&client_id=router-only&client_secret={secret}"))
            .send()
            .await
            .unwrap();
        let (_, body) = json_of(response).await;
        let (_, claims) = jwt::decode_unverified(body["access_token"].as_str().unwrap()).unwrap();
        assert_eq!(claims["iss"], format!("http://{addr}/simulator-pool").as_str());
        server.abort();
    }
}
