//! Wire types shared by the browser and the server: everything that crosses the server-function boundary.
//!
//! Nothing here may ever carry a client secret or an access token: token *metadata* only.

use serde::{Deserialize, Serialize};

pub mod builder;
pub mod masking;
pub use builder::*;
pub use masking::*;
pub mod compare;
pub use compare::*;
pub mod parity;
pub use parity::*;
pub mod spec;
pub use spec::*;

/// A JSON document carried as it is (a body schema, a token's claims or header).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JsonDocument(pub serde_json::Value);

impl serde_lite::Deserialize for JsonDocument {
    fn deserialize(value: &serde_lite::Intermediate) -> Result<Self, serde_lite::Error> {
        Ok(Self(crate::codec::to_value(value)))
    }
}

impl std::ops::Deref for JsonDocument {
    type Target = serde_json::Value;

    fn deref(&self) -> &serde_json::Value {
        &self.0
    }
}

/// What kind of a55 deployment an environment points at. Production gets the loudest UI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, serde_lite::Deserialize)]
pub enum EnvironmentKind {
    #[serde(rename = "simulator")]
    Simulator,
    #[serde(rename = "sandbox")]
    Sandbox,
    #[serde(rename = "production")]
    Production,
}

impl EnvironmentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Simulator => "simulator",
            Self::Sandbox => "sandbox",
            Self::Production => "production",
        }
    }
}

/// An environment as staff see it: an id the server resolves, never a URL the browser could choose.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct EnvironmentView {
    pub id: String,
    pub label: String,
    pub kind: EnvironmentKind,
    /// CSS colour for the environment marker.
    pub colour: String,
    /// Displayed only (the server never takes a base URL from the browser).
    pub api_base: String,
    /// What this staff member may do here (the server enforces it; the UI only explains it).
    #[serde(default)]
    pub guard: GuardView,
}

/// Guard rails of one environment as they apply to the caller.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct GuardView {
    /// Methods the caller may send here; empty means none.
    pub methods: Vec<String>,
    /// Writes need the environment id typed as confirmation.
    pub confirm_writes: bool,
    pub read_only: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, serde_lite::Deserialize)]
pub enum ParamLocation {
    #[serde(rename = "path")]
    Path,
    #[serde(rename = "query")]
    Query,
    #[serde(rename = "header")]
    Header,
}

/// One parameter of a catalog operation, reduced to what a form needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct Parameter {
    pub name: String,
    pub location: ParamLocation,
    pub required: bool,
    pub description: String,
    /// JSON-schema type name (`string`, `integer`, `boolean`, ...).
    pub schema_type: String,
    pub enum_values: Vec<String>,
    /// Example or default, as text, used to prefill the form.
    pub example: Option<String>,
    /// JSON-schema `format` (`uuid`, `date`, `email`, ...), checked inline.
    #[serde(default)]
    pub format: Option<String>,
}

/// One operation of the catalog.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct Endpoint {
    /// Stable id: the operationId, or `METHOD path` when the document has none.
    pub id: String,
    pub method: String,
    /// Path template relative to the environment's API base, e.g. `/bank/wallet/charge/{charge_uuid}/`.
    pub path: String,
    pub summary: String,
    pub description: String,
    pub tag: String,
    pub parameters: Vec<Parameter>,
    /// Pretty-printed JSON example of the request body, when the operation takes one.
    pub body_example: Option<String>,
    /// JSON schema of the request body with `$ref`s resolved (recursion cut at a fixed depth).
    #[serde(default)]
    pub body_schema: Option<JsonDocument>,
    pub needs_token: bool,
    pub writes: bool,
    /// Where the catalog's author found this operation, and how sure they are.
    pub source: String,
    pub confidence: String,
    /// Which catalog document it came from.
    pub origin: String,
    /// Other documents that describe the same method and path (merged into this entry).
    #[serde(default)]
    pub also_in: Vec<String>,
}

/// The state of one catalog document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct CatalogSource {
    pub name: String,
    pub loaded: bool,
    /// Number of operations, or why it could not be loaded.
    pub detail: String,
    /// Set for an environment's live spec, which can be fetched again on demand.
    #[serde(default)]
    pub environment: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct Catalog {
    pub endpoints: Vec<Endpoint>,
    pub sources: Vec<CatalogSource>,
}

/// Where an environment's cached access token stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, serde_lite::Deserialize)]
pub enum TokenState {
    /// No token has been requested yet (tokens are fetched on first use only).
    #[serde(rename = "empty")]
    Empty,
    /// Valid and outside the refresh window.
    #[serde(rename = "fresh")]
    Fresh,
    /// Valid but inside the refresh skew: served while one refresh runs.
    #[serde(rename = "stale")]
    Stale,
    /// Past its expiry: the next request waits on a refresh.
    #[serde(rename = "expired")]
    Expired,
}

/// Token *metadata* for the UI. Never the token itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct TokenView {
    pub environment: String,
    pub state: TokenState,
    /// Unix milliseconds.
    pub obtained_at_ms: Option<i64>,
    /// Unix milliseconds.
    pub expires_at_ms: Option<i64>,
    /// Seconds left at the moment the server answered; the browser counts down from here.
    pub seconds_left: Option<f64>,
    pub lifetime_secs: Option<u64>,
    /// When the next refresh is due (start of the stale window), in seconds from the server's answer.
    pub refresh_in_secs: Option<f64>,
    /// A few hex characters of a hash of the token: enough to tell tokens apart, useless to an attacker.
    pub fingerprint: Option<String>,
    /// Decoded JWT claims (the signature and the raw token never leave the server).
    pub claims: Option<JsonDocument>,
    /// Why the last token request failed, if it did.
    pub last_error: Option<String>,
}

/// A request staff want to send, as the browser describes it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct ExecuteRequest {
    /// Environment id (resolved on the server).
    pub environment: String,
    pub method: String,
    /// Path template or concrete path, relative to the environment's API base.
    pub path: String,
    pub path_params: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// The catalog operation this came from, when there is one.
    pub endpoint_id: Option<String>,
    /// The environment id, typed by the staff member, for environments that confirm writes.
    #[serde(default)]
    pub confirm: Option<String>,
}

/// What came back from upstream, already filtered for the browser.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct ExecuteResponse {
    pub status: u16,
    pub status_text: String,
    /// The method and URL that were sent (no credentials ever appear in it).
    pub method: String,
    pub url: String,
    pub duration_ms: f64,
    pub ttfb_ms: f64,
    /// Bytes of body received (after decompression), before any truncation.
    pub size_bytes: u64,
    pub content_type: Option<String>,
    pub headers: Vec<(String, String)>,
    /// The body as text when `body_inline` (small UTF-8 bodies); otherwise empty: fetch it by `body_id`.
    pub body: String,
    /// True when the body was cut at the environment's response cap.
    pub truncated: bool,
    pub token_fingerprint: Option<String>,
    pub upstream_request_id: Option<String>,
    /// Token metadata after this request, so the badge stays in sync without another round trip.
    pub token: Option<TokenView>,
    /// What staff should know about how this answer came about, e.g. "token was refreshed, send again"
    /// after a 401 to a write the console did not re-send on its own.
    #[serde(default)]
    pub hint: Option<String>,
    /// True when the API answered 401, the console got a new token and re-sent this (replayable) request once.
    #[serde(default)]
    pub retried: bool,
    /// Id of the stored body, fetched raw from `/api/bodies/{id}` (None for an empty body).
    #[serde(default)]
    pub body_id: Option<String>,
    /// True when `body` holds the whole (kept) body, so the browser needs no second request.
    #[serde(default)]
    pub body_inline: bool,
    /// Body bytes kept (decoded, after redaction), at most the environment's cap.
    #[serde(default)]
    pub kept_bytes: u64,
    /// Bytes read off the connection: compressed size when the upstream compressed.
    #[serde(default)]
    pub wire_bytes: u64,
    /// The content encoding the server decoded (`gzip`), if any.
    #[serde(default)]
    pub content_encoding: Option<String>,
    /// The environment's response cap in bytes.
    #[serde(default)]
    pub max_response_bytes: u64,
    /// Every header sent upstream, Authorization shown as `Bearer <fingerprint>…`.
    #[serde(default)]
    pub sent_headers: Vec<(String, String)>,
    /// The request body that was sent, if any.
    #[serde(default)]
    pub sent_body: Option<String>,
    /// What the server masked in this answer before it left the server.
    #[serde(default)]
    pub masking: MaskingReport,
}

/// Bodies up to this size travel inline in the execute answer (one round trip); larger ones are
/// fetched raw by id, never re-encoded inside a JSON string.
pub const INLINE_BODY_LIMIT: usize = 64 * 1024;

/// One step of a normalized JSONPath.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, serde_lite::Deserialize)]
pub enum PathStep {
    #[serde(rename = "name")]
    Name(String),
    #[serde(rename = "index")]
    Index(u64),
}

/// One node a JSONPath query selected.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct JsonPathMatch {
    /// RFC 9535 normalized path, e.g. `$['data'][0]['status']`.
    pub path: String,
    pub steps: Vec<PathStep>,
    /// The value as compact JSON, cut at `JSONPATH_VALUE_PREVIEW` characters.
    pub value: String,
    pub value_truncated: bool,
}

/// Matches listed at most; `total` still counts all of them.
pub const JSONPATH_MAX_MATCHES: usize = 1_000;
pub const JSONPATH_VALUE_PREVIEW: usize = 400;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct JsonPathAnswer {
    pub total: usize,
    pub matches: Vec<JsonPathMatch>,
    pub elapsed_ms: f64,
}

/// Why the console asked a token endpoint for a token (or dropped one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, serde_lite::Deserialize)]
pub enum TokenEventReason {
    /// No token yet (first use, or after "forget").
    #[serde(rename = "cold")]
    Cold,
    /// Inside the refresh skew: refreshed in the background while the cached token was served.
    #[serde(rename = "stale")]
    Stale,
    /// Past its expiry: callers waited for this request.
    #[serde(rename = "expired")]
    Expired,
    /// The API answered 401 to the cached token.
    #[serde(rename = "unauthorized")]
    Unauthorized,
    /// Staff asked for it on the token page.
    #[serde(rename = "manual")]
    Manual,
    /// The client secret changed, so the token obtained with the old one was dropped.
    #[serde(rename = "rotation")]
    Rotation,
}

/// How a token event ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
#[serde(tag = "kind")]
pub enum TokenEventOutcome {
    #[serde(rename = "obtained")]
    Obtained { fingerprint: String, lifetime_secs: u64 },
    #[serde(rename = "failed")]
    Failed { error: String },
    /// This replica took the token another replica requested, from the shared cache: no request.
    #[serde(rename = "adopted")]
    Adopted { fingerprint: String, lifetime_secs: u64 },
    /// Staff dropped the cached token.
    #[serde(rename = "forgotten")]
    Forgotten,
    /// The cached token was dropped because the secret it was obtained with changed.
    #[serde(rename = "dropped")]
    Dropped,
}

/// One entry of an environment's token history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct TokenEvent {
    /// Unix milliseconds.
    pub at_ms: i64,
    pub reason: TokenEventReason,
    /// Time the token endpoint took, for requests.
    pub latency_ms: Option<f64>,
    pub outcome: TokenEventOutcome,
    /// The replica the event happened on, when replicas share the token history (Redis).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica: Option<String>,
}

/// Where an environment's token is cached.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, serde_lite::Deserialize)]
pub enum TokenCache {
    /// Each replica requests and keeps its own token (no Redis, or no state key).
    #[default]
    PerReplica,
    /// Shared by every replica through Redis: one token request per lifetime for all of them.
    Shared,
    /// Shared is configured, but Redis failed at the latest token request: per replica right now.
    FallingBack,
}

/// Everything the token page shows for one environment. Never the token or the secret.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct TokenDetails {
    pub token: TokenView,
    /// Decoded JWT header (`alg`, `kid`, ...): the signature is never decoded or sent.
    pub header: Option<JsonDocument>,
    /// Newest first; with a shared cache, every replica's.
    pub events: Vec<TokenEvent>,
    /// Configured refresh skew.
    pub refresh_skew_secs: u64,
    /// The skew applied to the current token (clamped to half its lifetime).
    pub effective_skew_secs: Option<u64>,
    /// Seconds until the console tries the token endpoint again after a failure.
    pub retry_in_secs: Option<f64>,
    /// A token request is in flight.
    pub refreshing: bool,
    pub token_url: String,
    pub client_id: String,
    /// `client_secret_post` or `client_secret_basic`.
    pub client_auth: String,
    pub scope: Option<String>,
    #[serde(default)]
    pub cache: TokenCache,
}

/// Errors a server function can return. Messages are written for staff and never contain secrets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error, serde_lite::Deserialize)]
pub enum ConsoleError {
    #[error("unknown environment {0:?}")]
    UnknownEnvironment(String),
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    TokenUnavailable(String),
    #[error("{0}")]
    UpstreamUnavailable(String),
    #[error("{0}")]
    UpstreamTimeout(String),
    #[error("internal error: {0}")]
    Internal(String),
    /// The call did not reach the server function (network, encoding).
    #[error("{0}")]
    Transport(String),
    /// No valid session: log in (again).
    #[error("{0}")]
    Unauthenticated(String),
    /// Logged in, but a role, guard rail or the CSRF check refuses this.
    #[error("{0}")]
    Forbidden(String),
    /// A write to an environment that confirms writes came without the typed confirmation.
    #[error("{0}")]
    ConfirmationRequired(String),
    #[error("{0}")]
    RateLimited(String),
    /// The request names a host this console does not serve (DNS rebinding, absolute-form targets).
    #[error("{0}")]
    MisdirectedRequest(String),
    /// The console itself never answers this method.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// A store the console needs (sessions, database) cannot be reached: fail closed.
    #[error("{0}")]
    Unavailable(String),
    /// The staff member cancelled the run; its upstream request was dropped.
    #[error("{0}")]
    Cancelled(String),
    /// The thing asked for is busy (a suite that is already running).
    #[error("{0}")]
    Conflict(String),
}

impl ConsoleError {
    /// The HTTP status each error is answered with: the one place where this mapping lives.
    pub fn status_code(&self) -> u16 {
        match self {
            Self::UnknownEnvironment(_) | Self::NotFound(_) => 404,
            Self::InvalidRequest(_) => 400,
            Self::TokenUnavailable(_) | Self::UpstreamUnavailable(_) => 502,
            Self::UpstreamTimeout(_) => 504,
            Self::Internal(_) | Self::Transport(_) => 500,
            Self::Unauthenticated(_) => 401,
            Self::Forbidden(_) => 403,
            Self::ConfirmationRequired(_) => 428,
            Self::RateLimited(_) => 429,
            Self::MisdirectedRequest(_) => 421,
            Self::MethodNotAllowed(_) => 405,
            Self::Unavailable(_) => 503,
            // nginx's "client closed request": the answer nobody waits for any more.
            Self::Cancelled(_) => 499,
            Self::Conflict(_) => 409,
        }
    }
}

/// A staff role. Each environment may override it per person in config.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, serde_lite::Deserialize)]
pub enum Role {
    /// Simulator and sandbox, read-only methods.
    #[serde(rename = "viewer")]
    Viewer,
    /// Sandbox with every method, production read-only.
    #[serde(rename = "operator")]
    Operator,
    /// Everything, plus the audit trail and reveals.
    #[serde(rename = "admin")]
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Operator => "operator",
            Self::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "viewer" => Some(Self::Viewer),
            "operator" => Some(Self::Operator),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

/// Who is using the console, as the UI shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct StaffView {
    pub name: String,
    pub role: Role,
    /// Local mode: no accounts are configured, the console runs as one local admin on loopback.
    pub local: bool,
}

/// What the login page offers.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct LoginOptions {
    /// Sign-in through the company's identity provider, offered first.
    pub provider: Option<ProviderSignIn>,
    /// Whether local accounts may sign in with a name and password.
    pub password: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct ProviderSignIn {
    /// "Sign in with <name>".
    pub name: String,
    /// Signing out at the identity provider too (RP-initiated logout), when it offers it.
    pub logout_url: Option<String>,
}

/// Filters of the audit page; every field is optional.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub environment: Option<String>,
    pub event: Option<String>,
    /// Unix milliseconds, inclusive.
    pub from_ms: Option<i64>,
    /// Unix milliseconds, exclusive.
    pub to_ms: Option<i64>,
    /// Exact upstream status, or a class such as `4xx`.
    pub status: Option<String>,
    /// Rows before this id (paging backwards from the newest).
    pub before_id: Option<i64>,
    pub limit: Option<u32>,
}

/// One row of the audit trail.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, serde_lite::Deserialize)]
pub struct AuditRecord {
    pub id: i64,
    /// Unix milliseconds, UTC.
    pub at_ms: i64,
    pub actor: String,
    pub event: String,
    pub environment: Option<String>,
    pub method: Option<String>,
    pub path_template: Option<String>,
    pub path: Option<String>,
    pub status: Option<u16>,
    pub duration_ms: Option<i64>,
    pub outcome: String,
    pub detail: Option<String>,
    pub address: Option<String>,
    pub session: Option<String>,
}

impl leptos::server_fn::error::FromServerFnError for ConsoleError {
    type Encoder = crate::codec::LiteJsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr;
        match value {
            // The arguments the caller sent do not decode: the caller's mistake, said with the field.
            ServerFnErrorErr::Args(reason) | ServerFnErrorErr::MissingArg(reason) => {
                Self::InvalidRequest(format!("the call's arguments do not decode: {reason}"))
            }
            // On the server, decoding only ever reads a request's arguments (a JSON body); in the
            // browser the same variant means an answer that did not decode, which stays Transport.
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(reason) => {
                Self::InvalidRequest(format!("the call's arguments do not decode: {reason}"))
            }
            other => Self::Transport(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_maps_to_a_client_or_gateway_status() {
        let cases = [
            (ConsoleError::UnknownEnvironment("x".into()), 404),
            (ConsoleError::InvalidRequest("x".into()), 400),
            (ConsoleError::NotFound("x".into()), 404),
            (ConsoleError::TokenUnavailable("x".into()), 502),
            (ConsoleError::UpstreamUnavailable("x".into()), 502),
            (ConsoleError::UpstreamTimeout("x".into()), 504),
            (ConsoleError::Internal("x".into()), 500),
            (ConsoleError::Unauthenticated("x".into()), 401),
            (ConsoleError::Forbidden("x".into()), 403),
            (ConsoleError::ConfirmationRequired("x".into()), 428),
            (ConsoleError::RateLimited("x".into()), 429),
            (ConsoleError::MisdirectedRequest("x".into()), 421),
            (ConsoleError::MethodNotAllowed("x".into()), 405),
            (ConsoleError::Unavailable("x".into()), 503),
        ];
        for (error, status) in cases {
            assert_eq!(error.status_code(), status, "{error:?}");
        }
    }

    #[test]
    fn errors_round_trip_through_json() {
        let error = ConsoleError::TokenUnavailable("credentials rejected".into());
        let text = serde_json::to_string(&error).unwrap();
        assert_eq!(serde_json::from_str::<ConsoleError>(&text).unwrap(), error);
    }
}
