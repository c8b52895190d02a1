//! The configuration file's shape, as read (every field optional, with defaults): validation turns it
//! into `Config`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

pub use super::storage::RawStorage;

use serde::{Deserialize, Serialize};

/// The file shape. Every field has a default so an empty or absent file is valid.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawConfig {
    pub server: RawServer,
    pub simulator: RawSimulator,
    pub storage: RawStorage,
    pub sessions: super::sessions::RawSessions,
    pub auth: RawAuth,
    pub catalog: RawCatalog,
    pub history: RawHistory,
    pub masking: RawMasking,
    /// `[parity]`: suites of read-only compares, their request budget and kept runs.
    pub parity: super::parity::RawParity,
    /// Keyed by environment id; ordered so the UI lists them as written.
    pub environments: BTreeMap<String, RawEnvironment>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawServer {
    pub bind: String,
    /// The origin staff type into the browser, e.g. `https://console.example.com` (when behind a TLS
    /// proxy). Requests must name this host (or a loopback one); https turns on HSTS.
    pub public_url: Option<String>,
    /// The bearer token a Prometheus scraper presents on `/metrics` (and nowhere else): the name of
    /// an env var holding it, or a file holding only it. Never the token itself.
    pub metrics_token_env: Option<String>,
    pub metrics_token_file: Option<PathBuf>,
    /// Refused: a token written into the file.
    pub metrics_token: Option<MisplacedSecret>,
}

impl Default for RawServer {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:3000".into(),
            public_url: None,
            metrics_token_env: None,
            metrics_token_file: None,
            metrics_token: None,
        }
    }
}

/// Staff accounts and session policy. No accounts means local mode (one local admin, loopback only).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawAuth {
    pub users: Vec<RawUser>,
    /// A session unused this long ends.
    pub idle_timeout_mins: u64,
    /// A session ends this long after login, however busy.
    pub absolute_timeout_hours: u64,
    /// Failed logins allowed per account and per client address within `lockout_secs`.
    pub max_failed_logins: u32,
    pub lockout_secs: u64,
    /// Whether `[[auth.users]]` may sign in with a password. With `[auth.oidc]` they are the
    /// break-glass accounts: keep them, and turn this off until the identity provider is down.
    pub local_accounts: bool,
    /// Sign-in through the company's OpenID Connect provider.
    pub oidc: Option<RawOidc>,
}

/// `[auth.oidc]`: the identity provider staff sign in with.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawOidc {
    /// The issuer URL; its `/.well-known/openid-configuration` is read at start-up.
    pub issuer: Option<String>,
    /// Shown on the login page as "Sign in with <display_name>".
    pub display_name: Option<String>,
    pub client_id: Option<String>,
    /// The name of an env var holding the client secret, or a file holding only it.
    pub client_secret_env: Option<String>,
    pub client_secret_file: Option<PathBuf>,
    /// Refused: a secret written into the file.
    pub client_secret: Option<MisplacedSecret>,
    /// Scopes asked for; `openid` is always included.
    pub scopes: Option<Vec<String>>,
    /// The ID token claim that names the person (default `email`); a dotted path reaches nested claims.
    pub username_claim: Option<String>,
    /// The claim listing the person's groups or roles (default `groups`), e.g. `realm_access.roles`.
    pub groups_claim: Option<String>,
    /// Group -> "viewer" | "operator" | "admin". A person gets the highest role of their groups;
    /// someone in none of them cannot sign in.
    pub roles: BTreeMap<String, String>,
    /// Per-environment overrides: environment id -> group -> role or "none".
    pub environments: BTreeMap<String, BTreeMap<String, String>>,
}

impl Default for RawAuth {
    fn default() -> Self {
        Self {
            users: Vec::new(),
            idle_timeout_mins: 30,
            absolute_timeout_hours: 12,
            max_failed_logins: 5,
            lockout_secs: 900,
            local_accounts: true,
            oidc: None,
        }
    }
}

#[derive(Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawUser {
    pub name: String,
    /// Argon2id PHC string from `a55-console hash-password`.
    pub password_hash: String,
    pub role: String,
    /// Per-environment role overrides: environment id -> "viewer" | "operator" | "admin" | "none".
    pub environments: BTreeMap<String, String>,
}

/// OpenAPI documents added to the bundled a55 catalog.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawCatalog {
    /// OpenAPI 3.0/3.1 files (YAML or JSON). One that is missing or malformed is shown as
    /// unavailable with the reason; it never stops the console.
    pub extra_documents: Vec<PathBuf>,
}

/// How long request history is kept (per staff member).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawHistory {
    pub max_entries: u64,
    pub max_age_days: u64,
}

impl Default for RawHistory {
    fn default() -> Self {
        Self { max_entries: 500, max_age_days: 30 }
    }
}

/// Masking of response data: secrets always, personal data in demo mode.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawMasking {
    /// Demo mode for every session of this instance (a console shown to partners); staff cannot turn it off.
    pub force_demo: bool,
    /// Field names masked as secrets in every response, on top of the built-in ones (`client_secret`,
    /// `access_token`, `password`, `credentials`, ...). Matched ignoring case, `_` and `-`.
    pub secret_fields: Vec<String>,
    /// RFC 9535 JSONPath expressions whose matches (and everything under them) are masked in demo mode.
    pub demo_rules: Vec<String>,
}

/// `live_spec = true` (fetch `{api_base}/swagger.json`), `false`, or a path under the API base.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RawLiveSpec {
    Enabled(bool),
    Path(String),
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawSimulator {
    /// `expires_in` of simulator tokens; short values make expiry visible in minutes.
    pub token_lifetime_secs: u64,
    pub client_id: String,
    /// Env var holding the built-in simulator's client secret; a random one is made when left out.
    /// Test aid: lets a test run plant a known canary secret.
    pub client_secret_env: Option<String>,
    /// Test aid: append every access token the built-in simulator issues to this file.
    pub issued_tokens_file: Option<PathBuf>,
}

impl Default for RawSimulator {
    fn default() -> Self {
        Self {
            token_lifetime_secs: 3600,
            client_id: "console-simulator".into(),
            client_secret_env: None,
            issued_tokens_file: None,
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawEnvironment {
    pub label: Option<String>,
    pub kind: Option<String>,
    pub colour: Option<String>,
    pub api_base: Option<String>,
    pub token_url: Option<String>,
    pub client_id: Option<String>,
    /// Present only so that a secret written into the file gets a precise error instead of being used.
    pub client_secret: Option<MisplacedSecret>,
    pub client_secret_env: Option<String>,
    pub client_secret_file: Option<PathBuf>,
    pub scope: Option<String>,
    pub client_auth: Option<String>,
    pub refresh_skew_secs: Option<u64>,
    pub connect_timeout_secs: Option<u64>,
    pub request_timeout_secs: Option<u64>,
    pub token_timeout_secs: Option<u64>,
    pub max_response_bytes: Option<u64>,
    /// Refuse every write method here, whatever the role.
    pub read_only: Option<bool>,
    /// Only these methods may be sent here (upper case); all when left out.
    pub allowed_methods: Option<Vec<String>>,
    /// Writes need the environment id typed as confirmation. Default: true for production.
    pub confirm_writes: Option<bool>,
    pub live_spec: Option<RawLiveSpec>,
    /// Serve this environment from the built-in simulator: `"sandbox"` (its usual data, the default
    /// for kind "simulator") or `"production"` (the same API with production-like data, for compares).
    pub simulator: Option<String>,
}

impl fmt::Debug for RawUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawUser")
            .field("name", &self.name)
            .field("password_hash", &"[redacted]")
            .field("role", &self.role)
            .field("environments", &self.environments)
            .finish()
    }
}

/// A secret someone wrote into the file: refused by validation, and never printed by `Debug`.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
pub struct MisplacedSecret(String);

impl fmt::Debug for MisplacedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}
